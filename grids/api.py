from django.db.models import OuterRef, Q, Subquery
from django.db.models.functions import Length, Substr
from django.http import Http404
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.core.api import GeoJSONGeometryField
from governance.core.filters import IdFilter
from governance.core.openapi import errors
from grids.locate import locate
from grids.models import Level, Region


def with_parent_id(queryset):
    """Annotate each region with its parent's id in the same query (no N+1)."""
    parent_path = Substr(OuterRef("path"), 1, Length(OuterRef("path")) - Region.steplen)
    return queryset.annotate(
        parent_id=Subquery(Region.objects.filter(path=parent_path).values("pk")[:1])
    )


class RegionSerializer(serializers.ModelSerializer):
    level = serializers.ChoiceField(choices=Level.choices)
    parent_id = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = Region
        fields = ["id", "code", "name", "level", "parent_id", "centroid_lat", "centroid_lng", "numchild"]


class RegionDetailSerializer(RegionSerializer):
    boundary = GeoJSONGeometryField(read_only=True)

    class Meta(RegionSerializer.Meta):
        fields = [*RegionSerializer.Meta.fields, "boundary"]


class RegionFilter(filters.FilterSet):
    level = filters.ChoiceFilter(choices=Level.choices)
    parent = IdFilter(method="filter_parent", label="parent region id")
    q = filters.CharFilter(method="filter_q", label="name or code contains")

    class Meta:
        model = Region
        fields = ["level", "code"]

    def filter_parent(self, queryset, name, value):
        parent = Region.objects.filter(pk=value).first()
        if parent is None:
            return queryset.none()
        return queryset.filter(path__startswith=parent.path, depth=parent.depth + 1)

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(code__icontains=value))


@extend_schema_view(get=extend_schema(
    operation_id="regions_list", summary="The regions you may see",
    description="Your territory's subtrees in tree order, paginated; `parent` lists one region's children.",
))
class RegionListView(generics.ListAPIView):
    """Regions the user may see (their scope's subtrees)."""

    serializer_class = RegionSerializer
    filterset_class = RegionFilter

    def get_queryset(self):
        return with_parent_id(Region.objects.restrict(self.request.user)).order_by("path")


@extend_schema_view(get=extend_schema(
    operation_id="regions_retrieve", summary="One region, with its boundary",
))
class RegionDetailView(generics.RetrieveAPIView):
    serializer_class = RegionDetailSerializer

    def get_queryset(self):
        return with_parent_id(Region.objects.restrict(self.request.user))


class LocateQuery(serializers.Serializer):
    lat = serializers.FloatField(min_value=-90, max_value=90)
    lng = serializers.FloatField(min_value=-180, max_value=180)


class LocatedRegionSerializer(RegionSerializer):
    gap = serializers.SerializerMethodField(
        help_text="true when no grid holds the point: the region is then the deepest one that does")

    class Meta(RegionSerializer.Meta):
        fields = [*RegionSerializer.Meta.fields, "gap"]

    def get_gap(self, region: Region) -> bool:
        return region.level != Level.GRID


class LocateView(APIView):
    """The grid that holds a point; in a gap of the territory, the deepest region that holds it (``gap: true``).

    Outside the city: 400 with code ``outside_city``. A region outside the user's
    territory answers 404, as everything hidden does.
    """

    @extend_schema(
        operation_id="locate", summary="The grid that holds a point",
        description="WGS-84 `lat` and `lng`. A point outside the city is 400 `outside_city`; a grid outside your "
                    "territory is 404, as everything hidden is. A point in a gap of the territory (no grid holds it) "
                    "answers the deepest region that holds it, with `gap: true`.",
        parameters=[LocateQuery],
        responses={200: LocatedRegionSerializer,
                   **errors(404, e404="The grid lies outside your territory: `not_found`.")},
    )
    def get(self, request):
        query = LocateQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        region = locate(query.validated_data["lat"], query.validated_data["lng"])
        visible = with_parent_id(Region.objects.restrict(request.user)).filter(pk=region.pk).first()
        if visible is None:
            raise Http404
        return Response(LocatedRegionSerializer(visible).data)
