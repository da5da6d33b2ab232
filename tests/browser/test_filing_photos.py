"""The filing page on a phone: every photo made what a command centre needs, the upload's progress by the button.

* A 1.2 MB photo of 2000 × 1500 px (the old page sent it as it was, being under its 1.2 MB threshold)
  and a 4000 × 3000 px one leave the phone at most 1600 px on their long side, and the request's body
  is a fraction of the photos' size.
* While the upload goes out on a throttled network, the status with its progress bar sits right above
  the File button, inside the phone's screen, and the bar moves.
"""

from __future__ import annotations

import io
import random
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from incidents.models import Attachment, Incident
from tests.browser.conftest import log_in, open_page, screenshot
from tests.browser.test_slow_upload import PHONE
from tests.factories import point
from tests.incidents.conftest import categories, road  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser

# Throttled enough that the progress is seen for a few seconds, not so much that the test is slow.
THROTTLED = {"offline": False, "latency": 400, "downloadThroughput": 200_000, "uploadThroughput": 150_000}

# What the page hands to XMLHttpRequest: the photos' bytes in the filing's body, kept in sessionStorage
# (the page moves on to the incident once filed). An init script, so the page's CSP does not apply.
COUNT_UPLOADED_PHOTOS = """(() => {
    const send = XMLHttpRequest.prototype.send;
    XMLHttpRequest.prototype.send = function (body) {
        if (body instanceof FormData) {
            let bytes = 0, count = 0;
            for (const [, value] of body.entries()) { if (value instanceof Blob) { bytes += value.size; count += 1; } }
            sessionStorage.setItem("uploadedPhotoBytes", String(bytes));
            sessionStorage.setItem("uploadedPhotoCount", String(count));
        }
        return send.call(this, body);
    };
})();"""


def camera_photo(size: tuple[int, int], seed: int) -> bytes:
    """A JPEG with the detail of a street scene (smoothed noise), weighing what a phone's photo weighs."""
    rng = random.Random(seed)
    small = Image.new("RGB", (size[0] // 6, size[1] // 6))
    small.putdata([(rng.randrange(256), rng.randrange(256), rng.randrange(256))
                   for _ in range(small.width * small.height)])
    out = io.BytesIO()
    small.resize(size, Image.Resampling.BICUBIC).save(out, "JPEG", quality=92)
    return out.getvalue()


@pytest.fixture
def phone(browser):
    lat, lng = point(1.2, 1.5)
    page = open_page(browser, geolocation={"latitude": lat, "longitude": lng}, permissions=["geolocation"], **PHONE)
    yield page
    page.context.close()


def test_every_photo_is_downscaled_and_the_progress_shows_by_the_button(phone, live_server, people, road):  # noqa: F811
    worker = phone
    worker.add_init_script(COUNT_UPLOADED_PHOTOS)
    log_in(worker, live_server, "worker_g1111", "pw-worker_g1111")
    worker.goto(f"{live_server.url}/incidents/new/")
    worker.select_option("#major-category", label=road.parent.name)
    worker.select_option("select[name=category]", value=str(road.pk))
    worker.click("#use-location")
    expect(worker.locator("input[name=lat]")).not_to_have_value("")
    photos = [camera_photo((2000, 1500), 1), camera_photo((4000, 3000), 2)]
    assert 1_000_000 < len(photos[0]) < 1_200 * 1024 < len(photos[1])
    worker.set_input_files("input[name=photos]", files=[
        {"name": f"scene-{n}.jpg", "mimeType": "image/jpeg", "buffer": data} for n, data in enumerate(photos)])
    expect(worker.locator("#photo-previews img")).to_have_count(2)
    worker.fill("input[name=title]", "南一路路面破损")

    cdp = worker.context.new_cdp_session(worker)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", THROTTLED)
    worker.click("#file-submit")

    status = worker.locator(".submit-bar #submit-status")
    bar = status.locator("progress")
    expect(status.locator("[data-slot=message]")).to_contain_text(re.compile(r"\d+%"), timeout=30_000)
    first = int(bar.get_attribute("value"))
    # Where the grid worker looks: inside the screen, directly above the File button.
    box, button = status.bounding_box(), worker.locator("#file-submit").bounding_box()
    viewport = worker.viewport_size
    assert 0 <= box["y"] and box["y"] + box["height"] <= viewport["height"], box
    assert 0 <= button["y"] - (box["y"] + box["height"]) <= 24, (box, button)
    assert bar.is_visible()
    screenshot(worker, "filing-progress-by-the-button-phone")
    expect(bar).not_to_have_attribute("value", str(first), timeout=20_000)  # it moves as bytes go out

    worker.wait_for_url(re.compile(r".*/incidents/\d+/$"), timeout=120_000)
    incident = Incident.objects.get()
    stored = list(Attachment.objects.filter(incident=incident))
    assert len(stored) == 2
    assert all(max(a.width, a.height) <= 1600 for a in stored), [(a.width, a.height) for a in stored]
    sent = int(worker.evaluate("() => sessionStorage.getItem('uploadedPhotoBytes')"))
    assert worker.evaluate("() => sessionStorage.getItem('uploadedPhotoCount')") == "2"
    assert 0 < sent < 0.25 * sum(len(p) for p in photos), (sent, sum(len(p) for p in photos))
