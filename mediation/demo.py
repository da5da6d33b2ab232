"""Demo mediation: a second street mediator, and cases in every state for every street committee.

A ``seed_demo`` step (order 600), after the incidents. The cases go through the services, as people would
have made them, with their times in the past (``now=``): registered over the last 60 days, accepted, with
sessions, agreements and obligations, follow-ups, failures, withdrawals, referrals, closings, risk levels,
court referrals, and a few dispute incidents of the first street transferred from the command centre.
Deterministic (its own random stream); when demo cases exist already, the step only says so.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from governance.access import services as access_services
from governance.access.demo import person_name
from governance.access.models import Role, RoleAssignment, Unit, UnitKind
from governance.core.authority import SYSTEM
from governance.core.demo import DemoContext, DemoLogin, demo_step
from grids.models import Level, Region
from mediation import services
from mediation.models import Case, DisputeType, PartyRole, ReferredTo, RiskLevel, Source

CASES_PER_ORGANISATION = 4
# The path a demo case takes, by its index: every status appears in every district.
PLANS = ["registered", "accepted", "in_mediation", "agreement", "follow_up", "closed_agreement", "failed",
         "withdrawn", "referred", "closed_failed", "overdue", "court"]
RISK_REASONS = {"green": "", "yellow": "当事人情绪较为激动", "red": "双方多次发生冲突，有激化风险"}
AGREEMENT_TERMS = "经调解，双方自愿达成如下协议：被申请人向申请人支付补偿款，双方不再就此事发生争议。"
PLACES = ["调解室", "社区党群服务中心", "街道综治中心", "当事人家中", "村委会会议室"]
TITLES = {
    "01": "夫妻离婚财产分割纠纷", "02": "邻里排水管道纠纷", "03": "小区停车位物业纠纷", "04": "工地工资拖欠纠纷",
    "05": "旧村改造补偿纠纷", "06": "术后并发症赔偿纠纷", "07": "电动车碰撞赔偿纠纷", "08": "网购退款纠纷",
    "09": "装修工程款纠纷", "10": "租房押金退还纠纷", "11": "民间借贷纠纷", "99": "宅基地界址纠纷",
}


def _phone(rng) -> str:
    return "1" + rng.choice("3589") + "".join(rng.choice("0123456789") for _ in range(9))


def _id_number(rng, region_code: str) -> str:
    birth = f"{rng.randint(1955, 2000)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    return (region_code[:6] + birth + "".join(rng.choice("0123456789") for _ in range(3)) + rng.choice("0123456789X"))


def _second_mediator(ctx: DemoContext, street: Region) -> None:
    """``mediator2``: the second street's committee, so the demo shows two streets' mediators side by side."""
    organisation = Unit.objects.filter(kind=UnitKind.MEDIATION_ORG, home_region=street).first()
    if organisation is None:
        return
    user, _created = get_user_model().objects.get_or_create(username="mediator2", defaults={
        "first_name": "丽华", "last_name": "庄", "password": ctx.password_hash})
    access_services.role_assign(acting_user=SYSTEM, user=user, role=Role.MEDIATOR, unit=organisation)
    ctx.logins.append(DemoLogin(username="mediator2", full_name="庄丽华", role=Role.MEDIATOR,
                                role_label=str(Role.MEDIATOR.label),
                                where=f"{organisation.name} ({organisation.code})"))


@demo_step(order=600)
def mediation_cases(ctx: DemoContext) -> None:
    """Mediation cases in every state for every mediation organisation of a street, and a few transfers."""
    district = Region.objects.filter(path__startswith=ctx.city.path, level=Level.DISTRICT).order_by("path").first()
    streets = list(Region.objects.filter(path__startswith=district.path, level=Level.STREET).order_by("path")[:2])
    if len(streets) > 1:
        _second_mediator(ctx, streets[1])
    if Case.objects.exists():
        ctx.log(f"Mediation cases: {Case.objects.count()} already there.")
        return
    rng = ctx.rng("mediation")
    now = timezone.now()
    types = list(DisputeType.objects.filter(is_active=True))
    mediators = {}
    for assignment in RoleAssignment.objects.active().filter(role=Role.MEDIATOR).select_related("user"):
        mediators.setdefault(assignment.unit_id, assignment.user)
    organisations = list(Unit.objects.filter(kind=UnitKind.MEDIATION_ORG, is_active=True,
                                             home_region__level=Level.STREET).select_related("home_region")
                         .order_by("home_region__path"))
    court = Unit.objects.filter(kind=UnitKind.COURT).first()
    made = 0
    for n, organisation in enumerate(organisations):
        communities = list(Region.objects.filter(path__startswith=organisation.home_region.path,
                                                 level=Level.COMMUNITY).order_by("path")[:5])
        actor = mediators.get(organisation.pk, SYSTEM)
        for k in range(CASES_PER_ORGANISATION):
            plan = PLANS[(n * CASES_PER_ORGANISATION + k) % len(PLANS)]
            _make_case(rng, plan, organisation, rng.choice(communities or [organisation.home_region]), actor,
                       rng.choice(types), now, court)
            made += 1
    made += _transfers(ctx, rng, ctx.city, types)
    ctx.log(f"Mediation cases: {made} created.")


def _make_case(rng, plan, organisation, region, actor, dispute_type, now, court) -> Case:
    days_ago = 45 if plan == "overdue" else rng.randint(1, 28) if plan in ("registered", "accepted") else \
        rng.randint(10, 60)
    start = now - timedelta(days=days_ago, hours=rng.randint(0, 8))
    risk = rng.choices([RiskLevel.GREEN, RiskLevel.YELLOW, RiskLevel.RED], weights=[6, 3, 1])[0]
    family_a, given_a = person_name(rng)
    family_b, given_b = person_name(rng)
    court_fields = {}
    source = rng.choice([Source.WALK_IN, Source.WALK_IN, Source.HOTLINE, Source.PETITION])
    if plan == "court":
        source = Source.COURT
        court_fields = {"court_name": court.name if court else "人民法院",
                        "court_case_number": f"(2026)粤05民诉前调{rng.randint(100, 999)}号",
                        "court_referral_date": timezone.localdate(start) - timedelta(days=2)}
    case = services.case_register(
        acting_user=SYSTEM, title=TITLES.get(dispute_type.code, dispute_type.name), dispute_type=dispute_type,
        region=region, organisation=organisation, source=source,
        summary="当事人到场反映纠纷情况，请求调解。", amount=rng.choice([None, 3000, 12000, 58000]),
        risk_level=risk, risk_reason=RISK_REASONS[risk],
        parties=[{"role": PartyRole.APPLICANT, "name": family_a + given_a, "phone": _phone(rng),
                  "id_number": _id_number(rng, region.code)},
                 {"role": PartyRole.RESPONDENT, "name": family_b + given_b, "phone": _phone(rng),
                  "id_number": _id_number(rng, region.code)}],
        now=start, **court_fields)
    if plan == "registered":
        return case
    step = start + timedelta(hours=rng.randint(2, 20))
    services.case_accept(case=case, actor=actor, now=step)
    if plan == "accepted":
        return case
    if plan == "withdrawn":
        services.case_withdraw(case=case, actor=actor, note="申请人主动撤回调解申请", now=step + timedelta(days=1))
        return case
    step += timedelta(days=rng.randint(1, 4))
    services.case_record_session(case=case, actor=actor, held_at=step, place=rng.choice(PLACES),
                                 attendees="双方当事人、调解员", notes="听取双方陈述，释法说理。", now=step)
    if plan in ("in_mediation", "overdue", "court"):
        return case
    step += timedelta(days=rng.randint(1, 5))
    if plan in ("failed", "closed_failed", "referred"):
        services.case_fail(case=case, actor=actor, note="双方分歧较大，调解不成", now=step)
        if plan == "referred":
            services.case_refer(case=case, actor=actor, referred_to=ReferredTo.COURT, note="引导当事人诉讼",
                                now=step + timedelta(hours=2))
        if plan == "closed_failed":
            services.case_close(case=case, actor=actor, now=step + timedelta(days=1))
        return case
    respondent = case.parties.get(role=PartyRole.RESPONDENT)
    services.case_record_agreement(
        case=case, actor=actor, terms=AGREEMENT_TERMS,
        signed_on=timezone.localdate(step), now=step,
        obligations=[{"party": respondent.pk, "description": "支付补偿款",
                      "due_on": timezone.localdate(step) + timedelta(days=rng.choice([5, 15, 30]))}])
    if plan == "agreement":
        return case
    visit = step + timedelta(days=rng.randint(3, 7))
    services.case_record_follow_up(case=case, actor=actor, visited_on=timezone.localdate(min(visit, now)),
                                   method="电话回访", notes="协议履行情况良好。", satisfied=True, now=min(visit, now))
    if plan == "closed_agreement":
        services.case_close(case=case, actor=actor, now=min(visit + timedelta(hours=1), now))
    return case


def _transfers(ctx: DemoContext, rng, territory: Region | None, types) -> int:
    """A few reported or accepted dispute incidents of the city, transferred by its command centre to
    the committee of their street."""
    from incidents.models import Incident, Status

    actor = get_user_model().objects.filter(username="city_command").first()
    if territory is None or actor is None:
        return 0
    committees = {u.home_region.path: u for u in Unit.objects.filter(
        kind=UnitKind.MEDIATION_ORG, home_region__path__startswith=territory.path,
        home_region__level=Level.STREET).select_related("home_region")}
    disputes = (Incident.objects.filter(grid__path__startswith=territory.path,
                                        status__in=[Status.REPORTED, Status.ACCEPTED],
                                        category__handler_unit_kind=UnitKind.MEDIATION_ORG)
                .exclude(mediation_case__isnull=False).select_related("grid").order_by("pk")[:4])
    made = 0
    street_length = Region.steplen * Level.STREET
    for incident in disputes:
        organisation = committees.get(incident.grid.path[:street_length])
        if organisation is None:
            continue
        services.case_transfer_from_incident(acting_user=actor, incident=incident, dispute_type=rng.choice(types),
                                             organisation=organisation, note="矛盾纠纷，转调解组织处理")
        made += 1
    return made
