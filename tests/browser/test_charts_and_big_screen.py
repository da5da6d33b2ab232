"""Charts that can be read and a big screen that fits the wall, in a real browser.

* Every chart of the map page and of the big screen has its legend (the series' names drawn on the
  canvas, read back from ECharts' model) and answers a hover with a tooltip naming the series.
* The big screen is exactly as tall and as wide as the viewport at 1920 × 1080 and 3840 × 2160 (no
  scroll bar), its lowest chart and the alert panel lie inside the viewport with room to show
  something, and region labels do not cover one another, even on a district cut in narrow streets.
"""

from __future__ import annotations

import pytest

from governance.access.models import Role
from governance.core.authority import SYSTEM
from grids import services as grid_services
from grids.models import Level
from tests.browser.conftest import foreign_requests, log_in, screenshot
from tests.browser.test_map import incidents_on_the_map, wait_until  # noqa: F401,F811  (fixture)
from tests.factories import make_user
from tests.incidents.conftest import categories, road  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser

CHARTS = {  # chart id -> the series names its legend must show (zh-hans)
    "chart-trend": ["上报", "已办结"],
    "chart-category": ["在办", "超期"],
    "chart-region": ["在办", "超期"],
}

LEGEND_NAMES = """(id) => {
    const chart = echarts.getInstanceByDom(document.getElementById(id));
    const legend = chart && chart.getModel().getComponent('legend');
    return legend ? legend.getData().map((item) => item.get('name')) : null;
}"""

# The screen position of a chart's busiest category: hovering it must bring up the tooltip.
HOVER_POINT = """(id) => {
    const chart = echarts.getInstanceByDom(document.getElementById(id));
    const option = chart.getOption();
    const horizontal = option.yAxis[0].type === 'category';
    const values = option.series[0].data.map((v, i) => v + (option.series[1] ? option.series[1].data[i] : 0));
    const index = values.indexOf(Math.max(...values));
    const category = (horizontal ? option.yAxis : option.xAxis)[0].data[index];
    const [x, y] = chart.convertToPixel({seriesIndex: 0}, horizontal ? [values[index] / 2, category]
                                                                    : [category, option.series[0].data[index]]);
    const box = document.getElementById(id).getBoundingClientRect();
    return [box.left + x, box.top + y];
}"""

# What the chart's tooltip says, once it is shown (the tooltip is HTML inside the chart's box; the
# legend and axes are drawn on the canvas, so any text here is the tooltip's).
TOOLTIP_TEXT = """(id) => {
    const shown = [...document.getElementById(id).querySelectorAll('div')]
        .filter((d) => !d.querySelector('canvas') && getComputedStyle(d).display !== 'none' && d.innerText.trim());
    return shown.map((d) => d.innerText).join(' ');
}"""


def assert_charts_readable(page):
    wait_until(page, "typeof echarts !== 'undefined' && document.querySelectorAll('.chart canvas').length === 3")
    for chart_id, names in CHARTS.items():
        instance = f"echarts.getInstanceByDom(document.getElementById('{chart_id}'))"
        wait_until(page, f"{instance} && {instance}.getOption().series.length")
        assert page.evaluate(LEGEND_NAMES, chart_id) == names, chart_id
        x, y = page.evaluate(HOVER_POINT, chart_id)
        page.mouse.move(x, y)
        wait_until(page, f"({TOOLTIP_TEXT})('{chart_id}').includes('{names[0]}')", timeout=5)
        assert names[1] in page.evaluate(TOOLTIP_TEXT, chart_id)
        page.mouse.move(1, 1)


def test_map_charts_show_their_legends_and_a_tooltip_on_hover(page, live_server, incidents_on_the_map,  # noqa: F811
                                                             save_screenshot):
    log_in(page, live_server, "d1_command", "pw-d1_command")
    page.set_viewport_size({"width": 1440, "height": 900})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.requested_urls.clear()
    page.goto(f"{live_server.url}/dashboards/map/")
    assert_charts_readable(page)
    x, y = page.evaluate(HOVER_POINT, "chart-trend")
    page.mouse.move(x, y)
    save_screenshot("tooltip")
    page.wait_for_timeout(400)
    assert len(regions_requests(page)) == 1, regions_requests(page)  # once on load, not again after the fit
    assert errors == []


def regions_requests(page) -> list[str]:
    return [url for url in page.requested_urls if "/api/v1/map/regions/" in url]


@pytest.mark.parametrize("width, height", [(1920, 1080), (3840, 2160)])
def test_big_screen_fits_the_wall_exactly(page, live_server, incidents_on_the_map, width, height):  # noqa: F811
    log_in(page, live_server, "d1_command", "pw-d1_command")
    page.set_viewport_size({"width": width, "height": height})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.requested_urls.clear()
    page.goto(f"{live_server.url}/dashboards/map/big-screen/")
    wait_until(page, "window.portalMap && window.portalMap.regionCount() >= 2")
    wait_until(page, "document.querySelectorAll('#map-figures dd').length === 6")
    page.wait_for_selector("#alert-list li[data-alert]")
    assert_charts_readable(page)
    page.wait_for_timeout(400)  # let the map's moveend (after the figures took their height) settle

    size = page.evaluate("""() => ({
        scrollHeight: document.documentElement.scrollHeight, scrollWidth: document.documentElement.scrollWidth,
        bodyHeight: document.body.scrollHeight, innerHeight, innerWidth,
        rootFont: parseFloat(getComputedStyle(document.documentElement).fontSize)})""")
    assert size["scrollHeight"] == size["innerHeight"] == height
    assert size["bodyHeight"] == height
    assert size["scrollWidth"] == size["innerWidth"] == width
    assert size["rootFont"] == 16 * width / 1920  # the layout scales with the wall

    for selector in ["#chart-region", ".bs-alerts", "#alert-list li[data-alert]", ".bs-figures", "#map"]:
        box = page.locator(selector).first.bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= height, (selector, box)
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, (selector, box)
        assert box["height"] >= height * 0.04, (selector, box)  # not squeezed to nothing

    # The regions were fetched once on load (the fit after the figures took their height reuses them).
    assert len(regions_requests(page)) == 1, regions_requests(page)
    screenshot(page, f"big_screen_{width}x{height}")
    assert errors == []
    assert foreign_requests(page, live_server) == []


VISIBLE_LABEL_BOXES = """() => [...document.querySelectorAll('.region-label')]
    .filter((n) => getComputedStyle(n).visibility !== 'hidden')
    .map((n) => { const r = n.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom, n.innerText]; })"""


def box(west: float, south: float, east: float, north: float) -> dict:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


STREETS = 16


@pytest.fixture
def narrow_streets(city):
    """A district one degree wide cut in sixteen streets, each a sliver with a long name: labels at the
    streets' centres would all cover their neighbours."""
    add = grid_services.region_create
    # A city of its own, north of the test city (siblings may not overlap).
    other = add(parent=None, level=Level.CITY, code="450000", name="长条市", boundary=box(116, 24, 117, 24.25),
                acting_user=SYSTEM)
    district = add(parent=other, level=Level.DISTRICT, code="450100", name="长条区", boundary=box(116, 24, 117, 24.25),
                   acting_user=SYSTEM)
    step = 1 / STREETS
    for i in range(STREETS):
        add(parent=district, level=Level.STREET, code=f"450100{i + 1:03d}", name=f"第{i + 1}号长条形状的街道",
            boundary=box(116 + i * step, 24, 116 + (i + 1) * step, 24.25), acting_user=SYSTEM)
    make_user("sliver_command", role=Role.COMMAND_STAFF, region=district)
    return district


@pytest.mark.parametrize("width, height", [(1920, 1080), (3840, 2160)])
def test_big_screen_region_labels_do_not_overlap(page, live_server, narrow_streets, width, height):
    log_in(page, live_server, "sliver_command", "pw-sliver_command")
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{live_server.url}/dashboards/map/big-screen/")
    wait_until(page, "window.portalMap && window.portalMap.regionCount() === 16")
    wait_until(page, "document.querySelectorAll('#map-figures dd').length === 6")
    page.wait_for_timeout(500)
    boxes = page.evaluate(VISIBLE_LABEL_BOXES)
    screenshot(page, f"big_screen_labels_{width}x{height}")
    # Side by side at their centres, at most a few would fit: the others moved above or below, or hid.
    assert 4 <= len(boxes) <= STREETS, boxes
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            overlap = a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
            assert not overlap, (a, b)
    # Unmoved, they would overlap: the test would catch a placement that does nothing.
    unplaced = page.evaluate("""() => {
        const layers = window.portalMap.map._layers;
        return Object.values(layers).filter((l) => l.getTooltip && l.getTooltip() && l.feature)
            .map((l) => { const p = window.portalMap.map.latLngToContainerPoint(l.getCenter()); return p.x; });
    }""")
    unplaced.sort()
    label_width = min(b[2] - b[0] for b in boxes)
    assert min(b - a for a, b in zip(unplaced, unplaced[1:], strict=False)) < label_width
