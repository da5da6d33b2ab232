"""Filings, reviews, notices and projects: who may, what is kept, what is refused."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.utils import timezone

from governance.core.authority import access_object
from governance.core.errors import InvalidInput, PermissionDeniedError, TransitionNotAllowed
from governance.ledgers import selectors, services
from governance.ledgers.models import Evidence, Filing, Responsibility, Review, SupervisionNotice, Task

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
TODAY = date(2026, 3, 10)


def pdf(name="进展材料.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def file(ledger, lp, *, percent=30, period="2026-01", files=(), who=None, status="in_progress"):
    return services.filing_submit(responsibility=ledger.r11_d1, period=period, status=status, percent=percent,
                                  narrative="本月完成综治中心场地改造", files=list(files),
                                  acting_user=who or lp.d1_police, today=TODAY)


def test_unit_files_with_evidence_and_only_for_its_own_unit(ledger, lp):
    filing = file(ledger, lp, files=[pdf()])
    assert filing.version == 1 and filing.is_current and filing.review == Review.SUBMITTED
    assert filing.evidence.get().original_name == "进展材料.pdf"
    with pytest.raises(PermissionDeniedError):
        file(ledger, lp, who=lp.d2_police)
    with pytest.raises(PermissionDeniedError):
        file(ledger, lp, who=lp.lead)  # the lead unit reviews, it does not file for others
    with pytest.raises(PermissionDeniedError):
        file(ledger, lp, who=lp.d1_supervisor)


@pytest.mark.parametrize("kwargs, field", [
    ({"period": "2026-13"}, "period"),
    ({"period": "2026Q1"}, "period"),  # 1.1 is filed monthly
    ({"period": "2026-09"}, "period"),  # not begun yet on TODAY
    ({"percent": 101}, "percent"),
    ({"status": "completed", "percent": 90}, "percent"),
    ({"status": "done"}, "status"),
])
def test_bad_filings_are_refused_naming_the_field_and_store_nothing(ledger, lp, kwargs, field):
    with pytest.raises(InvalidInput) as refused:
        file(ledger, lp, **kwargs)
    assert field in refused.value.field_errors
    assert not Filing.objects.exists()


@pytest.mark.parametrize("name, content, code", [
    ("报告.exe", b"MZ\x90\x00", "file_type"),
    ("伪装.pdf", b"<html>not a pdf</html>", "file_type"),
    ("很大.pdf", PDF + b"0" * 2048, "file_too_large"),
])
def test_evidence_is_checked_by_type_and_size(ledger, lp, settings, name, content, code):
    settings.LEDGER_EVIDENCE_MAX_BYTES = 1024
    with pytest.raises(InvalidInput) as refused:
        file(ledger, lp, files=[pdf(name, content)])
    assert refused.value.code == code
    assert not Filing.objects.exists() and not Evidence.objects.exists()


def test_returned_and_refiled_keeps_every_version(ledger, lp):
    first = file(ledger, lp, percent=30, files=[pdf()])
    with pytest.raises(InvalidInput):
        services.filing_review(filing=first, accept=False, comment="", acting_user=lp.lead)  # a return says why
    services.filing_review(filing=first, accept=False, comment="佐证材料不足", acting_user=lp.lead)
    second = file(ledger, lp, percent=35)
    first.refresh_from_db()
    assert (first.is_current, first.review, first.review_comment) == (False, Review.RETURNED, "佐证材料不足")
    assert (second.version, second.is_current) == (2, True)
    assert second.evidence.get().original_name == "进展材料.pdf"  # the evidence stays with the new version
    with pytest.raises(TransitionNotAllowed):
        services.filing_review(filing=first, accept=True, acting_user=lp.lead)  # only the current one
    services.filing_review(filing=second, accept=True, acting_user=lp.d1_supervisor)
    with pytest.raises(TransitionNotAllowed):
        services.filing_review(filing=second, accept=False, comment="再看看", acting_user=lp.lead)
    versions = Filing.objects.filter(responsibility=ledger.r11_d1, period="2026-01").order_by("version")
    assert [(f.version, f.percent, f.review) for f in versions] == [(1, 30, "returned"), (2, 35, "accepted")]
    assert [h.history_change_reason for h in first.history.order_by("history_date")] == ["filed", "returned",
                                                                                          "superseded"]


def test_a_returned_filing_does_not_count(ledger, lp):
    first = file(ledger, lp, percent=30)
    services.filing_review(filing=first, accept=False, comment="数据不实", acting_user=lp.lead)
    report = selectors.programme_report(lp.city_supervisor, ledger.programme, today=TODAY)
    d1 = next(s for s in report.states if s.responsibility_id == ledger.r11_d1.pk)
    assert d1.percent == 0 and "2026-01" in d1.missing


def test_who_may_review(ledger, lp):
    filing = file(ledger, lp)
    for outsider in (lp.d2_supervisor, lp.d2_police, lp.d1_command, lp.d1_police):
        with pytest.raises(PermissionDeniedError):
            services.filing_review(filing=filing, accept=True, acting_user=outsider)
    services.filing_review(filing=filing, accept=True, acting_user=lp.city_supervisor)


def test_supervisor_issues_notices_only_in_their_territory_and_the_unit_answers(ledger, lp, city):
    due = timezone.localdate() + timedelta(days=5)
    with pytest.raises(PermissionDeniedError):
        services.notice_issue(task=ledger.t11, unit=city.unit_d2_police, content="请加快进度", due_on=due,
                              acting_user=lp.d1_supervisor)
    with pytest.raises(PermissionDeniedError):  # a unit at home in the city lies above a district supervisor
        services.notice_issue(task=ledger.t21, unit=city.unit_city_urban, content="请加快进度", due_on=due,
                              acting_user=lp.d2_supervisor)
    with pytest.raises(InvalidInput):  # D1 police has nothing to do with task 2
        services.notice_issue(task=ledger.t2, unit=city.unit_d1_police, content="请加快进度", due_on=due,
                              acting_user=lp.d1_supervisor)
    notice = services.notice_issue(task=ledger.t1, unit=city.unit_d1_police, content="请加快进度", due_on=due,
                                   acting_user=lp.d1_supervisor)
    assert notice.number.startswith(f"DB{timezone.localdate().year}-")
    with pytest.raises(PermissionDeniedError):
        services.notice_respond(notice=notice, response="已整改", acting_user=lp.d2_police)
    services.notice_respond(notice=notice, response="已整改", acting_user=lp.d1_police)
    with pytest.raises(TransitionNotAllowed):
        services.notice_respond(notice=notice, response="再次答复", acting_user=lp.d1_police)


def test_overdue_notices_go_on_the_public_list(ledger, lp, city):
    notice = services.notice_issue(task=ledger.t11, unit=city.unit_d1_police, content="请于期限内答复",
                                   due_on=timezone.localdate(), acting_user=lp.city_supervisor)
    assert not selectors.public_notice_list(lp.city_supervisor).exists()
    tomorrow = timezone.localdate() + timedelta(days=1)
    assert list(selectors.public_notice_list(lp.city_supervisor, today=tomorrow)) == [notice]
    assert list(selectors.public_notice_list(lp.d1_police, today=tomorrow)) == [notice]
    assert not selectors.public_notice_list(lp.d2_supervisor, today=tomorrow).exists()
    assert not SupervisionNotice.objects.restrict(lp.d2_police).exists()


def test_units_see_their_branch_of_the_tree_and_supervisors_their_territory(ledger, lp, city):
    assert set(Task.objects.restrict(lp.d1_police)) == {ledger.t1, ledger.t11, ledger.t12}
    assert set(Task.objects.restrict(lp.d2_police)) == {ledger.t1, ledger.t11, ledger.t2, ledger.t21}
    assert Task.objects.restrict(lp.lead).count() == 5
    assert Task.objects.restrict(lp.d1_supervisor).count() == 5  # the city's programme, read
    assert set(Responsibility.objects.restrict(lp.d1_supervisor)) == {ledger.r11_d1, ledger.r12_d1}
    assert set(Responsibility.objects.restrict(lp.d2_supervisor)) == {ledger.r11_d2, ledger.r21_d2}
    assert Responsibility.objects.restrict(lp.city_supervisor).count() == 5
    assert Responsibility.objects.restrict(lp.lead).count() == 5  # the lead unit sees every unit under its tasks
    assert not Task.objects.restrict(lp.nobody).exists()
    filing = file(ledger, lp)
    with pytest.raises(Http404):
        access_object(Filing.objects.all(), lp.d2_supervisor, pk=filing.pk)
    assert access_object(Filing.objects.all(), lp.d1_supervisor, pk=filing.pk) == filing
