"""Issue 14 (part B): the top bar, the alert pages, lists and filters, words, and the dashboards,
each as its user sees them. The browser test (tests/browser/test_every_page.py) measures what only a
browser can: tap targets, the folding menu, axe-core."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.http import QueryDict
from django.utils import timezone

from dashboards.map import stats
from governance.access.navigation import nav_links
from governance.alerts.models import Alert, AlertSeverity
from governance.core.scoping import get_scope
from governance.core.testing import page_client
from incidents import services
from incidents.models import Category, Status

pytestmark = pytest.mark.django_db


def html(user, path: str, *, language: str = "en", status: int = 200) -> str:
    response = page_client(user, language=language).get(path, follow=True)
    assert response.status_code == status, (path, response.status_code)
    return response.content.decode()


def nav_labels(page: str) -> list[str]:
    bar = re.search(r'<ul class="nav-links">(.*?)</ul>', page, re.S).group(1)
    return [re.sub(r"<[^>]+>|\s+", " ", label).strip().split(" ")[0]
            for label in re.findall(r"<a [^>]*>(.*?)</a>", bar, re.S)]


# --- One top bar ----------------------------------------------------------------------------------

EXPECTED_LINKS = {
    # Dispute cases: for those who work disputes (mediators, command centres, supervisors, administrators);
    # a grid worker or a unit handler may still open the list (scoped), but it is not in their bar.
    "worker_g1111": ["Dashboard", "File", "Incidents", "My", "Alerts"],
    "d1_command": ["Dashboard", "File", "Triage", "Incidents", "Dispute", "Map", "My", "Alerts"],
    "d1_police_handler": ["Dashboard", "My", "Incidents", "Pilot", "Supervision", "My", "Alerts"],
    "s11_mediator": ["Dashboard", "Mediation", "Incidents", "Dispute", "My", "Alerts"],
    "d1_supervisor": ["Dashboard", "Incidents", "Dispute", "Map", "Pilot", "Supervision", "Innovation", "My",
                      "Alerts"],
    "city_admin": ["Dashboard", "File", "Triage", "Mediation", "Incidents", "Dispute", "Map", "Pilot", "Supervision",
                   "Innovation", "My", "Audit", "Administration", "Alerts"],
}


@pytest.mark.parametrize("username", list(EXPECTED_LINKS))
def test_every_page_type_has_the_same_top_bar_with_the_links_of_the_users_roles(world, people, username):
    user = getattr(people, username)
    detail = {"d1_police_handler": f"/incidents/{world.dispatched.pk}/",  # a page of one they may open
              "s11_mediator": "/mediation/"}.get(username, f"/incidents/{world.reported.pk}/")
    pages = ["/", "/incidents/", "/alerts/", "/exports/", detail]
    bars = {path: nav_labels(html(user, path)) for path in pages}
    assert bars["/"] == EXPECTED_LINKS[username]
    assert all(bar == bars["/"] for bar in bars.values()), bars


def test_the_current_page_is_marked_in_the_top_bar(world, people):
    page = html(people.d1_command, "/incidents/queue/")
    assert re.search(r'<a href="/incidents/queue/" aria-current="page">', page)
    assert page.count('aria-current="page"') == 1


def test_the_phone_menu_button_controls_the_links(world, people):
    page = html(people.d1_command, "/")
    assert '<button type="button" class="menu-toggle" aria-expanded="false" aria-controls="topnav">' in page
    assert '<nav class="topnav" id="topnav"' in page
    assert "js/topbar.js" in page


def test_the_top_bar_costs_at_most_one_query_once_the_scope_is_known(people, django_assert_max_num_queries):
    get_scope(people.d1_supervisor)  # every page has asked the scoping door already
    with django_assert_max_num_queries(1):  # the roles, for the links shown by role (the map)
        keys = [link["key"] for link in nav_links(people.d1_supervisor, current="incidents:list")]
    assert keys == ["home", "incidents", "mediation-cases", "map", "ledgers", "ledger-notices", "ledger-projects",
                    "exports"]
    assert [link["current"] for link in nav_links(people.d1_supervisor, current="incidents:detail")] == [
        False, True, False, False, False, False, False, False]


def test_an_anonymous_visitor_gets_no_links(client):
    page = client.get("/accounts/login/").content.decode()
    assert 'class="nav-links"' not in page


# --- Alert pages ------------------------------------------------------------------------------------

def test_the_alert_pages_name_who_acknowledged_as_the_portal_names_people(world, people):
    people.d1_command.last_name, people.d1_command.first_name = "郑", "伟"
    people.d1_command.save()
    Alert.objects.filter(pk=world.alert_d1.pk).update(acknowledged_at=timezone.now(),
                                                      acknowledged_by=people.d1_command)
    for path in ("/alerts/", f"/alerts/{world.alert_d1.pk}/"):
        page = html(people.d1_command, path, language="zh-hans")
        assert "郑伟" in page
        assert "d1_command" not in page.split("</header>", 1)[1]


def test_red_and_yellow_alerts_wear_different_badges(world, people):
    Alert.objects.filter(pk=world.alert_d1.pk).update(severity=AlertSeverity.YELLOW)
    world.alert_d1.pk = None
    world.alert_d1.kind = "escalated"
    world.alert_d1.severity = AlertSeverity.RED
    world.alert_d1.save()
    page = html(people.d1_command, "/alerts/")
    assert '<span class="sev-badge sev-yellow">Yellow</span>' in page
    assert '<span class="sev-badge sev-red">Red</span>' in page


def test_the_alert_detail_page_shows_its_facts_history_and_other_alerts_of_the_subject(world, people):
    other = Alert.objects.create(subject_type="incident", subject_id=world.overdue.pk,
                                 subject_label=world.overdue.number, kind="escalated", severity=AlertSeverity.RED,
                                 region=world.overdue.grid, owner_region=world.overdue.responsible_region,
                                 raised_at=timezone.now())
    page = html(people.d1_command, f"/alerts/{world.alert_d1.pk}/")
    assert "History" in page and "Not acknowledged yet" in page
    assert f'href="/alerts/{other.pk}/"' in page
    assert f'href="/incidents/{world.overdue.pk}/"' in page


def test_an_alert_outside_the_territory_is_missing(world, people):
    html(people.d1_command, f"/alerts/{world.alert_d2.pk}/", status=404)


# --- Lists and filters ----------------------------------------------------------------------------

def test_the_queue_category_filter_groups_minor_categories_under_their_major_category(world, people, road):
    page = html(people.d1_command, "/incidents/queue/")
    select = re.search(r'<select name="category".*?</select>', page, re.S).group(0)
    group = re.search(rf'<optgroup label="{road.parent.name}">(.*?)</optgroup>', select, re.S).group(1)
    assert f'<option value="{road.parent.pk}">' in group  # the major category first: the whole group
    assert f'<option value="{road.pk}">{road.name}</option>' in group
    majors = Category.objects.filter(is_active=True, parent__isnull=False, parent__is_active=True).values("parent")
    assert select.count("<optgroup") == majors.distinct().count()


def test_picking_a_major_category_in_the_queue_lists_its_minor_ones(world, people, road):
    page = html(people.d1_command, f"/incidents/queue/?category={road.parent.pk}")
    assert world.reported.number in page


def test_the_unit_queue_offers_only_the_statuses_a_unit_holds(world, people):
    page = html(people.d1_police_handler, "/incidents/unit-queue/")
    offered = re.findall(r'name="status" value="(\w+)"', page)
    assert offered == [Status.DISPATCHED, Status.HANDLED]
    assert world.dispatched.number in page


def test_an_incident_accepted_again_leaves_the_units_queue(world, people):
    services.incident_park(incident=world.dispatched, actor=people.d1_command, note="等待资金",
                           review_on=timezone.localdate() + timedelta(days=30))
    services.incident_unpark(incident=world.dispatched, actor=people.d1_command)
    page = html(people.d1_police_handler, "/incidents/unit-queue/")
    assert world.dispatched.number not in page


def test_overdue_cards_keep_the_status_and_overdue_pills_together(world, people):
    page = html(people.worker_g1111, "/incidents/?overdue=true")
    assert re.search(r'<span class="pills"><span class="status status-reported">[^<]+</span> '
                     r'<span class="status status-overdue">Overdue</span></span>', page)


def test_breadcrumbs_link_only_the_regions_the_user_may_open(world, people, city):
    page = html(people.d1_command, f"/territory/regions/{city.s11.pk}/")
    crumbs = re.search(r'<nav class="crumbs".*?</nav>', page, re.S).group(0)
    assert f'<span>{city.city.name}</span>' in crumbs  # above the district: text
    assert f'href="/territory/regions/{city.city.pk}/"' not in crumbs
    assert f'<a href="/territory/regions/{city.d1.pk}/">{city.d1.name}</a>' in crumbs
    html(people.d1_command, f"/territory/regions/{city.city.pk}/", status=404)


# --- Words ------------------------------------------------------------------------------------------

def test_chinese_pages_use_full_width_colons_in_the_timeline(world, people):
    page = html(people.d1_command, f"/incidents/{world.dispatched.pk}/", language="zh-hans")
    assert "承办单位：西区公安分局" in page
    assert not re.search(r"[\u4e00-\u9fff]: ", page.split("<main", 1)[1])


def test_the_location_messages_are_the_pages_own_words_for_each_reason(people):
    page = html(people.worker_g1111, "/incidents/new/", language="zh-hans")
    messages = re.search(r'<script id="file-messages" type="application/json">(.*?)</script>', page, re.S).group(1)
    for key in ("geo_denied", "geo_unavailable", "geo_timeout", "geo_failed"):
        assert f'"{key}"' in messages
    assert "%(reason)s" not in messages  # the browser's English reason is never pasted in
    script = (Path(settings.BASE_DIR) / "static" / "incidents" / "file.js").read_text("utf-8")
    assert "maximumAge: 0" in script and "maximumAge: 60000" not in script
    assert "MSG.geo_denied" in script and "reason: error.message" not in script


def test_the_command_dashboard_says_what_its_open_figure_counts(world, people):
    page = html(people.d1_command, "/")
    assert "Open in my territory, this centre and those below" in page


def test_the_english_map_legend_capitalises_overdue(people):
    page = html(people.d1_command, "/dashboards/map/")
    assert '"overdueFlag": "Overdue"' in page


# --- Dashboards ---------------------------------------------------------------------------------------

def test_the_supervisors_dashboard_shows_the_territorys_figures_as_the_map_counts_them(world, people, city):
    figures = stats.compute_figures(people.d1_supervisor, QueryDict())
    page = html(people.d1_supervisor, "/")
    assert "Coming next" not in page
    assert f'href="/incidents/?overdue=true">{figures.overdue}</a>' in page
    assert f'href="/incidents/?open=true">{figures.open}</a>' in page
    assert f"{round(figures.closure_rate * 100, 1)}%" in page
    assert page.count('class="trend-day"') == 30
    # the rates by region: the district's two streets, never the east district
    table = re.search(r'<table class="data by-region">.*?</table>', page, re.S).group(0)
    assert city.s11.name in table and city.s12.name in table
    assert city.d2.name not in table and "东区" not in page.split("</header>", 1)[1]


def test_region_figures_carry_the_closure_rate_of_the_territory_figures(world, people):
    figures = stats.compute_figures(people.d1_supervisor, QueryDict())
    rows = figures.by_region
    closed = sum(r["closed"] for r in rows)
    assert closed == figures.closed
    assert all(set(r) >= {"closure_rate", "on_time_rate"} for r in rows)


QUEUE_LINKS = {
    "worker_g1111": ["/incidents/new/", "/incidents/?open=true", "/alerts/"],
    "d1_command": ["/incidents/queue/", "/incidents/", "/alerts/"],
    "d1_police_handler": ["/incidents/unit-queue/", "/alerts/"],
    "d1_supervisor": ["/incidents/?overdue=true", "/incidents/?open=true", "/alerts/"],
    "s11_mediator": ["/incidents/?open=true", "/alerts/"],
    "city_admin": ["/incidents/queue/", "/incidents/", "/alerts/", "/audit/"],
}


@pytest.mark.parametrize("username", list(QUEUE_LINKS))
def test_every_dashboard_links_its_roles_queues(world, people, username):
    page = html(getattr(people, username), "/").split("</header>", 1)[1]
    for href in QUEUE_LINKS[username]:
        assert re.search(rf'<a class="button[^"]*" href="{re.escape(href)}">', page), href
