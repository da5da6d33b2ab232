"""A grid's sign and an Open311 key are principals of the door: what they may do is what they were issued for."""

import pytest
from django.core import signing

from governance.core.authority import SYSTEM
from governance.core.errors import PermissionDeniedError
from governance.core.scoping import Action, get_scope
from incidents.models import Event, Incident, Source
from incidents.services import incident_file
from intake import services, tokens
from intake.models import Sign
from intake.principals import ApiKeyPrincipal, SignPrincipal
from tests.factories import point

pytestmark = pytest.mark.django_db


def test_a_sign_token_names_its_sign(sign, token):
    assert services.sign_from_token(token) == sign


def test_an_altered_token_is_refused(sign, token):
    sign_id, nonce, signature = token.split(".")
    other = lambda ch: "B" if ch == "A" else "A"  # noqa: E731  (a character that is certainly different)
    assert services.sign_from_token(f"{sign_id}.{nonce}.{signature[:-1]}{other(signature[-1])}") is None
    assert services.sign_from_token(f"{sign_id}.{nonce[:-1]}{'1' if nonce[-1] == '0' else '0'}.{signature}") is None
    assert services.sign_from_token(f"{int(sign_id) + 1}.{nonce}.{signature}") is None
    assert services.sign_from_token("") is None
    assert services.sign_from_token("garbage") is None


def test_a_token_cannot_be_pointed_at_another_grid(city, sign, token):
    other = services.sign_in_force(grid=city.g2111, acting_user=SYSTEM)
    sign_id, nonce, signature = token.split(".")
    # the first sign's signature with the other sign's id (or its nonce) is not a token
    assert services.sign_from_token(f"{other.pk}.{nonce}.{signature}") is None
    assert services.sign_from_token(f"{other.pk}.{other.nonce}.{signature}") is None
    # a token forged with another key is not one either
    forged = signing.Signer(key="not-the-portal-key", salt=tokens.SIGN_SALT, sep=".").sign(f"{other.pk}.{other.nonce}")
    assert services.sign_from_token(forged) is None


def test_a_revoked_sign_is_refused_and_its_grid_gets_a_new_one(city, sign, token):
    new = services.sign_revoke(sign=sign, acting_user=SYSTEM)
    assert services.sign_from_token(token) is None
    assert new.grid == city.g1111 and new.pk != sign.pk
    assert services.sign_from_token(services.sign_token(new)) == new
    assert Sign.objects.filter(grid=city.g1111, revoked_at__isnull=True).count() == 1


def test_revoked_without_reissue_leaves_the_grid_without_a_sign(city, sign, token):
    assert services.sign_revoke(sign=sign, acting_user=SYSTEM, reissue=False) is None
    assert not Sign.objects.filter(grid=city.g1111, revoked_at__isnull=True).exists()


def test_signs_are_managed_only_by_their_territory(city, people):
    with pytest.raises(PermissionDeniedError):
        services.sign_in_force(grid=city.g1111, acting_user=people.s12_command)
    with pytest.raises(PermissionDeniedError):
        services.sign_in_force(grid=city.g1111, acting_user=people.worker_g1111)  # a worker cannot re-issue
    assert services.sign_in_force(grid=city.g1111, acting_user=people.s11_command).grid == city.g1111


def test_a_sign_may_report_in_its_grid_and_see_nothing(city, sign):
    scope = get_scope(SignPrincipal(sign))
    assert scope.paths(Action.REPORT) == (city.g1111.path,)
    assert scope.is_empty(Action.VIEW) and scope.is_empty(Action.TRIAGE)


def test_a_revoked_sign_principal_holds_nothing(city, sign):
    principal = SignPrincipal(sign)
    services.sign_revoke(sign=sign, acting_user=SYSTEM, reissue=False)
    sign.refresh_from_db()
    assert get_scope(principal).is_empty(Action.REPORT)


def test_incident_file_takes_a_principal_and_records_no_user(city, sign, noise):
    filing = incident_file(reporter=SignPrincipal(sign), category=noise, title="楼下噪音", lat=point(1, 1)[0],
                           lng=point(1, 1)[1], source=Source.QUICK_REPORT, grid=city.g1111)
    incident = filing.incident
    assert incident.reporter is None and incident.grid == city.g1111
    event = Event.objects.get(incident=incident, action="report")
    assert event.actor is None and event.data["principal"] == f"sign:{sign.pk}:{city.g1111.code}"


def test_a_sign_cannot_file_into_another_grid(city, sign, noise):
    with pytest.raises(PermissionDeniedError):
        incident_file(reporter=SignPrincipal(sign), category=noise, title="x", lat=point(5, 1)[0],
                      lng=point(5, 1)[1], grid=city.g2111)
    with pytest.raises(PermissionDeniedError):  # located by the point, it lies in another grid
        incident_file(reporter=SignPrincipal(sign), category=noise, title="x", lat=point(5, 1)[0],
                      lng=point(5, 1)[1])
    assert not Incident.objects.exists()


def test_a_principal_files_without_an_idempotency_key(city, sign, noise):
    with pytest.raises(TypeError):
        incident_file(reporter=SignPrincipal(sign), category=noise, title="x", lat=point(1, 1)[0],
                      lng=point(1, 1)[1], idempotency_key="k1")


def test_an_api_key_sees_and_files_in_its_territory_only(city, people, issued_key, noise):
    principal = ApiKeyPrincipal(issued_key.api_key)
    inside = incident_file(reporter=people.worker_g1111, category=noise, title="西区", lat=point(1, 1)[0],
                           lng=point(1, 1)[1]).incident
    outside = incident_file(reporter=people.d2_command, category=noise, title="东区", lat=point(5, 1)[0],
                            lng=point(5, 1)[1]).incident
    seen = set(Incident.objects.restrict(principal, Action.VIEW))
    assert inside in seen and outside not in seen
    assert not Incident.objects.restrict(principal, Action.TRIAGE).exists()
    with pytest.raises(PermissionDeniedError):
        incident_file(reporter=principal, category=noise, title="x", lat=point(5, 1)[0], lng=point(5, 1)[1])


def test_api_keys_are_stored_hashed_and_revocable(city, issued_key):
    api_key = issued_key.api_key
    assert issued_key.key not in (api_key.key_hash, api_key.prefix) and api_key.key_hash == tokens.hash_api_key(
        issued_key.key)
    assert services.api_key_from_key(issued_key.key) == api_key
    assert services.api_key_from_key(issued_key.key + "x") is None
    services.api_key_revoke(api_key=api_key, acting_user=SYSTEM)
    assert services.api_key_from_key(issued_key.key) is None


def test_an_api_key_is_issued_only_by_the_territory_administrator(city, people):
    with pytest.raises(PermissionDeniedError):
        services.api_key_issue(name="x", unit=city.unit_d1_police, territory=city.d1, acting_user=people.d1_command)
    issued = services.api_key_issue(name="x", unit=city.unit_d1_police, territory=city.d1,
                                    acting_user=people.city_admin)
    assert issued.api_key.created_by == people.city_admin
