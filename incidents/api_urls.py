from django.urls import path

from incidents import api

urlpatterns = [
    path("incidents/", api.IncidentListView.as_view(), name="api-incident-list"),
    path("incidents/duplicates/", api.DuplicatesView.as_view(), name="api-incident-duplicates"),
    path("incidents/<int:pk>/", api.IncidentDetailView.as_view(), name="api-incident-detail"),
    path("incidents/<int:pk>/reveal-contact/", api.RevealContactView.as_view(), name="api-incident-reveal-contact"),
    *[
        path(f"incidents/<int:pk>/{segment}/", view.as_view(), name=f"api-incident-{segment}")
        for segment, view in api.ACTION_VIEWS.items()
    ],
    path("categories/", api.CategoryTreeView.as_view(), name="api-category-list"),
]
