"""Demo incidents: every status and level, over the last 90 days, some overdue.

A ``seed_demo`` step (order 500). It writes with ``bulk_create`` what the
services would have written one incident at a time: the incident row with its
status timestamps, deadlines (the working-day calendar's), responsible level and
lead unit; a timeline event for every step with the actor the services would
have required (the grid's worker files, the most local command-centre login
holding the incident triages, a handler of the unit reports back); the units'
tasks; and the day counters, so numbers filed later continue where the demo
stopped. Calling the services per incident would take minutes for a large city.

Deterministic: the same seed gives the same incidents, titles, places, stories
and numbers, counted back from the day it runs. Idempotent: when demo incidents
are there already (idempotency key ``demo-…``), the step only says so.

The count is ``ctx.data["incidents"]`` (``seed_demo --incidents N``); by default
2.5 per grid, about 3,000 for the default city. ``bench/incident_filing.py``
calls ``seed_incidents`` for 100,000.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import shapely
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count
from django.utils import timezone
from guardian.models import UserObjectPermission
from simple_history.utils import bulk_create_with_history

from governance.access.demo import person_name
from governance.access.models import ROLE_ACTIONS, Role, RoleAssignment, Unit
from governance.core.demo import BATCH_SIZE, CHANGE_REASON, DemoContext, demo_option, demo_step
from governance.core.scoping import permission_codename, scopes_changed
from grids import geometry
from grids.locate import locate_many
from grids.models import Level, Region
from incidents import deadlines
from incidents.management.commands.load_categories import DEFAULT_FILE, load_categories
from incidents.models import (
    Category,
    DailyCounter,
    Event,
    Incident,
    Severity,
    Source,
    Status,
    UnitTask,
    escalation_target_path,
)
from incidents.workflow import TRANSITIONS, Clock

# About 3,000 for the default city of 1,200 grids; a smaller city gets fewer.
INCIDENTS_PER_GRID = 2.5
SPAN_DAYS = 90
KEY_PREFIX = "demo-"
HANDLER_PREFIX = "uh_"
# Some reports repeat an open one filed in the last two days a few metres away; the command centre merges them.
DUPLICATE_SHARE = 0.03
DUPLICATE_WINDOW = timedelta(hours=48)
MERGEABLE = frozenset({Status.REPORTED, Status.ACCEPTED, Status.DISPATCHED, Status.HANDLED})
STEP = Region.steplen

# --- Titles ---------------------------------------------------------------------------------

# What a grid worker types as the title, per minor category. {road} is a street of the city,
# {n} a house or building number.
TITLES: dict[str, list[str]] = {
    "0101": ["{road}出租屋有可疑人员频繁出入", "{road}路边发现无人认领可疑包裹", "{road}{n}号附近有人深夜撬车门"],
    "0102": ["{road}网吧接纳未成年人上网", "{road}{n}号出租屋人员流动频繁未登记", "{road}KTV周边夜间治安复杂"],
    "0103": ["{road}{n}号楼下聚集多人拉横幅", "{road}工地门口数十名工人聚集讨薪"],
    "0104": ["{road}{n}号疑似聚众赌博", "{road}足浴店疑似涉黄线索"],
    "0105": ["{road}路口监控摄像头损坏", "{road}{n}号小区门禁系统故障", "{road}治安视频探头被遮挡"],
    "0201": ["{road}{n}号楼消防通道被杂物堵塞", "{road}小区消防车通道被私家车占用", "{road}商铺后门安全出口上锁"],
    "0202": ["{road}{n}号楼道内电动车违规充电", "{road}住宅楼飞线充电", "{road}{n}号电动车停放在楼梯间充电"],
    "0203": ["{road}{n}号楼消火栓无水", "{road}商场灭火器过期", "{road}小区烟感报警器损坏"],
    "0204": ["{road}{n}号店铺私拉乱接电线", "{road}出租屋使用明火做饭", "{road}仓库违规使用大功率电器"],
    "0205": ["{road}{n}号“三合一”场所住人", "{road}小作坊楼上住人楼下生产"],
    "0301": ["{road}{n}号违规存放液化气瓶", "{road}仓库存放危险化学品无标识"],
    "0302": ["{road}工地未设安全围挡", "{road}{n}号工地高空作业未系安全带", "{road}塔吊附近堆放材料存在隐患"],
    "0303": ["{road}{n}号餐馆燃气管道老化", "{road}居民楼闻到燃气异味", "{road}饭店液化气瓶与灶具间距不足"],
    "0304": ["{road}{n}号电梯困人频发", "{road}小区电梯年检过期"],
    "0305": ["{road}{n}号小作坊无证生产", "{road}民房内加工塑料制品"],
    "0401": ["{road}{n}号邻里因噪音发生争执", "{road}{n}号楼上漏水引发邻里纠纷", "{road}邻居因占道停车发生口角"],
    "0402": ["{road}{n}号夫妻矛盾激化", "{road}{n}号家庭赡养纠纷"],
    "0403": ["{road}小区业主与物业因收费产生纠纷", "{road}{n}号小区物业停水引发业主不满"],
    "0404": ["{road}{n}号工厂拖欠工人工资", "{road}装修工人讨要劳务费"],
    "0405": ["{road}村民因宅基地界址发生纠纷", "{road}两户因山林承包范围争执"],
    "0406": ["{road}{n}号诊所医疗纠纷", "{road}患者家属与医院发生争执"],
    "0407": ["{road}{n}号商铺预付卡退费纠纷", "{road}健身房关门会员退费无门"],
    "0501": ["{road}{n}号烧烤摊酒后斗殴", "{road}夜市多人发生打斗"],
    "0502": ["{road}{n}号夜间施工噪音扰民", "{road}广场舞音响音量过大", "{road}{n}号酒吧深夜噪音扰民"],
    "0503": ["{road}桥下有流浪人员露宿", "{road}路口有人员乞讨"],
    "0504": ["{road}路口黑车拉客", "{road}{n}号附近摩的非法营运"],
    "0601": ["{road}{n}号旁生活垃圾堆积未清运", "{road}垃圾桶满溢无人清理", "{road}空地被倾倒建筑垃圾"],
    "0602": ["{road}{n}号化粪池污水外溢", "{road}下水道堵塞污水漫溢"],
    "0603": ["{road}{n}号墙面小广告乱张贴", "{road}电箱被乱涂乱画"],
    "0604": ["{road}{n}号餐馆油烟直排", "{road}工地扬尘严重", "{road}露天焚烧垃圾"],
    "0605": ["{road}旁河道漂浮垃圾", "{road}排污口向河道排放污水"],
    "0701": ["{road}{n}号门前路面塌陷", "{road}人行道地砖松动破损", "{road}路面出现大面积坑槽"],
    "0702": ["{road}{n}号门前井盖缺失", "{road}雨水井盖破损下陷"],
    "0703": ["{road}路灯不亮", "{road}{n}号附近多盏路灯损坏"],
    "0704": ["{road}{n}号供水管道破裂漏水", "{road}路面冒水疑似水管爆裂"],
    "0705": ["{road}公交站亭玻璃破损", "{road}小公园健身器材损坏", "{road}护栏被撞倒"],
    "0801": ["{road}{n}号楼顶违章搭建", "{road}{n}号天台加建铁皮房"],
    "0802": ["{road}{n}号装修拆除承重墙", "{road}商铺擅自改变房屋结构"],
    "0803": ["{road}{n}号店铺占用人行道搭棚", "{road}楼道被私自圈占"],
    "0901": ["{road}{n}号严重精神障碍患者近期情绪不稳", "{road}精神障碍患者未按时服药"],
    "0902": ["{road}{n}号社区矫正对象未按时报到"],
    "0903": ["{road}刑满释放人员回归帮扶需求"],
    "0904": ["{road}{n}号社区戒毒人员失联"],
    "0905": ["{road}重点青少年夜不归宿", "{road}{n}号辍学青少年需要帮扶"],
    "1001": ["{road}{n}号困难家庭申请临时救助", "{road}残疾人家庭生活困难"],
    "1002": ["{road}{n}号独居老人多日未出门", "{road}独居老人家中漏水无人帮忙"],
    "1003": ["{road}居民咨询灵活就业参保", "{road}{n}号失业人员咨询就业援助"],
    "1004": ["{road}居民反映子女入学困难", "{road}{n}号居民反映看病报销问题"],
    "1101": ["{road}{n}号发现疑似传染病病例", "{road}学校出现多名学生发热"],
    "1102": ["{road}{n}号积水容器孳生蚊虫", "{road}农贸市场鼠患严重"],
    "1103": ["{road}{n}号无证食品摊贩", "{road}餐馆后厨卫生脏乱"],
    "1201": ["{road}{n}号店外占道经营", "{road}流动摊贩占道摆卖", "{road}早市摊位占用车行道"],
    "1202": ["{road}机动车乱停放堵塞道路", "{road}{n}号门口车辆长期占用消防通道停放"],
    "1203": ["{road}{n}号户外广告牌松动", "{road}楼顶广告牌未审批"],
    "1204": ["{road}地铁口共享单车堆积", "{road}{n}号门前共享单车乱停放"],
    "1301": ["{road}低洼路段积水严重", "{road}{n}号地下车库进水"],
    "1302": ["{road}后山边坡出现裂缝", "{road}挡土墙出现变形"],
    "1303": ["{road}行道树倒伏压住车辆", "{road}{n}号门前大树倾斜"],
    "1304": ["{road}{n}号老房墙体开裂", "{road}危房有倒塌风险"],
    "1401": ["{road}{n}号居民反映其他问题", "{road}群众来电反映综合问题"],
}
# Streets of Shantou, for addresses and titles.
ROADS = ["中山路", "金砂路", "长平路", "海滨路", "汕樟路", "华山路", "黄山路", "东厦路", "天山路", "龙眼路",
         "韩江路", "大学路", "金环路", "公园路", "民族路", "镇邦路", "嵩山路", "衡山路", "泰山路", "珠池路"]
DESCRIPTIONS = [
    "网格员日常巡查时发现，已拍照留存，请尽快处理。",
    "居民向网格员反映，经现场查看情况属实。",
    "巡查发现，现场已做初步劝导，需相关部门跟进处置。",
    "群众多次反映，影响周边居民正常生活。",
]
REPORT_BACK_NOTES = ["已到场处置完毕，现场已恢复正常。", "已约谈当事人并责令整改，整改已完成。",
                     "已联合社区现场处置，问题已解决。", "已安排维修，现已修复。"]

# Which unit handles a category: unit code suffixes (governance.demo), nearest region first.
# A minor category's own entry wins over its major category's.
HANDLERS: dict[str, list[str]] = {
    "01": ["PCS", "GA"], "02": ["XF"], "03": ["YJ"], "04": ["TJ", "SFS"], "05": ["PCS", "GA"],
    "06": ["ZF", "CG"], "07": ["ZF", "CG", "ZJ"], "08": ["ZF", "CG", "ZJ"], "09": ["SFS", "SF", "PCS"],
    "10": ["ZF", "RS"], "11": ["WJ"], "12": ["ZF", "CG"], "13": ["YJ", "ZJ"], "14": ["ZF"],
    "0303": ["RQ", "YJ"], "0404": ["RS", "TJ"], "0406": ["YT"], "0604": ["ST"], "0605": ["ST"],
    "0703": ["GD", "CG"], "0704": ["GS"], "1103": ["SJ"],
}

# --- The city as the stories see it ---------------------------------------------------------


@dataclass(slots=True)
class _Grid:
    pk: int
    path: str
    code: str
    geom: object
    worker_pk: int | None


@dataclass(slots=True)
class _Step:
    action: str
    from_status: str
    to_status: str
    actor_pk: int | None
    at: datetime
    note: str = ""
    data: dict = field(default_factory=dict)


@dataclass(slots=True)
class _Plan:
    """One incident as its story ends: the row's fields, its timeline and its units' tasks."""

    fields: dict
    steps: list[_Step]
    tasks: list[dict]  # UnitTask fields without the incident
    grid: _Grid
    category: Category
    merged_into: _Plan | None = None  # the incident this one repeats, merged into it
    pk: int | None = None  # once written

    def status_at(self, at: datetime) -> str:
        return [step.to_status for step in self.steps if step.at <= at][-1]


class _World:
    """What the stories need to know about the city, read once."""

    def __init__(self, ctx: DemoContext):
        city = ctx.city
        self.city = city
        worker_of: dict[int, int] = {}
        for grid_pk, user_pk in RoleAssignment.objects.active().filter(
                role=Role.GRID_WORKER, region__path__startswith=city.path).order_by("region_id", "user_id").values_list(
                "region_id", "user_id"):
            worker_of.setdefault(grid_pk, user_pk)
        self.grids: list[_Grid] = []
        for pk, path, code, boundary in Region.objects.filter(
                path__startswith=city.path, level=Level.GRID).order_by("path").values_list(
                "pk", "path", "code", "boundary"):
            geom = geometry.parse_boundary(boundary)
            shapely.prepare(geom)
            self.grids.append(_Grid(pk, path, code, geom, worker_of.get(pk)))
        self.regions = {r.path: r for r in Region.objects.filter(path__startswith=city.path,
                                                                    level__lte=Level.COMMUNITY)}
        self.units = {u.code: u for u in Unit.objects.filter(home_region__path__startswith=city.path,
                                                              is_active=True)}
        self.unit_by_pk = {u.pk: u for u in self.units.values()}
        # Command-centre logins by the region they triage, most local first: the first that holds an incident acts.
        self.triagers = sorted(RoleAssignment.objects.active().filter(
            role__in=[Role.COMMAND_STAFF, Role.ADMINISTRATOR], region__path__startswith=city.path)
            .values_list("region__path", "user_id"), key=lambda row: (-len(row[0]), row[1]))
        self.handlers: dict[int, int] = {}
        for unit_pk, user_pk in RoleAssignment.objects.active().filter(
                role=Role.UNIT_HANDLER, unit__in=self.unit_by_pk).order_by("unit_id", "user_id").values_list(
                "unit_id", "user_id"):
            self.handlers.setdefault(unit_pk, user_pk)
        self.categories = list(Category.objects.filter(parent__isnull=False, is_active=True)
                               .select_related("parent").order_by("code"))

    def triager(self, responsible_path: str) -> int | None:
        for path, user_pk in self.triagers:
            if responsible_path.startswith(path):
                return user_pk
        return None

    def units_for(self, category: Category, grid_path: str, responsible_level: int) -> list[Unit]:
        """The units that may take an incident, nearest first: from the street (or the level holding it) up."""
        suffixes = HANDLERS.get(category.code) or HANDLERS.get(category.parent.code) or ["ZF"]
        found = []
        for level in range(min(responsible_level, Level.STREET), Level.CITY - 1, -1):
            region = self.regions[grid_path[: level * STEP]]
            found += [self.units[code] for code in (f"{region.code}-{s}" for s in suffixes) if code in self.units]
        return found

    def handling_units(self) -> list[Unit]:
        suffixes = {s for listed in HANDLERS.values() for s in listed}
        return [u for code, u in self.units.items() if code.rsplit("-", 1)[-1] in suffixes]


def _point_inside(grid: _Grid, rng: random.Random) -> tuple[float, float]:
    """(lat, lng) strictly inside the grid, by rejection from its bounding box."""
    min_x, min_y, max_x, max_y = grid.geom.bounds
    for _attempt in range(1000):
        x, y = round(rng.uniform(min_x, max_x), 7), round(rng.uniform(min_y, max_y), 7)
        if shapely.contains_xy(grid.geom, x, y):
            return y, x
    centre = grid.geom.representative_point()
    return round(centre.y, 7), round(centre.x, 7)


def _point_near(grid: _Grid, lat: float, lng: float, rng: random.Random) -> tuple[float, float]:
    """A point a few metres from (lat, lng) and still inside the grid: a second report of the same thing."""
    for _attempt in range(20):
        y, x = round(lat + rng.uniform(-2e-4, 2e-4), 7), round(lng + rng.uniform(-2e-4, 2e-4), 7)
        if shapely.contains_xy(grid.geom, x, y):
            return y, x
    return lat, lng


def _reported_times(rng: random.Random, count: int, now: datetime) -> list[datetime]:
    """Filing times over the last 90 days: by day more than by night, the recent weeks a little busier."""
    tz = timezone.get_current_timezone()
    today = timezone.localdate(now)
    hours = [7, 8, 8, 9, 9, 9, 10, 10, 10, 11, 11, 14, 14, 15, 15, 16, 16, 17, 18, 19, 20, 21, 22, 2]
    times = []
    while len(times) < count:
        day = today - timedelta(days=int(SPAN_DAYS * rng.random() ** 1.3))
        at = datetime(day.year, day.month, day.day, rng.choice(hours), rng.randrange(60), rng.randrange(60),
                      tzinfo=tz)
        if at < now - timedelta(minutes=5):
            times.append(at)
    times.sort()
    return times


# --- One incident's story -----------------------------------------------------------------


class _Story:
    """Walks one incident through the closed loop until its story ends or reaches the present.

    Every step is one the services allow from the status it starts in, taken by
    someone who holds the action: the grid's worker files and closes on the spot,
    the most local command-centre login holding the incident triages, a handler
    of the unit reports back.
    """

    def __init__(self, world: _World, rng: random.Random, now: datetime, grid: _Grid, category: Category,
                 reported_at: datetime):
        self.world, self.rng, self.now = world, rng, now
        self.grid, self.category = grid, category
        self.t = reported_at
        self.status = Status.REPORTED
        self.responsible_path = grid.path[: Level.COMMUNITY * STEP]
        filed = deadlines.accept_deadline(reported_at, category)
        self.steps: list[_Step] = [_Step("report", "", Status.REPORTED, grid.worker_pk, reported_at,
                                         rng.choice(DESCRIPTIONS), {"deadline": filed.record(Clock.RESTART)})]
        self.tasks: list[dict] = []
        self.fields: dict = filed.fields()
        self.slow = rng.random() < 0.12  # a slow one runs past its deadlines

    def _wait(self, low_minutes: float, high_minutes: float) -> bool:
        """Move the clock on; False when the next step would lie in the future (the story ends here)."""
        minutes = self.rng.uniform(low_minutes, high_minutes) * (4 if self.slow else 1)
        later = self.t + timedelta(minutes=minutes)
        if later >= self.now:
            return False
        self.t = later
        return True

    def _step(self, action: str, to_status: str, actor_pk: int | None, note: str = "", **data) -> None:
        """One transition: the new status, the deadline as its clock says (``incidents.deadlines``), the event."""
        from_status, self.status = self.status, to_status
        change = deadlines.clock_change(TRANSITIONS[action].clock, status=to_status, now=self.t,
                                        category=self.category, handle_due_at=self.fields.get("handle_due_at"),
                                        handle_days_left=self.fields.get("handle_days_left"))
        if change is not None:
            self.fields.update(change.fields)
            data["deadline"] = change.record
        self.steps.append(_Step(action, from_status, to_status, actor_pk, self.t, note, data))

    def _triager(self) -> int | None:
        return self.world.triager(self.responsible_path)

    def _active_tasks(self) -> list[dict]:
        return [task for task in self.tasks if "withdrawn_at" not in task]

    def _escalate(self) -> None:
        actor = self._triager()  # the level that holds it hands it up
        self.responsible_path = escalation_target_path(self.responsible_path)
        parent = self.world.regions[self.responsible_path]
        self.fields["escalation_count"] = self.fields.get("escalation_count", 0) + 1
        self._step("escalate", self.status, actor, "本级无法协调处置，提请上级指挥中心处理",
                   to_level=parent.level, to_region=parent.name)

    def _dispatch(self, exclude: set[int]) -> bool:
        level = len(self.responsible_path) // STEP
        units = self.world.units_for(self.category, self.grid.path, level)
        candidates = [u for u in units if u.pk not in exclude]
        if not candidates:
            return False
        lead = candidates[0] if self.rng.random() < 0.7 else self.rng.choice(candidates)
        others = [u for u in units if u.pk != lead.pk]
        assist = [self.rng.choice(others)] if others and self.rng.random() < 0.1 else []
        for task in self._active_tasks():
            task["withdrawn_at"] = self.t
        self.tasks.append({"unit_id": lead.pk, "role": UnitTask.Role.LEAD, "assigned_at": self.t})
        self.tasks += [{"unit_id": u.pk, "role": UnitTask.Role.ASSIST, "assigned_at": self.t} for u in assist]
        self.fields.update(lead_unit_id=lead.pk, dispatched_at=self.t)
        self._step("dispatch", Status.DISPATCHED, self._triager(), "请按时限处置并反馈", unit=lead.pk,
                   unit_name=lead.name, assisting=[u.pk for u in assist], assisting_names=[u.name for u in assist])
        return True

    def _report_back(self) -> bool:
        for task in self._active_tasks():
            if not self._wait(60, 60 * 24 * 3):
                return False
            task.update(reported_back_at=self.t, report=self.rng.choice(REPORT_BACK_NOTES))
            pending = [t for t in self._active_tasks() if "reported_back_at" not in t]
            if not pending:
                self.fields["handled_at"] = self.t
            unit = self.world.unit_by_pk[task["unit_id"]]
            self._step("report_back", Status.DISPATCHED if pending else Status.HANDLED,
                       self.world.handlers.get(unit.pk), task["report"], unit=unit.pk, unit_name=unit.name,
                       role=task["role"])
        return True

    def merged(self, into: _Plan) -> None:
        """A second report of what ``into`` already reports: merged by the command centre soon after.

        The target's id is filled in when both are written (``_write``).
        """
        if self._wait(10, 120) and into.status_at(self.t) in MERGEABLE:
            self.fields["closed_at"] = self.t
            self._step("merge", Status.MERGED, self._triager(), "与已上报事件重复，合并处理",
                       into_number=into.fields["number"])

    def run(self) -> None:
        rng = self.rng
        if self.category.on_spot_closable and rng.random() < 0.25:
            if self._wait(5, 90):
                satisfaction = rng.choice([4, 5, 5, 5])
                self.fields.update(closed_at=self.t, satisfaction=satisfaction)
                self._step("close_on_spot", Status.CLOSED, self.steps[0].actor_pk, "现场劝导整改，已当场解决",
                           satisfaction=satisfaction)
            return
        roll = rng.random()  # escalation before acceptance: the community cannot handle it
        for _level in range(3 if roll < 0.01 else 2 if roll < 0.04 else 1 if roll < 0.12 else 0):
            if not self._wait(10, 120):
                return
            self._escalate()
        if not self._wait(5, self.category.accept_hours * 60 * 1.2):
            return
        fate = rng.random()
        if fate < 0.03:
            self._step("return", Status.RETURNED, self._triager(), "信息不全，请补充具体位置和现场照片")
            return
        if fate < 0.07:
            self._step("void", Status.VOIDED, self._triager(), "经核实不属于网格事件，作废处理")
            return
        self.fields["accepted_at"] = self.t
        self._step("accept", Status.ACCEPTED, self._triager())
        if not self._wait(10, 60 * 6) or not self._dispatch(set()):
            return
        if rng.random() < 0.04 and self._wait(60, 60 * 24):
            returned_by = self.fields.pop("lead_unit_id")
            for task in self._active_tasks():
                task["withdrawn_at"] = self.t
            self._step("unit_return", Status.ACCEPTED, self.world.handlers.get(returned_by),
                       "不属于本单位职责，请重新分拨")
            if not self._wait(30, 60 * 8) or not self._dispatch({returned_by}):
                return
        if rng.random() < 0.03 and self._wait(60 * 24, 60 * 24 * 5):
            review_on = timezone.localdate(self.t) + timedelta(days=rng.randrange(30, 120))
            self.fields["parked_until"] = review_on
            self._step("park", Status.PARKED, self._triager(), "涉及历史遗留问题，需多部门协调，列入长期挂账",
                       review_on=review_on.isoformat())
            return
        if not self._report_back():
            return
        if rng.random() < 0.05 and self._wait(60, 60 * 24):
            self.fields.pop("handled_at", None)
            for task in self._active_tasks():
                task.pop("reported_back_at", None)
                task.pop("report", None)
            self._step("verify_fail", Status.DISPATCHED, self._triager(), "回访发现问题仍未解决，请继续处置",
                       satisfaction=None)
            if not self._report_back():
                return
        if not self._wait(60, 60 * 24 * 2):
            return
        satisfaction = rng.choice([3, 4, 4, 5, 5, 5, 5])
        self.fields.update(closed_at=self.t, satisfaction=satisfaction)
        self._step("verify_pass", Status.CLOSED, self._triager(), "经回访核实，处置到位", satisfaction=satisfaction)

    def plan(self, *, number: str, key: str, lat: float, lng: float, title: str, address: str) -> _Plan:
        rng = self.rng
        responsible = self.world.regions[self.responsible_path]
        if self.grid.worker_pk and rng.random() < 0.9:
            reporter = {"source": Source.GRID_WORKER, "reporter_id": self.grid.worker_pk}
        else:  # a resident scanned the grid's sign: no login behind the report
            self.steps[0].actor_pk = None
            reporter = {"source": Source.QUICK_REPORT, "reporter_id": None,
                        "reporter_name": rng.choice("陈林黄李郑吴蔡许") + rng.choice(["先生", "女士"]),
                        "reporter_phone": f"13{rng.randrange(10**9):09d}"}
        severity = self.category.default_severity
        if severity == Severity.NORMAL and rng.random() < 0.08:
            severity = Severity.URGENT
        fields = {
            "number": number, "idempotency_key": key, "title": title, "description": self.steps[0].note,
            "category_id": self.category.pk, "severity": severity, "status": self.status, "lat": lat, "lng": lng,
            "address": address,
            "grid_id": self.grid.pk, "responsible_region_id": responsible.pk,
            "responsible_level": responsible.level, "reported_at": self.steps[0].at,
            "version": len(self.steps),  # the report is version 1; each transition adds one
            **reporter, **self.fields,
        }
        return _Plan(fields, self.steps, self.tasks, self.grid, self.category)


# --- Writing ---------------------------------------------------------------------------------


def _ensure_unit_handlers(ctx: DemoContext, world: _World) -> int:
    """A handler login ``uh_<unit code>`` for every unit that handles incidents and has none, in bulk.

    Writes what ``governance.access.services.role_assign`` would: the assignment (with its
    history row) and the guardian permissions ``scope_<action>`` on the unit.
    """
    User = get_user_model()
    missing = [u for u in world.handling_units() if u.pk not in world.handlers]
    if not missing:
        return 0
    username = {u.pk: f"{HANDLER_PREFIX}{u.code}" for u in missing}
    have = set(User.objects.filter(username__in=username.values()).values_list("username", flat=True))
    users = []
    for unit in missing:
        if username[unit.pk] not in have:
            family, given = person_name(ctx.rng(f"person/{username[unit.pk]}"))
            users.append(User(username=username[unit.pk], password=ctx.password_hash, last_name=family,
                              first_name=given))
    User.objects.bulk_create(users, batch_size=BATCH_SIZE)
    pk_of = dict(User.objects.filter(username__in=username.values()).values_list("username", "pk"))
    bulk_create_with_history(
        [RoleAssignment(user_id=pk_of[username[u.pk]], role=Role.UNIT_HANDLER, unit=u) for u in missing],
        RoleAssignment, batch_size=BATCH_SIZE, default_change_reason=CHANGE_REASON)
    unit_type = ContentType.objects.get_for_model(Unit)
    unit_codenames = {codename for codename, _label in Unit._meta.permissions}
    codenames = [permission_codename(a) for a in sorted(ROLE_ACTIONS[Role.UNIT_HANDLER])]
    permissions = list(Permission.objects.filter(content_type=unit_type,
                                                 codename__in=[c for c in codenames if c in unit_codenames]))
    UserObjectPermission.objects.bulk_create(
        [UserObjectPermission(user_id=pk_of[username[u.pk]], permission=p, content_type=unit_type,
                              object_pk=str(u.pk)) for u in missing for p in permissions],
        batch_size=BATCH_SIZE, ignore_conflicts=True)
    scopes_changed()  # bulk_create sends no signal
    for unit in missing:
        world.handlers[unit.pk] = pk_of[username[unit.pk]]
    return len(missing)


def _numbers(times: list[datetime]) -> list[str]:
    """Numbers in filing order that continue each day's counter; the counters move on with them."""
    days = [timezone.localdate(t) for t in times]
    last = dict(DailyCounter.objects.filter(day__in=set(days)).values_list("day", "last"))
    numbers = []
    for day in days:
        last[day] = last.get(day, 0) + 1
        numbers.append(f"SJ{day:%Y%m%d}-{last[day]:06d}")
    DailyCounter.objects.bulk_create([DailyCounter(day=d, last=n) for d, n in last.items()], update_conflicts=True,
                                     unique_fields=["day"], update_fields=["last"], batch_size=BATCH_SIZE)
    return numbers


def _write(plans: list[_Plan]) -> list[Incident]:
    """A chunk of plans: the incidents, then their timelines and tasks, and the merged-in events on the targets."""
    incidents = Incident.objects.bulk_create([Incident(**plan.fields) for plan in plans], batch_size=BATCH_SIZE)
    for plan, incident in zip(plans, incidents, strict=True):
        plan.pk = incident.pk
    events, tasks, merged = [], [], []
    for plan, incident in zip(plans, incidents, strict=True):
        events += [Event(incident_id=incident.pk, action=s.action, from_status=s.from_status, to_status=s.to_status,
                         actor_id=s.actor_pk, at=s.at, note=s.note, data=s.data) for s in plan.steps]
        tasks += [UnitTask(incident_id=incident.pk, **task) for task in plan.tasks]
        if incident.status == Status.MERGED:
            merge, into = plan.steps[-1], plan.merged_into
            merge.data["into"] = incident.duplicate_of_id = into.pk
            merged.append(incident)
            status = into.status_at(merge.at)
            events.append(Event(incident_id=into.pk, action="merged_in", from_status=status, to_status=status,
                                actor_id=merge.actor_pk, at=merge.at, note=merge.note,
                                data={"duplicate": incident.pk, "duplicate_number": incident.number}))
    # A duplicate may repeat an incident of its own chunk: its target's id is known only now.
    Incident.objects.bulk_update(merged, ["duplicate_of"], batch_size=BATCH_SIZE)
    Event.objects.bulk_create(events, batch_size=BATCH_SIZE)
    UnitTask.objects.bulk_create(tasks, batch_size=BATCH_SIZE)
    return incidents


def seed_incidents(ctx: DemoContext, *, count: int | None = None, now: datetime | None = None, chunk: int = 2000,
                   key_prefix: str = KEY_PREFIX) -> int:
    """Load the categories and add ``count`` demo incidents to the demo city; 0 when they are there already.

    ``key_prefix`` marks the incidents (their idempotency keys): a benchmark loads
    its own set beside the demo's under another prefix.
    """
    rows = json.loads(DEFAULT_FILE.read_text(encoding="utf-8"))["categories"]
    created = load_categories(rows)
    ctx.log(f"Incident categories: {created} created, {len(rows) - created} already there.")
    if Incident.objects.filter(idempotency_key__startswith=key_prefix, grid__path__startswith=ctx.city.path).exists():
        ctx.log("Incidents: the demo incidents are already there; kept.")
        return 0
    now = now or timezone.now()
    world = _World(ctx)
    if count is None:
        count = ctx.data.get("incidents")
    if count is None:
        count = round(INCIDENTS_PER_GRID * len(world.grids))
    if count <= 0 or not world.grids:
        ctx.log("Incidents: skipped.")
        return 0
    handlers = _ensure_unit_handlers(ctx, world)

    times = _reported_times(ctx.rng("incidents/times"), count, now)
    numbers = _numbers(times)
    rng = ctx.rng("incidents/stories")
    recent: list[_Plan] = []  # planned incidents of the last two days that a new report may repeat
    bar = ctx.progress(total=count, desc="incidents", unit="incident")
    for indices in (range(start, min(count, start + chunk)) for start in range(0, count, chunk)):
        plans: list[_Plan] = []
        for i in indices:
            into = None
            if rng.random() < DUPLICATE_SHARE:
                recent = [p for p in recent if times[i] - p.fields["reported_at"] < DUPLICATE_WINDOW]
                repeats = [p for p in recent if p.merged_into is None and p.status_at(times[i]) in MERGEABLE]
                into = rng.choice(repeats) if repeats else None
            if into is not None:  # a second report of the same thing, a few metres from the first
                grid, category = into.grid, into.category
                story = _Story(world, rng, now, grid, category, times[i])
                lat, lng = _point_near(grid, into.fields["lat"], into.fields["lng"], rng)
                story.merged(into)
            else:
                grid, category = rng.choice(world.grids), rng.choice(world.categories)
                story = _Story(world, rng, now, grid, category, times[i])
                lat, lng = _point_inside(grid, rng)
                story.run()
            if into is not None:
                title, address = into.fields["title"], into.fields["address"]
            else:
                road, n = rng.choice(ROADS), rng.randrange(1, 300)
                title = rng.choice(TITLES.get(category.code, ["{road}{n}号" + category.name])).format(road=road, n=n)
                street = world.regions[grid.path[: Level.STREET * STEP]]
                community = world.regions[grid.path[: Level.COMMUNITY * STEP]]
                address = f"{street.name}{community.name}{road}{n}号"
            plan = story.plan(number=numbers[i], key=f"{key_prefix}{ctx.seed}-{i:07d}", lat=lat, lng=lng, title=title,
                              address=address)
            if story.status == Status.MERGED:
                plan.merged_into = into
            plans.append(plan)
            recent.append(plan)
        # Each point lies in the grid it is filed in, exactly as locate() finds it.
        located = locate_many([(p.fields["lat"], p.fields["lng"]) for p in plans])
        misplaced = [p.fields["number"] for p, pk in zip(plans, located, strict=True) if pk != p.fields["grid_id"]]
        if misplaced:
            raise AssertionError(f"demo incidents placed outside their grid: {misplaced[:5]}")
        _write(plans)
        bar.update(len(indices))
    bar.close()
    summary = ", ".join(f"{Status(s).label} {n}" for s, n in sorted(demo_incident_summary(key_prefix).items()))
    ctx.log(f"Incidents: {count:,} created over the last {SPAN_DAYS} days ({summary}); "
            f"{handlers} unit handler logins {HANDLER_PREFIX}<unit code> added.")
    return count


def demo_incident_summary(key_prefix: str = KEY_PREFIX) -> dict[str, int]:
    """Demo incidents per status."""
    return dict(Incident.objects.filter(idempotency_key__startswith=key_prefix).order_by().values_list("status")
                .annotate(n=Count("id")).values_list("status", "n"))


demo_option("--incidents", type=int, metavar="N",
            help=f"demo incidents to add (default {INCIDENTS_PER_GRID:g} per grid, about 3,000 for the default city)")


@demo_step(order=500)
def incidents(ctx: DemoContext) -> None:
    """The incident categories, and demo incidents in every status and level over the last 90 days."""
    seed_incidents(ctx)
