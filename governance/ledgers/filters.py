"""The project library's filters: one FilterSet for the page, the API and the export."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from governance.core.filters import IdFilter, StrictBooleanFilter
from governance.ledgers.models import InnovationProject, ProjectLevel, ProjectStatus


class ProjectFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search", max_length=100)
    level = django_filters.ChoiceFilter(label=_("Level"), choices=ProjectLevel.choices)
    status = django_filters.ChoiceFilter(label=_("Status"), choices=ProjectStatus.choices)

    class Meta:
        model = InnovationProject
        fields = ["q", "level", "status"]

    def search(self, queryset, name, value):
        value = value.strip()[:100]
        if not value:
            return queryset
        return queryset.filter(Q(title__icontains=value) | Q(description__icontains=value)
                               | Q(unit__name__icontains=value) | Q(region__name__icontains=value))


class ResponsibilityFilter(django_filters.FilterSet):
    programme = IdFilter(label=_("Programme"), field_name="task__programme_id")
    mine = StrictBooleanFilter(label=_("Only my units'"), method="only_mine")

    class Meta:
        from governance.ledgers.models import Responsibility

        model = Responsibility
        fields = ["programme", "mine"]

    def only_mine(self, queryset, name, value):
        if not value:
            return queryset
        from governance.core.scoping import Action, get_scope

        scope = get_scope(self.request.user if self.request else None)
        return queryset if scope.everything else queryset.filter(unit_id__in=sorted(scope.units(Action.HANDLE)))
