"""One FilterSet for the triage queue page, the unit queue, the map, exports and the API."""

from __future__ import annotations

from itertools import groupby

import django_filters as filters
from django.db.models import Q
from django.utils import timezone
from django.utils.choices import CallableChoiceIterator
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from governance.core.filters import IdFilter, LocalDayFilter, StrictBooleanFilter
from governance.core.scoping import Action
from governance.core.widgets import QuickSelect
from grids.models import Level, Region
from incidents.models import OPEN_STATUSES, Category, Incident, Severity, Source, Status, overdue_q


def category_filter_choices() -> list:
    """The category filter's options: grouped under their major category as the filing form groups them
    (``incidents.forms.category_choices``), each group led by its major category, which selects the group."""
    minors = (Category.objects.filter(is_active=True, parent__isnull=False, parent__is_active=True)
              .select_related("parent").order_by("parent__sort_order", "parent__code", "sort_order", "code"))
    choices: list = [("", _("All categories"))]
    for major, group in groupby(minors, key=lambda c: c.parent):
        choices.append((major.name, [(major.pk, _("All of %(major)s") % {"major": major.name}),
                                     *((c.pk, c.name) for c in group)]))
    return choices


class IncidentFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=Status.choices, label=_("status"))
    open = StrictBooleanFilter(method="filter_open", label=_("open only"))
    category = filters.ModelChoiceFilter(queryset=Category.objects.all(), method="filter_category",
                                         label=_("category"), widget=QuickSelect)
    severity = filters.MultipleChoiceFilter(choices=Severity.choices, label=_("severity"))
    source = filters.ChoiceFilter(choices=Source.choices, label=_("source"), widget=QuickSelect)
    level = filters.ChoiceFilter(field_name="responsible_level", choices=[(lv.value, lv.label) for lv in Level
                                 if lv != Level.GRID], label=_("responsible level"), widget=QuickSelect)
    overdue = StrictBooleanFilter(method="filter_overdue", label=_("overdue only"))
    reported_after = LocalDayFilter(field_name="reported_at", bound="from", label=_("reported from"))
    reported_before = LocalDayFilter(field_name="reported_at", bound="until", label=_("reported until"))
    region = filters.ModelChoiceFilter(queryset=Region.objects.none(), method="filter_region", label=_("region"),
                                       widget=QuickSelect)
    # a whole id, bounded: an id beyond a 64-bit integer made the database raise (500) instead of a 400
    unit = IdFilter(field_name="lead_unit_id", label=_("lead unit"))
    q = filters.CharFilter(method="filter_q", label=_("number, title or address"))

    class Meta:
        model = Incident
        fields: list[str] = []

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Only regions in the user's scope can be picked; any other id is "not a valid choice".
        self.filters["region"].queryset = Region.objects.restrict(user, Action.VIEW).exclude(level=Level.GRID)
        # select_related: each choice's label names its major category
        self.filters["category"].queryset = Category.objects.filter(is_active=True).select_related("parent")

    @property
    def form(self):
        """The filter form, its category options grouped by major category (what is valid stays the queryset)."""
        if not hasattr(self, "_form"):
            form = super().form
            # lazy: built only when a page draws the select, never when the API validates a query
            form.fields["category"].widget.choices = CallableChoiceIterator(category_filter_choices)
        return self._form

    def filter_open(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(status__in=OPEN_STATUSES) if value else queryset.exclude(status__in=OPEN_STATUSES)

    def filter_category(self, queryset, name, value):
        # a major category selects all its minor ones
        return queryset.filter(Q(category=value) | Q(category__parent=value))

    def filter_overdue(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(overdue_q(timezone.now()))

    @extend_schema_field(OpenApiTypes.INT)  # OpenAPI: a region id (the queryset is only known per user)
    def filter_region(self, queryset, name, value):
        return queryset.filter(grid__path__startswith=value.path)

    def filter_q(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(number__icontains=value) | Q(title__icontains=value) | Q(address__icontains=value))
