"""What a grid worker's phone downloads, and how long it waits, on a 3G network.

Two pages, measured as a phone on the street meets them: the incident page of an incident with nine
photos, and the filing page; then nine phone photos filed through the filing page. Chromium (Debian's
``/usr/bin/chromium``, driven by Playwright) at 390 × 844 CSS px (a phone, 3× screen), with DevTools'
network emulation (``Network.emulateNetworkConditions``) and 4× CPU throttling
(``Emulation.setCPUThrottlingRate``), the presets of Chrome's DevTools:

* **Slow 3G**: 2,000 ms latency, 50 kB/s down, 50 kB/s up;
* **Fast 3G**: 563 ms latency, 180 kB/s down, 84 kB/s up.

Each page is loaded twice in a fresh browser context logged in as the demo's grid worker: **cold**
(the browser cache emptied first: the first visit after an update) and **warm** (the same page again,
the static files cached). Figures per load:

* **bytes**: what went over the wire (encoded, i.e. compressed, body and headers) until the page
  settled, i.e. no request in flight for 1 s (lazy thumbnails in view included);
* **usable**: the first contentful paint: the page's text, links and buttons are on the screen and
  work, since the incident page's actions and the filing form are plain HTML forms (the scripts add
  the map, the upload's progress, the one-tap guard);
* **scripts ready**: ``DOMContentLoaded``: the HTML is read and the deferred scripts ran;
* **load**: the ``load`` event; **settled**: the last byte before the 1 s of quiet;
* **scrolled**: the bytes after scrolling to the bottom (every lazy thumbnail fetched).

The portal runs as in production: ``gunicorn`` with ``DJANGO_ENV=production``, ``DEBUG`` off, the
static files collected with whitenoise's compressed manifest storage (as they are served).

    python bench/page_weight.py                                   # bench_page_weight on local PostgreSQL
    python bench/page_weight.py --postgres postgres://postgres@127.0.0.1:5432/other
    python bench/page_weight.py --no-upload                       # the two pages only

Setup (skipped when done): the database is created, migrated and seeded with the demo city
(``seed_demo``); the demo grid worker files one incident with nine photos (3,264 × 2,448 px, a
phone's 8 megapixels, stored by the portal at 2,560 px) under a fixed idempotency key.
"""

from __future__ import annotations

import argparse
import http.client
import io
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
VAR = ROOT / "var" / "bench-page-weight"
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/bench_page_weight"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True, "has_touch": True}
NETWORKS = {
    "Slow 3G": {"offline": False, "latency": 2000, "downloadThroughput": 50_000, "uploadThroughput": 50_000},
    "Fast 3G": {"offline": False, "latency": 562.5, "downloadThroughput": 180_000, "uploadThroughput": 84_375},
}
CPU_SLOWDOWN = 4
KEY = "bench-page-weight-nine-photos-v2"
# Production refuses the demo password (governance/auth.py): the bench gives the demo grid worker its own.
WORKER = ("grid_worker", "bench-page-weight-Pw1")

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


# --- Setup ----------------------------------------------------------------------------------------


def secret_key() -> str:
    path = VAR / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
    return path.read_text().strip()


def server_env(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "governance.settings",
        "DJANGO_ENV": "production",
        "DEBUG": "false",
        "SECRET_KEY": secret_key(),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_HSTS_SECONDS": "0",
        "STATIC_ROOT": str(VAR / "static"),
        "VAR_DIR": str(VAR / "var"),
        "LOG_LEVEL": "WARNING",
    }


def ensure_database(database_url: str) -> None:
    import psycopg2

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    admin = psycopg2.connect(urlunsplit(parts._replace(path="/postgres")))
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def phone_photo(seed: int, size=(3264, 2448)) -> bytes:
    """A JPEG with the texture of a street scene at every scale (shapes, patches, grain), so that it weighs
    what a phone's photo weighs, and its thumbnail what a real thumbnail weighs."""
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    w, h = size
    image = Image.new("RGB", size, (120 + rng.randrange(60), 160, 210))
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, h * 2 // 5, w, h], fill=(105, 104, 108))
    for _ in range(400):
        x, y = rng.randrange(w), rng.randrange(h)
        draw.rectangle([x, y, x + rng.randrange(10, 260), y + rng.randrange(10, 200)],
                       fill=(rng.randrange(20, 230), rng.randrange(20, 220), rng.randrange(20, 210)))
    for scale, amount in ((64, 0.25), (8, 0.18), (1, 0.10)):  # blotches, patches, grain
        noise = Image.effect_noise((max(1, w // scale), max(1, h // scale)), 60 + seed % 7).convert("RGB")
        image = Image.blend(image, noise.resize(size, Image.Resampling.BICUBIC), amount)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88)
    return out.getvalue()


def setup(database_url: str) -> dict:
    """The demo city and one incident with nine photos; returns what the browser needs."""
    ensure_database(database_url)
    env = server_env(database_url)
    env["DJANGO_ENV"] = "development"
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "SECRET_KEY", "DJANGO_ENV", "VAR_DIR", "STATIC_ROOT")})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command
    from shapely.geometry import shape

    from grids.demo import DEMO_CITY_CODE
    from grids.models import Region
    from incidents import services
    from incidents.models import Category, Incident

    call_command("migrate", verbosity=0)
    if not Region.objects.filter(code=DEMO_CITY_CODE).exists():
        with open(os.devnull, "w") as quiet:
            call_command("seed_demo", no_progress=True, stdout=quiet)
    worker = get_user_model().objects.get(username=WORKER[0])
    if not worker.check_password(WORKER[1]):
        worker.set_password(WORKER[1])
        worker.save(update_fields=["password"])
    call_command("axes_reset", verbosity=0)
    grid = Region.objects.get(code="440502001001001")
    spot = shape(grid.boundary).representative_point()
    incident = Incident.objects.filter(idempotency_key=KEY).first()
    if incident is None:
        category = Category.objects.filter(parent__isnull=False, is_active=True).order_by("code").first()
        photos = [SimpleUploadedFile(f"IMG_{n:04d}.jpg", phone_photo(n), content_type="image/jpeg") for n in range(9)]
        incident = services.incident_file(reporter=worker, category=category, title="人行道多处破损、井盖松动",
                                          description="步行街东段人行道砖块松动，井盖有响声，雨天积水。",
                                          address="金湖路 88 号旁", lat=spot.y, lng=spot.x, photos=photos,
                                          idempotency_key=KEY).incident
    stored = list(incident.attachments.values_list("size", "thumbnail_size"))
    return {"incident": incident.pk, "lat": spot.y, "lng": spot.x, "photos": stored}


# --- The server -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(database_url: str, port: int) -> subprocess.Popen:
    env = server_env(database_url)
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env,
                   check=True)
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "governance.wsgi", "-w", "3", "--timeout", "300",
                                "-b", f"127.0.0.1:{port}", "--log-level", "warning"],
                               cwd=ROOT, env=env, start_new_session=True)
    for _ in range(150):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return process
        except OSError:
            pass
        if process.poll() is not None:
            raise SystemExit("gunicorn exited while starting")
        time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    raise SystemExit("gunicorn did not answer /healthz")


# --- Measuring ------------------------------------------------------------------------------------


class Wire:
    """Bytes on the wire per request, from DevTools' own accounting (encodedDataLength)."""

    def __init__(self, cdp):
        self.cdp = cdp
        self.started = {}
        self.finished = {}
        self.urls = {}
        self.last_event = time.monotonic()
        cdp.on("Network.requestWillBeSent", self._sent)
        cdp.on("Network.loadingFinished", self._done)
        cdp.on("Network.loadingFailed", self._failed)

    def _sent(self, event):
        self.started[event["requestId"]] = time.monotonic()
        self.urls[event["requestId"]] = event["request"]["url"]
        self.last_event = time.monotonic()

    def _done(self, event):
        self.finished[event["requestId"]] = event["encodedDataLength"]
        self.last_event = time.monotonic()

    def _failed(self, event):
        self.finished[event["requestId"]] = 0
        self.last_event = time.monotonic()

    def reset(self):
        self.started.clear()
        self.finished.clear()
        self.urls.clear()

    def bytes(self) -> int:
        return sum(self.finished.values())

    def in_flight(self) -> int:
        return len(set(self.started) - set(self.finished))

    def settle(self, page, quiet=1.0, limit=300.0) -> float:
        """Wait until nothing is in flight for ``quiet`` seconds; the time of the last event."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            page.wait_for_timeout(100)
            if not self.in_flight() and time.monotonic() - self.last_event >= quiet:
                return self.last_event
        return self.last_event


def log_in(page, base: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", WORKER[0])
    page.fill("input[name=password]", WORKER[1])
    with page.expect_navigation():
        page.click("form:has(input[name=password]) button[type=submit]")


def throttle(cdp, network: dict) -> None:
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", network)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})


def unthrottle(cdp) -> None:
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0, "downloadThroughput": -1,
                                                  "uploadThroughput": -1})
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})


def load(page, cdp, wire: Wire, url: str, *, cold: bool) -> dict:
    if cold:
        cdp.send("Network.clearBrowserCache")
    wire.reset()
    started = time.monotonic()
    page.goto(url, wait_until="commit")
    page.wait_for_load_state("domcontentloaded", timeout=300_000)
    usable = time.monotonic() - started
    usable_bytes = wire.bytes()
    page.wait_for_load_state("load", timeout=300_000)
    loaded = time.monotonic() - started
    paint = page.evaluate("""() => {
        const entry = performance.getEntriesByName('first-contentful-paint')[0];
        return entry ? entry.startTime / 1000 : null;
    }""")
    settled = wire.settle(page) - started
    settled_bytes = wire.bytes()
    requests = len(wire.finished)
    page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_timeout(300)
    wire.settle(page)
    return {"paint": paint, "usable": usable, "usable_bytes": usable_bytes, "load": loaded, "settled": settled,
            "bytes": settled_bytes, "requests": requests, "scrolled": wire.bytes()}


def measure_page(browser, base: str, path: str, network: dict) -> list[dict]:
    context = browser.new_context(locale="zh-CN", **PHONE)
    page = context.new_page()
    page.set_default_timeout(300_000)
    log_in(page, base)
    cdp = context.new_cdp_session(page)
    wire = Wire(cdp)
    throttle(cdp, network)
    rows = [load(page, cdp, wire, base + path, cold=True), load(page, cdp, wire, base + path, cold=False)]
    context.close()
    return rows


def measure_upload(browser, base: str, network: dict, setup_info: dict, folder: Path) -> dict:
    """Nine phone photos (8 megapixels each) filed through the page, from the tap to the incident's page."""
    photos = []
    for n in range(9):
        path = folder / f"IMG_{n:04d}.jpg"
        path.write_bytes(phone_photo(100 + n))
        photos.append(str(path))
    picked = sum(Path(p).stat().st_size for p in photos)
    context = browser.new_context(locale="zh-CN", geolocation={"latitude": setup_info["lat"],
                                                               "longitude": setup_info["lng"]},
                                  permissions=["geolocation"], **PHONE)
    page = context.new_page()
    page.add_init_script(COUNT_UPLOADED_PHOTOS)
    page.set_default_timeout(300_000)
    log_in(page, base)
    page.goto(f"{base}/incidents/new/")
    page.select_option("#major-category", index=1)
    page.select_option("select[name=category]", index=1)
    page.click("#use-location")
    for _ in range(100):
        if page.input_value("input[name=lat]"):
            break
        page.wait_for_timeout(100)
    page.fill("input[name=title]", f"测试上报 {time.time():.0f}")
    cdp = context.new_cdp_session(page)
    throttle(cdp, network)
    started = time.monotonic()
    page.set_input_files("input[name=photos]", photos)
    page.click("#file-submit")
    page.wait_for_url(lambda url: "/incidents/new/" not in url, timeout=600_000)
    elapsed = time.monotonic() - started
    sent = int(page.evaluate("() => sessionStorage.getItem('uploadedPhotoBytes') || 0"))
    unthrottle(cdp)
    context.close()
    return {"picked": picked, "sent": sent, "seconds": elapsed}


def kb(n: int) -> str:
    return f"{n / 1024:,.0f} KB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgres", default=DEFAULT_DB)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--no-upload", action="store_true", help="skip filing nine photos")
    parser.add_argument("--networks", default="Slow 3G,Fast 3G")
    args = parser.parse_args()
    networks = [n.strip() for n in args.networks.split(",")]

    info = setup(args.postgres)
    print(f"incident {info['incident']}: nine photos stored, {kb(sum(s for s, _ in info['photos']))} in all; "
          f"their thumbnails {kb(sum(t or 0 for _, t in info['photos']))} in all")
    port = args.port or free_port()
    base = f"http://localhost:{port}"
    server = start_server(args.postgres, port)
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as p, tempfile.TemporaryDirectory() as tmp:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            print(f"\nChromium {browser.version}, 390 × 844 px phone, CPU slowed {CPU_SLOWDOWN}×\n")
            print("| page | network | visit | bytes (settled) | bytes after scrolling | requests | usable "
                  "(first paint) | scripts ready (DOMContentLoaded) | load | settled |")
            print("|---|---|---|---|---|---|---|---|---|---|")
            for name in networks:
                for label, path in [("incident with nine photos", f"/incidents/{info['incident']}/"),
                                    ("filing page", "/incidents/new/")]:
                    cold, warm = measure_page(browser, base, path, NETWORKS[name])
                    for visit, row in (("cold", cold), ("warm", warm)):
                        print(f"| {label} | {name} | {visit} | {kb(row['bytes'])} | {kb(row['scrolled'])} | "
                              f"{row['requests']} | {row['paint']:.1f} s | {row['usable']:.1f} s | "
                              f"{row['load']:.1f} s | {row['settled']:.1f} s |", flush=True)
            if not args.no_upload:
                print("\n| filing nine photos | network | picked | photos sent | tap to incident page |")
                print("|---|---|---|---|---|")
                for name in networks:
                    row = measure_upload(browser, base, NETWORKS[name], info, Path(tmp))
                    print(f"| 8-megapixel phone photos | {name} | {kb(row['picked'])} | {kb(row['sent'])} | "
                          f"{row['seconds']:.1f} s |", flush=True)
            browser.close()
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    main()
