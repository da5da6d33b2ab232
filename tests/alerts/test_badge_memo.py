"""The unread badge is counted once per user and kept per process until an alert or a read changes
(governance.alerts.selectors.UNREAD), and it always equals a plain count.

Each test first commits what its fixtures announced (``commit_memo_changes``): "committed long ago". Changes
made inside the test commit through ``django_capture_on_commit_callbacks(execute=True)``, as a request's would.
"""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from governance.access.models import Role, RoleAssignment
from governance.access.services import role_revoke
from governance.alerts import services
from governance.alerts.models import Alert, AlertRead
from governance.alerts.selectors import UNREAD_COUNT_CAP, unread_alerts, unread_count
from governance.core.scoping import get_scope
from tests.alerts.conftest import OVERDUE, minutes  # noqa: F401
from tests.factories import commit_memo_changes

pytestmark = pytest.mark.django_db


def plain(user) -> int:
    return unread_alerts(user).order_by().values("pk")[: UNREAD_COUNT_CAP + 1].count()


def count_queries(user) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        n = unread_count(user)
    return n, len(queries)


@pytest.fixture
def settled(people, alert):
    commit_memo_changes()
    return alert


def test_a_kept_count_is_answered_without_a_query(people, settled):
    get_scope(people.d1_command), get_scope(people.d2_command)  # kept too, and not what this test counts
    assert count_queries(people.d1_command) == (1, 1)
    assert count_queries(people.d1_command) == (1, 0)
    assert count_queries(people.d2_command) == (0, 1)  # kept per user: another user counts their own


def test_an_acknowledgement_committed_counts_every_badge_again(people, settled, django_capture_on_commit_callbacks):
    assert unread_count(people.d1_command) == unread_count(people.d1_supervisor) == 1
    with django_capture_on_commit_callbacks(execute=True):
        services.alert_acknowledge(alert=settled, actor=people.s11_command)
    assert unread_count(people.d1_command) == plain(people.d1_command) == 0
    assert unread_count(people.d1_supervisor) == plain(people.d1_supervisor) == 0


def test_reading_clears_ones_own_kept_badge(people, settled, django_capture_on_commit_callbacks):
    assert unread_count(people.d1_supervisor) == 1
    with django_capture_on_commit_callbacks(execute=True):
        services.alert_mark_read(alerts=[settled.pk], actor=people.d1_supervisor)  # a bulk insert: no signal
    assert unread_count(people.d1_supervisor) == 0
    assert unread_count(people.d1_command) == 1


def test_a_sweep_that_raises_an_alert_counts_again(people, settled, reported, sweep,
                                                   django_capture_on_commit_callbacks):
    assert unread_count(people.d1_command) == 1
    Alert.objects.all().delete()
    AlertRead.objects.all().delete()
    commit_memo_changes()
    assert unread_count(people.d1_command) == 0
    with django_capture_on_commit_callbacks(execute=True):
        sweep(OVERDUE + minutes(1))  # raw SQL: the sweep announces its own writes
    assert unread_count(people.d1_command) == plain(people.d1_command) == 1


def test_a_change_not_yet_committed_is_counted_from_the_database_by_its_own_transaction(people, settled):
    assert unread_count(people.d1_command) == 1
    with transaction.atomic():
        Alert.objects.filter(pk=settled.pk).update(acknowledged_at=settled.raised_at)
        settled.save(update_fields=["acknowledged_at"])  # the signal marks the change pending here
        assert count_queries(people.d1_command) == (1, 1)  # the instance still holds no acknowledgement
        Alert.objects.filter(pk=settled.pk).update(acknowledged_at=settled.raised_at)
        assert count_queries(people.d1_command) == (0, 1)
        transaction.set_rollback(True)
    assert count_queries(people.d1_command) == (1, 0)  # rolled back: the kept count still holds


def test_a_changed_scope_is_counted_again(people, settled, django_capture_on_commit_callbacks):
    assert unread_count(people.d1_command) == 1
    with django_capture_on_commit_callbacks(execute=True):
        for assignment in RoleAssignment.objects.active().filter(user=people.d1_command, role=Role.COMMAND_STAFF):
            role_revoke(assignment=assignment, acting_user=people.city_admin)
    user = type(people.d1_command).objects.get(pk=people.d1_command.pk)  # a new request: a new user object
    assert unread_count(user) == plain(user) == 0
