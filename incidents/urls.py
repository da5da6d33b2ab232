from django.urls import path

from incidents import views

app_name = "incidents"

urlpatterns = [
    path("", views.incident_list, name="list"),
    path("new/", views.incident_file, name="file"),
    path("queue/", views.triage_queue, name="queue"),
    path("unit-queue/", views.unit_queue, name="unit-queue"),
    path("<int:pk>/", views.incident_detail, name="detail"),
    path("<int:pk>/act/<slug:transition>/", views.incident_act, name="act"),
    path("<int:pk>/reveal-contact/", views.reveal_contact, name="reveal-contact"),
    path("attachments/<int:pk>/", views.attachment, name="attachment"),
    path("attachments/<int:pk>/thumbnail/", views.attachment, {"thumbnail": True}, name="attachment-thumbnail"),
]
