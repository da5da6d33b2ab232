"""Query-string filters that refuse what they cannot read, the same on every list and endpoint.

django-filter's ``BooleanFilter`` reads ``?open=abc`` as "not given" and its
``NumberFilter`` takes ``?parent=1.5``: a typo then silently answers with everything.
These answer 400 (the API) or show the error next to the filter (the pages) instead.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import django_filters as filters
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters.constants import EMPTY_VALUES
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

TRUE_WORDS = frozenset({"true", "1", "yes", "on"})
FALSE_WORDS = frozenset({"false", "0", "no", "off"})
MAX_ID = 2**63 - 1


class StrictBooleanField(forms.Field):
    """true/false (also 1/0, yes/no, on/off, any case); empty means "not given"; anything else is an error."""

    widget = forms.TextInput
    default_error_messages = {"invalid": _("Give true or false.")}

    def to_python(self, value):
        if value in (None, ""):
            return None
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise forms.ValidationError(self.error_messages["invalid"], code="invalid")


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanFilter(filters.BooleanFilter):
    field_class = StrictBooleanField


class IdField(forms.IntegerField):
    """A database id: a whole number from 1 to 2^63-1 (beyond it the database itself would fail)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(filters.NumberFilter):
    field_class = IdField


class LocalDayFilter(filters.DateFilter):
    """A day of the portal's calendar (``TIME_ZONE``) bounding a moment: ``from`` keeps what happened on that day
    or later, ``until`` what happened on that day or earlier.

    Written as a range of the column (``at >= start of the day`` / ``at < start of the next``) so that an index
    of it serves, where django-filter's ``date__gte`` converts every row's moment to a local date first and reads
    the whole table (a year of a district's cases took 150 ms where the index reads it in 17).
    """

    def __init__(self, *args, bound: str, **kwargs):
        if bound not in ("from", "until"):
            raise ValueError(f"bound is 'from' or 'until', not {bound!r}")
        self.bound = bound
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value in EMPTY_VALUES:
            return qs
        # The calendar's first and last days bound nothing (and their midnight has no UTC time to compare).
        if (value <= date.min + timedelta(days=1)) if self.bound == "from" else (value >= date.max - timedelta(days=1)):
            return qs
        day = value if self.bound == "from" else value + timedelta(days=1)
        start = timezone.make_aware(datetime.combine(day, time.min))
        lookup = "gte" if self.bound == "from" else "lt"
        return self.get_method(qs)(**{f"{self.field_name}__{lookup}": start})
