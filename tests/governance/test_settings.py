"""Settings fail loudly: production refuses unsafe configurations and passes `check --deploy`.

Settings are read once per process, so each configuration is tried in a fresh
Python process with a crafted environment.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured

from governance.settings import DEVELOPMENT_SECRET_KEY, check_production_settings

BASE_DIR = Path(__file__).resolve().parents[2]
SETTINGS_SOURCE = (BASE_DIR / "governance" / "settings.py").read_text(encoding="utf-8")
# Every variable settings.py reads through django-environ's typed helpers.
SETTINGS_VARIABLES = sorted(set(re.findall(r"""\benv\.\w+\(\s*["']([A-Z][A-Z0-9_]*)["']""", SETTINGS_SOURCE)))

# Set for this pytest process (the browser tests' Playwright needs it), never for a deployment.
TEST_RUN_ONLY = {"DJANGO_ALLOW_ASYNC_UNSAFE"}
GOOD_SECRET_KEY = secrets.token_urlsafe(50)


def run_python(tmp_path, *args: str, **environment: str | None) -> subprocess.CompletedProcess:
    """Run ``python *args`` in the project with only the given settings variables set.

    Variables the settings read are removed from the inherited environment, so the
    result does not depend on the shell the tests run from -- except the database
    and Redis of the run (SQLite, or PostgreSQL/Redis in .ci/run), which are kept.
    """
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES and k not in TEST_RUN_ONLY}
    for kept in ("DATABASE_URL", "REDIS_URL"):
        if os.environ.get(kept):
            env[kept] = os.environ[kept]
    env.update(DJANGO_SETTINGS_MODULE="governance.settings", VAR_DIR=str(tmp_path))
    for name, value in environment.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return subprocess.run(
        [sys.executable, *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def start_django(tmp_path, **environment: str | None) -> subprocess.CompletedProcess:
    return run_python(tmp_path, "-c", "import django; django.setup()", **environment)


# Production needs PostgreSQL and Redis; settings only parse the URLs (nothing connects at start).
PRODUCTION_DATABASE = "postgres://governance:secret@db.internal:5432/governance"
PRODUCTION_REDIS = "redis://redis.internal:6379/0"


def production(**overrides: str | None) -> dict[str, str | None]:
    """A good production environment, changed by ``overrides`` (None removes a variable)."""
    return {
        "DJANGO_ENV": "production",
        "SECRET_KEY": GOOD_SECRET_KEY,
        "ALLOWED_HOSTS": "portal.example.gov.cn",
        "DATABASE_URL": PRODUCTION_DATABASE,
        "REDIS_URL": PRODUCTION_REDIS,
        **overrides,
    }


def test_development_default_starts_with_nothing_set(tmp_path):
    result = run_python(
        tmp_path, "-c",
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DJANGO_ENV, s.DEBUG, s.CELERY_BEAT_SCHEDULER)",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["development", "True", "django_celery_beat.schedulers:DatabaseScheduler"]


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        pytest.param({"DEBUG": "true"}, "DEBUG is on", id="debug-on"),
        pytest.param({"SECRET_KEY": None}, "SECRET_KEY", id="no-secret-key"),
        pytest.param({"SECRET_KEY": ""}, "SECRET_KEY", id="empty-secret-key"),
        pytest.param({"SECRET_KEY": DEVELOPMENT_SECRET_KEY}, "SECRET_KEY", id="development-secret-key"),
        pytest.param({"SECRET_KEY": secrets.token_urlsafe(20)}, "SECRET_KEY", id="short-secret-key"),
        pytest.param({"SECRET_KEY": "ab" * 30}, "SECRET_KEY", id="not-random-secret-key"),
        pytest.param({"ALLOWED_HOSTS": None}, "ALLOWED_HOSTS is empty", id="no-allowed-hosts"),
        pytest.param({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS is empty", id="empty-allowed-hosts"),
        pytest.param({"ALLOWED_HOSTS": " "}, "ALLOWED_HOSTS is empty", id="blank-allowed-hosts"),
        pytest.param({"ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS allows any host", id="any-host"),
        pytest.param({"DATABASE_URL": None}, "DATABASE_URL is not set", id="no-database-url"),
        pytest.param({"DATABASE_URL": ""}, "DATABASE_URL is not set", id="empty-database-url"),
        pytest.param({"DATABASE_URL": "sqlite:////tmp/db.sqlite3"}, "DATABASE_URL names SQLite", id="sqlite"),
        pytest.param({"REDIS_URL": None}, "REDIS_URL is not set", id="no-redis-url"),
        pytest.param({"AXES_ENABLED": "false"}, "AXES_ENABLED is false", id="no-lockout"),
    ],
)
def test_production_refuses_to_start_when_misconfigured(tmp_path, overrides, problem):
    result = start_django(tmp_path, **production(**overrides))
    assert result.returncode != 0
    assert "ImproperlyConfigured: Refusing to start in production" in result.stderr
    assert problem in result.stderr


def test_production_names_every_problem_at_once(tmp_path):
    result = start_django(tmp_path, **production(DEBUG="on", SECRET_KEY=None, ALLOWED_HOSTS=None))
    assert result.returncode != 0
    for problem in ("DEBUG is on", "SECRET_KEY", "ALLOWED_HOSTS is empty"):
        assert problem in result.stderr


def test_unknown_environment_name_is_refused(tmp_path):
    result = start_django(tmp_path, **production(DJANGO_ENV="prod"))
    assert result.returncode != 0
    assert "DJANGO_ENV must be 'development' or 'production', not 'prod'" in result.stderr


def test_a_database_url_that_cannot_be_read_is_named_not_a_key_error(tmp_path):
    for environment in (production(DATABASE_URL="foo://somewhere/db"), {"DATABASE_URL": "not a url"}):
        result = start_django(tmp_path, **environment)
        assert result.returncode != 0
        assert "DATABASE_URL is not a PostgreSQL or SQLite URL" in result.stderr
        assert "KeyError" not in result.stderr


def test_an_empty_database_url_in_development_means_the_embedded_sqlite(tmp_path):
    result = run_python(tmp_path, "-c", "import django; django.setup(); from django.conf import settings as s; "
                        "print(s.DATABASES['default']['ENGINE'])", DATABASE_URL="")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "django.db.backends.sqlite3"


postgres_only = pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"),
                                   reason="production runs on PostgreSQL only; runs in .ci/run")


def database_url_of_this_run() -> str:
    """The URL of this run's test database (migrated by pytest-django), for a subprocess to read."""
    from urllib.parse import quote

    from django.db import connection

    db = connection.settings_dict
    auth = quote(db["USER"] or "") + (":" + quote(db["PASSWORD"]) if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.mark.postgres
@postgres_only
@pytest.mark.django_db
def test_good_production_environment_passes_check_deploy_with_no_issue(tmp_path):
    result = run_python(
        tmp_path, "manage.py", "check", "--deploy", "--fail-level", "WARNING",
        **production(DATABASE_URL=database_url_of_this_run(), REDIS_URL=os.environ.get("REDIS_URL", PRODUCTION_REDIS))
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_production_sends_secure_cookies_hsts_and_the_ssl_redirect(tmp_path):
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, "
        "s.SECURE_HSTS_SECONDS >= 31536000, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, "
        "s.STORAGES['staticfiles']['BACKEND'].startswith('whitenoise'))"
    )
    result = run_python(tmp_path, "-c", code, **production())
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False"] + ["True"] * 6


GOOD = {"debug": False, "secret_key": GOOD_SECRET_KEY, "allowed_hosts": ["portal.example.gov.cn"],
        "database_url": PRODUCTION_DATABASE, "redis_url": PRODUCTION_REDIS, "axes_enabled": True}


def test_check_production_settings_accepts_a_good_configuration():
    check_production_settings(**GOOD)


def test_check_production_settings_refuses_a_django_insecure_key():
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY"):
        check_production_settings(**{**GOOD, "secret_key": "django-insecure-" + GOOD_SECRET_KEY})


def test_env_example_documents_every_variable_the_settings_read():
    documented = (BASE_DIR / ".env.example").read_text(encoding="utf-8")
    assert len(SETTINGS_VARIABLES) > 20, "the pattern no longer finds the settings' variables"
    missing = [name for name in SETTINGS_VARIABLES if not re.search(rf"^#?\s*{name}=", documented, re.MULTILINE)]
    assert missing == [], f"add these to .env.example, with a comment each: {missing}"


@pytest.mark.django_db
def test_pages_carry_a_same_origin_content_security_policy(client):
    policy = client.get("/accounts/login/")["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "object-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy


@pytest.mark.django_db
def test_axes_locks_out_a_username_after_the_failure_limit(client, people):
    limit = django_settings.AXES_FAILURE_LIMIT
    assert limit >= 2
    english = {"accept-language": "en"}  # the lockout text below is the template's English source
    wrong = {"username": "s11_command", "password": "wrong password"}
    for _ in range(limit - 1):
        response = client.post("/accounts/login/", wrong, headers=english)
        assert response.status_code == 200  # the form again, with an error

    response = client.post("/accounts/login/", wrong, headers=english)
    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()

    # Even the right password is refused now, and no session is opened.
    response = client.post("/accounts/login/", {"username": "s11_command", "password": "pw-s11_command"},
                           headers=english)
    assert response.status_code == 429
    assert "Account locked" in response.content.decode()
    assert "_auth_user_id" not in client.session

    # Another user from the same address is not locked out.
    response = client.post("/accounts/login/", {"username": "s12_command", "password": "pw-s12_command"})
    assert response.status_code == 302
