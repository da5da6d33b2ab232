"""The mediation world: two street mediation committees and their mediators, and cases in both streets.

    S11 (south street, district D1): 南街道人民调解委员会 (the city's unit_s11_mediation), mediator s11_mediator
    S12 (north street, district D1): 北街道人民调解委员会, mediator s12_mediator
    S21 (east street, district D2)
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from governance.access.models import Role, Unit, UnitKind
from mediation import services
from mediation.models import DisputeType, PartyRole, RiskLevel
from tests.factories import make_user


@dataclass
class MediationWorld:
    s12_org: Unit
    s12_mediator: object
    s11_mediator2: object
    d1_admin: object
    neighbours: DisputeType
    labour: DisputeType


def dispute_type(code: str, name: str) -> DisputeType:
    """A type of the data migration; made again when a transactional test (a browser test) flushed the tables."""
    return DisputeType.objects.get_or_create(code=code, defaults={"name": name})[0]


@pytest.fixture
def mw(city, people) -> MediationWorld:
    s12_org = Unit.objects.create(code="U-S12-MED", name="北街道人民调解委员会", kind=UnitKind.MEDIATION_ORG,
                                  home_region=city.s12)
    return MediationWorld(
        s12_org=s12_org,
        s12_mediator=make_user("s12_mediator", role=Role.MEDIATOR, unit=s12_org),
        s11_mediator2=make_user("s11_mediator2", role=Role.MEDIATOR, unit=city.unit_s11_mediation),
        d1_admin=make_user("d1_admin", role=Role.ADMINISTRATOR, region=city.d1),
        neighbours=dispute_type("02", "邻里纠纷"),
        labour=dispute_type("04", "劳动争议与欠薪纠纷"),
    )


PARTIES = [
    {"role": PartyRole.APPLICANT, "name": "张三", "id_number": "440507199001011234", "phone": "13812345678"},
    {"role": PartyRole.RESPONDENT, "name": "李四", "id_number": "44050719850202567X", "phone": "13900001111"},
]


@pytest.fixture
def register_case(city, people, mw):
    """Register a case in S11 for the south committee, as the s11 mediator unless told otherwise."""

    def register(*, actor=None, region=None, organisation=None, **kwargs):
        kwargs.setdefault("title", "楼上漏水纠纷")
        kwargs.setdefault("dispute_type", mw.neighbours)
        kwargs.setdefault("parties", PARTIES)
        return services.case_register(acting_user=actor or people.s11_mediator, region=region or city.c111,
                                      organisation=organisation or city.unit_s11_mediation, **kwargs)

    return register


@pytest.fixture
def s11_case(register_case):
    return register_case()


@pytest.fixture
def s12_case(register_case, city, mw):
    return register_case(actor=mw.s12_mediator, region=city.c121, organisation=mw.s12_org, title="邻里噪音纠纷",
                         risk_level=RiskLevel.RED, risk_reason="双方多次冲突")
