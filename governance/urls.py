from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

import governance.admin_site  # noqa: F401  (registers every admin, see the module)
from governance import views
from governance.access import views as access_views
from governance.core.errors import DomainError
from governance.core.openapi import ERROR_DESCRIPTIONS, errors
from governance.core.parsers import SafeJSONParser
from intake.urls import open311_urlpatterns

admin.site.site_header = admin.site.site_title = gettext_lazy("City governance portal")


@extend_schema_view(post=extend_schema(
    operation_id="auth_token_obtain", summary="A token for API clients", auth=[],
    description=("POST username and password; send the token as `Authorization: Token <token>`. Failed attempts "
                 "count towards the same lockout as the login page: a locked account answers 429 `locked_out`, "
                 "even with the right password."),
    responses={200: inline_serializer("AuthTokenAnswer", {"token": serializers.CharField()}),
               **errors(400, 429, e400=ERROR_DESCRIPTIONS[400] + " Wrong credentials are `invalid` too.")},
))
class ObtainTokenView(ObtainAuthToken):
    """DRF's token view, which says when an account is locked out (as the login page does)."""

    parser_classes = [SafeJSONParser, FormParser, MultiPartParser]

    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        valid = serializer.is_valid()
        # django-axes flags the request it was given when the account is locked (it refuses even the right password)
        if getattr(request, "axes_locked_out", False) or getattr(request._request, "axes_locked_out", False):
            raise LockedOut()
        if not valid:
            raise ValidationError(serializer.errors)
        token, _created = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})


class LockedOut(DomainError):
    status_code = 429
    code = "locked_out"
    default_message = gettext_lazy("Too many failed logins. Try again later, or ask an administrator to unlock the "
                                   "account.")


api_v1 = [
    path("", include("grids.api_urls")),
    path("", include("incidents.api_urls")),
    path("", include("mediation.api_urls")),
    path("map/", include("dashboards.map.api_urls")),
    path("exports/", include("governance.exports.api_urls")),
    path("ledgers/", include("governance.ledgers.api_urls")),
    path("auth/token/", ObtainTokenView.as_view(), name="api-token"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

urlpatterns = [
    path("", access_views.home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("audit/", access_views.audit_log, name="audit-log"),
    path("healthz", views.healthz, name="healthz"),
    path("dashboards/", include("dashboards.urls")),
    path("alerts/", include("governance.alerts.urls")),
    path("exports/", include("governance.exports.urls")),
    path("territory/", include("governance.access.territory_urls")),
    path("incidents/", include("incidents.urls")),
    # Residents' quick reports behind the grids' QR signs, and Open311 GeoReport v2 (no login: principals)
    path("q/", include("intake.urls")),
    path("intake/signs/", include("intake.sign_urls")),
    path("open311/v2/", include(open311_urlpatterns)),
    path("mediation/", include("mediation.urls")),
    path("ledgers/", include("governance.ledgers.urls")),
    path("api/v1/", include(api_v1)),
    path("admin/", admin.site.urls),
]

handler400 = "governance.views.bad_request"
handler403 = "governance.views.permission_denied"
handler404 = "governance.views.page_not_found"
handler500 = "governance.views.server_error"
