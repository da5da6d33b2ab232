"""Import of a programme's task breakdown from xlsx, the way cities receive it.

The first sheet; row 1 names the columns (in Chinese or English, any order; unknown columns are ignored):

==========  ===================  =================================================================
column      also                 what it holds
==========  ===================  =================================================================
编号         Code                 ``3``, ``3.2``, ``3.2.1``: the parent of ``3.2.1`` is ``3.2`` and must be a row too
标题         Title                required
说明         Description          optional
牵头领导     Leader               optional, the leader's name
牵头单位     Lead unit            a unit's code or exact name; blank: the parent's
责任单位     Responsible units    requirements (rows with no children) only, at least one: codes or names
                                  separated by 、 , ; or new lines
完成时限     Deadline             a date cell or ``2026-06-30`` / ``2026/6/30`` / ``2026年6月30日``; blank: the parent's
填报周期     Filing cycle         每月 / 每季度 / 一次 (monthly / quarterly / once); blank: the parent's, else monthly
权重         Weight               a number ≥ 0; blank: 1
==========  ===================  =================================================================

All or nothing: every row is checked first and any problem stores nothing; each problem names the
row, the column and the reason. A programme is imported into once, while it has no tasks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from governance.access.models import Unit
from governance.core.authority import require_administer
from governance.core.errors import InvalidInput
from governance.core.text import clean_text
from governance.ledgers.models import Programme, Responsibility, Task
from governance.ledgers.periods import Cycle

COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("编号", "code"),
    "title": ("标题", "title"),
    "description": ("说明", "description"),
    "leader": ("牵头领导", "leader"),
    "lead_unit": ("牵头单位", "lead unit"),
    "units": ("责任单位", "responsible units"),
    "deadline": ("完成时限", "deadline"),
    "cycle": ("填报周期", "filing cycle"),
    "weight": ("权重", "weight"),
}
COLUMN_LABELS = {key: names[0] for key, names in COLUMNS.items()}
REQUIRED_COLUMNS = ("code", "title")
CYCLES = {"每月": Cycle.MONTHLY, "月度": Cycle.MONTHLY, "monthly": Cycle.MONTHLY, "每季度": Cycle.QUARTERLY,
          "季度": Cycle.QUARTERLY, "quarterly": Cycle.QUARTERLY, "一次": Cycle.ONCE, "once": Cycle.ONCE}
CODE = re.compile(r"^[1-9]\d*(\.[1-9]\d*)*$")
UNIT_SEPARATORS = re.compile(r"[、,，;；\n]+")
MAX_ROWS = 5000
DATE_PATTERNS = (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"), re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
                 re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"), re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"))


@dataclass(frozen=True)
class Problem:
    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        return _("Row %(row)d, column %(column)s: %(reason)s") % {"row": self.row, "column": self.column,
                                                                  "reason": self.reason}


@dataclass
class Row:
    number: int
    code: str
    title: str
    description: str = ""
    leader: str = ""
    lead_unit: Unit | None = None
    units: list[Unit] = field(default_factory=list)
    deadline: date | None = None
    cycle: str = ""
    weight: Decimal = Decimal(1)

    @property
    def key(self) -> tuple[int, ...]:
        return tuple(int(p) for p in self.code.split("."))

    @property
    def parent_code(self) -> str:
        return self.code.rsplit(".", 1)[0] if "." in self.code else ""


class ImportRefused(InvalidInput):
    code = "import_refused"

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        shown = "; ".join(str(p) for p in problems[:20])
        more = len(problems) - 20
        message = _("Nothing was imported: %(n)d problems. %(shown)s") % {"n": len(problems), "shown": shown}
        if more > 0:
            message += " " + _("(and %(n)d more)") % {"n": more}
        super().__init__(message, field_errors={"file": [str(p) for p in problems]})


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return clean_text(str(value))


def _date(value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    for pattern in DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            return date(*(int(g) for g in match.groups()))  # ValueError for 2026-02-30
    raise ValueError(text)


def _units_by_key(programme: Programme) -> dict[str, Unit]:
    """Units the programme may name: at home in its territory or in a region above it; by code and by name."""
    region = programme.region
    ancestors = [region.path[:i] for i in range(region.steplen, len(region.path), region.steplen)]
    units = Unit.objects.filter(Q(home_region__path__startswith=region.path) | Q(home_region__path__in=ancestors),
                                is_active=True)
    found: dict[str, Unit] = {}
    for unit in units:
        found.setdefault(unit.name, unit)
        found[unit.code] = unit
    return found


def read_rows(programme: Programme, file) -> list[Row]:
    """The sheet's rows checked, or ``ImportRefused`` with every problem found."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(file, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not xlsx
        raise InvalidInput(_("The file is not an Excel workbook (xlsx)."), code="not_xlsx",
                           field_errors={"file": [_("The file is not an Excel workbook (xlsx).")]}) from exc
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None) or ()
        positions: dict[str, int] = {}
        for index, name in enumerate(header):
            label = _text(name).lower()
            for key, names in COLUMNS.items():
                if label in {n.lower() for n in names}:
                    positions.setdefault(key, index)
        problems = [Problem(1, COLUMN_LABELS[key], _("this column is missing"))
                    for key in REQUIRED_COLUMNS if key not in positions]
        if problems:
            raise ImportRefused(problems)
        units = _units_by_key(programme)
        parsed: list[Row] = []
        for number, values in enumerate(rows, start=2):
            if number > MAX_ROWS + 1:
                raise ImportRefused([Problem(number, "-", _("more than %(n)d rows") % {"n": MAX_ROWS})])

            def cell(key: str, values=values):
                index = positions.get(key)
                return values[index] if index is not None and index < len(values) else None

            if all(v is None or _text(v) == "" for v in values):
                continue
            row = _parse_row(number, cell, units, problems)
            if row is not None:
                parsed.append(row)
    finally:
        workbook.close()
    problems += _check_tree(parsed)
    if not parsed and not problems:
        problems.append(Problem(2, "-", _("the sheet has no rows")))
    if problems:
        raise ImportRefused(sorted(problems, key=lambda p: (p.row, p.column)))
    return parsed


def _parse_row(number: int, cell, units: dict[str, Unit], problems: list[Problem]) -> Row | None:
    before = len(problems)

    def problem(key: str, reason) -> None:
        problems.append(Problem(number, COLUMN_LABELS[key], str(reason)))

    code = _text(cell("code"))
    if not code:
        problem("code", _("the code is required"))
    elif not CODE.match(code):
        problem("code", _("%(code)s is not a code like 3, 3.2 or 3.2.1") % {"code": code})
    title = _text(cell("title"))
    if not title:
        problem("title", _("the title is required"))
    elif len(title) > Task._meta.get_field("title").max_length:
        problem("title", _("longer than %(n)d characters") % {"n": Task._meta.get_field("title").max_length})
    leader = _text(cell("leader"))
    if len(leader) > 100:
        problem("leader", _("longer than %(n)d characters") % {"n": 100})
    lead_unit = None
    lead_name = _text(cell("lead_unit"))
    if lead_name:
        lead_unit = units.get(lead_name)
        if lead_unit is None:
            problem("lead_unit", _("no unit %(name)s in this programme's territory") % {"name": lead_name})
    responsible = []
    for name in [n.strip() for n in UNIT_SEPARATORS.split(_text(cell("units")).replace("\\n", "\n")) if n.strip()]:
        unit = units.get(name)
        if unit is None:
            problem("units", _("no unit %(name)s in this programme's territory") % {"name": name})
        elif unit not in responsible:
            responsible.append(unit)
    deadline = None
    raw = cell("deadline")
    if raw not in (None, ""):
        try:
            deadline = _date(raw)
        except ValueError:
            problem("deadline", _("%(value)s is not a date") % {"value": _text(raw)})
    cycle = ""
    raw_cycle = _text(cell("cycle")).lower()
    if raw_cycle:
        cycle = CYCLES.get(raw_cycle, "")
        if not cycle:
            problem("cycle", _("%(value)s is not 每月, 每季度 or 一次") % {"value": raw_cycle})
    weight = Decimal(1)
    raw_weight = cell("weight")
    if raw_weight not in (None, ""):
        try:
            weight = Decimal(str(raw_weight).strip())
            if not weight.is_finite() or weight < 0 or weight >= 10000:
                raise InvalidOperation
            weight = weight.quantize(Decimal("0.01"))
        except InvalidOperation:
            problem("weight", _("%(value)s is not a number from 0 to 9999") % {"value": _text(raw_weight)})
    if len(problems) > before:
        return None
    return Row(number, code, title, _text(cell("description")) and clean_text(str(cell("description")),
                                                                                multiline=True),
               leader, lead_unit, responsible, deadline, cycle, weight)


def _check_tree(rows: list[Row]) -> list[Problem]:
    problems = []
    by_code: dict[str, Row] = {}
    code_label = COLUMN_LABELS["code"]
    for row in rows:
        if row.code in by_code:
            problems.append(Problem(row.number, code_label,
                                    _("%(code)s is also on row %(row)d") % {"code": row.code,
                                                                            "row": by_code[row.code].number}))
        else:
            by_code[row.code] = row
    parents = {row.parent_code for row in rows if row.parent_code}
    for row in rows:
        if row.parent_code and row.parent_code not in by_code:
            problems.append(Problem(row.number, code_label,
                                    _("its parent %(code)s is not in the sheet") % {"code": row.parent_code}))
        if row.code in parents and row.units:
            problems.append(Problem(row.number, COLUMN_LABELS["units"],
                                    _("responsible units are given on requirements (rows without sub-rows) only")))
        if row.code not in parents and not row.units:
            problems.append(Problem(row.number, COLUMN_LABELS["units"],
                                    _("a requirement needs at least one responsible unit")))
    return problems


@transaction.atomic
def import_tasks(*, programme: Programme, file, acting_user) -> int:
    """Load the breakdown into an empty programme; the number of tasks made."""
    programme = Programme.objects.select_for_update().select_related("region").get(pk=programme.pk)
    require_administer(acting_user, programme.region.path, programme)
    if Task.objects.filter(programme=programme).exists():
        raise InvalidInput(_("This programme already has its tasks: nothing was imported."), code="already_imported")
    rows = read_rows(programme, file)
    made: dict[str, Task] = {}
    for row in sorted(rows, key=lambda r: r.key):
        parent = made.get(row.parent_code)
        fields = dict(
            programme=programme, code=row.code, title=row.title, description=row.description, leader=row.leader,
            lead_unit=row.lead_unit or (parent.lead_unit if parent else None),
            deadline=row.deadline or (parent.deadline if parent else None),
            cycle=row.cycle or (parent.cycle if parent else Cycle.MONTHLY), weight=row.weight)
        task = Task.objects.add_child(parent, fields) if parent else Task.objects.add_root(fields)
        if parent is not None:
            parent.refresh_from_db(fields=["numchild"])
        made[row.code] = task
        for unit in row.units:
            Responsibility.objects.create(task=task, unit=unit)
    return len(made)


IMPORT_HELP = gettext_lazy("Columns (row 1): 编号, 标题, 说明, 牵头领导, 牵头单位, 责任单位, 完成时限, 填报周期, 权重.")
