"""The export pages (under /exports/) and the status API (under /api/v1/exports/)."""

from django.urls import path

from governance.exports import api, views

app_name = "exports"

urlpatterns = [
    path("", views.job_list, name="list"),
    path("new/<slug:kind>/", views.start, name="start"),
    path("<int:pk>/", views.progress, name="progress"),
    path("<int:pk>/download/", views.download, name="download"),
]

# Included by governance/urls.py under api/v1/exports/.
api_urlpatterns = [
    path("<int:pk>/", api.ExportJobView.as_view(), name="api-export-job"),
]
