"""Every role's main pages in a real browser, as their users see them (issue 14).

One test per role, the pages visited in a loop, three times each:

* desktop 1440×900 in Chinese: axe-core finds no serious or critical violation; a screenshot;
* phone 390×844 in Chinese: the top bar is one line with a menu button that opens the links; every tap
  target (top bar, buttons, status chips, figures, map zoom buttons, selects…) is at least 44×44 px;
  a screenshot;
* desktop in English (switched with the top bar's language button): axe-core again.

Screenshots: ``test-artifacts/pages-<role>-<page>-<desktop|phone>.png``.
Links inside running text and table cells (an incident number in a row) are not measured: WCAG 2.5.8
exempts inline targets, and the row's own buttons are measured.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from governance.alerts import services as alert_services
from governance.alerts.models import Alert
from governance.alerts.sweep import run_sweep
from incidents import services
from tests.browser.conftest import ARTIFACTS, log_in, screenshot
from tests.factories import point
from tests.incidents.conftest import categories, road  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
BLOCKING = {"serious", "critical"}

# What a finger taps. Inline links in text and table cells are exempt (WCAG 2.5.8).
TAP_TARGETS = ", ".join([
    ".topbar a", ".topbar button", "a.button", "button.button", "main button:not(.link)", ".chip", "summary",
    "main select", "main input[type=text]", "main input[type=search]", "main input[type=date]",
    ".figures dd a", ".leaflet-control-zoom a", ".segmented a", ".pager a", ".crumbs a", "label.check", "a.reset",
])

MEASURE_TAP_TARGETS = """(selector) => {
  const small = [];
  for (const el of document.querySelectorAll(selector)) {
    const box = el.getBoundingClientRect();
    if (!box.width || !box.height || !el.checkVisibility({visibilityProperty: true, opacityProperty: true})) continue;
    if (el.closest('.visually-hidden, [hidden], dialog:not([open])')) continue;
    if (box.width < 43.5 || box.height < 43.5) {
      const label = (el.innerText || el.value || el.name || '').trim().slice(0, 30);
      const size = `${Math.round(box.width)}×${Math.round(box.height)}`;
      small.push(`${el.tagName.toLowerCase()}.${el.className} "${label}" ${size}`);
    }
  }
  return small;
}"""


@pytest.fixture
def scene(city, people, road):  # noqa: F811
    """Incidents in the west district's grid: one overdue at the police (an alert the unit acknowledged),
    one waiting for acceptance; people with names, as the portal shows them."""
    for user, family, given in [(people.d1_command, "郑", "伟"), (people.d1_police_handler, "杨", "洋"),
                                (people.worker_g1111, "许", "海燕"), (people.d1_supervisor, "张", "慧")]:
        user.last_name, user.first_name = family, given
        user.save(update_fields=["last_name", "first_name"])
    lat, lng = point(1, 2)
    late = services.incident_file(reporter=people.worker_g1111, category=road, title="路面塌陷", lat=lat, lng=lng,
                                  address="南一路 8 号").incident
    services.incident_accept(incident=late, actor=people.s11_command)
    services.incident_dispatch(incident=late, actor=people.s11_command, unit=city.unit_d1_police)
    late.refresh_from_db()
    lat, lng = point(1.6, 0.8)
    waiting = services.incident_file(reporter=people.worker_g1111, category=road, title="井盖缺失", lat=lat,
                                     lng=lng).incident
    run_sweep(now=late.handle_due_at + timedelta(minutes=1))
    unit_alert = Alert.objects.get(subject_id=late.pk, kind="overdue")
    alert_services.alert_acknowledge(alert=unit_alert, actor=people.d1_police_handler)
    return {"late": late, "waiting": waiting, "unit_alert": unit_alert, "city": city}


def main_pages(role: str, scene) -> dict[str, str]:
    late, waiting, alert, city = scene["late"], scene["waiting"], scene["unit_alert"], scene["city"]
    return {
        "grid_worker": {"dashboard": "/", "file": "/incidents/new/", "list": "/incidents/?open=true",
                        "detail": f"/incidents/{waiting.pk}/", "alerts": "/alerts/"},
        "command": {"dashboard": "/", "queue": "/incidents/queue/", "list": "/incidents/",
                    "detail": f"/incidents/{late.pk}/", "map": "/dashboards/map/", "alerts": "/alerts/",
                    "alert": f"/alerts/{alert.pk}/", "region": f"/territory/regions/{city.s11.pk}/",
                    "signs": f"/intake/signs/?region={city.s11.pk}"},
        "unit_handler": {"dashboard": "/", "unit_queue": "/incidents/unit-queue/", "detail": f"/incidents/{late.pk}/",
                         "alerts": "/alerts/", "alert": f"/alerts/{alert.pk}/"},
        "supervisor": {"dashboard": "/", "list": "/incidents/?overdue=true", "map": "/dashboards/map/",
                       "alerts": "/alerts/"},
        "mediator": {"dashboard": "/", "list": "/incidents/", "alerts": "/alerts/",
                     "workbench": "/mediation/workbench/",
                     "cases": "/mediation/", "figures": "/mediation/figures/", "register": "/mediation/new/"},
        "administrator": {"dashboard": "/", "queue": "/incidents/queue/", "audit": "/audit/",
                          "exports": "/exports/", "region": f"/territory/regions/{city.city.pk}/"},
    }[role]


LOGINS = {"grid_worker": "worker_g1111", "command": "d1_command", "unit_handler": "d1_police_handler",
          "supervisor": "d1_supervisor", "mediator": "s11_mediator", "administrator": "city_admin"}


def blocking_violations(page) -> list[str]:
    results = Axe().run(page)
    return [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes'][:3]]}"
            for v in results.response["violations"] if v["impact"] in BLOCKING]


def visit(page, live_server, path: str) -> None:
    """Open a page; on the map, let its scripts' first fetches settle (it draws after them), so that axe and
    the measures see the page as its user does. Other pages are whole at "load" (waiting for the network to
    idle costs half a second a page)."""
    page.goto(f"{live_server.url}{path}")
    if "/map/" not in path:
        return
    try:
        page.wait_for_load_state("networkidle", timeout=5_000)
    except PlaywrightTimeoutError:  # a page that polls never idles: it has loaded, which is enough
        page.wait_for_load_state("load")


@pytest.mark.parametrize("role", list(LOGINS))
def test_every_main_page_reads_well_on_desktop_and_phone_in_both_languages(browser, live_server, scene, role):
    pages = main_pages(role, scene)
    username = LOGINS[role]
    context = browser.new_context(locale="zh-CN", viewport=DESKTOP)
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    found: dict[str, dict] = {}
    try:
        log_in(page, live_server, username, "pw-" + username)

        # Desktop, Chinese: axe, the top bar's links in one row, a screenshot.
        for name, path in pages.items():
            visit(page, live_server, path)
            assert page.locator("html").get_attribute("lang") == "zh-hans"
            assert page.locator(".topbar .nav-links a").count() >= 2, f"{name}: the top bar has its links"
            assert page.locator(".menu-toggle").is_hidden()
            found.setdefault(name, {})["axe_zh"] = blocking_violations(page)
            screenshot(page, f"pages-{role}-{name}-desktop")

        # Phone, Chinese: a one-line top bar whose menu opens; every tap target 44 × 44; a screenshot.
        page.set_viewport_size(PHONE)
        for index, (name, path) in enumerate(pages.items()):
            visit(page, live_server, path)
            bar = page.locator(".topbar").bounding_box()
            assert bar["height"] <= 64, f"{name}: the phone's top bar is one line ({bar['height']} px)"
            assert page.locator("#topnav").is_hidden()
            screenshot(page, f"pages-{role}-{name}-phone")
            toggle = page.locator(".menu-toggle")
            toggle.click()
            assert toggle.get_attribute("aria-expanded") == "true"
            assert page.locator("#topnav").is_visible()
            if index == 0:
                screenshot(page, f"pages-{role}-menu-phone")
            found[name]["small_targets"] = page.evaluate(MEASURE_TAP_TARGETS, TAP_TARGETS)
            page.keyboard.press("Escape")
            assert toggle.get_attribute("aria-expanded") == "false"

        # Desktop, English, switched by the top bar's own button.
        page.set_viewport_size(DESKTOP)
        visit(page, live_server, "/")
        with page.expect_navigation():
            page.click(".lang-switch button[value=en]")
        for name, path in pages.items():
            visit(page, live_server, path)
            assert page.locator("html").get_attribute("lang") == "en"
            found[name]["axe_en"] = blocking_violations(page)
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / f"pages-{role}.json").write_text(json.dumps(found, ensure_ascii=False, indent=1), "utf-8")
        context.close()

    problems = {name: {k: v for k, v in checks.items() if v} for name, checks in found.items()}
    problems = {name: checks for name, checks in problems.items() if checks}
    assert problems == {}
    assert errors == []
