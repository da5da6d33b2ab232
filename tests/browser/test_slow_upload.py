"""Nine photos filed from a phone on emulated Slow 3G: the page shows the upload going out, and it succeeds.

Chromium's own network throttling (DevTools ``Network.emulateNetworkConditions``, the
"Slow 3G" preset: 2 s of latency, 50 kB/s each way) through Playwright's CDP session.
The page measures its patience by the upload's progress, not by a fixed total, so an
upload that takes as long as it needs gets through (``static/incidents/file.js``).
"""

from __future__ import annotations

import io
import os
import re

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from incidents.models import Attachment, Incident
from tests.browser.conftest import log_in, open_page, screenshot
from tests.factories import point
from tests.incidents.conftest import categories, road  # noqa: F401  (fixtures)

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.browser

SLOW_3G = {"offline": False, "latency": 2000, "downloadThroughput": 50_000, "uploadThroughput": 50_000}
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


def phone_photo(n: int) -> bytes:
    """A 1024 x 768 JPEG of about 50 kB: a street, a different damage in each."""
    image = Image.new("RGB", (1024, 768), (120 + 10 * n, 160, 200))
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 330, 1024, 768], fill=(100 + 5 * n, 100, 105))
    for i in range(40):
        x, y = (i * 97 + n * 31) % 1024, 340 + (i * 53 + n * 17) % 420
        draw.ellipse([x, y, x + 20 + n, y + 12], fill=(40 + i, 35, 30))
    # asphalt grain: what makes a real photo weigh what it does
    grain = Image.effect_noise((1024, 40), 40 + n).convert("RGB")
    image.paste(grain, (0, 600))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


@pytest.fixture
def phone(browser):
    lat, lng = point(1.2, 1.5)
    page = open_page(browser, geolocation={"latitude": lat, "longitude": lng}, permissions=["geolocation"], **PHONE)
    yield page
    page.context.close()


def test_nine_photos_filed_on_slow_3g_get_through(phone, live_server, city, people, road):  # noqa: F811
    worker = phone
    log_in(worker, live_server, "worker_g1111", "pw-worker_g1111")
    worker.goto(f"{live_server.url}/incidents/new/")
    worker.select_option("#major-category", label=road.parent.name)
    worker.select_option("select[name=category]", value=str(road.pk))
    worker.click("#use-location")
    expect(worker.locator("input[name=lat]")).not_to_have_value("")
    photos = [{"name": f"road-{n}.jpg", "mimeType": "image/jpeg", "buffer": phone_photo(n)} for n in range(9)]
    total = sum(len(p["buffer"]) for p in photos)
    assert total > 400_000  # eight seconds and more of upload at 50 kB/s
    worker.set_input_files("input[name=photos]", files=photos)
    expect(worker.locator("#photo-previews img")).to_have_count(9)
    worker.fill("input[name=title]", "南一路多处路面破损")

    cdp = worker.context.new_cdp_session(worker)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", SLOW_3G)
    worker.click("#file-submit")
    # The grid worker sees the upload going out, in per cent of its size.
    expect(worker.locator("#submit-status [data-slot=message]")).to_contain_text(
        re.compile(r"\d+%"), timeout=30_000)
    screenshot(worker, "slow-upload-01-sending-phone")
    worker.wait_for_url(re.compile(r".*/incidents/\d+/$"), timeout=180_000)
    cdp.send("Network.emulateNetworkConditions", {**SLOW_3G, "latency": 0, "downloadThroughput": -1,
                                                  "uploadThroughput": -1})

    incident = Incident.objects.get()
    assert incident.reporter == people.worker_g1111 and incident.title == "南一路多处路面破损"
    assert Attachment.objects.filter(incident=incident).count() == 9
    assert worker.url == f"{live_server.url}/incidents/{incident.pk}/"
    screenshot(worker, "slow-upload-02-filed-phone")
