"""Alerts for whoever must act: the command centre, a unit, a person.

An incident's deadline alert goes to the lead unit while the unit holds it (dispatched), and to the
command centre that holds it otherwise; it moves when the incident moves between them. The unit's
handlers see it in their feed and badge and acknowledge it; the command centre still sees it, and does
not acknowledge what is the unit's.
"""

import pytest
from django.urls import reverse

from governance.access.models import Role
from governance.alerts import services
from governance.alerts.models import Alert
from governance.alerts.selectors import alert_feed, unread_count
from governance.core.errors import PermissionDeniedError
from governance.core.testing import PermissionMatrix
from incidents import services as incident_services
from tests.alerts.conftest import T0, minutes
from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def dispatched(reported, people, city):
    incident_services.incident_accept(incident=reported, actor=people.s11_command, now=T0 + minutes(30))
    incident_services.incident_dispatch(incident=reported, actor=people.s11_command, unit=city.unit_d1_police,
                                        now=T0 + minutes(31))
    reported.refresh_from_db()
    return reported


@pytest.fixture
def unit_alert(dispatched, sweep):
    sweep(dispatched.handle_due_at + minutes(1))
    return Alert.objects.get(subject_id=dispatched.pk, kind="overdue")


def test_a_dispatched_incidents_deadline_alert_is_addressed_to_its_lead_unit(unit_alert, city):
    assert unit_alert.owner_unit == city.unit_d1_police and unit_alert.owner_region is None
    assert unit_alert.addressee == city.unit_d1_police


def test_the_units_handler_sees_it_in_the_feed_and_the_badge_and_acknowledges_it(unit_alert, people):
    handler = people.d1_police_handler
    assert list(alert_feed(handler)) == [unit_alert] and unread_count(handler) == 1
    services.alert_acknowledge(alert=unit_alert, actor=handler)
    unit_alert.refresh_from_db()
    assert unit_alert.acknowledged_by == handler and unread_count(handler) == 0


def test_the_command_centre_sees_the_units_alert_and_may_not_acknowledge_it(unit_alert, people):
    assert unit_alert in list(alert_feed(people.d1_command))
    with pytest.raises(PermissionDeniedError):
        services.alert_acknowledge(alert=unit_alert, actor=people.d1_command)


def test_the_units_alert_through_every_door(unit_alert, people, city):
    other_unit = make_user("d2_police", role=Role.UNIT_HANDLER, unit=city.unit_d2_police)
    acknowledged = lambda: Alert.objects.get(pk=unit_alert.pk).acknowledged_by_id  # noqa: E731
    matrix = PermissionMatrix(allowed=[people.d1_police_handler], read_only=[people.d1_command, people.d1_supervisor],
                              outside=[other_unit, people.d2_command])
    matrix.read(reverse("alerts:detail", args=[unit_alert.pk]))
    matrix.act(reverse("api-map-alert-acknowledge", args=[unit_alert.pk]), api=True, data={}, snapshot=acknowledged)
    assert acknowledged() == people.d1_police_handler.pk


def test_the_alert_follows_the_incident_back_to_the_command_centre(unit_alert, people, sweep, dispatched):
    at = dispatched.handle_due_at + minutes(2)
    incident_services.incident_report_back(incident=dispatched, actor=people.d1_police_handler, note="已修复", now=at)
    sweep(at + minutes(1))
    unit_alert.refresh_from_db()
    assert unit_alert.resolved_at is not None, "the unit reported back: the deadline is no longer the unit's"
    centre = Alert.objects.open().get(subject_id=dispatched.pk, kind="overdue")
    assert centre.owner_region == dispatched.responsible_region and centre.owner_unit is None


def test_an_alert_addressed_to_a_person_is_theirs_alone(city, people):
    alert = Alert.objects.create(subject_type="incident", subject_id=1, kind="overdue", severity="red",
                                 owner_user=people.s11_mediator, raised_at=T0)
    assert list(alert_feed(people.s11_mediator)) == [alert]
    services.alert_acknowledge(alert=alert, actor=people.s11_mediator)
    other = Alert.objects.create(subject_type="incident", subject_id=2, kind="overdue", severity="red",
                                 owner_user=people.s11_mediator, raised_at=T0)
    assert other not in list(alert_feed(people.d1_command))
