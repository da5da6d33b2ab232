from django.urls import path

from grids import views

app_name = "grids"

urlpatterns = [
    path("regions/<int:pk>/", views.region_detail, name="region-detail"),
]
