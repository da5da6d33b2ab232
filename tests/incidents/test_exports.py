"""Exports where people look for them: the incident list and the triage queue export what they show.

The export form is read off the page as a browser would submit it (its hidden filters, its checked
columns), so these tests hold the page and its file to the same rows.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from html.parser import HTMLParser

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from incidents import services
from incidents import views as incident_views
from incidents.models import Incident
from tests.dashboards.conftest import world  # noqa: F401  (the incident world)
from tests.dashboards.helpers import body_of, client_for
from tests.factories import point
from tests.incidents.conftest import categories, fire_exit, noise, road  # noqa: F401  (its fixtures)

pytestmark = pytest.mark.django_db


@pytest.fixture
def filed(request):
    """The incident world of the map's tests (tests/dashboards/conftest.py): every state, two districts."""
    return request.getfixturevalue("world")


class ExportForm(HTMLParser):
    """The export controls' form on a page: its action and the fields a browser would send."""

    def __init__(self):
        super().__init__()
        self.action: str | None = None
        self.fields: list[tuple[str, str]] = []
        self._inside = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("action") or "").startswith("/exports/new/"):
            self.action, self._inside = attrs["action"], True
        elif tag == "input" and self._inside and attrs.get("name"):
            if attrs.get("type") == "hidden" or (attrs.get("type") == "checkbox" and "checked" in attrs):
                self.fields.append((attrs["name"], attrs.get("value", "")))

    def handle_endtag(self, tag):
        if tag == "form":
            self._inside = False


def export_form(page) -> ExportForm:
    form = ExportForm()
    form.feed(page.content.decode())
    assert form.action, "the page offers no export"
    return form


def submit(client, form: ExportForm, fmt: str, *, columns: list[str] | None = None):
    fields = [(k, v) for k, v in form.fields if k != "csrfmiddlewaretoken" and (columns is None or k != "columns")]
    fields += [("columns", c) for c in columns or []] + [("format", fmt)]
    data: dict[str, list[str]] = {}
    for key, value in fields:
        data.setdefault(key, []).append(value)
    return client.post(form.action, data)


def listed_numbers(client, url: str) -> set[str]:
    """Every incident number the page lists, following its pages."""
    numbers: set[str] = set()
    page = 1
    while True:
        text = client.get(f"{url}&page={page}").content.decode()
        found = set(re.findall(r'data-number="([^"]+)"', text))
        if not found or found <= numbers:
            return numbers
        numbers |= found
        page += 1


def csv_numbers(response) -> set[str]:
    return {row[0] for row in list(csv.reader(io.StringIO(body_of(response).decode("utf-8-sig"))))[1:]}


def sheet_rows(response) -> dict[str, dict]:
    """The rows of an xlsx export by incident number, each a dict header -> cell."""
    sheet = load_workbook(io.BytesIO(body_of(response))).active
    rows = list(sheet.iter_rows())
    header = [c.value for c in rows[0]]
    return {row[0].value: dict(zip(header, row, strict=True)) for row in rows[1:]}


def test_the_incident_list_exports_every_row_it_shows_under_its_filters(filed, people, monkeypatch):
    monkeypatch.setattr(incident_views, "PAGE_SIZE", 2)  # the list runs over several pages
    client = client_for(people.d1_command)
    url = "/incidents/?status=reported&status=dispatched&status=closed"
    shown = listed_numbers(client, url)
    assert shown == {filed.reported.number, filed.overdue.number, filed.dispatched.number,
                     filed.closed_on_spot.number, filed.closed_late.number}
    form = export_form(client.get(url + "&page=2"))
    assert form.action == "/exports/new/incidents/"
    assert [v for k, v in form.fields if k == "status"] == ["reported", "dispatched", "closed"]
    assert "page" not in dict(form.fields), "every page, not the one in view"
    assert csv_numbers(submit(client, form, "csv")) == shown


def test_the_triage_queue_exports_the_open_incidents_the_centre_holds(filed, people):
    client = client_for(people.s11_command)
    shown = listed_numbers(client, "/incidents/queue/?q=")
    assert shown == {filed.reported.number, filed.overdue.number, filed.dispatched.number}
    form = export_form(client.get("/incidents/queue/?q="))
    assert form.action == "/exports/new/triage_queue/"
    assert csv_numbers(submit(client, form, "csv")) == shown
    narrowed = export_form(client.get("/incidents/queue/?status=reported"))
    assert csv_numbers(submit(client, narrowed, "csv")) == {filed.reported.number, filed.overdue.number}


def test_the_queue_export_has_the_queues_columns_by_default(filed, people):
    client = client_for(people.s11_command, language="en")
    rows = sheet_rows(submit(client, export_form(client.get("/incidents/queue/?q=")), "xlsx"))
    header = list(rows[filed.dispatched.number])
    assert header[:8] == ["Number", "Title", "Category", "Severity", "Grid", "Responsible level", "Status",
                          "Lead unit"]
    assert {"Deadline", "Overdue", "Reported at", "Handle by"} <= set(header)


def test_dates_and_times_are_date_cells_in_shanghai_time_whatever_the_process_zone(filed, people):
    client = client_for(people.d1_command, language="en")
    form = export_form(client.get("/incidents/?q="))
    with timezone.override("UTC"):  # a worker or a request in another zone writes the same cells
        rows = sheet_rows(submit(client, form, "xlsx", columns=["number", "reported_at", "closed_at"]))
    late = Incident.objects.get(pk=filed.closed_late.pk)
    for field in ("reported_at", "closed_at"):
        cell = rows[late.number][{"reported_at": "Reported at", "closed_at": "Closed at"}[field]]
        shanghai = timezone.localtime(getattr(late, field), timezone.get_default_timezone())
        assert cell.is_date and cell.number_format == "yyyy-mm-dd hh:mm"
        assert cell.value == shanghai.replace(tzinfo=None, second=0, microsecond=0)
    assert rows[filed.reported.number]["Closed at"].value is None  # not closed: an empty cell, not text


def test_the_handling_deadline_is_shown_once_it_is_known(filed, people):
    parked = Incident.objects.get(pk=filed.dispatched.pk)
    lat, lng = point(1, 2.5)
    accepted = services.incident_file(reporter=people.worker_g1111, category=parked.category, title="路灯不亮",
                                      lat=lat, lng=lng).incident
    services.incident_accept(incident=accepted, actor=people.s11_command)
    services.incident_park(incident=parked, actor=people.s11_command, note="待专项资金",
                           review_on=timezone.localdate() + timedelta(days=30))
    client = client_for(people.d1_command, language="en")
    rows = sheet_rows(submit(client, export_form(client.get("/incidents/?q=")), "xlsx",
                             columns=["number", "status", "deadline", "accept_due_at", "handle_due_at"]))
    reported, accepted = Incident.objects.get(pk=filed.reported.pk), Incident.objects.get(pk=accepted.pk)
    # Reported: only the time to accept runs; the handling deadline is not known yet.
    assert rows[reported.number]["Handle by"].value is None
    assert rows[reported.number]["Deadline"].value == rows[reported.number]["Accept by"].value is not None
    # Accepted: the handling deadline is known, and it is the end of its due day, shown as that day.
    due = timezone.localtime(accepted.handle_due_at, timezone.get_default_timezone())
    handle_by = rows[accepted.number]["Handle by"].value
    assert (handle_by.date(), handle_by.hour, handle_by.minute) == (due.date(), 23, 59)
    assert rows[accepted.number]["Deadline"].value == handle_by
    # Parked: no clock runs, so no deadline.
    assert rows[parked.number]["Status"].value == "Parked (long-term)"
    assert rows[parked.number]["Handle by"].value is None and rows[parked.number]["Deadline"].value is None


def test_csv_dates_are_the_shanghai_wall_clock_as_text(filed, people):
    client = client_for(people.d1_command)
    form = export_form(client.get("/incidents/?q="))
    with timezone.override("UTC"):
        response = submit(client, form, "csv", columns=["number", "reported_at", "handle_due_at"])
    rows = {row[0]: row for row in csv.reader(io.StringIO(body_of(response).decode("utf-8-sig")))}
    late = Incident.objects.get(pk=filed.closed_late.pk)
    shanghai = timezone.localtime(late.reported_at, timezone.get_default_timezone())
    assert rows[late.number][1] == shanghai.strftime("%Y-%m-%d %H:%M")
    assert rows[filed.reported.number][2] == ""
    assert date.fromisoformat(rows[late.number][2][:10]) == timezone.localtime(
        late.handle_due_at, timezone.get_default_timezone()).date()


def test_personal_data_stays_masked_in_the_list_export_of_those_who_may_not_triage(filed, people):
    wanted = ["number", "reporter_name", "reporter_phone"]
    supervisor = client_for(people.d1_supervisor)
    rows = {r[0]: r for r in csv.reader(io.StringIO(body_of(submit(
        supervisor, export_form(supervisor.get("/incidents/?q=")), "csv", columns=wanted)).decode("utf-8-sig")))}
    assert rows[filed.reported.number][1:] == ["张*", "138****5678"]
    staff = client_for(people.s11_command)
    rows = {r[0]: r for r in csv.reader(io.StringIO(body_of(submit(
        staff, export_form(staff.get("/incidents/?q=")), "csv", columns=wanted)).decode("utf-8-sig")))}
    assert rows[filed.reported.number][1:] == ["张三", "13812345678"]


def test_the_pages_offer_the_export_with_its_columns_and_formats(filed, people):
    page = client_for(people.s11_command, language="en").get("/incidents/queue/")
    text = page.content.decode()
    assert "Export this list" in text and "Excel (xlsx)" in text and ">CSV<" in text
    assert re.search(r'name="columns" value="reporter_phone"(?! checked)', text), "personal data: never by default"
    assert "(personal data)" in text
    grid_worker = client_for(people.worker_g1111).get("/incidents/")
    assert export_form(grid_worker).action == "/exports/new/incidents/"  # what their list shows them
