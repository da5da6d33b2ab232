from django.urls import path

from mediation import api

urlpatterns = [
    path("mediation/cases/", api.CaseListView.as_view(), name="api-mediation-case-list"),
    path("mediation/cases/<int:pk>/", api.CaseDetailView.as_view(), name="api-mediation-case-detail"),
    path("mediation/cases/<int:pk>/reveal-parties/", api.RevealPartiesView.as_view(),
         name="api-mediation-case-reveal-parties"),
    *[
        path(f"mediation/cases/<int:pk>/{segment}/", view.as_view(), name=f"api-mediation-case-{segment}")
        for segment, view in api.ACTION_VIEWS.items()
    ],
    path("mediation/figures/", api.FiguresView.as_view(), name="api-mediation-figures"),
    path("mediation/map/", api.MapView.as_view(), name="api-mediation-map"),
    path("incidents/<int:incident_pk>/transfer-to-mediation/", api.TransferView.as_view(),
         name="api-mediation-transfer"),
]
