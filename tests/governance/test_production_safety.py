"""Production keeps its promises: no demo login, no cached personal data, the portal's own CSRF page, short sessions."""

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from governance.checks import demo_accounts_in_production
from governance.core.demo import DEMO_PASSWORD
from tests.dashboards.helpers import client_for

User = get_user_model()


@pytest.fixture
def seeded_in_development(db):
    """What seed_demo leaves behind: demo usernames, thousands of accounts sharing one demo password hash."""
    shared = make_password(DEMO_PASSWORD)
    User.objects.create(username="city_command", password=shared)
    User.objects.create(username="gw_440502001001001", password=shared)
    User.objects.create(username="renamed_worker", password=shared)
    return shared


def test_deploy_check_fails_on_demo_usernames_and_the_demo_password(settings, seeded_in_development):
    settings.PRODUCTION = True
    errors = {e.id: e for e in demo_accounts_in_production()}
    assert set(errors) == {"governance.E001", "governance.E003"}
    assert "city_command" in errors["governance.E001"].msg and "gw_440502001001001" in errors["governance.E001"].msg
    assert errors["governance.E003"].msg.startswith("3 active accounts")


def test_deploy_check_passes_once_the_demo_accounts_are_dealt_with(settings, seeded_in_development):
    settings.PRODUCTION = True
    User.objects.filter(username__in=["city_command", "gw_440502001001001"]).update(is_active=False)
    remaining = User.objects.get(username="renamed_worker")
    remaining.set_password("A-real-password-2026")
    remaining.save()
    User.objects.create_user("colleague", password="Another-real-one-2026")
    assert demo_accounts_in_production() == []


def test_deploy_check_is_silent_in_development(settings, seeded_in_development):
    settings.PRODUCTION = False
    assert demo_accounts_in_production() == []


def test_the_demo_password_opens_nothing_in_production(settings, seeded_in_development):
    settings.PRODUCTION = True
    settings.AXES_ENABLED = False  # this test is about the password, not the lockout
    page = Client()
    response = page.post("/accounts/login/", {"username": "renamed_worker", "password": DEMO_PASSWORD})
    assert response.status_code == 200 and "_auth_user_id" not in page.session
    api = Client().post("/api/v1/auth/token/", {"username": "renamed_worker", "password": DEMO_PASSWORD})
    assert api.status_code == 400 and not Token.objects.exists()
    settings.PRODUCTION = False
    response = Client().post("/accounts/login/", {"username": "renamed_worker", "password": DEMO_PASSWORD})
    assert response.status_code == 302  # the demo works as a demo


@pytest.mark.parametrize("url", ["/incidents/", "/alerts/", "/api/v1/incidents/", "/api/v1/map/stats/",
                                 "/dashboards/command/"])
def test_pages_and_api_answers_are_never_stored_by_a_cache(people, url):
    response = client_for(people.d1_command).get(url)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_a_scoped_photo_keeps_its_own_private_caching(people, file_incident):
    from tests.incidents.conftest import photo

    incident = file_incident(photos=[photo()])
    attachment = incident.attachments.get()
    response = client_for(people.d1_command).get(reverse("incidents:attachment", args=[attachment.pk]))
    assert response["Cache-Control"] == "private, max-age=3600"


def test_a_form_without_its_csrf_token_gets_the_portals_page(people):
    client = Client(enforce_csrf_checks=True)
    client.force_login(people.d1_command)
    response = client.post(reverse("alerts:mark-read"), {"alert": ["1"]})
    assert response.status_code == 403
    html = response.content.decode()
    assert 'class="topbar"' in html and "页面已过期" in html
    assert "CSRF verification failed" not in html


def test_sessions_last_a_shift_and_end_with_the_browser(people):
    assert settings.SESSION_COOKIE_AGE == 8 * 3600
    client = Client()
    response = client.post("/accounts/login/", {"username": "d1_command", "password": "pw-d1_command"})
    assert response.status_code == 302
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert not cookie["expires"] and not cookie["max-age"], "a browser-session cookie"
    assert client.session.get_expiry_age() <= 8 * 3600
