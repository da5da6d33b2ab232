"""The brief serializers write their dicts by hand (they are in every answer): DRF's own rendering must agree."""

import pytest
from rest_framework import serializers

from incidents.models import Category
from incidents.serializers import ActorSerializer, CategoryBriefSerializer, RegionBriefSerializer, UnitBriefSerializer

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
