"""The mediator's workbench reads a fixed number of queries however many cases it shows, and only the columns
its tables show (docs/performance.md: the workbench at 200,000 cases)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from governance.core.testing import page_client
from mediation import services
from mediation.models import Case

pytestmark = pytest.mark.django_db

# session, user, scope, the workbench's three lists, sessions today, the open count, the alert badge, roles
WORKBENCH_QUERIES = 10


def _fill(register_case, people, n: int) -> list[Case]:
    """n cases in each of the workbench's lists: mine (accepted, a session today, due soon), and waiting."""
    now = timezone.now()
    cases = []
    for i in range(n):
        mine = services.case_accept(case=register_case(title=f"漏水纠纷{i}"), actor=people.s11_mediator)
        services.case_record_session(case=mine, actor=people.s11_mediator, held_at=now, place=f"调解室{i}")
        Case.objects.filter(pk=mine.pk).update(due_at=now + timedelta(days=3))
        cases += [mine, register_case(title=f"噪音纠纷{i}")]
    return cases


def _workbench(people):
    client = page_client(people.s11_mediator)
    client.get("/mediation/workbench/")  # warm: the first request of a session may read more
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/mediation/workbench/")
    assert page.status_code == 200
    return page.content.decode(), queries.captured_queries


def test_the_workbench_reads_a_fixed_number_of_queries(register_case, people):
    _fill(register_case, people, 1)
    _body, few = _workbench(people)
    cases = _fill(register_case, people, 5)
    body, many = _workbench(people)
    assert len(many) == len(few) <= WORKBENCH_QUERIES, "\n".join(q["sql"][:200] for q in many)
    # what the narrowed rows show is all there: numbers, titles, types, territories, organisations, places
    for case in cases:
        assert case.number in body and case.title in body
    assert "调解室4" in body and cases[0].dispute_type.name in body and cases[0].organisation.name in body
    assert cases[0].region.name in body


def test_the_workbench_reads_only_the_columns_its_tables_show(register_case, people):
    _fill(register_case, people, 2)
    _body, queries = _workbench(people)
    case_reads = [q["sql"] for q in queries if 'FROM "mediation_case"' in q["sql"] or "mediation_session" in q["sql"]]
    assert len(case_reads) >= 4  # the three lists and the sessions
    for sql in case_reads:
        selected = sql.split(" FROM ", 1)[0]
        # a case's summary and risk reason, a session's notes, a region's tree are not read for a row
        assert '"summary"' not in selected and '"risk_reason"' not in selected and '"notes"' not in selected
        assert '"grids_region"."path"' not in selected
