"""API keys are issued and revoked in the admin, by the territory's administrators only; the key is shown once."""

import re

import pytest

from governance.access.models import Role
from governance.core.authority import SYSTEM
from governance.core.testing import page_client
from intake import services
from intake.models import ApiKey, Sign
from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def d1_admin(city):
    return make_user("d1_admin", role=Role.ADMINISTRATOR, region=city.d1, is_staff=True)


def test_an_administrator_issues_a_key_and_sees_it_once(city, d1_admin):
    admin = page_client(d1_admin)
    response = admin.post("/admin/intake/apikey/add/", {
        "name": "12345热线", "unit": city.unit_d1_police.pk, "territory": city.d1.pk, "intake_grid": city.g1111.pk,
        "source": "hotline"}, follow=True)
    assert response.status_code == 200
    key = re.search(r'<code id="new-api-key">([^<]+)</code>', response.content.decode()).group(1)
    api_key = ApiKey.objects.get()
    assert services.api_key_from_key(key) == api_key and api_key.created_by == d1_admin
    assert key not in admin.get(f"/admin/intake/apikey/{api_key.pk}/change/").content.decode()
    assert api_key.history.count() == 1


def test_an_administrator_cannot_issue_a_key_over_another_territory(city, d1_admin):
    response = page_client(d1_admin).post("/admin/intake/apikey/add/", {
        "name": "x", "unit": city.unit_d2_police.pk, "territory": city.d2.pk, "source": "api"})
    assert response.status_code == 200 and not ApiKey.objects.exists()  # "not a valid choice"


def test_keys_of_another_territory_are_missing_and_revocation_works(city, d1_admin):
    theirs = services.api_key_issue(name="东区", unit=city.unit_d2_police, territory=city.d2, acting_user=SYSTEM)
    ours = services.api_key_issue(name="西区", unit=city.unit_d1_police, territory=city.d1, acting_user=SYSTEM)
    admin = page_client(d1_admin)
    listing = admin.get("/admin/intake/apikey/").content.decode()
    assert "西区" in listing and "东区" not in listing
    assert admin.get(f"/admin/intake/apikey/{theirs.api_key.pk}/change/").status_code == 302  # "does not exist"
    admin.post("/admin/intake/apikey/", {"action": "revoke", "_selected_action": [ours.api_key.pk,
                                                                                  theirs.api_key.pk]})
    assert services.api_key_from_key(ours.key) is None
    assert services.api_key_from_key(theirs.key) is not None  # outside: untouched


def test_people_without_an_administrator_role_do_not_get_in(city, people):
    for user in (people.d1_command, people.worker_g1111, people.nobody):
        user.is_staff = True
        user.save()
        assert page_client(user).get("/admin/intake/apikey/").status_code in (302, 403)
    assert page_client(None).get("/admin/intake/apikey/").status_code == 302


def test_signs_are_revoked_in_the_admin(city, d1_admin):
    sign = services.sign_in_force(grid=city.g1111, acting_user=SYSTEM)
    token = services.sign_token(sign)
    page_client(d1_admin).post("/admin/intake/sign/", {"action": "revoke_and_reissue",
                                                       "_selected_action": [sign.pk]})
    assert services.sign_from_token(token) is None
    assert Sign.objects.filter(grid=city.g1111, revoked_at__isnull=True).exclude(pk=sign.pk).count() == 1


def test_an_api_key_in_the_admin_through_its_doors(city, d1_admin):
    from governance.core.testing import PermissionMatrix

    d2_admin = make_user("d2_admin", role=Role.ADMINISTRATOR, region=city.d2, is_staff=True)
    issued = services.api_key_issue(name="西区", unit=city.unit_d1_police, territory=city.d1, acting_user=SYSTEM)
    matrix = PermissionMatrix(allowed=[d1_admin], outside=[d2_admin])
    matrix.read(f"/admin/intake/apikey/{issued.api_key.pk}/history/")


def test_a_sign_pdf_through_its_doors(city, people):
    from governance.core.testing import PermissionMatrix

    PermissionMatrix(allowed=[people.s11_command, people.d1_command], outside=[people.d2_command,
                                                                               people.s12_command]).read(
        f"/intake/signs/{city.g1111.pk}.pdf")


def test_check_deploy_refuses_the_demo_key_until_it_is_revoked(city):
    from intake.checks import demo_api_key_in_production
    from intake.demo import DEMO_API_KEY
    from intake.tokens import hash_api_key

    assert demo_api_key_in_production() == []
    api_key = ApiKey.objects.create(name="demo", unit=city.unit_d1_police, territory=city.city, prefix="demo0000",
                                    key_hash=hash_api_key(DEMO_API_KEY), created_at=city.city.updated_at)
    assert [e.id for e in demo_api_key_in_production()] == ["intake.E001"]
    services.api_key_revoke(api_key=api_key, acting_user=SYSTEM)
    assert demo_api_key_in_production() == []
