from __future__ import annotations

from django.urls import reverse
from rest_framework import serializers

from governance.core.api import CleanTextField, OutputSerializer
from governance.core.filters import MAX_ID
from governance.ledgers.models import (
    Evidence,
    Filing,
    InnovationProject,
    Programme,
    ProgressStatus,
    Responsibility,
    SupervisionNotice,
)


class ProgrammeSerializer(OutputSerializer):
    region = serializers.CharField(source="region.name")

    class Meta:
        model = Programme
        fields = ["id", "code", "title", "description", "region", "starts_on", "ends_on"]


class ResponsibilitySerializer(OutputSerializer):
    programme = serializers.IntegerField(source="task.programme_id")
    code = serializers.CharField(source="task.code")
    title = serializers.CharField(source="task.title")
    deadline = serializers.DateField(source="task.deadline", allow_null=True)
    cycle = serializers.CharField(source="task.cycle")
    unit = serializers.CharField(source="unit.name")
    unit_id = serializers.IntegerField()
    lead_unit = serializers.CharField(source="task.lead_unit.name", allow_null=True, default=None)

    class Meta:
        model = Responsibility
        fields = ["id", "programme", "code", "title", "deadline", "cycle", "unit", "unit_id", "lead_unit"]


class EvidenceSerializer(OutputSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Evidence
        fields = ["id", "original_name", "content_type", "size", "url"]

    def get_url(self, obj) -> str:
        return reverse("ledgers:evidence", args=[obj.pk])


class FilingSerializer(OutputSerializer):
    evidence = EvidenceSerializer(many=True)

    class Meta:
        model = Filing
        fields = ["id", "responsibility", "period", "version", "is_current", "status", "percent", "narrative",
                  "filed_at", "review", "review_comment", "reviewed_at", "evidence"]


class NoticeSerializer(OutputSerializer):
    unit = serializers.CharField(source="unit.name")
    task_code = serializers.CharField(source="task.code")

    class Meta:
        model = SupervisionNotice
        fields = ["id", "number", "programme", "task", "task_code", "unit", "content", "due_on", "issued_at",
                  "status", "response", "responded_at"]


class ProjectSerializer(OutputSerializer):
    region = serializers.CharField(source="region.name")
    unit = serializers.CharField(source="unit.name", allow_null=True, default=None)

    class Meta:
        model = InnovationProject
        fields = ["id", "title", "level", "region", "unit", "status", "description", "created_at"]


class FigureSerializer(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    depth = serializers.IntegerField()
    weight = serializers.DecimalField(max_digits=6, decimal_places=2)
    progress = serializers.FloatField(allow_null=True)
    requirements = serializers.IntegerField()
    lagging = serializers.IntegerField()


class UnitFigureSerializer(serializers.Serializer):
    unit_id = serializers.IntegerField()
    unit = serializers.CharField()
    requirements = serializers.IntegerField()
    completed = serializers.IntegerField()
    completion = serializers.FloatField()
    lagging = serializers.IntegerField()
    missing_filings = serializers.IntegerField()
    overdue_notices = serializers.IntegerField()


class LaggingSerializer(serializers.Serializer):
    responsibility = serializers.IntegerField()
    code = serializers.CharField()
    unit = serializers.CharField()
    percent = serializers.FloatField()
    overdue = serializers.BooleanField()
    missing = serializers.ListField(child=serializers.CharField())


class ProgressSerializer(serializers.Serializer):
    programme = serializers.IntegerField()
    as_of = serializers.DateField()
    overall = serializers.FloatField(allow_null=True)
    tasks = FigureSerializer(many=True)
    units = UnitFigureSerializer(many=True)
    lagging = LaggingSerializer(many=True)


class FilingInput(serializers.Serializer):
    period = serializers.CharField(max_length=8, help_text="`2026-03` (monthly), `2026Q1` (quarterly) or `once`.")
    status = serializers.ChoiceField(choices=ProgressStatus.choices)
    percent = serializers.IntegerField(min_value=0, max_value=100)
    narrative = CleanTextField(max_length=5000)


class ReviewInput(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["accept", "return"])
    comment = CleanTextField(max_length=2000, required=False, allow_blank=True, default="")


class NoticeInput(serializers.Serializer):
    responsibility = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    content = CleanTextField(max_length=5000)
    due_on = serializers.DateField()


class ResponseInput(serializers.Serializer):
    response = CleanTextField(max_length=5000)
