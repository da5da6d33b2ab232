"""The status API of export jobs (``/api/v1/exports/<id>/``): what the progress page polls."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.exports import selectors
from governance.exports.kinds import FORMATS
from governance.exports.models import ExportStatus


class ExportJobSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField(help_text="what is exported: a registered kind's name, e.g. `incidents`")
    label = serializers.CharField(help_text="the kind's name for people, in the request's language")
    format = serializers.ChoiceField(choices=list(FORMATS))
    status = serializers.ChoiceField(choices=ExportStatus.choices)
    progress = serializers.IntegerField(help_text="percent done", min_value=0, max_value=100)
    done = serializers.IntegerField(help_text="rows written so far")
    total = serializers.IntegerField(allow_null=True, help_text="rows the file will hold; null until counted")
    file_name = serializers.CharField(help_text="the name the download carries")
    size = serializers.IntegerField(allow_null=True, help_text="bytes, once the file is ready")
    download_url = serializers.CharField(allow_blank=True, help_text="empty until the file is ready, and once it "
                                                                      "has expired")
    error = serializers.CharField(allow_blank=True, help_text="why it failed, for its owner to read")
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True, help_text="when the file is deleted; null unless ready")


class ExportJobView(APIView):
    """A job's progress, for its owner alone."""

    @extend_schema(operation_id="export_job", summary="Progress of your export",
                   description=("A background export you asked for: its status (`queued`, `running`, `done`, "
                                "`failed`, `expired`), progress, and the download link once done. Only its owner "
                                "sees it: anyone else gets 404, as for a job that does not exist."),
                   responses={200: ExportJobSerializer})
    def get(self, request: Request, pk: int) -> Response:
        return Response(ExportJobSerializer(selectors.job_status(selectors.export_job(request.user, pk))).data)
