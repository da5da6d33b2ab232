from django.urls import path

from grids import api

urlpatterns = [
    path("locate/", api.LocateView.as_view(), name="api-locate"),
    path("regions/", api.RegionListView.as_view(), name="api-region-list"),
    path("regions/<int:pk>/", api.RegionDetailView.as_view(), name="api-region-detail"),
]
