"""The closed loop's first steps in a real browser.

A grid worker on a phone files an incident with a photo and a map pick (and
loses the first answer to a broken connection: the retry files the same
incident, not a second one); the district's command centre sees it in the
triage queue, accepts it and dispatches it to a unit. Screenshots of every
page, phone and desktop, go to test-artifacts/.
"""

import io
import json
import os
import re
from pathlib import Path

import pytest
from django.conf import settings
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from incidents import services
from incidents.management.commands.load_categories import load_categories
from incidents.models import Attachment, Category, Incident, Source, Status
from tests.browser.conftest import foreign_requests, log_in, open_page, screenshot
from tests.factories import point

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture
def categories(db):
    rows = json.loads((Path(settings.BASE_DIR) / "fixtures" / "incident_categories.json").read_text("utf-8"))
    load_categories(rows["categories"])
    return Category.objects


def street_photo() -> bytes:
    """A JPEG that looks a little like a photo of a broken road (sky, road, a dark hole)."""
    image = Image.new("RGB", (800, 600), (135, 170, 210))
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 260, 800, 600], fill=(110, 110, 115))
    draw.polygon([(380, 260), (420, 260), (520, 600), (280, 600)], fill=(230, 230, 230))
    draw.ellipse([470, 380, 650, 470], fill=(45, 35, 30))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


@pytest.fixture
def phone(browser):
    """A phone in Chinese, standing inside grid G1111, with location permission granted."""
    lat, lng = point(1.2, 1.5)
    page = open_page(browser, geolocation={"latitude": lat, "longitude": lng}, permissions=["geolocation"], **PHONE)
    yield page
    page.context.close()


def test_grid_worker_files_on_a_phone_and_the_district_dispatches_it(phone, page, live_server, city, people,
                                                                      categories):
    road = categories.get(name="道路破损")
    worker = phone
    # An open report of the same kind a few metres from where the worker stands: a possible duplicate.
    here = point(1.2, 1.5)
    earlier = services.incident_file(reporter=people.worker_g1111, category=road, title="路面有坑",
                                     lat=here[0] + 0.0002, lng=here[1]).incident

    # --- The grid worker, on a phone -------------------------------------------------
    log_in(worker, live_server, "worker_g1111", "pw-worker_g1111")
    assert worker.url == f"{live_server.url}/dashboards/grid-worker/"
    screenshot(worker, "incident-flow-01-worker-dashboard-phone")
    with worker.expect_navigation():
        worker.click("a[href='/incidents/new/'].button")
    worker.wait_for_selector("#pick-map .leaflet-pane svg path")
    screenshot(worker, "incident-flow-02-file-empty-phone")

    # Category: the major category first, then the minor one.
    worker.select_option("#major-category", label=road.parent.name)
    worker.select_option("select[name=category]", value=str(road.pk))

    # "Use my location" fills the point from the browser's position...
    worker.click("#use-location")
    expect(worker.locator("input[name=lat]")).not_to_have_value("")
    assert abs(float(worker.input_value("input[name=lat]")) - point(1.2, 1.5)[0]) < 1e-5
    # the page asks the API for open incidents of that category nearby, and links them
    duplicates = worker.locator("#duplicates")
    expect(duplicates).to_be_visible()
    expect(duplicates.locator(f"a[href='/incidents/{earlier.pk}/']")).to_contain_text(earlier.number)
    screenshot(worker, "incident-flow-03a-possible-duplicate-phone")

    # ...and a tap on the map, inside the grid's outline (the map now shows the worker's position, deep
    # inside the grid), moves it there.
    pick_map = worker.locator("#pick-map")
    pick_map.scroll_into_view_if_needed()
    box = pick_map.bounding_box()
    pick_map.click(position={"x": box["width"] * 0.75, "y": box["height"] * 0.3})
    expect(worker.locator("#location-readout")).to_contain_text(city.g1111.name)
    lat, lng = float(worker.input_value("input[name=lat]")), float(worker.input_value("input[name=lng]"))
    g = city.g1111
    assert g.min_lat < lat < g.max_lat and g.min_lng < lng < g.max_lng
    assert abs(lat - point(1.2, 1.5)[0]) > 1e-4  # the tap moved the point

    worker.set_input_files("input[name=photos]", files=[
        {"name": "pothole.jpg", "mimeType": "image/jpeg", "buffer": street_photo()}])
    worker.wait_for_selector("#photo-previews img")
    worker.fill("input[name=title]", "南一路人行道塌陷")
    worker.fill("textarea[name=description]", "人行道出现约半米宽的坑，行人容易绊倒。")
    worker.fill("input[name=address]", "南一路 8 号门前")
    screenshot(worker, "incident-flow-03-file-filled-phone")

    # The first answer is lost on the way back (the server did file it): the page says so and offers Retry.
    lost = {"count": 0}

    def lose_first_answer(route):
        if lost["count"] == 0 and route.request.method == "POST":
            lost["count"] += 1
            route.fetch()  # the request reaches the server...
            route.abort("connectionreset")  # ...but the phone never hears back
        else:
            route.continue_()

    worker.route(re.compile(r".*/api/v1/incidents/$"), lose_first_answer)
    worker.click("#file-submit")
    worker.wait_for_selector("#submit-status.failed [data-retry]:not([hidden])")
    assert Incident.objects.exclude(pk=earlier.pk).count() == 1  # filed once, answer lost
    screenshot(worker, "incident-flow-04-file-failed-retry-phone")

    with worker.expect_navigation(url=re.compile(r".*/incidents/\d+/$")):
        worker.click("#submit-status [data-retry]")
    incident = Incident.objects.exclude(pk=earlier.pk).get()  # the retry carried the same key: still one
    assert worker.url == f"{live_server.url}/incidents/{incident.pk}/"
    assert incident.reporter == people.worker_g1111
    assert incident.grid == city.g1111 and incident.category == road
    assert incident.source == Source.GRID_WORKER and incident.idempotency_key
    assert Attachment.objects.filter(incident=incident).count() == 1
    assert incident.number in worker.inner_text(".incident-head")
    # the photo's thumbnail really loads through the scoped attachment view (no eval: the page's CSP forbids it),
    # and links to the photo itself
    expect(worker.locator(".photos img").first).to_have_js_property("naturalWidth", 360)
    assert worker.locator(".photos a").first.get_attribute("href").endswith(
        f"/incidents/attachments/{incident.attachments.get().pk}/")
    screenshot(worker, "incident-flow-05-detail-phone")
    assert foreign_requests(worker, live_server) == []

    # --- The district's command centre, on a desktop -------------------------------------
    log_in(page, live_server, "d1_command", "pw-d1_command")
    page.goto(f"{live_server.url}/incidents/queue/")
    row = page.locator(f"tr[data-number='{incident.number}']")
    assert row.is_visible()
    assert "南一路人行道塌陷" in row.inner_text()
    screenshot(page, "incident-flow-06-queue-desktop")

    with page.expect_navigation():
        row.locator("button:has-text('受理'), button:has-text('Accept')").first.click()
    row = page.locator(f"tr[data-number='{incident.number}']")
    assert row.get_attribute("data-status") == Status.ACCEPTED

    row.locator("[data-dispatch]").click()
    dialog = page.locator("#dispatch-dialog")
    assert dialog.is_visible()
    dialog.locator("select[name='act-dispatch-unit']").select_option(value=str(city.unit_d1_police.pk))
    dialog.locator("textarea").fill("请于三个工作日内修复")
    screenshot(page, "incident-flow-07-dispatch-dialog-desktop")
    with page.expect_navigation():
        dialog.locator("button[type=submit]").click()

    incident.refresh_from_db()
    assert incident.status == Status.DISPATCHED and incident.lead_unit == city.unit_d1_police
    row = page.locator(f"tr[data-number='{incident.number}']")
    assert row.get_attribute("data-status") == Status.DISPATCHED
    assert city.unit_d1_police.name in row.inner_text()
    screenshot(page, "incident-flow-08-queue-after-dispatch-desktop")

    page.goto(f"{live_server.url}/incidents/{incident.pk}/")
    assert city.unit_d1_police.name in page.inner_text(".timeline")
    screenshot(page, "incident-flow-09-detail-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/incidents/queue/")
    screenshot(page, "incident-flow-10-queue-phone")

    worker.goto(f"{live_server.url}/incidents/?open=true")
    assert worker.locator(f".incident-card[data-number='{incident.number}']").is_visible()
    screenshot(worker, "incident-flow-12-my-grids-phone")

    page.set_viewport_size(DESKTOP)
    worker.set_viewport_size(DESKTOP)
    worker.goto(f"{live_server.url}/incidents/new/")
    worker.wait_for_selector("#pick-map .leaflet-pane svg path")
    screenshot(worker, "incident-flow-11-file-desktop")

    assert foreign_requests(page, live_server) == []
    assert foreign_requests(worker, live_server) == []
