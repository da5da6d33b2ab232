"""The alert feed, acknowledge, the nav badge, scope and the email hook."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from django.urls import reverse

from governance.access.models import Role
from governance.alerts import notify, services
from governance.alerts.context_processors import alert_count
from governance.alerts.models import Alert
from governance.core.errors import NotFoundError
from tests.alerts.conftest import OVERDUE, T0, minutes  # noqa: F401
from tests.factories import make_user

pytestmark = pytest.mark.django_db



def test_district_staff_see_the_alert_in_their_feed(client, people, alert):
    client.force_login(people.d1_command)
    response = client.get(reverse("alerts:feed"))
    assert response.status_code == 200
    assert list(response.context["alerts"]) == [alert]
    assert alert.subject_label in response.content.decode()


def test_open_alerts_come_first_then_newest(client, people, alert, city):
    old_resolved = Alert.objects.create(subject_type="incident", subject_id=999, kind="overdue", severity="red",
                                        region=city.g1111, raised_at=OVERDUE + minutes(5), resolved_at=OVERDUE)
    newer_open = Alert.objects.create(subject_type="incident", subject_id=998, kind="overdue", severity="red",
                                      region=city.g1112, raised_at=OVERDUE + minutes(1))
    client.force_login(people.d1_command)
    response = client.get(reverse("alerts:feed"))
    assert list(response.context["alerts"]) == [newer_open, alert, old_resolved]


def test_other_district_staff_do_not_see_the_alert(client, people, alert):
    client.force_login(people.d2_command)
    response = client.get(reverse("alerts:feed"))
    assert list(response.context["alerts"]) == []
    assert client.get(reverse("alerts:detail", args=[alert.pk])).status_code == 404


def test_other_district_staff_cannot_acknowledge_the_alert(client, people, alert):
    client.force_login(people.d2_command)
    assert client.post(reverse("alerts:acknowledge", args=[alert.pk])).status_code == 404
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


def test_a_missing_alert_answers_404_like_a_hidden_one(client, people):
    client.force_login(people.d1_command)
    assert client.post(reverse("alerts:acknowledge", args=[424242])).status_code == 404


def test_user_without_role_sees_an_empty_feed(client, people, alert):
    client.force_login(people.nobody)
    assert list(client.get(reverse("alerts:feed")).context["alerts"]) == []


def test_feed_requires_login(client):
    response = client.get(reverse("alerts:feed"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_acknowledge_records_who_and_when(client, people, alert):
    client.force_login(people.s11_command)
    response = client.post(reverse("alerts:acknowledge", args=[alert.pk]))
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.acknowledged_by == people.s11_command and alert.acknowledged_at is not None


def test_acknowledge_keeps_the_first_acknowledgement(people, alert):
    services.alert_acknowledge(alert=alert, actor=people.s11_command, now=OVERDUE)
    services.alert_acknowledge(alert=alert, actor=people.d1_command, now=OVERDUE + minutes(5))
    alert.refresh_from_db()
    assert (alert.acknowledged_by, alert.acknowledged_at) == (people.s11_command, OVERDUE)


def test_acknowledge_service_says_not_found_outside_scope(people, alert):
    with pytest.raises(NotFoundError):
        services.alert_acknowledge(alert=alert, actor=people.s12_command)


def test_acknowledge_needs_post(client, people, alert):
    client.force_login(people.d1_command)
    assert client.get(reverse("alerts:acknowledge", args=[alert.pk])).status_code == 405


def test_nav_shows_the_unread_count_and_drops_it_once_acknowledged(client, people, alert):
    client.force_login(people.d1_command)
    page = client.get(reverse("alerts:feed")).content.decode()
    # the badge in the top bar's alerts link, and on the phone's menu button (the links fold behind it)
    assert page.count('<span class="badge">1</span><span class="visually-hidden">') == 2
    assert str(client.get(reverse("alerts:feed")).context["alert_count"]) == "1"
    services.alert_acknowledge(alert=alert, actor=people.d1_command)
    assert str(client.get(reverse("alerts:feed")).context["alert_count"]) == ""


def test_nav_count_costs_no_query_for_anonymous_visitors(django_assert_num_queries):
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    with django_assert_num_queries(0):
        assert alert_count(request) == {}


def test_nav_count_is_one_query_once_the_scope_is_known(people, alert, django_assert_num_queries):
    request = RequestFactory().get("/")
    request.user = people.d1_command
    from governance.core.scoping import get_scope

    get_scope(request.user)  # every page has asked the scoping door already
    with django_assert_num_queries(1):
        assert str(alert_count(request)["alert_count"]) == "1"


def test_a_sweep_that_raises_alerts_queues_one_email_task(reported, sweep, monkeypatch,
                                                          django_capture_on_commit_callbacks):
    queued = []
    monkeypatch.setattr(notify, "queue_alert_emails", lambda **kw: queued.append(kw))
    with django_capture_on_commit_callbacks(execute=True):
        sweep(OVERDUE)
    assert queued == [{"raised_at": OVERDUE}]
    with django_capture_on_commit_callbacks(execute=True):
        sweep(OVERDUE + minutes(1))  # nothing new
    assert len(queued) == 1


def test_the_community_command_staff_get_one_email(reported, sweep, city, mailoutbox, file_incident):
    staff = make_user("c111_command", role=Role.COMMAND_STAFF, region=city.c111, email="c111@example.cn")
    make_user("c211_command", role=Role.COMMAND_STAFF, region=city.c211, email="c211@example.cn")
    file_incident(now=T0, title="第二件")
    sweep(OVERDUE)
    mailoutbox.clear()  # what the sweep's own queueing may have sent (eager tasks)
    Alert.objects.update(notified_at=None)
    assert notify.send_pending_alert_emails() == 1
    assert [m.to for m in mailoutbox] == [[staff.email]]
    assert reported.number in mailoutbox[0].body and mailoutbox[0].body.count("\n") == 1
