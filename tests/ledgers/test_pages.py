"""Pages of the ledgers through every door: the permission matrix, and what each persona sees."""

from __future__ import annotations

from datetime import date, timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from governance.core.testing import PermissionMatrix, body_of, page_client
from governance.ledgers import services
from governance.ledgers.models import Filing, InnovationProject, SupervisionNotice
from tests.ledgers.test_services import PDF


def filed(ledger, lp, **kwargs):
    return services.filing_submit(responsibility=ledger.r11_d1, period="2026-01", status="in_progress", percent=30,
                                  narrative="场地改造完成", acting_user=lp.d1_police,
                                  files=[SimpleUploadedFile("材料.pdf", PDF)], **kwargs)


def test_dashboard_matrix_and_scope(ledger, lp, city):
    filed(ledger, lp)
    matrix = PermissionMatrix(allowed=[lp.city_supervisor], read_only=[lp.d1_supervisor, lp.d2_supervisor,
                                                                        lp.d1_police, lp.lead], outside=[lp.nobody])
    matrix.read(f"/ledgers/{ledger.programme.pk}/")
    page = page_client(lp.d2_supervisor).get(f"/ledgers/{ledger.programme.pk}/").content.decode()
    assert "东区公安分局" in page and "西区公安分局" not in page  # the other district's unit never shows
    page = page_client(lp.city_supervisor).get(f"/ledgers/{ledger.programme.pk}/").content.decode()
    assert "西区公安分局" in page and "东区公安分局" in page and "建立综治中心实体化运行机制" in page


def test_filing_page_matrix(ledger, lp):
    url = f"/ledgers/responsibilities/{ledger.r11_d1.pk}/"
    matrix = PermissionMatrix(allowed=[lp.d1_police], read_only=[lp.d1_supervisor, lp.city_supervisor, lp.lead],
                              outside=[lp.d2_supervisor, lp.d2_police, lp.nobody])
    matrix.read(url)
    period = "2026-03"  # 1.1 is filed monthly up to its deadline, 2026-06-30
    data = {"period": period, "status": "in_progress", "percent": "50", "narrative": "按计划推进"}
    matrix.act(url, data=data, ok=(302,), snapshot=lambda: Filing.objects.count())
    filing = Filing.objects.get()
    assert (filing.period, filing.percent, filing.filed_by) == (period, 50, lp.d1_police)


def test_evidence_download_goes_through_the_door(ledger, lp):
    evidence = filed(ledger, lp).evidence.get()
    url = f"/ledgers/evidence/{evidence.pk}/"
    matrix = PermissionMatrix(read_only=[lp.d1_police, lp.d1_supervisor, lp.lead],
                              outside=[lp.d2_supervisor, lp.d2_police, lp.nobody])
    matrix.read(url)
    response = page_client(lp.d1_supervisor).get(url)
    assert body_of(response) == PDF and response["Content-Disposition"].startswith("attachment")


def test_review_matrix(ledger, lp):
    filing = filed(ledger, lp)
    matrix = PermissionMatrix(allowed=[lp.d1_supervisor], read_only=[lp.d1_police, lp.d1_command],
                              outside=[lp.d2_supervisor, lp.nobody])
    matrix.act(f"/ledgers/filings/{filing.pk}/review/", data={"decision": "accept"}, ok=(302,),
               snapshot=lambda: Filing.objects.get(pk=filing.pk).review)
    assert Filing.objects.get(pk=filing.pk).review == "accepted"


def test_notice_issue_and_respond_matrix(ledger, lp):
    due = (timezone.localdate() + timedelta(days=3)).isoformat()
    matrix = PermissionMatrix(allowed=[lp.d1_supervisor], read_only=[lp.d1_police, lp.lead, lp.d1_command],
                              outside=[lp.d2_supervisor, lp.nobody])
    matrix.act(f"/ledgers/responsibilities/{ledger.r11_d1.pk}/notice/", data={"content": "请按期报送", "due_on": due},
               ok=(302,), snapshot=lambda: SupervisionNotice.objects.count())
    notice = SupervisionNotice.objects.get()
    matrix = PermissionMatrix(allowed=[lp.d1_police], read_only=[lp.d1_supervisor, lp.city_supervisor],
                              outside=[lp.d2_police, lp.d2_supervisor, lp.nobody])
    matrix.read(f"/ledgers/notices/{notice.pk}/")
    matrix.act(f"/ledgers/notices/{notice.pk}/", data={"response": "已整改到位"}, ok=(302,),
               snapshot=lambda: SupervisionNotice.objects.get().status)
    assert SupervisionNotice.objects.get().response == "已整改到位"


def test_public_notice_list_shows_only_overdue_notices_of_the_territory(ledger, lp, city):
    late = services.notice_issue(task=ledger.t11, unit=city.unit_d1_police, content="逾期未答复",
                                 due_on=timezone.localdate(), acting_user=lp.city_supervisor)
    SupervisionNotice.objects.filter(pk=late.pk).update(due_on=date(2026, 1, 5))
    services.notice_issue(task=ledger.t11, unit=city.unit_d2_police, content="未到期", acting_user=lp.city_supervisor,
                          due_on=timezone.localdate() + timedelta(days=9))
    page = page_client(lp.city_supervisor).get("/ledgers/notices/public/").content.decode()
    assert late.number in page and "东区公安分局" not in page
    assert late.number not in page_client(lp.d2_supervisor).get("/ledgers/notices/public/").content.decode()


def test_project_library_search_and_scope(ledger, lp, city):
    services.project_create(title="网格员积分制管理", level="district", region=city.d1, unit=city.unit_d1_police,
                            description="以积分激励网格员", acting_user=lp.d1_supervisor)
    services.project_create(title="东区诉调对接", level="district", region=city.d2, acting_user=lp.d2_supervisor)
    page = page_client(lp.d1_supervisor).get("/ledgers/projects/", {"q": "积分"}).content.decode()
    assert "网格员积分制管理" in page and "东区诉调对接" not in page
    other = page_client(lp.d1_supervisor).get("/ledgers/projects/", {"q": "诉调"}).content.decode()
    assert "网格员积分制管理" not in other
    response = page_client(lp.d2_supervisor).post("/ledgers/projects/", {
        "title": "东区新项目", "level": "district", "region": str(city.d2.pk), "status": "candidate",
        "attachments": [SimpleUploadedFile("说明.pdf", PDF)]})
    assert response.status_code == 302
    project = InnovationProject.objects.get(title="东区新项目")
    attachment = project.attachments.get()
    assert page_client(lp.d1_supervisor).get(f"/ledgers/project-files/{attachment.pk}/").status_code == 404
    assert page_client(lp.city_supervisor).get(f"/ledgers/project-files/{attachment.pk}/").status_code == 200
    assert page_client(lp.d1_police).post("/ledgers/projects/", {"title": "x"}).status_code == 403


def test_admin_shows_ledgers_read_only_and_scoped(ledger, lp, city, people):
    from governance.access.models import Role
    from tests.factories import make_user

    d2_admin = make_user("d2_admin", role=Role.ADMINISTRATOR, region=city.d2, is_staff=True)
    filing = filed(ledger, lp)
    assert page_client(people.city_admin).get(f"/admin/ledgers/filing/{filing.pk}/change/").status_code == 200
    assert page_client(d2_admin).get(f"/admin/ledgers/filing/{filing.pk}/change/").status_code in (302, 404)
    assert page_client(people.city_admin).post("/admin/ledgers/programme/add/", {}).status_code == 403
    assert page_client(lp.d1_supervisor).get("/admin/ledgers/filing/").status_code == 302  # to the admin login
    listed = page_client(people.city_admin).get("/admin/ledgers/task/").content.decode()
    assert "建成诉前调解中心" in listed
