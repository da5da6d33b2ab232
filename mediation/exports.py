"""What can be exported of mediation: the dispute list (xlsx, CSV, PDF) and the court's result sheet (PDF).

The list starts from the very queryset its page shows (``mediation.selectors.case_list``, through the scoping
door) filtered by the page's FilterSet, so a file holds exactly what the page lists. Parties' personal data
is masked unless the personal-data policy lets the owner see it whole, and then the file is one recorded
reveal. The job kernel (``governance.exports``) runs both kinds, small files at once, large ones on a worker.
"""

from __future__ import annotations

from django.db.models import BooleanField, Prefetch, QuerySet, Value, When
from django.db.models import Case as When_
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from governance.access.personal_data import record_bulk_reveal
from governance.core.errors import InvalidInput
from governance.core.masking import mask_id_number, mask_name, mask_phone
from governance.core.scoping import Action, get_scope
from governance.exports.kinds import Column, ExportKind, ExportRun, TableExport, register
from mediation import pdf, personal_data, selectors
from mediation.filters import CaseFilter
from mediation.models import Case, Party, PartyRole, Source


def _parties(case: Case, role: str, field: str) -> str:
    values = []
    for party in case.export_parties:
        if party.role != role:
            continue
        value = getattr(party, field)
        if not case.reveal_personal:
            value = {"name": mask_name, "id_number": mask_id_number, "phone": mask_phone}[field](value)
        values.append(value)
    return "、".join(v for v in values if v)


COLUMNS = [
    Column("number", _("Number"), lambda c: c.number, width=16),
    Column("title", _("Title"), lambda c: c.title, width=30),
    Column("dispute_type", _("Dispute type"), lambda c: c.dispute_type.name, width=16),
    Column("source", _("Source"), lambda c: str(c.get_source_display())),
    Column("risk_level", _("Risk level"), lambda c: str(c.get_risk_level_display())),
    Column("status", _("Status"), lambda c: str(c.get_status_display())),
    Column("outcome", _("Outcome"), lambda c: str(c.get_outcome_display()) if c.outcome else ""),
    Column("amount", _("Amount in dispute (yuan)"), lambda c: float(c.amount) if c.amount is not None else None),
    Column("region", _("Territory"), lambda c: c.region.name, width=16),
    Column("organisation", _("Mediation organisation"), lambda c: c.organisation.name, width=24),
    Column("registered_at", _("Registered at"), lambda c: c.registered_at, width=17),
    Column("due_at", _("Settle by"), lambda c: c.due_at, width=17),
    Column("closed_at", _("Closed at"), lambda c: c.closed_at, width=17),
    Column("court_case_number", _("Court case number"), lambda c: c.court_case_number, width=18),
    Column("applicants", _("Applicants"), lambda c: _parties(c, PartyRole.APPLICANT, "name"), personal=True),
    Column("applicant_ids", _("Applicants' ID numbers"), lambda c: _parties(c, PartyRole.APPLICANT, "id_number"),
           personal=True, width=20),
    Column("applicant_phones", _("Applicants' phones"), lambda c: _parties(c, PartyRole.APPLICANT, "phone"),
           personal=True, width=14),
    Column("respondents", _("Respondents"), lambda c: _parties(c, PartyRole.RESPONDENT, "name"), personal=True),
    Column("respondent_phones", _("Respondents' phones"), lambda c: _parties(c, PartyRole.RESPONDENT, "phone"),
           personal=True, width=14),
]
PERSONAL = {c.key for c in COLUMNS if c.personal}


def reveal_personal_data(user, cases: QuerySet[Case]) -> QuerySet[Case]:
    """Annotate ``reveal_personal``: the personal-data policy's rule (``mediation.personal_data``), per case."""
    return cases.annotate(reveal_personal=When_(When(personal_data.revealable(user), then=Value(True)),
                                                default=Value(False), output_field=BooleanField()))


@register
class CaseListExport(TableExport):
    """``/mediation/``: every case the user may see, with the page's filters."""

    name = "mediation_cases"
    label = _("Dispute cases")
    formats = ("xlsx", "csv", "pdf")
    filterset_class = CaseFilter
    columns = COLUMNS
    default_columns = ["number", "title", "dispute_type", "risk_level", "status", "outcome", "region",
                       "organisation", "registered_at", "due_at"]

    def allowed(self, user) -> bool:
        return not get_scope(user).is_empty(Action.VIEW)

    def base_queryset(self, user) -> QuerySet[Case]:
        return selectors.case_list(user)

    def filterset_kwargs(self, user) -> dict:
        return {"user": user}

    def prepare(self, user, queryset: QuerySet[Case], columns) -> QuerySet[Case]:
        if PERSONAL & {c.key for c in columns}:
            queryset = reveal_personal_data(user, queryset).prefetch_related(
                Prefetch("parties", queryset=Party.objects.order_by("pk"), to_attr="export_parties"))
            ids = list(queryset.filter(reveal_personal=True).values_list("pk", flat=True))
            record_bulk_reveal(user=user, subject_type=personal_data.SUBJECT_TYPE, ids=ids,
                               fields=[c.key for c in columns if c.personal],
                               reason=gettext("Export of the dispute list with personal columns"))
            return queryset
        return queryset.annotate(reveal_personal=Value(False, output_field=BooleanField()))

    def write(self, run: ExportRun) -> None:
        if run.fmt != "pdf":
            return super().write(run)
        known = self.column_map()
        columns = [known[key] for key in self.chosen_columns(run.options.get("columns", []))]
        objects = self.prepare(run.user, self.filtered(run.user, run.params), columns)
        total = objects.count()
        shown = min(total, self.pdf_row_limit)
        run.progress.start(shown)
        note = "" if shown == total else self.pdf_cut_note(shown, total)
        # Cases are read a chunk at a time (the prefetched parties with them) and each row is laid out and let go
        # as it is made: neither the cases nor their rows are ever held whole.
        cases = objects[:shown].iterator(chunk_size=self.chunk_size)
        pdf.write_table(run.out, str(self.label), [str(c.label) for c in columns],
                        self.rows(run.progress.track(cases), columns), widths=[c.width for c in columns], note=note)


@register
class CourtResultSheet(ExportKind):
    """The result sheet a court receives for a case it referred (诉前调解结果反馈单), in Chinese, as PDF."""

    name = "mediation_court_sheet"
    label = _("Court result sheet")
    formats = ("pdf",)

    def allowed(self, user) -> bool:
        return not get_scope(user).is_empty(Action.VIEW)

    def _case(self, user, params) -> Case:
        raw = params.get("case") if hasattr(params, "get") else None
        if isinstance(raw, list):
            raw = raw[0] if raw else None
        case = None
        if raw and str(raw).isdigit():
            case = (selectors.case_list(user).select_related("agreement").prefetch_related("parties", "sessions")
                    .filter(pk=int(raw)).first())
        if case is None:
            raise InvalidInput(gettext("Choose a case you may see."), field_errors={"case": [gettext("Unknown.")]})
        if case.source != Source.COURT:
            raise InvalidInput(gettext("Only a case referred by a court has a result sheet."),
                               field_errors={"case": [gettext("Not a court referral.")]})
        return case

    def clean(self, user, data: QueryDict):
        params = {"case": data.getlist("case")}
        self._case(user, {"case": params["case"]})
        return params, {}

    def count(self, user, params, options) -> int:
        return 1

    def write(self, run: ExportRun) -> None:
        from django.utils import translation
        from reportlab.lib.pagesizes import A4
        from reportlab.lib.units import mm
        from reportlab.platypus import SimpleDocTemplate, Spacer, Table, TableStyle

        run.progress.start(1)
        case = self._case(run.user, run.params)
        s = pdf.styles()
        with translation.override("zh-hans"):  # the court reads Chinese, whatever the owner's language
            revealed = Case.objects.filter(personal_data.revealable(run.user), pk=case.pk).exists()
            if revealed:
                record_bulk_reveal(user=run.user, subject_type=personal_data.SUBJECT_TYPE, ids=[case.pk],
                                   fields=["party_name"], reason=gettext("Court result sheet"), region=case.region)
            parties = "；".join(f"{p.get_role_display()}：{p.name if revealed else mask_name(p.name)}"
                               for p in case.parties.all())
            agreement = getattr(case, "agreement", None)
            outcome = case.get_outcome_display() if case.outcome else gettext("Not yet concluded")
            rows = [
                (gettext("Court"), case.court_name),
                (gettext("Court case number"), case.court_case_number),
                (gettext("Referral date"), pdf._cell(case.court_referral_date)),
                (gettext("Mediation case number"), case.number),
                (gettext("Mediation organisation"), case.organisation.name),
                (gettext("Dispute type"), case.dispute_type.name),
                (gettext("Amount in dispute (yuan)"), "" if case.amount is None else str(case.amount)),
                (gettext("Parties"), parties),
                (gettext("Sessions held"), str(len(case.sessions.all()))),
                (gettext("Outcome"), outcome),
                (gettext("Outcome date"), pdf._cell(case.outcome_at)),
                (gettext("Agreement"), agreement.terms if agreement is not None else ""),
            ]
            doc = SimpleDocTemplate(run.out, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm,
                                    topMargin=20 * mm, bottomMargin=20 * mm, title=gettext("Court result sheet"))
            table = Table([[pdf.paragraph(k, s["body"]), pdf.paragraph(v, s["body"])] for k, v in rows],
                          colWidths=[45 * mm, 125 * mm])
            table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, "#6b7280"),
                                       ("VALIGN", (0, 0), (-1, -1), "TOP")]))
            story = [pdf.paragraph(gettext("Result sheet of pre-litigation mediation"), s["title"]), Spacer(1, 6 * mm),
                     table, Spacer(1, 10 * mm),
                     pdf.paragraph(gettext("Issued by %(organisation)s on %(date)s.")
                                   % {"organisation": case.organisation.name,
                                      "date": timezone.localdate().strftime("%Y-%m-%d")}, s["body"])]
            doc.build(story)
        run.progress.advance()
