"""The map's pages (under /dashboards/map/) and its API (under /api/v1/map/)."""

from django.urls import path

from dashboards.map import api, views

# Included by dashboards/urls.py inside the "dashboards" namespace.
urlpatterns = [
    path("", views.map_page, name="map"),
    path("big-screen/", views.big_screen, name="map-big-screen"),
    path("export/", views.export, name="map-export"),
]

# Included by governance/urls.py under api/v1/map/.
api_urlpatterns = [
    path("regions/", api.MapRegionsView.as_view(), name="api-map-regions"),
    path("incidents/", api.MapIncidentsView.as_view(), name="api-map-incidents"),
    path("stats/", api.MapStatsView.as_view(), name="api-map-stats"),
    path("alerts/", api.MapAlertsView.as_view(), name="api-map-alerts"),
    path("alerts/<int:pk>/acknowledge/", api.MapAlertAcknowledgeView.as_view(), name="api-map-alert-acknowledge"),
]
