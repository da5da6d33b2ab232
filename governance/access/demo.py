"""The demo city's people and units: the units of every kind, a login per role and level, a worker per grid."""

from __future__ import annotations

import random
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from guardian.models import UserObjectPermission
from simple_history.utils import bulk_create_with_history

from governance.access import services
from governance.access.models import ROLE_ACTIONS, Role, RoleAssignment, Unit, UnitKind
from governance.core.authority import SYSTEM
from governance.core.demo import BATCH_SIZE, CHANGE_REASON, DEMO_PASSWORD, DemoContext, DemoLogin, demo_step
from governance.core.scoping import permission_codename, scopes_changed
from grids.models import Level, Region

__all__ = ["DEMO_PASSWORD", "GRID_WORKER_PREFIX", "PERSONAS", "grid_worker_username", "person_name", "unit_code"]


# --- Units ---------------------------------------------------------------------------------------

D, R, C, M = UnitKind.DEPARTMENT, UnitKind.RESPONSIBLE_UNIT, UnitKind.COURT, UnitKind.MEDIATION_ORG

# (code suffix, kind, name template). In the templates, {name} is the home
# region's name, {short} the same without 市/区/街道, {city} and {district} the
# names above it.
CITY_UNITS = [
    ("GA", D, "{name}公安局"),
    ("CG", D, "{name}城市管理和综合执法局"),
    ("ZJ", D, "{name}住房和城乡建设局"),
    ("ST", D, "{name}生态环境局"),
    ("YJ", D, "{name}应急管理局"),
    ("XF", D, "{name}消防救援支队"),
    ("SJ", D, "{name}市场监督管理局"),
    ("WJ", D, "{name}卫生健康局"),
    ("JY", D, "{name}教育局"),
    ("JT", D, "{name}交通运输局"),
    ("SF", D, "{name}司法局"),
    ("XD", D, "{name}信访局"),
    ("RS", D, "{name}人力资源和社会保障局"),
    ("GD", R, "{short}供电局"),
    ("GS", R, "{name}供水有限公司"),
    ("RQ", R, "{name}燃气有限公司"),
    ("ZY", C, "{name}中级人民法院"),
    ("YT", M, "{name}医疗纠纷人民调解委员会"),
    ("JTT", M, "{name}道路交通事故纠纷人民调解委员会"),
    ("WYT", M, "{name}物业纠纷人民调解委员会"),
]
DISTRICT_UNITS = [
    ("GA", D, "{city}公安局{short}分局"),
    ("CG", D, "{name}城市管理和综合执法局"),
    ("ZJ", D, "{name}住房和城乡建设局"),
    ("ST", D, "{city}生态环境局{short}分局"),
    ("YJ", D, "{name}应急管理局"),
    ("XF", D, "{name}消防救援大队"),
    ("SJ", D, "{name}市场监督管理局"),
    ("SF", D, "{name}司法局"),
    ("FY", C, "{name}人民法院"),
    ("TJ", M, "{name}人民调解委员会"),
    ("SQT", M, "{name}诉前调解中心"),
]
STREET_UNITS = [
    ("ZF", R, "{name}综合行政执法队"),
    ("PCS", D, "{district}公安分局{short}派出所"),
    ("SFS", D, "{short}司法所"),
    ("TJ", M, "{name}人民调解委员会"),
]
# A district court keeps a tribunal (人民法庭) in its first street only.
FIRST_STREET_UNITS = [("FT", C, "{district}人民法院{short}人民法庭")]

LEVEL_SUFFIXES = ("街道", "市", "区")


def _short(name: str) -> str:
    for suffix in LEVEL_SUFFIXES:
        if name.endswith(suffix):
            return name.removesuffix(suffix)
    return name


def unit_code(region: Region, suffix: str) -> str:
    return f"{region.code}-{suffix}"


def planned_units(city: Region) -> list[Unit]:
    """The demo's units, unsaved, in tree order: the city's, then each district's and its streets'."""
    regions = list(Region.objects.filter(path__startswith=city.path, level__lte=Level.STREET).order_by("path"))
    by_path = {r.path: r for r in regions}
    units = []
    for region in regions:
        names = {"name": region.name, "short": _short(region.name), "city": city.name}
        if region.level == Level.CITY:
            specs = CITY_UNITS
        elif region.level == Level.DISTRICT:
            specs = DISTRICT_UNITS
        else:
            district = by_path[region.path[: -Region.steplen]]
            names["district"] = district.name
            first_street = region.path.endswith("0001")
            specs = STREET_UNITS + (FIRST_STREET_UNITS if first_street else [])
        units += [Unit(code=unit_code(region, suffix), kind=kind, name=template.format(**names), home_region=region)
                  for suffix, kind, template in specs]
    return units


@demo_step(order=200)
def units(ctx: DemoContext) -> None:
    """Departments, responsible units, courts and mediation bodies of the city, each district and street."""
    planned = planned_units(ctx.city)
    existing = set(Unit.objects.filter(code__in=[u.code for u in planned]).values_list("code", flat=True))
    missing = [u for u in planned if u.code not in existing]
    for start in range(0, len(missing), BATCH_SIZE):
        bulk_create_with_history(missing[start:start + BATCH_SIZE], Unit, default_change_reason=CHANGE_REASON)
    ctx.units = {u.code: u for u in Unit.objects.filter(code__in=[u.code for u in planned])}
    ctx.log(f"Units: {len(missing)} created, {len(existing)} already there.")


# --- Named demo users ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Persona:
    username: str
    last_name: str  # the family name, written first in Chinese
    first_name: str
    role: str
    where: str  # a key of _places()
    is_staff: bool = False
    # The city's own administrator manages everything, the national holiday calendar
    # and the categories included, so the admin site opens fully for them.
    is_superuser: bool = False


PERSONAS = [
    _Persona("city_admin", "陈", "志强", Role.ADMINISTRATOR, "city", is_staff=True, is_superuser=True),
    _Persona("district_admin", "林", "建华", Role.ADMINISTRATOR, "district"),
    _Persona("city_command", "黄", "晓燕", Role.COMMAND_STAFF, "city"),
    _Persona("district_command", "郑", "伟", Role.COMMAND_STAFF, "district"),
    _Persona("street_command", "吴", "丽娟", Role.COMMAND_STAFF, "street"),
    _Persona("community_command", "蔡", "俊杰", Role.COMMAND_STAFF, "community"),
    _Persona("grid_worker", "许", "海燕", Role.GRID_WORKER, "grid"),
    _Persona("grid_worker2", "王", "明", Role.GRID_WORKER, "grids_2_3"),
    _Persona("supervisor", "李", "国栋", Role.SUPERVISOR, "city"),
    _Persona("district_supervisor", "张", "慧", Role.SUPERVISOR, "district"),
    _Persona("unit_handler", "杨", "洋", Role.UNIT_HANDLER, "district_police"),
    _Persona("city_unit_handler", "刘", "芳", Role.UNIT_HANDLER, "city_urban_management"),
    _Persona("mediator", "谢", "秀英", Role.MEDIATOR, "street_mediation"),
    _Persona("city_mediator", "洪", "涛", Role.MEDIATOR, "city_medical_mediation"),
]


def _first_child(region: Region) -> Region:
    return Region.objects.filter(path__startswith=region.path, depth=region.depth + 1).order_by("path").first()


def _places(ctx: DemoContext) -> dict[str, list[Region | Unit]]:
    """Where each persona works: the first district, its first street, and so on down."""
    district = _first_child(ctx.city)
    street = _first_child(district)
    community = _first_child(street)
    grids = list(Region.objects.filter(path__startswith=street.path, level=Level.GRID).order_by("path")[:3])
    return {
        "city": [ctx.city],
        "district": [district],
        "street": [street],
        "community": [community],
        "grid": grids[:1],
        # a worker on two grids, as many are; a street of one grid shares it
        "grids_2_3": grids[1:3] or grids[:1],
        "district_police": [ctx.units[unit_code(district, "GA")]],
        "city_urban_management": [ctx.units[unit_code(ctx.city, "CG")]],
        "street_mediation": [ctx.units[unit_code(street, "TJ")]],
        "city_medical_mediation": [ctx.units[unit_code(ctx.city, "YT")]],
    }


@demo_step(order=300)
def demo_users(ctx: DemoContext) -> None:
    """One login per role and level, with roles given through ``role_assign`` like any other."""
    User = get_user_model()
    places = _places(ctx)
    created = 0
    for persona in PERSONAS:
        user, was_created = User.objects.get_or_create(username=persona.username, defaults={
            "first_name": persona.first_name, "last_name": persona.last_name,
            "is_staff": persona.is_staff,
            "is_superuser": persona.is_superuser,
            "password": lambda: ctx.password_hash,  # hashed only when a user is created
        })
        created += was_created
        targets = places[persona.where]
        for target in targets:
            key = "region" if isinstance(target, Region) else "unit"
            services.role_assign(acting_user=SYSTEM, user=user, role=persona.role, **{key: target})
        ctx.logins.append(DemoLogin(
            username=persona.username,
            full_name=persona.last_name + persona.first_name,
            role=persona.role,
            role_label=str(Role(persona.role).label),
            where="、".join(f"{t.name} ({t.code})" for t in targets),
        ))
    ctx.log(f"Demo users: {created} created, {len(PERSONAS) - created} already there.")


# --- Grid workers --------------------------------------------------------------------------------

GRID_WORKER_PREFIX = "gw_"

# Family names weighted toward those common in Chaoshan (陈, 林, 黄, 李, 郑 ...).
FAMILY_NAMES = "陈陈陈林林林黄黄李李郑郑吴吴蔡蔡许许王张杨刘谢洪方翁庄卢詹余周徐马朱胡郭何罗高梁宋唐肖邱姚"
GIVEN_NAME_CHARS = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀英华慧建国志红平玲桂兰霞燕鹏辉刚斌宇浩晨欣怡佳琳思雨婷俊"


def grid_worker_username(grid_code: str, number: int) -> str:
    """``gw_<grid code>`` for a grid's first worker, ``gw_<grid code>_<n>`` for the n-th."""
    return f"{GRID_WORKER_PREFIX}{grid_code}" + (f"_{number}" if number > 1 else "")


def person_name(rng: random.Random) -> tuple[str, str]:
    """(family name, given name): a believable Chinese name of one or two given characters."""
    given = "".join(rng.choice(GIVEN_NAME_CHARS) for _ in range(rng.choice((1, 2, 2))))
    return rng.choice(FAMILY_NAMES), given


@demo_step(order=400)
def grid_workers(ctx: DemoContext) -> None:
    """Every grid gets its grid workers, in bulk.

    ``role_assign`` per worker would take minutes for a large city, so this
    step writes what it would write: the assignment (with its history row)
    and the guardian permissions ``scope_<action>`` on the grid that
    ``governance.access.services.sync_object_permissions`` derives from it.
    """
    if ctx.workers_per_grid <= 0:
        ctx.log("Grid workers: skipped.")
        return
    User = get_user_model()
    grids = list(Region.objects.filter(path__startswith=ctx.city.path, level=Level.GRID)
                 .order_by("path").values_list("pk", "code"))
    wanted = {grid_worker_username(code, n): pk for pk, code in grids for n in range(1, ctx.workers_per_grid + 1)}

    have_users = set(User.objects.filter(username__startswith=GRID_WORKER_PREFIX).values_list("username", flat=True))
    new_users = []
    for username in wanted:
        if username not in have_users:
            family, given = person_name(ctx.rng(f"person/{username}"))
            new_users.append(User(username=username, password=ctx.password_hash, last_name=family, first_name=given))
    bar = ctx.progress(total=3 * len(wanted), desc="grid workers", unit="row")
    User.objects.bulk_create(new_users, batch_size=BATCH_SIZE)
    bar.update(len(wanted))
    user_pk = {username: pk for username, pk in User.objects.filter(
        username__startswith=GRID_WORKER_PREFIX).values_list("username", "pk") if username in wanted}

    have_roles = set(RoleAssignment.objects.active().filter(
        role=Role.GRID_WORKER, region__path__startswith=ctx.city.path).values_list("user_id", "region_id"))
    new_roles = [RoleAssignment(user_id=user_pk[u], role=Role.GRID_WORKER, region_id=grid_pk)
                 for u, grid_pk in wanted.items() if (user_pk[u], grid_pk) not in have_roles]
    for start in range(0, len(new_roles), BATCH_SIZE):
        bulk_create_with_history(new_roles[start:start + BATCH_SIZE], RoleAssignment,
                                 default_change_reason=CHANGE_REASON)
    bar.update(len(wanted))

    region_type = ContentType.objects.get_for_model(Region)
    region_codenames = {codename for codename, _label in Region._meta.permissions}
    codenames = [permission_codename(a) for a in sorted(ROLE_ACTIONS[Role.GRID_WORKER])]
    permissions = list(Permission.objects.filter(
        content_type=region_type, codename__in=[c for c in codenames if c in region_codenames]))
    have_perms = set(UserObjectPermission.objects.filter(
        content_type=region_type, user__username__startswith=GRID_WORKER_PREFIX
    ).values_list("user_id", "permission_id", "object_pk"))
    new_perms = [
        UserObjectPermission(user_id=user_pk[u], permission=perm, content_type=region_type, object_pk=str(grid_pk))
        for u, grid_pk in wanted.items() for perm in permissions
        if (user_pk[u], perm.pk, str(grid_pk)) not in have_perms
    ]
    UserObjectPermission.objects.bulk_create(new_perms, batch_size=BATCH_SIZE)
    scopes_changed()  # bulk_create sends no signal
    bar.update(len(wanted))
    bar.close()
    ctx.log(f"Grid workers: {len(new_users)} created on {len(grids)} grids, "
            f"{len(wanted) - len(new_users)} already there.")
