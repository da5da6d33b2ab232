"""Seeing an alert is not acting on it: only its addressee acknowledges; reading is each person's own.

The alert is a red one on an incident of grid G1111, addressed to the command centre that
holds it (community C111). Who sees it: everyone of district D1. Who may acknowledge it:
command staff over C111 (street S11, district D1) and administrators. The read-only
supervisor and the grid worker see it and may not; the east district does not see it.
"""

import pytest
from django.urls import reverse

from governance.alerts import services
from governance.alerts.models import Alert, AlertRead
from governance.alerts.selectors import unread_count
from governance.core.errors import NotFoundError, PermissionDeniedError
from tests.alerts.conftest import OVERDUE, T0, minutes  # noqa: F401
from tests.dashboards.helpers import client_for

pytestmark = pytest.mark.django_db



@pytest.mark.parametrize("who", ["d1_supervisor", "worker_g1111"])
def test_who_only_sees_the_alert_gets_403_everywhere_and_changes_nothing(people, alert, who):
    user = getattr(people, who)
    before = unread_count(people.d1_command)
    with pytest.raises(PermissionDeniedError):
        services.alert_acknowledge(alert=alert, actor=user)
    page = client_for(user)
    assert page.post(reverse("alerts:acknowledge", args=[alert.pk])).status_code == 403
    api = page.post(reverse("api-map-alert-acknowledge", args=[alert.pk]))
    assert api.status_code == 403
    assert api.json()["error"]["code"] == "not_addressee"
    alert.refresh_from_db()
    assert alert.acknowledged_at is None
    assert unread_count(people.d1_command) == before == 1


@pytest.mark.parametrize("who", ["d1_supervisor", "worker_g1111"])
def test_who_only_sees_the_alert_is_offered_no_button(people, alert, who):
    page = client_for(getattr(people, who))
    feed = page.get(reverse("alerts:feed"))
    assert list(feed.context["alerts"]) == [alert]
    assert reverse("alerts:acknowledge", args=[alert.pk]) not in feed.content.decode()
    detail = page.get(reverse("alerts:detail", args=[alert.pk]))
    assert reverse("alerts:acknowledge", args=[alert.pk]) not in detail.content.decode()
    panel = page.get(reverse("api-map-alerts")).json()["alerts"]
    assert [(a["id"], a["can_acknowledge"]) for a in panel] == [(alert.pk, False)]


@pytest.mark.parametrize("who", ["s11_command", "d1_command", "city_admin"])
def test_the_addressee_and_those_above_acknowledge(people, alert, who):
    page = client_for(getattr(people, who))
    assert reverse("alerts:acknowledge", args=[alert.pk]) in page.get(reverse("alerts:feed")).content.decode()
    assert page.get(reverse("api-map-alerts")).json()["alerts"][0]["can_acknowledge"] is True
    response = page.post(reverse("api-map-alert-acknowledge", args=[alert.pk]))
    assert response.status_code == 200
    alert.refresh_from_db()
    assert alert.acknowledged_by == getattr(people, who)


def test_the_street_next_door_neither_sees_nor_acknowledges(people, alert):
    with pytest.raises(NotFoundError):
        services.alert_acknowledge(alert=alert, actor=people.s12_command)
    assert client_for(people.d2_command).post(reverse("api-map-alert-acknowledge", args=[alert.pk])).status_code == 404


def test_anonymous_acknowledgement_is_refused(client, alert):
    assert client.post(reverse("api-map-alert-acknowledge", args=[alert.pk])).status_code == 401
    response = client.post(reverse("alerts:acknowledge", args=[alert.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response.url
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


def test_reading_is_per_person_and_clears_only_ones_own_badge(people, alert):
    assert unread_count(people.d1_supervisor) == 1 and unread_count(people.d1_command) == 1
    supervisor = client_for(people.d1_supervisor)
    assert supervisor.get(reverse("alerts:detail", args=[alert.pk])).status_code == 200  # opening reads it
    assert unread_count(people.d1_supervisor) == 0
    assert unread_count(people.d1_command) == 1  # nobody else's badge moved
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


def test_marking_the_page_read_marks_only_what_the_user_sees(people, alert, city):
    hidden = Alert.objects.create(subject_type="incident", subject_id=999, kind="overdue", severity="red",
                                  region=city.g2111, owner_region=city.c211, raised_at=OVERDUE)
    page = client_for(people.worker_g1111)
    response = page.post(reverse("alerts:mark-read"), {"alert": [alert.pk, hidden.pk, "x"]})
    assert response.status_code == 302
    assert set(AlertRead.objects.values_list("alert_id", "user__username")) == {(alert.pk, "worker_g1111")}
    assert unread_count(people.worker_g1111) == 0


def test_acknowledging_clears_the_badge_of_everyone_there(people, alert):
    services.alert_acknowledge(alert=alert, actor=people.s11_command)
    assert unread_count(people.d1_command) == 0 and unread_count(people.d1_supervisor) == 0


def test_the_acknowledger_is_shown_by_name_not_login(people, alert):
    people.s11_command.last_name, people.s11_command.first_name = "吴", "丽娟"
    people.s11_command.save()
    services.alert_acknowledge(alert=alert, actor=people.s11_command)
    html = client_for(people.d1_command).get(reverse("alerts:feed")).content.decode()
    assert "吴丽娟" in html and "s11_command" not in html
