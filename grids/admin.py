from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from governance.admin import ScopedAdminMixin
from governance.errors import DomainError
from grids import services
from grids.models import Region


class RegionForm(forms.ModelForm):
    parent_code = forms.CharField(
        label=_("parent code"), required=False, help_text=_("Administrative code of the parent region; empty for the city.")
    )

    class Meta:
        model = Region
        fields = ["level", "code", "name", "boundary"]


@admin.register(Region)
class RegionAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    """Regions are added and changed through the services, so every boundary is checked."""

    form = RegionForm
    list_display = ["name", "code", "level", "numchild", "updated_at"]
    list_filter = ["level"]
    search_fields = ["name", "code"]
    ordering = ["path"]
    readonly_fields = ["centroid_lat", "centroid_lng", "updated_at"]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if obj is not None:
            form.base_fields.pop("parent_code", None)
        return form

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return ["level", "code", *self.readonly_fields]
        return self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return False  # incidents and records point at regions: never deleted

    def save_model(self, request, obj, form, change):
        try:
            if change:
                services.region_update(region=obj, name=obj.name, boundary=form.cleaned_data["boundary"])
            else:
                parent_code = form.cleaned_data.get("parent_code")
                parent = Region.objects.get(code=parent_code) if parent_code else None
                saved = services.region_create(parent=parent, level=obj.level, code=obj.code, name=obj.name,
                                               boundary=form.cleaned_data["boundary"])
                obj.pk = saved.pk
        except (DomainError, Region.DoesNotExist) as exc:
            self.message_user(request, getattr(exc, "message", str(exc)), messages.ERROR)
