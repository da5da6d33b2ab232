"""Computed progress: the lagging rules and the weighted roll-up, as plain arithmetic over plain rows.

One rule, one place. The dashboard, the API, the exports and the tests read these functions; the
alert watcher's SQL spells the same rules (``governance.ledgers.watcher``) and is tested against them.

* A filing **counts** when it is the current version of its period and was not returned.
* A responsibility (one requirement, one unit) is **completed** once a counted filing says so; its
  **progress** is 100 % then, else the percentage of its latest counted filing (by period), else 0.
* It is **overdue** when the requirement's deadline has passed and it is not completed; a period's
  filing is **missing** when the period is due (``periods.due_periods``) and no filing counts for it.
  It is **lagging** when it is overdue or a filing is missing.
* A requirement's progress is the mean of its responsibilities' (those in the reader's scope); a
  task's is the weighted mean of its children's that have a figure (``weight``; all-zero weights
  count alike); the programme's is the weighted mean of its key tasks'.
* A unit's completion is the mean of its responsibilities' progress weighted by their requirements'
  weights.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from governance.ledgers import periods


@dataclass(frozen=True)
class Node:
    id: int
    parent_id: int | None
    code: str
    title: str
    depth: int
    weight: Decimal
    deadline: date | None
    cycle: str
    lead_unit: str = ""
    leader: str = ""


@dataclass(frozen=True)
class CountedFiling:
    responsibility_id: int
    period: str
    status: str
    percent: int


@dataclass
class PairState:
    """One responsibility's state: progress, completed, overdue, missing periods."""

    responsibility_id: int
    task_id: int
    unit_id: int
    unit_name: str
    percent: float = 0.0
    completed: bool = False
    overdue: bool = False
    missing: list[str] = field(default_factory=list)
    filed_periods: int = 0

    @property
    def lagging(self) -> bool:
        return self.overdue or bool(self.missing)


def pair_state(*, responsibility_id: int, task_id: int, unit_id: int, unit_name: str, node: Node,
               filings: Sequence[CountedFiling], starts_on: date, ends_on: date, today: date) -> PairState:
    state = PairState(responsibility_id, task_id, unit_id, unit_name)
    by_period = {f.period: f for f in filings}
    state.filed_periods = len(by_period)
    state.completed = any(f.status == "completed" for f in filings)
    if state.completed:
        state.percent = 100.0
    elif by_period:
        state.percent = float(by_period[max(by_period)].percent)
    state.overdue = bool(node.deadline and node.deadline < today and not state.completed)
    if not state.completed:
        state.missing = [p.key for p in periods.due_periods(node.cycle, starts_on, ends_on, node.deadline, today)
                         if p.key not in by_period]
    return state


def weighted_mean(values: Iterable[tuple[float, Decimal]]) -> float | None:
    values = list(values)
    if not values:
        return None
    total = sum(float(w) for _v, w in values)
    if total <= 0:
        return sum(v for v, _w in values) / len(values)
    return sum(v * float(w) for v, w in values) / total


@dataclass
class NodeFigure:
    node: Node
    progress: float | None  # None: nothing in the reader's scope under it
    requirements: int = 0
    lagging: int = 0
    is_requirement: bool = False


@dataclass
class UnitFigure:
    unit_id: int
    unit_name: str
    requirements: int = 0
    completed: int = 0
    completion: float = 0.0
    lagging: int = 0
    missing_filings: int = 0
    overdue_notices: int = 0


def roll_up(nodes: Sequence[Node], states: Sequence[PairState]) -> dict[int, NodeFigure]:
    """Every node's figure: requirements from their responsibilities, parents from their children by weight."""
    children: dict[int | None, list[Node]] = defaultdict(list)
    for node in nodes:
        children[node.parent_id].append(node)
    by_task: dict[int, list[PairState]] = defaultdict(list)
    for state in states:
        by_task[state.task_id].append(state)
    figures: dict[int, NodeFigure] = {}

    def visit(node: Node) -> NodeFigure:
        kids = children.get(node.id, [])
        if not kids:
            pairs = by_task.get(node.id, [])
            progress = sum(p.percent for p in pairs) / len(pairs) if pairs else None
            figure = NodeFigure(node, progress, requirements=1 if pairs else 0,
                                lagging=1 if any(p.lagging for p in pairs) else 0, is_requirement=True)
        else:
            kid_figures = [visit(kid) for kid in kids]
            progress = weighted_mean((f.progress, f.node.weight) for f in kid_figures if f.progress is not None)
            figure = NodeFigure(node, progress, requirements=sum(f.requirements for f in kid_figures),
                                lagging=sum(f.lagging for f in kid_figures))
        figures[node.id] = figure
        return figure

    known = {n.id for n in nodes}
    for root in [n for n in nodes if n.parent_id is None or n.parent_id not in known]:
        visit(root)
    return figures


def programme_progress(nodes: Sequence[Node], figures: dict[int, NodeFigure]) -> float | None:
    known = {n.id for n in nodes}
    roots = [figures[n.id] for n in nodes if n.parent_id is None or n.parent_id not in known]
    return weighted_mean((f.progress, f.node.weight) for f in roots if f.progress is not None)


def unit_figures(nodes: Sequence[Node], states: Sequence[PairState],
                 overdue_notices: dict[int, int] | None = None) -> list[UnitFigure]:
    """Units ranked: highest completion first, then fewest lagging requirements, then by name."""
    weight = {n.id: n.weight for n in nodes}
    grouped: dict[int, list[PairState]] = defaultdict(list)
    for state in states:
        grouped[state.unit_id].append(state)
    overdue_notices = overdue_notices or {}
    rows = []
    for unit_id, pairs in grouped.items():
        rows.append(UnitFigure(
            unit_id=unit_id, unit_name=pairs[0].unit_name, requirements=len(pairs),
            completed=sum(p.completed for p in pairs),
            completion=weighted_mean((p.percent, weight.get(p.task_id, Decimal(1))) for p in pairs) or 0.0,
            lagging=sum(p.lagging for p in pairs), missing_filings=sum(len(p.missing) for p in pairs),
            overdue_notices=overdue_notices.get(unit_id, 0)))
    for unit_id, count in overdue_notices.items():
        if unit_id not in grouped:
            rows.append(UnitFigure(unit_id=unit_id, unit_name="", overdue_notices=count))
    rows.sort(key=lambda r: (-r.completion, r.lagging, r.unit_name))
    return rows
