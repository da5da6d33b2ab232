"""The alert email outbox: every alert is emailed once to its addressee, whatever is down when it is raised."""

import smtplib

import pytest

from governance.access.models import Role
from governance.alerts import notify
from governance.alerts.models import Alert
from incidents import services
from tests.alerts.conftest import T0, minutes
from tests.factories import make_user

pytestmark = pytest.mark.django_db

OVERDUE = T0 + minutes(4 * 60 + 1)


@pytest.fixture
def c111_staff(city):
    return make_user("c111_command", role=Role.COMMAND_STAFF, region=city.c111, email="c111@example.cn")


def test_alerts_raised_while_the_broker_is_down_are_emailed_by_the_next_run(reported, sweep, c111_staff,
                                                                            mailoutbox, monkeypatch):
    monkeypatch.setattr(notify, "enqueue", lambda task, *a, **k: False)  # the broker refuses the task
    sweep(OVERDUE)
    assert mailoutbox == [] and Alert.objects.filter(notified_at__isnull=True).count() == 1
    assert notify.send_pending_alert_emails() == 1
    assert [m.to for m in mailoutbox] == [["c111@example.cn"]]
    assert notify.send_pending_alert_emails() == 0, "each alert is emailed once"
    assert len(mailoutbox) == 1


def test_a_mail_server_that_cannot_be_reached_keeps_the_alerts_in_the_outbox(reported, sweep, c111_staff,
                                                                              mailoutbox, monkeypatch):
    monkeypatch.setattr(notify, "enqueue", lambda task, *a, **k: False)
    sweep(OVERDUE)

    class Unreachable:
        def __enter__(self):
            raise smtplib.SMTPConnectError(421, "down")

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(notify, "get_connection", lambda: Unreachable())
    with pytest.raises(smtplib.SMTPConnectError):
        notify.send_pending_alert_emails()
    assert Alert.objects.filter(notified_at__isnull=True).count() == 1, "rolled back: still to send"
    monkeypatch.undo()
    assert notify.send_pending_alert_emails() == 1


def test_an_alert_resolved_before_it_could_be_sent_is_not_sent(reported, sweep, c111_staff, mailoutbox,
                                                               monkeypatch, people):
    monkeypatch.setattr(notify, "enqueue", lambda task, *a, **k: False)
    sweep(OVERDUE)
    services.incident_accept(incident=reported, actor=people.s11_command, now=OVERDUE + minutes(1))
    sweep(OVERDUE + minutes(2))  # the red alert about acceptance resolves
    assert notify.send_pending_alert_emails() == 0
    assert mailoutbox == [] and not Alert.objects.filter(notified_at__isnull=True).exists()


def test_what_is_addressed_to_a_unit_is_emailed_to_its_handlers(city, people, reported, sweep, mailoutbox,
                                                                monkeypatch):
    monkeypatch.setattr(notify, "enqueue", lambda task, *a, **k: False)
    handler = make_user("police_2", role=Role.UNIT_HANDLER, unit=city.unit_d1_police, email="police@example.cn")
    services.incident_accept(incident=reported, actor=people.s11_command, now=T0 + minutes(30))
    services.incident_dispatch(incident=reported, actor=people.s11_command, unit=city.unit_d1_police,
                               now=T0 + minutes(31))
    reported.refresh_from_db()
    sweep(reported.handle_due_at + minutes(1))
    alert = Alert.objects.get(subject_id=reported.pk, kind="overdue")
    assert alert.owner_unit == city.unit_d1_police and alert.owner_region is None
    mailoutbox.clear()
    assert notify.send_pending_alert_emails() == 1
    assert [m.to for m in mailoutbox] == [[handler.email]]
