from django.urls import path

from mediation import views

app_name = "mediation"

urlpatterns = [
    path("", views.case_list, name="list"),
    path("workbench/", views.workbench, name="workbench"),
    path("figures/", views.figures, name="figures"),
    path("new/", views.case_register, name="register"),
    path("transfer/<int:incident_pk>/", views.transfer, name="transfer"),
    path("<int:pk>/", views.case_detail, name="detail"),
    path("<int:pk>/act/<slug:name>/", views.case_act, name="act"),
    path("<int:pk>/reveal-parties/", views.reveal_parties, name="reveal-parties"),
    path("<int:pk>/agreement-file/", views.agreement_file, name="agreement-file"),
]
