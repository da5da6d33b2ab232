from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from governance.core.admin import ScopedHistoryAdmin
from governance.core.errors import DomainError
from governance.core.scoping import Action
from grids import services
from grids.models import Region


class RegionForm(forms.ModelForm):
    """Checks a region by the rules of the tree in ``clean()``, so a bad boundary is a form error.

    The checks are the services' own (``validate_new_region``,
    ``validate_region_change``); saving then goes through ``region_create`` /
    ``region_update``, which check again inside their transaction.
    """

    parent_code = forms.CharField(
        label=_("parent code"), required=False,
        help_text=_("Administrative code of the parent region; empty for the city."),
    )

    # the service's argument names -> this form's fields
    FIELD_OF_ARGUMENT = {"parent": "parent_code"}

    class Meta:
        model = Region
        fields = ["level", "code", "name", "boundary"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.parent: Region | None = None

    def _parent_from_code(self, code: str) -> Region | None:
        """The parent, looked up only among the regions the user administers (hidden is missing)."""
        regions = Region.objects.all()
        if self.user is not None and not self.user.is_superuser:
            regions = Region.objects.restrict(self.user, Action.ADMINISTER)
        return regions.filter(code=code).first()

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned  # a field is already wrong; its own message says enough
        try:
            if self.instance.pk is None:
                parent_code = (cleaned.get("parent_code") or "").strip()
                self.parent = self._parent_from_code(parent_code) if parent_code else None
                if parent_code and self.parent is None:
                    self.add_error("parent_code", _("No region with code %(code)s that you administer.")
                                   % {"code": parent_code})
                    return cleaned
                if self.parent is None and self.user is not None and not self.user.is_superuser:
                    self.add_error("parent_code", _("Only a superuser may add a city."))
                    return cleaned
                services.validate_new_region(parent=self.parent, level=cleaned.get("level"),
                                             code=cleaned.get("code"), name=cleaned.get("name"),
                                             boundary=cleaned.get("boundary"))
            else:
                services.validate_region_change(region=self.instance, name=cleaned.get("name"),
                                                boundary=cleaned.get("boundary"))
        except DomainError as exc:
            self._add_domain_error(exc)
        return cleaned

    def _add_domain_error(self, exc: DomainError) -> None:
        placed = False
        for argument, messages in exc.field_errors.items():
            field = self.FIELD_OF_ARGUMENT.get(argument, argument)
            if field in self.fields:
                for message in messages:
                    self.add_error(field, message)
                placed = True
        if not placed:
            self.add_error(None, exc.message)


@admin.register(Region)
class RegionAdmin(ScopedHistoryAdmin):
    """Regions are added and changed through the services, so every boundary is checked."""

    form = RegionForm
    list_display = ["name", "code", "level", "numchild", "updated_at"]
    list_filter = ["level"]
    search_fields = ["name", "code"]
    ordering = ["path"]
    readonly_fields = ["centroid_lat", "centroid_lng", "updated_at"]

    def get_form(self, request, obj=None, **kwargs):
        form_class = super().get_form(request, obj, **kwargs)
        if obj is not None:
            form_class.base_fields.pop("parent_code", None)

        class RequestRegionForm(form_class):
            def __init__(self, *args, **form_kwargs):
                super().__init__(*args, user=request.user, **form_kwargs)

        return RequestRegionForm

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return ["level", "code", *self.readonly_fields]
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        # The form has checked every rule; the service checks again in its
        # transaction, and a rule broken meanwhile by someone else fails the
        # request instead of reporting a save that did not happen.
        if change:
            services.region_update(region=obj, name=form.cleaned_data["name"], boundary=form.cleaned_data["boundary"],
                                   acting_user=request.user)
        else:
            saved = services.region_create(parent=form.parent, level=form.cleaned_data["level"],
                                           code=form.cleaned_data["code"], name=form.cleaned_data["name"],
                                           boundary=form.cleaned_data["boundary"], acting_user=request.user)
            obj.pk = saved.pk
            obj.path, obj.depth, obj.numchild = saved.path, saved.depth, saved.numchild
