"""The deadline's history on an incident's timeline, as the command centre reads it (Chinese, desktop).

An incident accepted, parked (挂账) and taken off the list again: the timeline says when it
had to be handled by and when it turned yellow, that the clock stopped with three working
days left, and the deadline they gave after Labour Day. Screenshot in test-artifacts/.
"""

import json
import os
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from playwright.sync_api import expect

from incidents import services
from incidents.management.commands.load_categories import load_categories
from incidents.models import Category
from tests.browser.conftest import foreign_requests, log_in
from tests.factories import point

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.browser
SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_the_street_reads_the_deadline_history_of_a_parked_and_unparked_incident(page, live_server, people,
                                                                                 save_screenshot):
    rows = json.loads((Path(settings.BASE_DIR) / "fixtures" / "incident_categories.json").read_text("utf-8"))
    load_categories(rows["categories"])
    road = Category.objects.get(name="道路破损")
    lat, lng = point(1, 2)
    command = people.s11_command
    incident = services.incident_file(reporter=people.worker_g1111, category=road, title="人行道塌陷", lat=lat,
                                      lng=lng, now=datetime(2026, 3, 10, 8, 30, tzinfo=SHANGHAI)).incident
    services.incident_accept(incident=incident, actor=command, now=datetime(2026, 3, 10, 9, 0, tzinfo=SHANGHAI))
    services.incident_park(incident=incident, actor=command, note="涉及地下管网改造，需多部门协调",
                           review_on=date(2026, 4, 30), now=datetime(2026, 3, 12, 15, 0, tzinfo=SHANGHAI))
    services.incident_unpark(incident=incident, actor=command, now=datetime(2026, 4, 30, 10, 0, tzinfo=SHANGHAI))

    command.set_password("pw-s11")
    command.save()
    log_in(page, live_server, command.username, "pw-s11")
    page.goto(f"{live_server.url}/incidents/{incident.pk}/")
    deadlines = page.locator(".timeline .event-deadline")
    expect(deadlines).to_have_count(4)
    expect(deadlines.nth(0)).to_contain_text("受理时限 2026-03-10 12:30 · 预警时间 2026-03-10 11:42")
    expect(deadlines.nth(1)).to_contain_text("处置时限 2026-03-17 23:59 · 预警时间 2026-03-17 00:00")
    expect(deadlines.nth(2)).to_contain_text("处置暂停计时，剩余 3 个工作日")
    expect(deadlines.nth(3)).to_contain_text(
        "处置时限 2026-05-08 23:59 · 预警时间 2026-05-08 00:00 · 恢复计时，剩余 3 个工作日")
    page.locator(".timeline").scroll_into_view_if_needed()
    save_screenshot()
    assert foreign_requests(page, live_server) == []
