from django.urls import include, path

from dashboards import views

app_name = "dashboards"

urlpatterns = [
    path("grid-worker/", views.grid_worker, name="grid-worker"),
    path("command/", views.command_centre, name="command"),
    path("unit/", views.unit_handler, name="unit"),
    path("mediator/", views.mediator, name="mediator"),
    path("supervisor/", views.supervisor, name="supervisor"),
    path("administrator/", views.administrator, name="administrator"),
    path("map/", include("dashboards.map.urls")),
]
