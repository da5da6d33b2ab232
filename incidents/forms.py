"""Page forms for incidents: the filing form and one form per workflow action.

Forms only parse and check the shape of the input; the rules (scope, state,
the city's boundary, real images) live in ``incidents.services``. Choices that
depend on the user (units, categories) come through the scoping door.
"""

from __future__ import annotations

import uuid
from itertools import groupby

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from governance.access.models import Unit, UnitKind
from governance.core.scoping import Action
from incidents.models import Category, Incident
from incidents.services import MAX_PHOTOS


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several photos in one input (Django's documented pattern for ``multiple``)."""

    def __init__(self, *args, capture: bool = True, **kwargs):
        attrs = {"accept": "image/*", "multiple": True}
        if capture:
            attrs["capture"] = "environment"
        kwargs.setdefault("widget", MultipleFileInput(attrs=attrs))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            files = [single(d, initial) for d in data if d]
        else:
            files = [single(data, initial)] if data else []
        if len(files) > MAX_PHOTOS:
            raise forms.ValidationError(_("At most %(n)d photos.") % {"n": MAX_PHOTOS})
        return files


def category_choices() -> list:
    """Minor categories grouped under their major category (an <optgroup> each)."""
    minors = (Category.objects.filter(is_active=True, parent__isnull=False, parent__is_active=True)
              .select_related("parent").order_by("parent__sort_order", "parent__code", "sort_order", "code"))
    choices: list = [("", _("Choose a category"))]
    for major, group in groupby(minors, key=lambda c: c.parent):
        choices.append((major.name, [(c.pk, c.name) for c in group]))
    return choices


def category_tree() -> list[dict]:
    """The same tree for the two-step picker the page script builds (major, then minor)."""
    tree: list[dict] = []
    for label, options in category_choices()[1:]:
        tree.append({"name": label, "children": [{"id": pk, "name": name} for pk, name in options]})
    return tree


class IncidentFileForm(forms.Form):
    category = forms.TypedChoiceField(label=_("Category"), coerce=int, empty_value=None)
    title = forms.CharField(label=_("Title"), max_length=200,
                            widget=forms.TextInput(attrs={"autocomplete": "off",
                                                          "placeholder": _("What is wrong, in a few words")}))
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(
        attrs={"rows": 3, "placeholder": _("What you saw, since when, who is affected")}))
    address = forms.CharField(label=_("Address"), max_length=300, required=False,
                              widget=forms.TextInput(attrs={"placeholder": _("Street, building, landmark")}))
    lat = forms.FloatField(label=_("Latitude"), min_value=-90, max_value=90,
                           error_messages={"required": _("Pick the place on the map or use your location.")})
    lng = forms.FloatField(label=_("Longitude"), min_value=-180, max_value=180,
                           error_messages={"required": _("Pick the place on the map or use your location.")})
    photos = PhotosField(label=_("Photos"))
    idempotency_key = forms.CharField(max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = category_choices()
        if not self.is_bound:
            # One key per form: a resent form (double click, retry) files one incident.
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)
        for name in ("lat", "lng"):
            self.fields[name].widget = forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"})

    def clean_category(self):
        pk = self.cleaned_data["category"]
        category = Category.objects.filter(pk=pk, is_active=True, parent__isnull=False).first()
        if category is None:
            raise forms.ValidationError(_("Choose a category from the list."))
        return category


# --- Workflow actions ---------------------------------------------------------

class ActionForm(forms.Form):
    """The fields every action shares: the version the person saw, a note, where to go back to."""

    note_first = False

    expected_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    note = forms.CharField(label=_("Note"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}))
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, incident: Incident, action, user, **kwargs):
        self.incident = incident
        self.action = action  # incidents.actions.IncidentAction
        self.user = user
        kwargs.setdefault("prefix", action_prefix(action.name))
        super().__init__(*args, **kwargs)
        if not self.note_first:
            # what the action needs (a unit, a date, a rating) first, the note after it
            self.order_fields([name for name in self.fields if name != "note"] + ["note"])
        self.initial.setdefault("expected_version", incident.version)
        if action.needs_note:
            self.fields["note"].required = True
            self.fields["note"].label = _("Reason")
            self.fields["note"].error_messages["required"] = _("Please give a reason.")

    def service_kwargs(self) -> dict:
        """The keyword arguments the service takes beyond incident, actor and expected_version."""
        return {"note": self.cleaned_data.get("note", "")}


def action_prefix(name: str) -> str:
    return f"act-{name}"


def unit_choices(user) -> list:
    """Active units the user may pick, grouped by kind (an <optgroup> each)."""
    units = Unit.objects.restrict(user, Action.VIEW).filter(is_active=True).select_related("home_region")
    by_kind: dict[str, list] = {}
    for unit in sorted(units, key=lambda u: (u.home_region.depth, u.name)):
        by_kind.setdefault(unit.kind, []).append((unit.pk, f"{unit.name}（{unit.home_region.name}）"))
    return [(UnitKind(kind).label, by_kind[kind]) for kind in UnitKind.values if kind in by_kind]


class DispatchForm(ActionForm):
    unit = forms.TypedChoiceField(label=_("Lead unit"), coerce=int)
    assisting_units = forms.TypedMultipleChoiceField(
        label=_("Assisting units (co-handling)"), coerce=int, required=False,
        help_text=_("Optional. Each assisting unit reports back too."),
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )

    def __init__(self, *args, units: list | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        choices = units if units is not None else unit_choices(self.user)
        self.fields["unit"].choices = [("", _("Choose a unit")), *choices]
        self.fields["assisting_units"].choices = choices

    def clean(self):
        cleaned = super().clean()
        ids = {cleaned.get("unit"), *cleaned.get("assisting_units", [])} - {None}
        found = {u.pk: u for u in Unit.objects.restrict(self.user, Action.VIEW).filter(pk__in=ids, is_active=True)}
        if cleaned.get("unit") is not None:
            cleaned["unit_obj"] = found.get(cleaned["unit"])
            if cleaned["unit_obj"] is None:
                self.add_error("unit", _("Choose a unit you may dispatch to."))
        cleaned["assisting_objs"] = [found[pk] for pk in cleaned.get("assisting_units", [])
                                     if pk in found and pk != cleaned.get("unit")]
        return cleaned

    def service_kwargs(self) -> dict:
        return {**super().service_kwargs(), "unit": self.cleaned_data["unit_obj"],
                "assisting_units": self.cleaned_data["assisting_objs"]}


class ReportBackForm(ActionForm):
    note_first = True  # the report is the point; photos back it up
    photos = PhotosField(label=_("Photos of the result"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["note"].required = True
        self.fields["note"].label = _("How it was handled")
        self.fields["note"].error_messages["required"] = _("Describe how the incident was handled.")
        self.fields["note"].widget.attrs["rows"] = 3

    def service_kwargs(self) -> dict:
        return {**super().service_kwargs(), "photos": self.cleaned_data["photos"]}


SATISFACTION_CHOICES = [("", "—")] + [(str(n), str(n)) for n in range(1, 6)]


class VerifyForm(ActionForm):
    """One form for both outcomes of a verification (``verify_pass`` and ``verify_fail``)."""

    result = forms.ChoiceField(label=_("Result"), widget=forms.RadioSelect, choices=[
        ("pass", _("Passed: close the incident")), ("fail", _("Failed: back to the unit")),
    ])
    satisfaction = forms.TypedChoiceField(label=_("Satisfaction (1–5)"), choices=SATISFACTION_CHOICES, coerce=int,
                                          empty_value=None, required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("result") == "fail" and not (cleaned.get("note") or "").strip():
            self.add_error("note", _("Say why the verification failed."))
        return cleaned

    def service_kwargs(self) -> dict:
        passed = self.cleaned_data["result"] == "pass"
        return {**super().service_kwargs(), "passed": passed,
                "satisfaction": self.cleaned_data.get("satisfaction") if passed else None}


class CloseOnSpotForm(ActionForm):
    satisfaction = forms.TypedChoiceField(label=_("Satisfaction (1–5)"), choices=SATISFACTION_CHOICES, coerce=int,
                                          empty_value=None, required=False)
    photos = PhotosField(label=_("Photos of the result"))

    def service_kwargs(self) -> dict:
        return {**super().service_kwargs(), "satisfaction": self.cleaned_data.get("satisfaction"),
                "photos": self.cleaned_data["photos"]}


class ParkForm(ActionForm):
    review_on = forms.DateField(label=_("Review date"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean_review_on(self):
        value = self.cleaned_data["review_on"]
        if value <= timezone.localdate():
            raise forms.ValidationError(_("The review date must lie in the future."))
        return value

    def service_kwargs(self) -> dict:
        return {**super().service_kwargs(), "review_on": self.cleaned_data["review_on"]}


class MergeForm(ActionForm):
    into = forms.CharField(label=_("Number of the incident it repeats"), max_length=24,
                           widget=forms.TextInput(attrs={"placeholder": "SJ20260101-000001", "autocomplete": "off"}))

    def clean_into(self):
        from incidents.selectors import incident_list

        number = self.cleaned_data["into"].strip().upper()
        target = incident_list(self.user).filter(number=number).first()
        if target is None:
            raise forms.ValidationError(_("No incident %(number)s that you may see.") % {"number": number})
        if target.pk == self.incident.pk:
            raise forms.ValidationError(_("An incident cannot be merged into itself."))
        return target

    def service_kwargs(self) -> dict:
        return {**super().service_kwargs(), "into": self.cleaned_data["into"]}
