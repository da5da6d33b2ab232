from django.urls import path

from governance.ledgers import api

urlpatterns = [
    path("programmes/", api.ProgrammeListView.as_view(), name="api-ledger-programmes"),
    path("programmes/<int:pk>/progress/", api.ProgrammeProgressView.as_view(), name="api-ledger-progress"),
    path("responsibilities/", api.ResponsibilityListView.as_view(), name="api-ledger-responsibilities"),
    path("responsibilities/<int:pk>/filings/", api.FilingListView.as_view(), name="api-ledger-filings"),
    path("filings/<int:pk>/review/", api.ReviewView.as_view(), name="api-ledger-review"),
    path("notices/", api.NoticeListView.as_view(), name="api-ledger-notices"),
    path("notices/<int:pk>/respond/", api.NoticeRespondView.as_view(), name="api-ledger-notice-respond"),
    path("projects/", api.ProjectListView.as_view(), name="api-ledger-projects"),
]
