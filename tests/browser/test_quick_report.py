"""A resident scans a grid's sign on a phone, reports with a photo, and follows the report by its tracking code."""

import io
import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from governance.core.authority import SYSTEM
from incidents.management.commands.load_categories import load_categories
from incidents.models import Attachment, Category, Source
from incidents.services import incident_close_on_spot
from intake import services
from intake.models import Submission
from tests.browser.conftest import ARTIFACTS, foreign_requests, open_page, screenshot
from tests.factories import point

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 375, "height": 740}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


@pytest.fixture
def categories(db):
    rows = json.loads((Path(settings.BASE_DIR) / "fixtures" / "incident_categories.json").read_text("utf-8"))
    load_categories(rows["categories"])
    return Category.objects


@pytest.fixture
def resident(browser):
    lat, lng = point(1.2, 1.5)  # standing in grid G1111
    page = open_page(browser, geolocation={"latitude": lat, "longitude": lng}, permissions=["geolocation"], **PHONE)
    yield page
    page.context.close()


def rubbish_photo() -> bytes:
    image = Image.new("RGB", (640, 480), (150, 180, 210))
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 300, 640, 480], fill=(120, 120, 120))
    draw.ellipse([200, 250, 420, 400], fill=(60, 90, 40))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def test_resident_reports_with_a_photo_on_a_phone_and_follows_it(resident, live_server, city, people, categories):
    garbage = categories.get(name="垃圾堆积")
    sign = services.sign_in_force(grid=city.g1111, acting_user=SYSTEM)
    qr_url = f"{live_server.url}/q/{services.sign_token(sign)}/"

    response = resident.goto(qr_url)
    assert response.status == 200
    assert "南一网格" in resident.locator(".grid-name").inner_text()
    # phone-sized: nothing wider than the screen
    assert resident.evaluate("document.documentElement.scrollWidth") <= 375
    # the honeypot is out of a person's sight (off-screen, not focusable by tab)
    box = resident.locator("input[name=website]").bounding_box()
    assert box is None or box["x"] + box["width"] <= 0
    screenshot(resident, "quick-report-01-form-phone")

    resident.select_option("select[name=category]", value=str(garbage.pk))
    resident.fill("textarea[name=description]", "小区东门垃圾堆了三天没人清理，有异味")
    # the network drops, the page is opened again: the draft is still there
    resident.reload()
    expect(resident.locator("textarea[name=description]")).to_have_value("小区东门垃圾堆了三天没人清理，有异味")
    expect(resident.locator("select[name=category]")).to_have_value(str(garbage.pk))
    resident.set_input_files("input[name=photo]", files=[
        {"name": "rubbish.jpg", "mimeType": "image/jpeg", "buffer": rubbish_photo()}])
    resident.click("#locate")
    expect(resident.locator("input[name=lat]")).not_to_have_value("")
    resident.fill("input[name=phone]", "13900001111")
    screenshot(resident, "quick-report-02-filled-phone")
    with resident.expect_navigation():
        resident.click("button[type=submit].primary")

    code = resident.locator("#tracking-code").inner_text().strip()
    assert re.fullmatch(r"[2-9A-HJKMNP-Z]{12}", code)
    expect(resident.locator(".intake-ok")).to_be_visible()
    screenshot(resident, "quick-report-03-tracking-code-phone")
    resident.goto(qr_url)  # once sent, the draft is forgotten
    expect(resident.locator("textarea[name=description]")).to_have_value("")
    resident.go_back()
    submission = Submission.objects.get(tracking_code=code)
    incident = submission.incident
    assert (incident.grid, incident.source, incident.reporter_phone) == (city.g1111, Source.QUICK_REPORT,
                                                                         "13900001111")
    assert abs(incident.lat - point(1.2, 1.5)[0]) < 1e-5  # the phone's location
    assert Attachment.objects.filter(incident=incident).count() == 1

    # The grid's worker has it cleared and closes it; the resident looks the report up later by its code.
    incident_close_on_spot(incident=incident, actor=people.worker_g1111, note="已联系环卫所，今日下午清运完毕。")
    resident.goto(f"{live_server.url}/q/track/")
    resident.fill("input[name=code]", code.lower())
    with resident.expect_navigation():
        resident.click("button[type=submit].primary")
    expect(resident.locator("#tracked-reply")).to_contain_text("今日下午清运完毕")
    expect(resident.locator("#tracked-status")).to_have_text("已办结")
    assert "worker_g1111" not in resident.content() and incident.number not in resident.content()
    screenshot(resident, "quick-report-04-reply-phone")
    assert foreign_requests(resident, live_server) == []


def test_the_report_page_on_a_390_px_phone_has_the_residents_header_and_a_portal_location_button(
        browser, live_server, city, categories):
    from tests.browser.test_every_page import blocking_violations

    sign = services.sign_in_force(grid=city.g1111, acting_user=SYSTEM)
    page = open_page(browser, **{**PHONE, "viewport": {"width": 390, "height": 844}})
    try:
        assert page.goto(f"{live_server.url}/q/{services.sign_token(sign)}/").status == 200
        screenshot(page, "quick-report-390-phone")
        header = page.locator("header")
        expect(header).to_contain_text("示范市")
        expect(header.locator(".resident-title")).to_have_text("随手报")
        assert page.locator(".menu-toggle, #topnav, .nav-links, header a").count() == 0  # no staff menu or links
        assert page.evaluate("document.documentElement.scrollWidth") <= 390

        locate = page.locator("#locate")
        box = locate.bounding_box()
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "quick-report-390-phone.json").write_text(json.dumps({"locate": box}), "utf-8")
        assert box["height"] >= 44 and box["width"] >= 44, box
        # the portal's secondary button (white, red outline and text, rounded), not the browser's grey one
        style = locate.evaluate("b => { const s = getComputedStyle(b); return [s.backgroundColor, s.color, "
                                "s.borderTopColor, s.borderTopLeftRadius, s.fontWeight]; }")
        assert style == ["rgb(255, 255, 255)", "rgb(185, 28, 28)", "rgb(185, 28, 28)", "6px", "600"], style
        assert blocking_violations(page) == []
        assert foreign_requests(page, live_server) == []
    finally:
        page.context.close()
