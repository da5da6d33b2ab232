from django.urls import path

from governance.alerts import views

app_name = "alerts"

urlpatterns = [
    path("", views.feed, name="feed"),
    path("read/", views.mark_read, name="mark-read"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/acknowledge/", views.acknowledge, name="acknowledge"),
]
