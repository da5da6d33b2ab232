"""The demo's programme: the articles' scale, filings over several periods, some lagging; seeded once."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from governance.core import demo as governance_demo
from governance.core.demo import demo_steps
from governance.ledgers import selectors
from governance.ledgers.models import Filing, InnovationProject, Programme, Responsibility, SupervisionNotice, Task
from tests.governance.test_seed_demo import SMALL

pytestmark = pytest.mark.django_db
STEPS = ("territory", "units", "demo_users", "ledgers")


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", no_progress=True, no_grid_workers=True, stdout=out, **SMALL)
    return out.getvalue()


def test_demo_programme_has_the_articles_scale_and_lagging_units(monkeypatch):
    every = {step.name: step for step in demo_steps()}
    monkeypatch.setattr(governance_demo, "DEMO_STEPS", {name: every[name] for name in STEPS})
    seed()
    programme = Programme.objects.get()
    tasks = Task.objects.filter(programme=programme)
    assert tasks.filter(depth=1).count() == 60
    requirements = [t for t in tasks if t.numchild == 0]
    assert 180 <= len(requirements) <= 200
    assert 30 <= Responsibility.objects.values("unit").distinct().count() <= 70  # every unit of the small city
    assert Filing.objects.values("period").distinct().count() >= 6  # several periods
    assert Filing.objects.filter(version=2).exists()  # returned and re-filed
    assert SupervisionNotice.objects.count() == 16 and InnovationProject.objects.count() == 18
    supervisor = get_user_model().objects.get(username="supervisor")
    report = selectors.programme_report(supervisor, programme)
    assert report.lagging and len(report.lagging) < len(report.states)  # some lagging, not all
    assert 0 < report.overall < 100
    district = selectors.programme_report(get_user_model().objects.get(username="district_supervisor"), programme)
    assert 0 < len(district.states) < len(report.states)
    before = (Task.objects.count(), Filing.objects.count())
    assert "already there" in seed()
    assert (Task.objects.count(), Filing.objects.count()) == before
