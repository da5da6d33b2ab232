"""One FilterSet for the dispute list page, the workbench, exports and the API."""

from __future__ import annotations

import django_filters as filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from governance.core.filters import IdFilter, LocalDayFilter, StrictBooleanFilter
from governance.core.scoping import Action
from governance.core.widgets import QuickSelect
from grids.models import Level, Region
from mediation.models import OPEN_STATUSES, Case, DisputeType, RiskLevel, Source, Status, overdue_q


class CaseFilter(filters.FilterSet):
    # distinct=False: a case is one row; DISTINCT over a long list costs more than the query
    status = filters.MultipleChoiceFilter(choices=Status.choices, label=_("status"), distinct=False)
    open = StrictBooleanFilter(method="filter_open", label=_("open only"))
    risk = filters.MultipleChoiceFilter(field_name="risk_level", choices=RiskLevel.choices, label=_("risk level"),
                                        distinct=False)
    dispute_type = filters.ModelChoiceFilter(queryset=DisputeType.objects.all(), label=_("dispute type"),
                                             widget=QuickSelect)
    source = filters.ChoiceFilter(choices=Source.choices, label=_("source"), widget=QuickSelect)
    overdue = StrictBooleanFilter(method="filter_overdue", label=_("overdue only"))
    registered_after = LocalDayFilter(field_name="registered_at", bound="from",
                                          label=_("registered from"))
    registered_before = LocalDayFilter(field_name="registered_at", bound="until",
                                           label=_("registered until"))
    region = filters.ModelChoiceFilter(queryset=Region.objects.none(), method="filter_region", label=_("region"),
                                       widget=QuickSelect)
    organisation = IdFilter(field_name="organisation_id", label=_("mediation organisation"))
    q = filters.CharFilter(method="filter_q", label=_("number or title"))

    class Meta:
        model = Case
        fields: list[str] = []

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["region"].queryset = Region.objects.restrict(user, Action.VIEW).exclude(level=Level.GRID)

    def filter_open(self, queryset, name, value):
        if value is None:
            return queryset
        return (queryset.filter(status__in=sorted(OPEN_STATUSES)) if value
                else queryset.filter(status=Status.CLOSED))

    def filter_overdue(self, queryset, name, value):
        return queryset.filter(overdue_q(timezone.now())) if value else queryset

    @extend_schema_field(OpenApiTypes.INT)
    def filter_region(self, queryset, name, value):
        return queryset.filter(region__path__startswith=value.path)

    def filter_q(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(number__icontains=value) | Q(title__icontains=value))
