"""Printable grid signs: one grid's PDF, and the batch export of a street's or district's signs."""

import re

import pytest
from django.http import QueryDict
from django.urls import reverse

from governance.core.errors import InvalidInput, NotFoundError, PermissionDeniedError
from governance.core.testing import page_client
from governance.exports.models import ExportStatus
from governance.exports.services import export_start
from intake import services, signs
from intake.models import Sign
from tests.factories import make_user

pytestmark = pytest.mark.django_db
PAGE = re.compile(rb"/Type /Page[^s]")


def pages(pdf: bytes) -> int:
    assert pdf.startswith(b"%PDF-")
    return len(PAGE.findall(pdf))


def test_a_grids_sign_pdf_is_one_a4_page_with_an_embedded_chinese_font(city, people):
    response = page_client(people.s11_command).get(reverse("intake-signs:sign-pdf", args=[city.g1111.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pdf = response.content
    assert pages(pdf) == 1
    assert b"/MediaBox [ 0 0 595.2756 841.8898 ]" in pdf  # A4
    assert b"/FontFile2" in pdf  # the CJK TrueType font travels with the file
    assert Sign.objects.filter(grid=city.g1111, revoked_at__isnull=True).count() == 1  # printing issued it


def test_a_sign_says_grid_workers_hotline_and_points_at_its_grid(client, city, people, settings):
    settings.INTAKE_SIGN_HOTLINE = "0754-12345"
    people.worker_g1111.first_name, people.worker_g1111.last_name = "小明", "王"
    people.worker_g1111.save()
    sheet = signs.sheet_for(city.g1111, acting_user=people.s11_command, base="https://zz.example.gov.cn")
    assert (sheet.grid_name, sheet.grid_code) == ("南一网格", "440101001001")
    assert sheet.workers == ["王小明"] and sheet.hotline == "0754-12345"
    assert sheet.parents == "西区 · 南街道 · 南一社区"
    token = sheet.url.removeprefix("https://zz.example.gov.cn/q/").rstrip("/")
    assert services.sign_from_token(token).grid == city.g1111
    assert "南一网格" in client.get(f"/q/{token}/").content.decode()


def test_the_sign_pdf_doors(city, people):
    url = reverse("intake-signs:sign-pdf", args=[city.g1111.pk])
    assert page_client(people.d1_command).get(url).status_code == 200
    assert page_client(people.city_admin).get(url).status_code == 200
    assert page_client(people.worker_g1111).get(url).status_code == 403  # sees the grid, does not manage signs
    assert page_client(people.d1_supervisor).get(url).status_code == 403
    assert page_client(people.s12_command).get(url).status_code == 404  # hidden is missing
    assert page_client(people.d2_command).get(url).status_code == 404
    assert page_client(None).get(url).status_code == 302  # to the login page
    assert page_client(people.s11_command).get(reverse("intake-signs:sign-pdf", args=[city.c111.pk])).status_code \
        == 404  # not a grid


def test_the_signs_page_lists_the_grids_of_the_region(city, people):
    response = page_client(people.s11_command).get(reverse("intake-signs:list"), {"region": city.s11.pk})
    html = response.content.decode()
    assert response.status_code == 200 and "南一网格" in html and "南二网格" in html and "北一网格" not in html
    assert page_client(people.s11_command).get(reverse("intake-signs:list"), {"region": city.s12.pk}).status_code \
        == 404


def test_the_batch_export_prints_every_sign_of_a_street(city, people):
    job = export_start(owner=people.s11_command, kind="grid_signs", fmt="pdf",
                       data=QueryDict(f"region={city.s11.pk}&base_url=https://zz.example.gov.cn"))
    assert job.status == ExportStatus.DONE, job.error
    assert pages(job.file.read()) == 2  # G1111 and G1112
    assert set(Sign.objects.filter(revoked_at__isnull=True).values_list("grid__code", flat=True)) == {
        "440101001001", "440101001002"}
    assert job.options["base_url"] == "https://zz.example.gov.cn"


def test_a_district_batch_holds_only_what_the_owner_may_print(city, people):
    job = export_start(owner=people.d1_command, kind="grid_signs", fmt="pdf", data=QueryDict(f"region={city.d1.pk}"))
    assert job.status == ExportStatus.DONE and pages(job.file.read()) == 3  # G1111, G1112, G1211


def test_the_batch_export_refuses_outside_regions_and_readers(city, people):
    with pytest.raises(NotFoundError):  # hidden is missing
        export_start(owner=people.d2_command, kind="grid_signs", fmt="pdf", data=QueryDict(f"region={city.s11.pk}"))
    with pytest.raises(InvalidInput):
        export_start(owner=people.d1_command, kind="grid_signs", fmt="pdf", data=QueryDict("region=x"))
    for reader in (people.worker_g1111, people.d1_supervisor, make_user("plain")):
        with pytest.raises(PermissionDeniedError):
            export_start(owner=reader, kind="grid_signs", fmt="pdf", data=QueryDict(f"region={city.s11.pk}"))


def test_the_printed_qr_code_reads_back_as_the_grids_page(client, city, people, tmp_path):
    """Render the PDF as a printer would (pdftoppm) and scan it as a phone would (zbarimg)."""
    import shutil
    import subprocess

    for tool in ("pdftoppm", "zbarimg"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: scripts/install-test-deps.sh installs it")
    response = page_client(people.s11_command).get(reverse("intake-signs:sign-pdf", args=[city.g1112.pk]))
    (tmp_path / "sign.pdf").write_bytes(response.content)
    subprocess.run(["pdftoppm", "-png", "-r", "120", "-singlefile", str(tmp_path / "sign.pdf"),
                    str(tmp_path / "sign")], check=True, timeout=60)
    scanned = subprocess.run(["zbarimg", "-q", "--raw", str(tmp_path / "sign.png")], capture_output=True,
                             text=True, timeout=60)
    url = scanned.stdout.strip()
    assert url.startswith("http://testserver/q/"), (url, scanned.stderr)
    page = client.get(url.removeprefix("http://testserver"))
    assert page.status_code == 200 and "南二网格" in page.content.decode()


def test_a_large_batch_is_drawn_by_a_worker_from_the_signs_page(city, people, monkeypatch,
                                                                 django_capture_on_commit_callbacks):
    from governance.exports.kinds import get_kind
    from governance.exports.models import ExportJob
    from governance.exports.tasks import run_export

    queued = []
    monkeypatch.setattr(run_export, "apply_async", lambda args, kwargs: queued.append(args))
    monkeypatch.setattr(get_kind("grid_signs"), "sync_limit", 1)
    client = page_client(people.d1_command)
    page = client.get(reverse("intake-signs:list"), {"region": city.d1.pk}).content.decode()
    assert 'action="/exports/new/grid_signs/"' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/exports/new/grid_signs/", {"format": "pdf", "region": city.d1.pk,
                                                            "base_url": "http://testserver/"})
    job = ExportJob.objects.get()
    assert response.status_code == 302 and queued == [(job.pk,)] and job.total == 3
    run_export.apply(args=[job.pk]).get()
    job.refresh_from_db()
    assert (job.status, job.done, job.total) == (ExportStatus.DONE, 3, 3)
    assert pages(job.file.read()) == 3
    download = client.get(f"/exports/{job.pk}/download/")
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"


def test_the_signs_doors_through_the_permission_matrix(city, people):
    """The signs page, one grid's PDF and the batch export, by the personas of the matrix.

    The street's and the district's command staff print; the supervisor, who only sees, follows the page
    (which grids have a sign) but may not print, since printing issues a sign; the other district finds nothing.
    """
    from governance.core.testing import PermissionMatrix
    from governance.exports.models import ExportJob

    matrix = PermissionMatrix(allowed=[people.s11_command, people.d1_command], read_only=[people.d1_supervisor],
                              outside=[people.d2_command])
    matrix.read(reverse("intake-signs:list"), data={"region": city.s11.pk})
    pdf = reverse("intake-signs:sign-pdf", args=[city.g1111.pk])
    for user, prints in ((people.s11_command, True), (people.d1_supervisor, False)):
        html = page_client(user).get(reverse("intake-signs:list"), {"region": city.s11.pk}).content.decode()
        assert "南一网格" in html and "南二网格" in html
        assert (pdf in html) is prints and ('action="/exports/new/grid_signs/"' in html) is prints

    in_force = lambda: sorted(Sign.objects.filter(revoked_at__isnull=True).values_list("grid__code", "pk"))  # noqa: E731
    response = matrix.act(pdf, method="get", ok=[200], snapshot=in_force)
    assert response["Content-Type"] == "application/pdf" and pages(response.content) == 1
    assert [code for code, _pk in in_force()] == ["440101001001"]  # printing issued it, once

    jobs = lambda: list(ExportJob.objects.values_list("pk", flat=True))  # noqa: E731
    matrix.act("/exports/new/grid_signs/", data={"format": "pdf", "region": city.s11.pk,
                                                 "base_url": "http://testserver/"}, ok=[200], snapshot=jobs)
    assert sorted(ExportJob.objects.values_list("owner__username", "status")) == [
        ("d1_command", ExportStatus.DONE), ("s11_command", ExportStatus.DONE)]  # the allowed, and nobody else
