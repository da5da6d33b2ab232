"""The brief serializers write their dicts by hand (they are in every answer): DRF's own rendering must agree."""

import pytest
from rest_framework import serializers

from incidents.models import Category
from incidents.serializers import ActorSerializer, CategoryBriefSerializer, RegionBriefSerializer, UnitBriefSerializer
from tests.dashboards.conftest import world  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def drf_rendering(serializer_class, instance) -> dict:
    """What ``ModelSerializer.to_representation`` gives from the declared fields."""
    return dict(serializers.ModelSerializer.to_representation(serializer_class(), instance))


def test_the_brief_serializers_render_what_their_fields_declare(city, people, categories):
    minor = Category.objects.filter(parent__isnull=False).select_related("parent").first()
    major = Category.objects.filter(parent__isnull=True).first()
    people.worker_g1111.first_name, people.worker_g1111.last_name = "伟", "张"
    cases = [(CategoryBriefSerializer, minor), (CategoryBriefSerializer, major), (RegionBriefSerializer, city.g1111),
             (RegionBriefSerializer, city.city), (UnitBriefSerializer, city.unit_d1_police),
             (ActorSerializer, people.worker_g1111), (ActorSerializer, people.d1_command)]
    for serializer_class, instance in cases:
        by_hand = serializer_class(instance).data
        assert dict(by_hand) == drf_rendering(serializer_class, instance), serializer_class.__name__
        assert set(by_hand) == set(serializer_class().fields), serializer_class.__name__
    assert CategoryBriefSerializer(minor).data["major"] == minor.parent.name
    assert ActorSerializer(people.worker_g1111).data["name"] == "张伟"


def drf_rendering_all_the_way_down(serializer):
    """``serializer.data`` as DRF's own ``Serializer.to_representation`` renders it, nested ones included."""
    from unittest import mock

    from governance.core.api import OutputSerializer

    with mock.patch.object(OutputSerializer, "to_representation", serializers.ModelSerializer.to_representation):
        return serializer.__class__(serializer.instance, context=serializer.context, many=False).data


def test_output_serializers_render_what_drf_renders(world, people, rf):  # noqa: F811
    """OutputSerializer renders through fields bound once per class: every answer must equal DRF's own."""
    from incidents import selectors
    from incidents.api import detail_context
    from incidents.serializers import IncidentDetailSerializer, IncidentSerializer

    request = rf.get("/api/v1/incidents/", SERVER_NAME="127.0.0.1")
    checked = 0
    for persona in ("city_admin", "d1_command", "worker_g1111", "d1_police_handler"):
        request.user = getattr(people, persona)
        for incident in [*world.d1, world.east]:
            try:
                detail = selectors.incident_detail(request.user, incident.pk)
            except Exception:  # hidden from this persona (404): nothing to render
                continue
            available = selectors.available_transitions(request.user, detail)
            context = detail_context(request, detail, available)
            for serializer_class in (IncidentSerializer, IncidentDetailSerializer):
                ours = serializer_class(detail, context=context)
                assert dict(ours.data) == dict(drf_rendering_all_the_way_down(ours)), (persona, incident.number)
                checked += 1
    assert checked >= 20
    closed = selectors.incident_detail(people.city_admin, world.closed_late.pk)
    body = IncidentDetailSerializer(closed, context={"request": request}).data
    assert [e["action"] for e in body["events"]][-1] == "verify_pass"
    assert body["lead_unit"] is not None and body["closed_at"] is not None
