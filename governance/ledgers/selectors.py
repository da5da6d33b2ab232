"""Every read of the ledgers that users see, already scoped through the one door."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from governance.core.scoping import Action, get_scope
from governance.ledgers import progress
from governance.ledgers.models import (
    Filing,
    InnovationProject,
    Programme,
    Responsibility,
    SupervisionNotice,
    Task,
    overdue_notice_q,
)

RECENT_FILINGS = 10


def programme_list(user) -> QuerySet[Programme]:
    return Programme.objects.restrict(user, Action.VIEW).select_related("region")


def task_list(user, programme: Programme | None = None) -> QuerySet[Task]:
    tasks = Task.objects.restrict(user, Action.VIEW).select_related("lead_unit")
    return tasks.filter(programme=programme) if programme is not None else tasks


def responsibility_list(user, programme: Programme | None = None) -> QuerySet[Responsibility]:
    rows = Responsibility.objects.restrict(user, Action.VIEW).select_related("task__programme", "unit__home_region",
                                                                             "task__lead_unit")
    return rows.filter(task__programme=programme) if programme is not None else rows


def own_responsibilities(user, programme: Programme | None = None) -> QuerySet[Responsibility]:
    """What the user files for: the responsibilities of the units they handle for."""
    scope = get_scope(user)
    rows = responsibility_list(user, programme)
    if scope.everything:
        return rows
    return rows.filter(unit_id__in=sorted(scope.units(Action.HANDLE)))


def filing_list(user) -> QuerySet[Filing]:
    return Filing.objects.restrict(user, Action.VIEW).select_related(
        "responsibility__task__programme", "responsibility__unit", "filed_by", "reviewed_by")


def reviewable_filings(user, programme: Programme | None = None) -> QuerySet[Filing]:
    """Current filings waiting for review that this user may accept or return."""
    scope = get_scope(user)
    filings = filing_list(user).filter(is_current=True, review="submitted")
    if programme is not None:
        filings = filings.filter(responsibility__task__programme=programme)
    if scope.everything:
        return filings
    q = Q(responsibility__task__lead_unit_id__in=sorted(scope.units(Action.HANDLE)))
    for path in scope.paths(Action.SUPERVISE):
        q |= Q(responsibility__unit__home_region__path__startswith=path)
    return filings.filter(q)


def notice_list(user) -> QuerySet[SupervisionNotice]:
    return SupervisionNotice.objects.restrict(user, Action.VIEW).select_related(
        "task", "unit", "programme", "issued_by", "responded_by")


def public_notice_list(user, today: date | None = None) -> QuerySet[SupervisionNotice]:
    """The public-notice list (通报): notices not answered by their due date."""
    return notice_list(user).filter(overdue_notice_q(today or timezone.localdate())).order_by("due_on", "number")


def project_list(user) -> QuerySet[InnovationProject]:
    return InnovationProject.objects.restrict(user, Action.VIEW).select_related("region", "unit")


@dataclass
class Report:
    """What the supervisor's dashboard and the exports show of one programme, for one reader."""

    programme: Programme
    today: date
    nodes: list[progress.Node]
    figures: dict[int, progress.NodeFigure]
    states: list[progress.PairState]
    units: list[progress.UnitFigure]
    overall: float | None
    scope_label: str = ""
    matrix: dict[int, dict[str, int]] = field(default_factory=dict)  # responsibility -> period -> percent

    @property
    def rows(self) -> list[progress.NodeFigure]:
        return [self.figures[n.id] for n in self.nodes if n.id in self.figures]

    @property
    def key_tasks(self) -> list[progress.NodeFigure]:
        return [f for f in self.rows if f.node.depth == 1]

    @property
    def lagging(self) -> list[progress.PairState]:
        return [s for s in self.states if s.lagging]

    @property
    def lagging_rows(self) -> list[tuple[progress.PairState, progress.Node]]:
        """The lagging responsibilities with their requirement, in the tree's order."""
        order = {n.id: i for i, n in enumerate(self.nodes)}
        rows = [(s, self._by_id[s.task_id]) for s in self.states if s.lagging]
        return sorted(rows, key=lambda r: (order[r[1].id], r[0].unit_name))

    def node(self, task_id: int) -> progress.Node:
        return self._by_id[task_id]

    def __post_init__(self) -> None:
        self._by_id = {n.id: n for n in self.nodes}


def scope_label(user) -> str:
    """Whose figures: the regions and units the reader sees, as names."""
    from governance.access.models import Unit
    from grids.models import Region

    scope = get_scope(user)
    if scope.everything:
        return "*"
    names = list(Region.objects.filter(path__in=scope.paths(Action.VIEW)).values_list("name", flat=True))
    names += list(Unit.objects.filter(pk__in=scope.units(Action.VIEW)).values_list("name", flat=True))
    return "、".join(names)


def programme_report(user, programme: Programme, *, today: date | None = None, with_matrix: bool = False) -> Report:
    """The programme's figures as ``user`` may see them: every task of the tree they see, only the
    responsibilities (units) in their scope."""
    today = today or timezone.localdate()
    tasks = list(task_list(user, programme).values_list(
        "pk", "path", "depth", "code", "title", "weight", "deadline", "cycle", "lead_unit__name", "leader"))
    by_path = {path: pk for pk, path, *_rest in tasks}
    step = Task.steplen
    nodes = [progress.Node(id=pk, parent_id=by_path.get(path[:-step]) if depth > 1 else None, code=code, title=title,
                           depth=depth, weight=weight, deadline=deadline, cycle=cycle, lead_unit=lead or "",
                           leader=leader)
             for pk, path, depth, code, title, weight, deadline, cycle, lead, leader in tasks]
    node_by_id = {n.id: n for n in nodes}
    pairs = list(responsibility_list(user, programme).order_by().values_list("pk", "task_id", "unit_id", "unit__name"))
    filings: dict[int, list[progress.CountedFiling]] = defaultdict(list)
    counted = (Filing.objects.counted()
               .filter(responsibility__in=responsibility_list(user, programme).order_by().values("pk"))
               .order_by().values_list("responsibility_id", "period", "status", "percent"))
    for rid, period, status, percent in counted.iterator(chunk_size=5000):
        filings[rid].append(progress.CountedFiling(rid, period, status, percent))
    states = [progress.pair_state(responsibility_id=rid, task_id=task_id, unit_id=unit_id, unit_name=unit_name,
                                  node=node_by_id[task_id], filings=filings.get(rid, ()),
                                  starts_on=programme.starts_on, ends_on=programme.ends_on, today=today)
              for rid, task_id, unit_id, unit_name in pairs if task_id in node_by_id]
    figures = progress.roll_up(nodes, states)
    overdue = dict(notice_list(user).filter(programme=programme).filter(overdue_notice_q(today)).order_by()
                   .values("unit_id").annotate(n=Count("pk")).values_list("unit_id", "n"))
    units = progress.unit_figures(nodes, states, overdue)
    names = dict(responsibility_list(user, programme).order_by().values_list("unit_id", "unit__name"))
    if any(not u.unit_name for u in units):
        from governance.access.models import Unit

        names.update(Unit.objects.filter(pk__in=[u.unit_id for u in units if not u.unit_name])
                     .values_list("pk", "name"))
        for u in units:
            u.unit_name = u.unit_name or names.get(u.unit_id, "")
    matrix: dict[int, dict[str, int]] = {}
    if with_matrix:
        for rid, rows in filings.items():
            matrix[rid] = {f.period: (100 if f.status == "completed" else f.percent) for f in rows}
    return Report(programme=programme, today=today, nodes=nodes, figures=figures, states=states, units=units,
                  overall=progress.programme_progress(nodes, figures), scope_label=scope_label(user), matrix=matrix)


def recent_filings(user, programme: Programme, limit: int = RECENT_FILINGS) -> list[Filing]:
    return list(filing_list(user).filter(responsibility__task__programme=programme)[:limit])
