"""The map page and the big screen render for command-centre staff, with no inline script."""

from __future__ import annotations

import re

import pytest

from tests.dashboards.helpers import client_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/dashboards/map/", "/dashboards/map/big-screen/"])
def test_map_pages_render_with_their_config_and_no_inline_script(world, people, url):
    response = client_for(people.d1_command).get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="map-config"' in html
    # the only script without src is the JSON config
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
    assert inline == [' id="map-config" type="application/json"']
    assert not re.search(r"\son[a-z]+=", html)


def test_map_page_offers_the_units_a_district_may_dispatch_to(world, city, people):
    config = client_for(people.d1_command).get("/dashboards/map/").context["map_config"]
    names = {u["name"] for u in config["units"]}
    assert city.unit_d1_police.name in names and city.unit_d2_police.name not in names
    assert config["canTriage"] is True


def static_assets_of(page_html: str) -> list[str]:
    """The static files a page's HTML loads (scripts and stylesheets), as names for the finders."""
    from django.templatetags.static import static

    prefix = re.escape(static(""))
    return sorted(set(re.findall(rf'(?:src|href)="{prefix}([^"?#]+\.(?:js|css|svg))"', page_html)))


@pytest.mark.parametrize("url", ["/dashboards/map/", "/dashboards/map/big-screen/"])
def test_map_assets_weigh_under_one_megabyte(world, people, url):
    from pathlib import Path

    from django.contrib.staticfiles import finders

    html = client_for(people.d1_command).get(url).content.decode()
    names = static_assets_of(html)
    # What the page loads, read from the page itself: a new script cannot slip past the budget.
    assert "vendor/echarts/echarts.portal.min.js" in names and "leaflet/leaflet.js" in names, names
    total = sum(Path(finders.find(name)).stat().st_size for name in names)
    assert total < 1_000_000, (total, names)
