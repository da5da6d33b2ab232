from django.urls import path

from intake import sign_views

app_name = "intake-signs"

urlpatterns = [
    path("", sign_views.sign_list, name="list"),
    path("<int:grid_id>.pdf", sign_views.sign_pdf, name="sign-pdf"),
]
