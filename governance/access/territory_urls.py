"""The territory's pages (under /territory/), in the URL namespace "grids": a region with its people and units."""

from django.urls import path

from governance.access import views

app_name = "grids"

urlpatterns = [
    path("regions/<int:pk>/", views.region_detail, name="region-detail"),
]
