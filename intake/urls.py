from django.urls import path, re_path

from intake import open311, views

app_name = "intake"

urlpatterns = [
    path("track/", views.track, name="track"),
    path("track/<str:code>/", views.track, name="track-code"),
    path("<str:token>/", views.quick_report, name="quick-report"),
]

FMT = r"\.(?P<fmt>[a-z]+)"
open311_urlpatterns = ([
    path("", open311.discovery, {"fmt": "json"}, name="root"),
    re_path(rf"^discovery{FMT}$", open311.discovery, name="discovery"),
    re_path(rf"^services{FMT}$", open311.service_list, name="services"),
    re_path(rf"^services/(?P<service_code>[^/]+?){FMT}$", open311.service_definition, name="service"),
    re_path(rf"^requests{FMT}$", open311.requests_collection, name="requests"),
    re_path(rf"^requests/(?P<service_request_id>[^/]+?){FMT}$", open311.request_detail, name="request"),
    re_path(rf"^tokens/(?P<token>[^/]+?){FMT}$", open311.token_lookup, name="token"),
    re_path(r"^(?P<rest>.*)$", open311.not_found, {"fmt": "json"}, name="not-found"),
], "open311")
