"""The arithmetic of progress: lagging rules, the weighted roll-up, per-unit figures."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from governance.ledgers import periods, selectors, services
from governance.ledgers.progress import CountedFiling, Node, pair_state, programme_progress, roll_up, unit_figures

START, END = date(2026, 1, 1), date(2028, 12, 31)


def node(pk, parent=None, *, weight=1, deadline=None, cycle="monthly", depth=None):
    return Node(id=pk, parent_id=parent, code=str(pk), title="", depth=depth or (1 if parent is None else 2),
                weight=Decimal(weight), deadline=deadline, cycle=cycle)


def state(n, rid, unit, filings, today):
    return pair_state(responsibility_id=rid, task_id=n.id, unit_id=unit, unit_name=f"u{unit}", node=n,
                      filings=[CountedFiling(rid, p, s, pct) for p, s, pct in filings], starts_on=START, ends_on=END,
                      today=today)


def test_monthly_periods_are_due_five_days_after_they_end():
    march = periods.period_of("monthly", date(2026, 3, 17))
    assert (march.key, march.start, march.end, march.due) == ("2026-03", date(2026, 3, 1), date(2026, 3, 31),
                                                              date(2026, 4, 5))
    q4 = periods.period_of("quarterly", date(2026, 11, 2))
    assert (q4.key, q4.start, q4.end) == ("2026Q4", date(2026, 10, 1), date(2026, 12, 31))
    due = periods.due_periods("monthly", START, END, date(2026, 6, 30), date(2026, 4, 6))
    assert [p.key for p in due] == ["2026-01", "2026-02", "2026-03"]
    assert [p.key for p in periods.due_periods("monthly", START, END, None, date(2026, 4, 5))] == ["2026-01", "2026-02"]


def test_a_missing_period_makes_a_requirement_lagging():
    n = node(1, deadline=date(2026, 12, 31))
    s = state(n, 10, 1, [("2026-01", "in_progress", 20), ("2026-03", "in_progress", 40)], date(2026, 4, 10))
    assert s.missing == ["2026-02"]
    assert s.lagging and not s.overdue
    assert s.percent == 40  # the latest period's figure


def test_a_passed_deadline_uncompleted_is_overdue_and_completion_clears_everything():
    n = node(1, deadline=date(2026, 2, 28))
    late = state(n, 10, 1, [("2026-01", "in_progress", 90), ("2026-02", "in_progress", 95)], date(2026, 3, 1))
    assert late.overdue and late.lagging and late.percent == 95
    done = state(n, 10, 1, [("2026-01", "completed", 100)], date(2026, 6, 1))
    assert (done.completed, done.overdue, done.missing, done.percent) == (True, False, [], 100)


def test_nothing_filed_is_zero_and_lagging_once_a_period_is_due():
    n = node(1, cycle="quarterly")
    assert state(n, 10, 1, [], date(2026, 3, 31)).lagging is False  # Q1 is due on 5 April
    later = state(n, 10, 1, [], date(2026, 4, 6))
    assert (later.percent, later.missing, later.lagging) == (0, ["2026Q1"], True)


def test_weighted_roll_up_from_requirements_to_programme():
    today = date(2026, 1, 2)
    k1, k2 = node(1, weight=2), node(2, weight=1)
    r11, r12, r21 = node(11, 1, weight=1), node(12, 1, weight=3), node(21, 2, weight=1)
    nodes = [k1, r11, r12, k2, r21]
    states = [
        state(r11, 1, 100, [("2026-01", "in_progress", 40)], today),
        state(r11, 2, 200, [("2026-01", "in_progress", 80)], today),  # r11 = mean(40, 80) = 60
        state(r12, 3, 100, [("2026-01", "in_progress", 20)], today),  # r12 = 20
        state(r21, 4, 200, [("2026-01", "completed", 100)], today),  # r21 = 100
    ]
    figures = roll_up(nodes, states)
    assert figures[11].progress == 60
    assert figures[1].progress == pytest.approx((60 * 1 + 20 * 3) / 4)  # 30
    assert figures[2].progress == 100
    assert programme_progress(nodes, figures) == pytest.approx((30 * 2 + 100 * 1) / 3)
    units = {u.unit_id: u for u in unit_figures(nodes, states, {200: 1})}
    assert units[100].completion == pytest.approx((40 * 1 + 20 * 3) / 4)  # weighted by the requirements
    assert units[200].completion == pytest.approx((80 + 100) / 2)
    assert (units[200].completed, units[200].overdue_notices) == (1, 1)
    assert [u.unit_id for u in unit_figures(nodes, states)] == [200, 100]  # ranked by completion


def test_a_task_with_nothing_in_scope_is_left_out_of_the_roll_up():
    k1, k2 = node(1, weight=1), node(2, weight=5)
    r11, r21 = node(11, 1), node(21, 2)
    figures = roll_up([k1, r11, k2, r21], [state(r11, 1, 100, [("2026-01", "in_progress", 50)], date(2026, 1, 2))])
    assert figures[2].progress is None
    assert programme_progress([k1, r11, k2, r21], figures) == 50  # not dragged down by the unseen key task


def test_all_zero_weights_count_alike():
    k1 = node(1)
    r11, r12 = node(11, 1, weight=0), node(12, 1, weight=0)
    today = date(2026, 1, 2)
    figures = roll_up([k1, r11, r12], [state(r11, 1, 1, [("2026-01", "in_progress", 10)], today),
                                       state(r12, 2, 1, [("2026-01", "in_progress", 30)], today)])
    assert figures[1].progress == 20


def test_report_of_the_database_matches_the_arithmetic(ledger, lp, city):
    services.filing_submit(responsibility=ledger.r11_d1, period="2026-01", status="in_progress", percent=40,
                           narrative="已启动", acting_user=lp.d1_police, today=date(2026, 2, 1))
    services.filing_submit(responsibility=ledger.r11_d2, period="2026-01", status="in_progress", percent=80,
                           narrative="推进中", acting_user=lp.d2_police, today=date(2026, 2, 1))
    report = selectors.programme_report(lp.city_supervisor, ledger.programme, today=date(2026, 2, 1))
    assert report.figures[ledger.t11.pk].progress == 60
    assert report.figures[ledger.t1.pk].progress == pytest.approx(60 * 1 / 4)  # 1.2 (weight 3) at 0
    d1 = selectors.programme_report(lp.d1_supervisor, ledger.programme, today=date(2026, 2, 1))
    assert {s.unit_id for s in d1.states} == {city.unit_d1_police.pk}  # only the district's units
    assert d1.figures[ledger.t11.pk].progress == 40
    assert d1.figures[ledger.t2.pk].progress is None
