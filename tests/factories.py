"""A small real city for tests, and the personas who work in it.

    city C (0..8 x 0..8 degrees, near 23N 116E)
    ├── district D1 (west half)        ├── district D2 (east half)
    │   ├── street S11 (south)          │   └── street S21
    │   │   └── community C111          │       └── community C211
    │   │       ├── grid G1111 (west)   │           └── grid G2111
    │   │       └── grid G1112 (east)
    │   └── street S12 (north)
    │       └── community C121
    │           └── grid G1211

Every boundary is a rectangle; neighbours share edges exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from django.contrib.auth import get_user_model

from governance.access import services as governance_services
from governance.access.models import Role, Unit, UnitKind
from governance.core.authority import SYSTEM
from grids import services as grid_services
from grids.models import Level, Region

LNG0, LAT0 = 116.0, 23.0  # south-west corner of the test city
SIZE = 0.08  # the city is 0.08 x 0.08 degrees (about 8 km)


def rect(x0: float, y0: float, x1: float, y1: float) -> dict:
    """A GeoJSON polygon from offsets in hundredths of the city (0..8)."""
    s = SIZE / 8
    a, b, c, d = LNG0 + x0 * s, LAT0 + y0 * s, LNG0 + x1 * s, LAT0 + y1 * s
    return {"type": "Polygon", "coordinates": [[[a, b], [c, b], [c, d], [a, d], [a, b]]]}


def point(x: float, y: float) -> tuple[float, float]:
    """(lat, lng) of an offset in the same units as rect()."""
    s = SIZE / 8
    return LAT0 + y * s, LNG0 + x * s


@dataclass
class City:
    city: Region
    d1: Region
    d2: Region
    s11: Region
    s12: Region
    s21: Region
    c111: Region
    c121: Region
    c211: Region
    g1111: Region
    g1112: Region
    g1211: Region
    g2111: Region
    unit_d1_police: Unit
    unit_d2_police: Unit
    unit_city_urban: Unit
    unit_s11_mediation: Unit


def build_city() -> City:
    add = partial(grid_services.region_create, acting_user=SYSTEM)
    city = add(parent=None, level=Level.CITY, code="440000", name="测试市", boundary=rect(0, 0, 8, 8))
    d1 = add(parent=city, level=Level.DISTRICT, code="440100", name="西区", boundary=rect(0, 0, 4, 8))
    d2 = add(parent=city, level=Level.DISTRICT, code="440200", name="东区", boundary=rect(4, 0, 8, 8))
    s11 = add(parent=d1, level=Level.STREET, code="440101", name="南街道", boundary=rect(0, 0, 4, 4))
    s12 = add(parent=d1, level=Level.STREET, code="440102", name="北街道", boundary=rect(0, 4, 4, 8))
    s21 = add(parent=d2, level=Level.STREET, code="440201", name="东街道", boundary=rect(4, 0, 8, 8))
    c111 = add(parent=s11, level=Level.COMMUNITY, code="440101001", name="南一社区", boundary=rect(0, 0, 4, 4))
    c121 = add(parent=s12, level=Level.COMMUNITY, code="440102001", name="北一社区", boundary=rect(0, 4, 4, 8))
    c211 = add(parent=s21, level=Level.COMMUNITY, code="440201001", name="东一社区", boundary=rect(4, 0, 8, 8))
    g1111 = add(parent=c111, level=Level.GRID, code="440101001001", name="南一网格", boundary=rect(0, 0, 2, 4))
    g1112 = add(parent=c111, level=Level.GRID, code="440101001002", name="南二网格", boundary=rect(2, 0, 4, 4))
    g1211 = add(parent=c121, level=Level.GRID, code="440102001001", name="北一网格", boundary=rect(0, 4, 4, 8))
    g2111 = add(parent=c211, level=Level.GRID, code="440201001001", name="东一网格", boundary=rect(4, 0, 8, 8))
    return City(
        city, d1, d2, s11, s12, s21, c111, c121, c211, g1111, g1112, g1211, g2111,
        unit_d1_police=Unit.objects.create(code="U-D1-POL", name="西区公安分局", kind=UnitKind.DEPARTMENT,
                                           home_region=d1),
        unit_d2_police=Unit.objects.create(code="U-D2-POL", name="东区公安分局", kind=UnitKind.DEPARTMENT,
                                           home_region=d2),
        unit_city_urban=Unit.objects.create(code="U-C-URB", name="市城管局", kind=UnitKind.DEPARTMENT,
                                            home_region=city),
        unit_s11_mediation=Unit.objects.create(code="U-S11-MED", name="南街道人民调解委员会",
                                               kind=UnitKind.MEDIATION_ORG, home_region=s11),
    )


def make_user(username: str, *, role: str | None = None, region: Region | None = None, unit: Unit | None = None,
              **extra):
    user = get_user_model().objects.create_user(username=username, password="pw-" + username, **extra)
    if role:
        governance_services.role_assign(acting_user=SYSTEM, user=user, role=role, region=region, unit=unit)
    return user


@dataclass
class Personas:
    city_admin: object
    d1_command: object  # district staff: the whole west district
    s11_command: object  # street staff: the south street only
    s12_command: object  # the neighbour street
    d2_command: object
    worker_g1111: object  # grid worker of one grid
    d1_supervisor: object  # read-only
    d1_police_handler: object
    s11_mediator: object
    nobody: object  # logged in, no role


def build_personas(c: City) -> Personas:
    return Personas(
        city_admin=make_user("city_admin", role=Role.ADMINISTRATOR, region=c.city, is_staff=True),
        d1_command=make_user("d1_command", role=Role.COMMAND_STAFF, region=c.d1),
        s11_command=make_user("s11_command", role=Role.COMMAND_STAFF, region=c.s11),
        s12_command=make_user("s12_command", role=Role.COMMAND_STAFF, region=c.s12),
        d2_command=make_user("d2_command", role=Role.COMMAND_STAFF, region=c.d2),
        worker_g1111=make_user("worker_g1111", role=Role.GRID_WORKER, region=c.g1111),
        d1_supervisor=make_user("d1_supervisor", role=Role.SUPERVISOR, region=c.d1),
        d1_police_handler=make_user("d1_police_handler", role=Role.UNIT_HANDLER, unit=c.unit_d1_police),
        s11_mediator=make_user("s11_mediator", role=Role.MEDIATOR, unit=c.unit_s11_mediation),
        nobody=make_user("nobody"),
    )


def commit_memo_changes() -> None:
    """Announce the memo changes this test's transaction holds, as its commit would.

    A test's transaction never commits, so the changes its fixtures made (roles, grids,
    categories) stay pending in it and every memo reads the database on every use
    (governance.core.memo). Tests of what a process keeps call this first: "committed long ago".
    Only the memos' own hooks run; other on-commit work (tasks, emails) is left alone.
    """
    from django.db import connection

    from governance.core.memo import _Announce

    for _sids, hook, *_rest in connection.run_on_commit:
        if isinstance(hook, _Announce) and not hook.ran:
            hook()
