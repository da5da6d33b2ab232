"""Open311 API keys are issued and revoked here; grid signs are listed, revoked and printed here.

Both go through ``intake.services`` (which checks the acting user's authority again). A new
key is shown once, in the message after saving: only its hash is stored.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from governance.core.admin import ScopedHistoryAdmin
from grids.models import Level
from intake import services
from intake.models import ApiKey, Sign


class ApiKeyForm(forms.ModelForm):
    class Meta:
        model = ApiKey
        fields = ["name", "unit", "territory", "intake_grid", "source"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "intake_grid" in self.fields:
            self.fields["intake_grid"].queryset = self.fields["intake_grid"].queryset.filter(level=Level.GRID)

    def clean(self):
        data = super().clean()
        grid, territory = data.get("intake_grid"), data.get("territory")
        if grid is not None and territory is not None and not grid.path.startswith(territory.path):
            self.add_error("intake_grid", _("Not a grid of the territory."))
        return data


@admin.register(ApiKey)
class ApiKeyAdmin(ScopedHistoryAdmin):
    form = ApiKeyForm
    list_display = ["name", "prefix", "unit", "territory", "source", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["source"]
    search_fields = ["name", "prefix", "unit__name"]
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ["prefix", "created_at", "revoked_at"]
        # A key's ties are what it was issued for: revoke it and issue another rather than move it.
        return ["name", "unit", "territory", "intake_grid", "source", "prefix", "created_at", "created_by",
                "revoked_at", "revoked_by"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "unit", "territory", "intake_grid", "source"]
        return self.get_readonly_fields(request, obj)

    def save_model(self, request, obj, form, change):
        if change:
            return  # nothing of an issued key is editable
        issued = services.api_key_issue(
            name=form.cleaned_data["name"], unit=form.cleaned_data["unit"], territory=form.cleaned_data["territory"],
            intake_grid=form.cleaned_data.get("intake_grid"), source=form.cleaned_data["source"],
            acting_user=request.user)
        obj.pk = issued.api_key.pk
        obj.__dict__.update({k: v for k, v in issued.api_key.__dict__.items() if not k.startswith("_")})
        self.message_user(request, format_html(
            "{} <code id=\"new-api-key\">{}</code>",
            _("The key, shown only this once. Copy it now and hand it to the client:"), issued.key),
            messages.WARNING)

    @admin.action(description=_("Revoke the selected keys"))
    def revoke(self, request, queryset):
        for api_key in queryset:
            services.api_key_revoke(api_key=api_key, acting_user=request.user)
        self.message_user(request, _("Revoked."), messages.SUCCESS)


@admin.register(Sign)
class SignAdmin(ScopedHistoryAdmin):
    list_display = ["grid", "issued_at", "revoked_at", "print_link"]
    search_fields = ["grid__name", "grid__code"]
    readonly_fields = ["grid", "issued_at", "issued_by", "revoked_at", "revoked_by"]
    actions = ["revoke_and_reissue"]

    def has_add_permission(self, request, *args):
        return False  # a sign is issued when its grid's sign is first printed

    @admin.display(description=_("Print"))
    def print_link(self, obj):
        if not obj.in_force:
            return "—"
        return format_html('<a href="{}">{}</a>', reverse("intake-signs:sign-pdf", args=[obj.grid_id]), _("PDF"))

    @admin.action(description=_("Revoke the selected signs and issue new ones"))
    def revoke_and_reissue(self, request, queryset):
        for sign in queryset.filter(revoked_at__isnull=True):
            services.sign_revoke(sign=sign, acting_user=request.user)
        self.message_user(request, _("Revoked; the new signs must be printed and put up."), messages.SUCCESS)
