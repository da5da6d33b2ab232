"""The demo's pilot programme, after the articles' figures (Xiangtan: 63 key tasks, 191 requirements,
23 leaders, 38 lead departments, 72 responsible units): about 60 key tasks and 190 requirements across
about 70 units, with filings over the months since the programme began, some lagging, some returned,
supervision notices (some overdue, on the public list) and an innovation project library.

Idempotent: a programme already there (by its code) is left as it is.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from governance.access.demo import person_name
from governance.access.models import Unit, UnitKind
from governance.core.demo import BATCH_SIZE, CHANGE_REASON, DemoContext, demo_step
from governance.ledgers import periods
from governance.ledgers.models import (
    Filing,
    InnovationProject,
    NoticeStatus,
    Programme,
    ProgressStatus,
    ProjectLevel,
    ProjectStatus,
    Responsibility,
    Review,
    SupervisionNotice,
    Task,
)
from grids.models import Level, Region

PROGRAMME_CODE = "PILOT-2026"
KEY_TASKS = 60
UNITS = 70

THEMES = [
    ("健全", "党委领导的市域社会治理体制"), ("完善", "政府负责的社会治理工作机制"), ("推进", "综治中心规范化建设"),
    ("深化", "网格化服务管理"), ("健全", "矛盾纠纷多元化解机制"), ("推进", "诉源治理"), ("完善", "社会治安防控体系"),
    ("加强", "公共安全风险防控"), ("深化", "平安创建活动"), ("推进", "智慧治理平台建设"), ("加强", "基层群众自治"),
    ("培育", "社会组织参与治理"), ("完善", "心理服务体系"), ("加强", "特殊人群服务管理"), ("推进", "法治乡村建设"),
    ("健全", "信访工作制度"), ("完善", "应急管理体系"), ("加强", "网络空间治理"), ("深化", "移风易俗"),
    ("推进", "社区协商议事"),
]
ASPECTS = ["制度建设", "队伍建设", "保障机制"]
REQUIREMENTS = ["制定实施方案并印发", "建立工作台账", "开展专项督导", "完成试点验收", "形成可复制经验", "培训骨干力量",
                "完善考核评价办法", "建立信息共享机制", "落实经费保障"]
NARRATIVES = ["已召开专题部署会，明确责任分工。", "按计划推进，完成阶段性目标。", "组织专项检查，整改问题清单。",
              "召开推进会，协调解决堵点问题。", "形成工作简报并报送指挥中心。"]
PROJECTS = ["网格员积分制管理", "个人品牌调解室", "诉调对接“一站式”服务", "平安指数月度发布", "随手拍全民参与",
            "矛盾纠纷分级预警", "社区议事会", "“红袖标”巡防队", "智慧门禁小区", "心理服务驿站", "法律明白人培养工程",
            "物业纠纷专调委", "校园安全护学岗", "“三官一律”进社区", "老旧小区治理联席会", "夜间经济安全联防",
            "外卖骑手网格员", "电动自行车安全治理"]


def _units(city: Region) -> list[Unit]:
    """About 70 units: the city's and the districts' departments and responsible units."""
    rows = list(Unit.objects.filter(home_region__path__startswith=city.path, home_region__level__lte=Level.DISTRICT,
                                    kind__in=[UnitKind.DEPARTMENT, UnitKind.RESPONSIBLE_UNIT], is_active=True)
                .select_related("home_region").order_by("home_region__path", "code"))
    return rows[:UNITS]


@demo_step(order=700)
def ledgers(ctx: DemoContext) -> None:
    city = ctx.city
    if city is None or Programme.objects.filter(code=PROGRAMME_CODE).exists():
        ctx.log("Ledgers: the pilot programme is already there.")
        return
    rng = ctx.rng("ledgers")
    today = timezone.localdate()
    starts = (today - timedelta(days=300)).replace(day=1)
    programme = Programme.objects.create(
        code=PROGRAMME_CODE, title=f"{city.name}市域社会治理现代化试点工作方案", region=city, starts_on=starts,
        ends_on=date(starts.year + 3, starts.month, 1) - timedelta(days=1),
        description="三年试点：重点任务、具体要求、牵头领导、牵头单位与责任单位。")
    units = _units(city)
    city_units = [u for u in units if u.home_region_id == city.pk] or units
    leaders = ["".join(person_name(ctx.rng(f"ledgers/leader/{n}"))) for n in range(23)]
    leads = city_units[:38]
    made_requirements: list[Task] = []
    for k in range(KEY_TASKS):
        verb, theme = THEMES[k % len(THEMES)]
        round_ = k // len(THEMES)
        title = f"{verb}{theme}" + ("" if round_ == 0 else f"（第{round_ + 1}批）")
        lead = leads[k % len(leads)]
        key = Task.objects.add_root({"programme": programme, "code": str(k + 1), "title": title, "lead_unit": lead,
                                     "leader": leaders[k % len(leaders)], "weight": Decimal(rng.choice([1, 1, 2, 3])),
                                     "cycle": periods.Cycle.MONTHLY})
        parents = [key]
        if k % 4 == 3:  # a quarter of the key tasks have sub-tasks
            parents = []
            for s, aspect in enumerate(ASPECTS[:2], start=1):
                parents.append(Task.objects.add_child(Task.objects.get(pk=key.pk), {
                    "programme": programme, "code": f"{k + 1}.{s}", "title": f"{theme}{aspect}", "lead_unit": lead,
                    "cycle": periods.Cycle.MONTHLY}))
        count = 3 if k % 3 else 4  # 60 key tasks → 190 requirements
        for r in range(count):
            parent = parents[r % len(parents)]
            parent = Task.objects.get(pk=parent.pk)
            siblings = Task.objects.filter(path__startswith=parent.path, depth=parent.depth + 1).count()
            cycle = rng.choices([periods.Cycle.MONTHLY, periods.Cycle.QUARTERLY, periods.Cycle.ONCE], [6, 3, 1])[0]
            deadline = today + timedelta(days=rng.randint(-90, 420))
            made_requirements.append(Task.objects.add_child(parent, {
                "programme": programme, "code": f"{parent.code}.{siblings + 1}",
                "title": REQUIREMENTS[(k + r) % len(REQUIREMENTS)], "lead_unit": lead, "cycle": cycle,
                "deadline": deadline, "weight": Decimal(rng.choice([1, 1, 1, 2]))}))
    responsibilities = []
    for n, task in enumerate(made_requirements):
        chosen = {units[n % len(units)].pk: units[n % len(units)]}
        for unit in rng.sample(units, rng.choice([0, 1, 1, 2])):
            chosen.setdefault(unit.pk, unit)
        responsibilities += [Responsibility(task=task, unit=unit) for unit in chosen.values()]
    bulk_create_with_history(responsibilities, Responsibility, batch_size=BATCH_SIZE,
                             default_change_reason=CHANGE_REASON)
    responsibilities = list(Responsibility.objects.filter(task__programme=programme).select_related("task"))
    _filings(ctx, programme, responsibilities, today)
    _notices(ctx, programme, responsibilities, today)
    _projects(ctx, city)
    ctx.log(f"Ledgers: {KEY_TASKS} key tasks, {len(made_requirements)} requirements, {len(responsibilities)} "
            f"responsibilities over {len({r.unit_id for r in responsibilities})} units.")


def _filings(ctx: DemoContext, programme: Programme, responsibilities: list[Responsibility], today: date) -> None:
    rng = ctx.rng("ledgers/filings")
    now = timezone.now()
    rows = []
    for resp in responsibilities:
        task = resp.task
        diligence = rng.random()  # some units file every period, some skip, some stop
        due = periods.due_periods(task.cycle, programme.starts_on, programme.ends_on, task.deadline, today)
        percent = 0
        for index, period in enumerate(due):
            if rng.random() > 0.35 + diligence * 0.65:
                continue  # a missing filing: lagging
            percent = min(100, percent + rng.randint(5, 25))
            done = percent >= 100 or (task.deadline and period.end >= task.deadline and diligence > 0.5)
            status = ProgressStatus.COMPLETED if done else ProgressStatus.IN_PROGRESS
            filed_at = now - timedelta(days=(today - period.due).days + rng.randint(0, 4), hours=rng.randint(0, 8))
            last = index == len(due) - 1
            review = (Review.SUBMITTED if last and rng.random() < 0.5 else
                      Review.RETURNED if rng.random() < 0.05 else Review.ACCEPTED)
            rows.append(Filing(responsibility=resp, period=period.key, version=1, is_current=review != Review.RETURNED,
                               status=status, percent=100 if done else percent,
                               narrative=rng.choice(NARRATIVES), filed_at=filed_at, review=review,
                               review_comment="佐证材料不完整，请补充。" if review == Review.RETURNED else "",
                               reviewed_at=filed_at + timedelta(days=2) if review != Review.SUBMITTED else None))
            if review == Review.RETURNED:  # re-filed as version 2, the first kept
                rows.append(Filing(responsibility=resp, period=period.key, version=2, is_current=True, status=status,
                                   percent=100 if done else percent, narrative="已按要求补充佐证材料。",
                                   filed_at=filed_at + timedelta(days=3), review=Review.SUBMITTED))
            if done:
                break
    bulk_create_with_history(rows, Filing, batch_size=BATCH_SIZE, default_change_reason=CHANGE_REASON)


def _notices(ctx: DemoContext, programme: Programme, responsibilities: list[Responsibility], today: date) -> None:
    rng = ctx.rng("ledgers/notices")
    now = timezone.now()
    picked = rng.sample(responsibilities, min(16, len(responsibilities)))  # Xiangtan: 16 supervision letters
    rows = []
    for n, resp in enumerate(picked, start=1):
        issued = now - timedelta(days=rng.randint(3, 60))
        due = timezone.localdate(issued) + timedelta(days=10)
        answered = n % 3 == 0
        rows.append(SupervisionNotice(
            number=f"DB{timezone.localdate(issued).year}-{n:04d}", programme=programme, task=resp.task,
            unit=resp.unit, content=f"请针对“{resp.task.title}”进展滞后问题，于期限内书面报告整改情况。",
            due_on=due, issued_at=issued, status=NoticeStatus.RESPONDED if answered else NoticeStatus.ISSUED,
            response="已制定整改方案，明确时间节点，按期推进。" if answered else "",
            responded_at=issued + timedelta(days=5) if answered else None))
    existing = set(SupervisionNotice.objects.values_list("number", flat=True))
    bulk_create_with_history([r for r in rows if r.number not in existing], SupervisionNotice,
                             default_change_reason=CHANGE_REASON)


def _projects(ctx: DemoContext, city: Region) -> None:
    rng = ctx.rng("ledgers/projects")
    districts = list(Region.objects.filter(path__startswith=city.path, level=Level.DISTRICT))
    rows = []
    for n, title in enumerate(PROJECTS):
        district = n % 3 != 0 and districts
        region = rng.choice(districts) if district else city
        unit = Unit.objects.filter(Q(home_region=region), kind=UnitKind.DEPARTMENT).order_by("code").first()
        rows.append(InnovationProject(
            title=title, level=ProjectLevel.DISTRICT if district else ProjectLevel.CITY, region=region, unit=unit,
            status=rng.choice(ProjectStatus.values), description=f"{title}：经验做法、成效与可复制推广要点。"))
    bulk_create_with_history(rows, InnovationProject, default_change_reason=CHANGE_REASON)
