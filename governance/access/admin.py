"""The admin of units, role assignments and accounts, scoped to the administrator's territory (see
``governance.core.admin``)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import Exists, OuterRef
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from governance.access import services
from governance.access.models import RoleAssignment, Unit
from governance.core.admin import ScopedAdminMixin, ScopedHistoryAdmin
from governance.core.authority import administers_path
from governance.core.errors import DomainError
from governance.core.scoping import Action


class UnitForm(forms.ModelForm):
    class Meta:
        model = Unit
        fields = ["code", "name", "kind", "home_region", "is_active"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self):
        cleaned = super().clean()
        region = cleaned.get("home_region")
        if region is not None and self.user is not None and not administers_path(self.user, region.path):
            self.add_error("home_region", _("Choose a region you administer."))
        if self.instance.pk and self.user is not None and not administers_path(
                self.user, self.instance.home_region.path):
            raise forms.ValidationError(_("This unit lies outside the territory you administer."))
        return cleaned


@admin.register(Unit)
class UnitAdmin(ScopedHistoryAdmin):
    form = UnitForm
    list_display = ["name", "code", "kind", "home_region", "is_active"]
    list_filter = ["kind", "is_active", "home_region__level"]
    search_fields = ["name", "code"]
    raw_id_fields = ["home_region"]
    list_select_related = ["home_region"]

    def get_form(self, request, obj=None, **kwargs):
        form_class = super().get_form(request, obj, **kwargs)

        class RequestUnitForm(form_class):
            def __init__(self, *args, **form_kwargs):
                super().__init__(*args, user=request.user, **form_kwargs)

        return RequestUnitForm

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            saved = services.unit_update(unit=obj, acting_user=request.user, code=data["code"], name=data["name"],
                                         kind=data["kind"], home_region=data["home_region"],
                                         is_active=data["is_active"])
        else:
            saved = services.unit_create(code=data["code"], name=data["name"], kind=data["kind"],
                                         home_region=data["home_region"], is_active=data["is_active"],
                                         acting_user=request.user)
        obj.pk = saved.pk


class RoleAssignmentForm(forms.ModelForm):
    """A new assignment: who (by username), which role, over which region or unit of the user's territory."""

    username = forms.CharField(label=_("username"), max_length=150,
                               help_text=_("The login of the person who takes the role."))

    class Meta:
        model = RoleAssignment
        fields = ["role", "region", "unit"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.acting_user = user

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        person = get_user_model().objects.filter(username=username, is_active=True).first()
        if person is None:
            raise forms.ValidationError(_("No active account with this username."))
        return person

    def clean(self):
        cleaned = super().clean()
        region, unit = cleaned.get("region"), cleaned.get("unit")
        target_path = region.path if region else unit.home_region.path if unit else None
        if target_path is not None and self.acting_user is not None and not administers_path(
                self.acting_user, target_path):
            raise forms.ValidationError(_("You may grant roles only inside the territory you administer."))
        if "username" in cleaned:
            self.instance.user = cleaned["username"]
        return cleaned


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(ScopedHistoryAdmin):
    list_display = ["user", "role", "region", "unit", "assigned_at", "assigned_by", "revoked_at"]
    list_filter = ["role", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["user__username", "user__last_name", "user__first_name", "region__name", "unit__name"]
    raw_id_fields = ["region", "unit"]
    list_select_related = ["user", "region", "unit", "assigned_by"]
    readonly_fields = ["assigned_at", "assigned_by", "revoked_at"]
    actions = ["revoke"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is not None:
            return super().get_form(request, obj, **kwargs)
        kwargs["form"] = RoleAssignmentForm
        kwargs["fields"] = ["username", "role", "region", "unit"]
        form_class = super().get_form(request, obj, **kwargs)

        class RequestRoleAssignmentForm(form_class):
            def __init__(self, *args, **form_kwargs):
                super().__init__(*args, user=request.user, **form_kwargs)

        return RequestRoleAssignmentForm

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["username", "role", "region", "unit"]
        return ["user", "role", "region", "unit", *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:  # an assignment is revoked and replaced, never edited
            return ["user", "role", "region", "unit", *self.readonly_fields]
        return self.readonly_fields

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        if request.GET.get("username"):
            initial["username"] = request.GET["username"]
        return initial

    def save_model(self, request, obj, form, change):
        if change:
            return
        saved = services.role_assign(user=form.cleaned_data["username"], role=obj.role, region=obj.region,
                                     unit=obj.unit, acting_user=request.user)
        obj.pk = saved.pk

    @admin.action(description=_("Revoke the selected role assignments"))
    def revoke(self, request, queryset):
        count = 0
        for assignment in queryset.select_related("user"):
            try:
                services.role_revoke(assignment=assignment, acting_user=request.user)
                count += 1
            except DomainError as exc:
                self.message_user(request, f"{assignment}: {exc.message}", messages.ERROR)
        self.message_user(request, _("Revoked %(n)d assignments.") % {"n": count})


User = get_user_model()


class ScopedUserAdmin(ScopedAdminMixin, UserAdmin):
    """Accounts. A superuser manages every account; an administrator below the city manages
    the accounts of the people whose roles all lie in their territory (not staff accounts,
    which the city's superusers manage), and may open new accounts, to which they then give
    a role. Nobody but a superuser sets staff, superuser, group or permission flags."""

    limited_fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
        (_("Status"), {"fields": ("is_active", "last_login", "date_joined")}),
    )

    def scoped_queryset(self, request, qs):
        """The people whose active roles all lie in the administrator's territory (and who hold one), never
        staff or superusers; and the administrator themself."""
        inside = RoleAssignment.objects.restrict(request.user, Action.ADMINISTER).active()
        active = RoleAssignment.objects.active()
        roles_inside = Exists(inside.filter(user=OuterRef("pk")))
        roles_outside = Exists(active.filter(user=OuterRef("pk")).exclude(pk__in=inside.values("pk")))
        managed = qs.filter(roles_inside, ~roles_outside, is_superuser=False, is_staff=False)
        return (managed | qs.filter(pk=request.user.pk)).distinct()

    def get_fieldsets(self, request, obj=None):
        if obj is not None and not request.user.is_superuser:
            return self.limited_fieldsets
        return super().get_fieldsets(request, obj)

    def get_list_filter(self, request):
        return self.list_filter if request.user.is_superuser else ("is_active",)

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return super().get_readonly_fields(request, obj)
        return ["last_login", "date_joined"]

    def response_add(self, request, obj, post_url_continue=None):
        if request.user.is_superuser or "_continue" in request.POST or "_addanother" in request.POST:
            return super().response_add(request, obj, post_url_continue)
        # A new account sees nothing until it holds a role: give it one now.
        self.message_user(request, _("Account %(username)s created; now give it a role.")
                          % {"username": obj.username}, messages.SUCCESS)
        url = reverse("admin:governance_roleassignment_add") + "?" + urlencode({"username": obj.username})
        return HttpResponseRedirect(url)


admin.site.unregister(User)
admin.site.register(User, ScopedUserAdmin)
