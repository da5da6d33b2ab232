import pytest

from governance.access.models import Unit
from governance.core.authority import SYSTEM, access_object, may
from governance.core.errors import PermissionDeniedError
from governance.core.scoping import Action
from grids.models import Region
from tests.factories import commit_memo_changes

pytestmark = pytest.mark.django_db


def codes(qs):
    return set(qs.values_list("code", flat=True))


def test_district_staff_see_their_whole_subtree(city, people):
    seen = codes(Region.objects.restrict(people.d1_command, Action.VIEW))
    assert seen == {"440100", "440101", "440102", "440101001", "440102001",
                    "440101001001", "440101001002", "440102001001"}


def test_street_staff_see_only_their_street(city, people):
    seen = codes(Region.objects.restrict(people.s11_command, Action.VIEW))
    assert seen == {"440101", "440101001", "440101001001", "440101001002"}


def test_neighbour_street_region_answers_404(client, city, people):
    client.force_login(people.s11_command)
    assert client.get(f"/territory/regions/{city.s12.pk}/").status_code == 404
    assert client.get(f"/territory/regions/{city.g1211.pk}/").status_code == 404
    assert client.get(f"/territory/regions/{city.g1111.pk}/").status_code == 200


def test_hidden_and_missing_look_the_same(client, city, people):
    client.force_login(people.s11_command)
    hidden = client.get(f"/api/v1/regions/{city.d2.pk}/")
    missing = client.get("/api/v1/regions/999999/")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()


def test_grid_worker_sees_only_their_grids(city, people):
    assert codes(Region.objects.restrict(people.worker_g1111, Action.VIEW)) == {"440101001001"}


def test_grid_worker_may_report_but_not_triage(city, people):
    assert may(city.g1111, people.worker_g1111, Action.REPORT)
    assert not may(city.g1111, people.worker_g1111, Action.TRIAGE)


def test_supervisor_sees_but_may_not_act(city, people):
    assert access_object(Region.objects.all(), people.d1_supervisor, pk=city.g1211.pk) == city.g1211
    with pytest.raises(PermissionDeniedError):
        access_object(Region.objects.all(), people.d1_supervisor, action=Action.TRIAGE, pk=city.g1211.pk)


def test_user_without_role_sees_nothing(city, people):
    assert not Region.objects.restrict(people.nobody, Action.VIEW).exists()
    assert not Unit.objects.restrict(people.nobody, Action.VIEW).exists()


def test_city_admin_sees_everything_below_the_city(city, people):
    assert Region.objects.restrict(people.city_admin, Action.VIEW).count() == Region.objects.count()


def test_street_staff_see_units_above_and_below_but_not_beside(city, people):
    seen = codes(Unit.objects.restrict(people.s11_command, Action.VIEW))
    assert seen == {"U-D1-POL", "U-C-URB", "U-S11-MED"}


def test_unit_handler_handles_only_their_unit(city, people):
    assert codes(Unit.objects.restrict(people.d1_police_handler, Action.HANDLE)) == {"U-D1-POL"}
    assert not Region.objects.restrict(people.d1_police_handler, Action.VIEW).exists()


def test_revoking_a_role_removes_the_scope(city, people):
    from governance.access import services
    from governance.access.models import RoleAssignment

    assignment = RoleAssignment.objects.get(user=people.s11_command)
    services.role_revoke(acting_user=SYSTEM, assignment=assignment)
    people.s11_command.refresh_from_db()
    from django.contrib.auth import get_user_model

    fresh = get_user_model().objects.get(pk=people.s11_command.pk)
    assert not Region.objects.restrict(fresh, Action.VIEW).exists()
    assert RoleAssignment.objects.filter(pk=assignment.pk, revoked_at__isnull=False).exists()


# --- Scopes kept per process (governance.core.scoping.SCOPES) ---------------------------------------

def fresh(user):
    """The user as the next request loads it (the scope cached on the object is not carried over)."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(pk=user.pk)


@pytest.fixture
def settled(people):
    """The personas' roles as if committed long ago (a test never commits: nothing would be kept)."""
    commit_memo_changes()


def test_a_kept_scope_is_answered_without_a_query(city, people, settled, django_assert_num_queries):
    from governance.core.scoping import get_scope

    first = get_scope(fresh(people.s11_command))
    user = fresh(people.s11_command)
    with django_assert_num_queries(0):
        assert get_scope(user) == first


def test_a_committed_revocation_is_seen_by_the_next_request(city, people, settled,
                                                            django_capture_on_commit_callbacks):
    from governance.access.models import RoleAssignment
    from governance.access.services import role_revoke

    assert Region.objects.restrict(fresh(people.s11_command)).filter(pk=city.g1111.pk).exists()
    with django_capture_on_commit_callbacks(execute=True):
        for assignment in RoleAssignment.objects.active().filter(user=people.s11_command):
            role_revoke(acting_user=SYSTEM, assignment=assignment)
    assert not Region.objects.restrict(fresh(people.s11_command)).exists()


def test_a_permission_removed_outside_the_services_is_seen_by_the_next_request(
        city, people, settled, django_capture_on_commit_callbacks):
    from guardian.shortcuts import remove_perm

    assert may(city.g1111, fresh(people.worker_g1111), Action.REPORT)
    with django_capture_on_commit_callbacks(execute=True):
        remove_perm("grids.scope_report", people.worker_g1111, city.g1111)
    assert not may(city.g1111, fresh(people.worker_g1111), Action.REPORT)
    assert may(city.g1111, fresh(people.worker_g1111), Action.VIEW)


def test_a_scope_change_committed_by_another_process_is_seen_at_once(city, people, settled):
    from django.core.cache import cache
    from django.db import connection
    from guardian.models import UserObjectPermission

    from governance.core.scoping import SCOPES

    assert Region.objects.restrict(fresh(people.worker_g1111)).exists()
    # another process deleted the rows and committed: this process got no signal, only the new token
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {UserObjectPermission._meta.db_table} WHERE user_id = %s",
                       [people.worker_g1111.pk])
    assert Region.objects.restrict(fresh(people.worker_g1111)).exists()  # kept: the token has not moved yet
    cache.set(SCOPES.key, "another-process-committed", timeout=None)
    assert not Region.objects.restrict(fresh(people.worker_g1111)).exists()


def test_nothing_is_kept_longer_than_a_minute(city, people, settled, monkeypatch, django_assert_num_queries):
    from governance.core import memo
    from governance.core.scoping import get_scope

    get_scope(fresh(people.s11_command))
    later = memo.time.monotonic() + 61
    monkeypatch.setattr(memo.time, "monotonic", lambda: later)
    user = fresh(people.s11_command)
    with django_assert_num_queries(1):
        get_scope(user)
