"""The status machine of a case, its risk history, its deadlines per source and type."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from governance.core.errors import InvalidInput, NotFoundError, PermissionDeniedError, TransitionNotAllowed
from mediation import services
from mediation.actions import ACTIONS
from mediation.models import Case, DeadlineRule, RiskChange, RiskLevel, Source, Status

pytestmark = pytest.mark.django_db


def walk_to_agreement(case, actor):
    services.case_accept(case=case, actor=actor)
    services.case_record_session(case=case, actor=actor, held_at=timezone.now(), place="调解室", notes="首次调解")
    party = case.parties.get(role="respondent")
    return services.case_record_agreement(case=case, actor=actor, terms="李四赔偿张三 3000 元",
                                          signed_on=timezone.localdate(),
                                          obligations=[{"party": party.pk, "description": "支付 3000 元",
                                                        "due_on": timezone.localdate() + timedelta(days=10)}])


def test_a_case_goes_from_registration_to_closing(s11_case, people):
    case = walk_to_agreement(s11_case, people.s11_mediator)
    assert case.status == Status.AGREEMENT and case.outcome == Status.AGREEMENT
    assert list(case.mediators.all()) == [people.s11_mediator]
    services.case_record_follow_up(case=case, actor=people.s11_mediator, visited_on=timezone.localdate(),
                                   notes="已履行一半", satisfied=True)
    case = services.case_close(case=case, actor=people.s11_mediator)
    assert case.status == Status.CLOSED and case.closed_at is not None
    # a visit after closing is recorded and leaves the case closed
    case = services.case_record_follow_up(case=case, actor=people.s11_mediator, visited_on=timezone.localdate(),
                                          notes="回访：已全部履行")
    assert case.status == Status.CLOSED
    actions = list(Case.objects.get(pk=case.pk).events.values_list("action", flat=True))
    assert actions == ["register", "accept", "record_session", "record_agreement", "record_follow_up", "close",
                       "record_follow_up"]


def test_every_action_outside_its_sources_is_refused_and_changes_nothing(s11_case, people):
    for name, action in ACTIONS.items():
        if Status.REGISTERED in action.sources:
            continue
        with pytest.raises(TransitionNotAllowed):
            kwargs = {"note": "理由"}
            action.service(case=s11_case, actor=people.s11_mediator, **_minimal(name), **kwargs)
    assert Case.objects.get(pk=s11_case.pk).version == 1


def _minimal(name: str) -> dict:
    today = timezone.localdate()
    return {
        "record_session": {"held_at": timezone.now(), "place": "调解室"},
        "record_agreement": {"terms": "条款", "signed_on": today},
        "refer": {"referred_to": "court"},
        "record_follow_up": {"visited_on": today, "notes": "回访"},
        "obligation_done": {"obligation": 1},
        "set_risk": {"level": "red"},
        "add_party": {"role": "applicant", "name": "王五"},
    }.get(name, {})


def test_a_reason_is_required_where_the_table_says(s11_case, people):
    services.case_accept(case=s11_case, actor=people.s11_mediator)
    with pytest.raises(InvalidInput):
        services.case_fail(case=s11_case, actor=people.s11_mediator, note="  ")
    services.case_fail(case=s11_case, actor=people.s11_mediator, note="双方分歧过大")
    case = services.case_refer(case=s11_case, actor=people.s11_mediator, referred_to="court", note="建议诉讼")
    assert case.status == Status.REFERRED and case.outcome == Status.REFERRED and case.referred_to == "court"


def test_a_stale_version_changes_nothing(s11_case, people):
    from governance.core.errors import ConflictError

    with pytest.raises(ConflictError):
        services.case_accept(case=s11_case, actor=people.s11_mediator, expected_version=7)
    assert Case.objects.get(pk=s11_case.pk).status == Status.REGISTERED


def test_every_risk_level_change_is_kept_with_its_reason(s11_case, people):
    services.case_set_risk(case=s11_case, actor=people.s11_mediator, level=RiskLevel.YELLOW, note="情绪激动")
    services.case_set_risk(case=s11_case, actor=people.s11_mediator, level=RiskLevel.RED, note="扬言报复")
    history = list(RiskChange.objects.filter(case=s11_case).values_list("from_level", "to_level", "reason"))
    assert history[1:] == [("green", "yellow", "情绪激动"), ("yellow", "red", "扬言报复")]
    assert history[0][:2] == ("", "green")
    with pytest.raises(InvalidInput):
        services.case_set_risk(case=s11_case, actor=people.s11_mediator, level=RiskLevel.GREEN, note="")
    # the model's history too (django-simple-history): every save is a version
    assert s11_case.history.count() >= 3


def test_the_deadline_is_30_days_unless_a_rule_says_otherwise(register_case, mw, people):
    now = timezone.now()
    assert register_case(now=now).due_at == now + timedelta(days=30)
    DeadlineRule.objects.create(dispute_type=mw.labour, days=15)
    DeadlineRule.objects.create(source=Source.HOTLINE, days=20)
    DeadlineRule.objects.create(source=Source.HOTLINE, dispute_type=mw.labour, days=10)
    assert register_case(now=now, dispute_type=mw.labour).deadline_days == 15
    assert register_case(now=now, source=Source.HOTLINE).deadline_days == 20
    assert register_case(now=now, source=Source.HOTLINE, dispute_type=mw.labour).deadline_days == 10
    case = register_case(now=now, source=Source.HOTLINE)
    assert case.due_at == now + timedelta(days=20)
    assert case.warn_at == now + timedelta(days=16)  # 80 % of the time allowed


def test_a_court_referral_clock_starts_at_the_referral_date(register_case):
    referred = timezone.localdate() - timedelta(days=5)
    case = register_case(source=Source.COURT, court_name="金平区人民法院", court_case_number="(2026)粤0511民诉前调1号",
                         court_referral_date=referred)
    assert timezone.localdate(case.clock_started_at) == referred
    assert timezone.localdate(case.due_at) == referred + timedelta(days=30)
    with pytest.raises(InvalidInput) as refused:
        register_case(source=Source.COURT, court_name="金平区人民法院")
    assert "court_case_number" in refused.value.field_errors


def test_a_mediator_of_one_street_cannot_reach_another_streets_case(s12_case, people):
    with pytest.raises(NotFoundError):
        services.case_accept(case=s12_case, actor=people.s11_mediator)
    assert Case.objects.restrict(people.s11_mediator).filter(pk=s12_case.pk).exists() is False


def test_a_supervisor_sees_but_may_not_act(s11_case, people):
    assert Case.objects.restrict(people.d1_supervisor).filter(pk=s11_case.pk).exists()
    with pytest.raises(PermissionDeniedError):
        services.case_accept(case=s11_case, actor=people.d1_supervisor)


def test_an_organisation_mediates_only_in_its_territory(register_case, city, mw, people):
    with pytest.raises(InvalidInput):
        register_case(actor=people.city_admin, region=city.c211, organisation=city.unit_s11_mediation)
    with pytest.raises(InvalidInput):  # a territory the mediator has nothing to do with
        register_case(actor=people.s11_mediator, region=city.c121, organisation=mw.s12_org)


def test_mediators_must_belong_to_the_organisation(s11_case, people, mw):
    with pytest.raises(InvalidInput):
        services.case_accept(case=s11_case, actor=people.s11_mediator, mediators=[mw.s12_mediator.pk])
    services.case_accept(case=s11_case, actor=people.s11_mediator, mediators=[mw.s11_mediator2.pk])
    assert list(s11_case.mediators.all()) == [mw.s11_mediator2]


def test_bad_id_numbers_and_phones_are_refused(register_case):
    with pytest.raises(InvalidInput):
        register_case(parties=[{"role": "applicant", "name": "张三", "id_number": "12345"}])
    with pytest.raises(InvalidInput):
        register_case(parties=[{"role": "applicant", "name": "张三", "phone": "call me"}])
    assert Case.objects.count() == 0


def test_obligations_are_marked_done_once(s11_case, people):
    case = walk_to_agreement(s11_case, people.s11_mediator)
    obligation = case.agreement.obligations.get()
    services.case_obligation_done(case=case, actor=people.s11_mediator, obligation=obligation.pk, note="已付款")
    obligation.refresh_from_db()
    assert obligation.done_at is not None and obligation.done_note == "已付款"
    with pytest.raises(TransitionNotAllowed):
        services.case_obligation_done(case=case, actor=people.s11_mediator, obligation=obligation.pk)


def test_an_agreement_signed_in_the_future_is_refused(s11_case, people):
    services.case_accept(case=s11_case, actor=people.s11_mediator)
    services.case_record_session(case=s11_case, actor=people.s11_mediator, held_at=timezone.now(), place="调解室")
    with pytest.raises(InvalidInput):
        services.case_record_agreement(case=s11_case, actor=people.s11_mediator, terms="x",
                                       signed_on=date.today() + timedelta(days=3))
    assert Case.objects.get(pk=s11_case.pk).status == Status.IN_MEDIATION
