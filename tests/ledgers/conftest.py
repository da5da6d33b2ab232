"""A pilot programme in the test city, and the people who work on it.

    programme P (the city's), 2026-01-01 .. 2028-12-31, lead unit of every task: the city's urban bureau
    ├── 1  key task, weight 2
    │   ├── 1.1  requirement, monthly, deadline 2026-06-30: D1 police, D2 police
    │   └── 1.2  requirement, quarterly, weight 3: D1 police
    └── 2  key task, weight 1
        └── 2.1  requirement, once, deadline 2026-12-31: D2 police, the city's urban bureau
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from governance.access.models import Role
from governance.ledgers.models import Programme, Responsibility, Task
from governance.ledgers.periods import Cycle
from tests.factories import make_user


@dataclass
class Ledger:
    programme: Programme
    t1: Task
    t11: Task
    t12: Task
    t2: Task
    t21: Task
    r11_d1: Responsibility
    r11_d2: Responsibility
    r12_d1: Responsibility
    r21_d2: Responsibility
    r21_city: Responsibility


def build_ledger(city) -> Ledger:
    programme = Programme.objects.create(code="P1", title="市域社会治理现代化试点", region=city.city,
                                         starts_on=date(2026, 1, 1), ends_on=date(2028, 12, 31))
    lead = city.unit_city_urban
    add_root, add_child = Task.objects.add_root, Task.objects.add_child
    t1 = add_root({"programme": programme, "code": "1", "title": "健全平安建设领导体制", "weight": Decimal(2),
                   "lead_unit": lead})
    t11 = add_child(t1, {"programme": programme, "code": "1.1", "title": "建立综治中心实体化运行机制",
                         "lead_unit": lead, "cycle": Cycle.MONTHLY, "deadline": date(2026, 6, 30)})
    t1.refresh_from_db()
    t12 = add_child(t1, {"programme": programme, "code": "1.2", "title": "推进网格化服务管理", "weight": Decimal(3),
                         "lead_unit": lead, "cycle": Cycle.QUARTERLY})
    t2 = add_root({"programme": programme, "code": "2", "title": "完善矛盾纠纷多元化解", "lead_unit": lead})
    t21 = add_child(t2, {"programme": programme, "code": "2.1", "title": "建成诉前调解中心", "lead_unit": lead,
                         "cycle": Cycle.ONCE, "deadline": date(2026, 12, 31)})
    for task in (t1, t2):
        task.refresh_from_db()
    make = Responsibility.objects.create
    return Ledger(programme, t1, t11, t12, t2, t21,
                  r11_d1=make(task=t11, unit=city.unit_d1_police), r11_d2=make(task=t11, unit=city.unit_d2_police),
                  r12_d1=make(task=t12, unit=city.unit_d1_police), r21_d2=make(task=t21, unit=city.unit_d2_police),
                  r21_city=make(task=t21, unit=city.unit_city_urban))


@dataclass
class LedgerPeople:
    d1_police: object  # unit handler of the D1 police: files for it
    d2_police: object
    lead: object  # unit handler of the city's urban bureau, the lead unit
    d1_supervisor: object
    d2_supervisor: object
    city_supervisor: object
    d1_command: object  # sees the D1 territory, does not supervise
    nobody: object


@pytest.fixture
def ledger(city):
    return build_ledger(city)


@pytest.fixture
def lp(city, people):
    return LedgerPeople(
        d1_police=people.d1_police_handler,
        d2_police=make_user("d2_police_handler", role=Role.UNIT_HANDLER, unit=city.unit_d2_police),
        lead=make_user("urban_handler", role=Role.UNIT_HANDLER, unit=city.unit_city_urban),
        d1_supervisor=people.d1_supervisor,
        d2_supervisor=make_user("d2_supervisor", role=Role.SUPERVISOR, region=city.d2),
        city_supervisor=make_user("city_supervisor", role=Role.SUPERVISOR, region=city.city),
        d1_command=people.d1_command,
        nobody=people.nobody,
    )
