"""The one action table of a case: every action has its service, its API route, its input, its page route."""

from __future__ import annotations

import inspect

import pytest
from django.urls import reverse

from governance.core.testing import PermissionMatrix
from mediation import api, services
from mediation.actions import ACTIONS, actions_from
from mediation.models import Case, Status
from mediation.serializers import ACTION_INPUTS


def test_every_action_has_its_service_route_input_and_page():
    for action in ACTIONS.values():
        assert action.service is getattr(services, f"case_{action.name}")
        assert reverse(f"api-mediation-case-{action.path}", args=[1]) == f"/api/v1/mediation/cases/1/{action.path}/"
        assert reverse("mediation:act", args=[1, action.name]) == f"/mediation/1/act/{action.name}/"
        assert api.ACTION_VIEWS[action.path].endpoint is action
        # every input field (but the version) is a keyword of the service
        keywords = set(inspect.signature(action.service).parameters)
        assert set(ACTION_INPUTS[action.name]().fields) - {"version"} <= keywords, action.name
    assert set(ACTION_INPUTS) == set(ACTIONS)


def test_every_status_but_closed_leads_somewhere_and_closed_is_reached():
    targets = {a.target for a in ACTIONS.values() if a.target}
    assert targets == set(Status.values) - {Status.REGISTERED}
    for status in Status.values:
        assert actions_from(status), status


@pytest.mark.django_db
def test_a_case_in_the_admin_for_its_territorys_administrator(s11_case, mw, people):
    from tests.factories import make_user

    mw.d1_admin.is_staff = True
    mw.d1_admin.save()
    d2_admin = make_user("d2_admin", role="administrator", region=people.d2_command.role_assignments.get().region,
                         is_staff=True)
    matrix = PermissionMatrix(read_only=[mw.d1_admin], outside=[d2_admin])
    matrix.read(f"/admin/mediation/case/{s11_case.pk}/history/")
    from governance.core.testing import page_client

    change = page_client(mw.d1_admin).get(f"/admin/mediation/case/{s11_case.pk}/change/")
    assert change.status_code == 200 and s11_case.number in change.content.decode()
    assert "13812345678" not in change.content.decode()  # parties masked in the admin too
    hidden = page_client(d2_admin).get(f"/admin/mediation/case/{s11_case.pk}/change/", follow=True)
    assert s11_case.number not in hidden.content.decode()
    # the case changes through its services only: the admin saves nothing
    status = lambda: Case.objects.get(pk=s11_case.pk).status  # noqa: E731
    page_client(mw.d1_admin).post(f"/admin/mediation/case/{s11_case.pk}/change/", {"status": "closed"})
    assert status() == Status.REGISTERED
