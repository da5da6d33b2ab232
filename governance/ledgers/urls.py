from django.urls import path

from governance.ledgers import views

app_name = "ledgers"

urlpatterns = [
    path("", views.index, name="index"),
    path("<int:pk>/", views.dashboard, name="dashboard"),
    path("<int:pk>/filing/", views.my_filings, name="my-filings"),
    path("<int:pk>/import/", views.import_tasks, name="import"),
    path("responsibilities/<int:pk>/", views.responsibility, name="responsibility"),
    path("responsibilities/<int:pk>/notice/", views.notice_issue, name="notice-issue"),
    path("filings/<int:pk>/review/", views.review, name="review"),
    path("evidence/<int:pk>/", views.evidence_download, name="evidence"),
    path("notices/", views.notices, name="notices"),
    path("notices/public/", views.public_notices, name="public-notices"),
    path("notices/<int:pk>/", views.notice, name="notice"),
    path("projects/", views.projects, name="projects"),
    path("projects/<int:pk>/", views.project, name="project"),
    path("project-files/<int:pk>/", views.project_attachment, name="project-attachment"),
]
