"""The one table of incident actions covers the transition table exactly, and everything is built from it."""

from django.urls import reverse

from incidents import api, views
from incidents.actions import ACTIONS, action_of
from incidents.workflow import TRANSITIONS


def test_every_transition_is_taken_by_exactly_one_action():
    taken = [name for action in ACTIONS.values() for name in action.transitions]
    assert sorted(taken) == sorted(TRANSITIONS)
    assert all(action_of(name).transitions[0] in TRANSITIONS for name in TRANSITIONS)


def test_each_action_has_its_api_route_its_page_route_and_the_transitions_right():
    for action in ACTIONS.values():
        assert reverse(f"api-incident-{action.path}", args=[1]) == f"/api/v1/incidents/1/{action.path}/"
        assert reverse("incidents:act", args=[1, action.name]) == f"/incidents/1/act/{action.name}/"
        assert api.ACTION_VIEWS[action.path].endpoint is action
        assert {TRANSITIONS[name].action for name in action.transitions} == {action.action}


def test_the_pages_offer_an_action_once_even_when_it_takes_two_transitions():
    offered = views.offered([TRANSITIONS["verify_pass"], TRANSITIONS["verify_fail"], TRANSITIONS["escalate"]])
    assert [a.name for a in offered] == ["verify", "escalate"]
