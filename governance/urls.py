from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import serializers
from rest_framework.authtoken.views import ObtainAuthToken

import governance.admin_site  # noqa: F401  (registers every admin, see the module)
from governance import views

admin.site.site_header = admin.site.site_title = gettext_lazy("City governance portal")


@extend_schema_view(post=extend_schema(
    operation_id="auth_token_obtain", summary="A token for API clients", auth=[],
    description="POST username and password; send the token as `Authorization: Token <token>`.",
    responses=inline_serializer("AuthTokenAnswer", {"token": serializers.CharField()}),
))
class ObtainTokenView(ObtainAuthToken):
    """DRF's token view, with its answer documented."""


api_v1 = [
    path("", include("grids.api_urls")),
    path("", include("incidents.api_urls")),
    path("map/", include("dashboards.map.api_urls")),
    path("auth/token/", ObtainTokenView.as_view(), name="api-token"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("audit/", views.audit_log, name="audit-log"),
    path("healthz", views.healthz, name="healthz"),
    path("dashboards/", include("dashboards.urls")),
    path("alerts/", include("governance.alerts.urls")),
    path("territory/", include("grids.urls")),
    path("incidents/", include("incidents.urls")),
    path("api/v1/", include(api_v1)),
    path("admin/", admin.site.urls),
]
