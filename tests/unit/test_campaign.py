"""Campaign: drafted with a budget, launched, paused, resumed, ended; outcomes recorded."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.campaign import BudgetRequired, Campaign, CampaignStatus
from domain.shared import InvalidArgument, InvalidMoney, InvalidQuantity, InvalidTransition, Money
from tests.unit.support import AT, LATER, Log, names, raises, refused, replay


def gbp(amount: str) -> Money:
    return Money(Decimal(amount), "GBP")


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


def drafted(budget: Money | None = None) -> Campaign:
    campaign = Campaign.draft("Spring sale", "champions", "email", gbp("500") if budget is None else budget)
    campaign.collect_events()
    return campaign


def live() -> Campaign:
    campaign = drafted()
    campaign.launch(AT)
    campaign.collect_events()
    return campaign


def paused() -> Campaign:
    campaign = live()
    campaign.pause(AT)
    campaign.collect_events()
    return campaign


def ended() -> Campaign:
    campaign = live()
    campaign.end(LATER)
    campaign.collect_events()
    return campaign


STATES = {"draft": drafted, "live": live, "paused": paused, "ended": ended}


# --- drafting --------------------------------------------------------------------------------


def test_draft_a_campaign():
    campaign = Campaign.draft(" Spring sale ", " champions ", " email ", gbp("500"))
    [event] = campaign.collect_events()
    assert isinstance(event, Campaign.Drafted)
    assert (event.name, event.segment, event.channel, event.budget) == ("Spring sale", "champions", "email", gbp("500"))
    assert (campaign.name, campaign.segment, campaign.channel, campaign.budget) == (
        "Spring sale",
        "champions",
        "email",
        gbp("500"),
    )
    assert campaign.status == CampaignStatus.DRAFT
    assert (campaign.spend, campaign.reach, campaign.conversions, campaign.revenue) == (gbp("0"), 0, 0, gbp("0"))


def test_outcome_totals_start_in_the_budgets_currency():
    campaign = drafted(eur("0"))
    assert campaign.spend == eur("0")
    assert campaign.revenue == eur("0")


@pytest.mark.parametrize("budget", [gbp("-1"), Decimal("500"), 500, None])
def test_a_budget_is_money_zero_or_more(budget):
    raises(InvalidMoney, "INVALID_MONEY", "budget", lambda: Campaign.draft("n", "s", "c", budget))


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("", "s", "c"), "name"),
        (("n", " ", "c"), "segment"),
        (("n", "s", ""), "channel"),
        (("n", "s" * 65, "c"), "segment"),
    ],
)
def test_draft_needs_name_segment_and_channel(args, field):
    raises(InvalidArgument, "INVALID_ARGUMENT", field, lambda: Campaign.draft(*args, gbp("1")))


# --- budget ----------------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["draft", "live", "paused"])
def test_set_budget_until_the_campaign_ends(state):
    campaign = STATES[state]()
    campaign.set_budget(gbp("750.50"))
    [event] = campaign.collect_events()
    assert isinstance(event, Campaign.Budgeted)
    assert event.budget == gbp("750.50")
    assert campaign.budget == gbp("750.50")
    assert campaign.status == state.upper()


def test_an_ended_campaigns_budget_cannot_change():
    campaign = ended()
    refused(campaign, InvalidTransition, "INVALID_TRANSITION", None, lambda: campaign.set_budget(gbp("1")))


def test_the_budget_keeps_its_currency():
    campaign = drafted()
    refused(campaign, InvalidMoney, "INVALID_MONEY", "budget", lambda: campaign.set_budget(eur("500")))


@pytest.mark.parametrize("budget", [gbp("-0.01"), Decimal("1"), None])
def test_set_budget_refuses_what_is_not_money_zero_or_more(budget):
    campaign = drafted()
    refused(campaign, InvalidMoney, "INVALID_MONEY", "budget", lambda: campaign.set_budget(budget))


# --- life cycle ------------------------------------------------------------------------------


def test_launch_pause_resume_end():
    campaign = drafted()
    log = Log(campaign)
    log.take()
    steps = [
        (campaign.launch, Campaign.Launched, CampaignStatus.LIVE),
        (campaign.pause, Campaign.Paused, CampaignStatus.PAUSED),
        (campaign.resume, Campaign.Resumed, CampaignStatus.LIVE),
        (campaign.pause, Campaign.Paused, CampaignStatus.PAUSED),
        (campaign.end, Campaign.Ended, CampaignStatus.ENDED),
    ]
    for command, event_class, status in steps:
        command(LATER)
        [event] = log.take()
        assert isinstance(event, event_class)
        assert event.at == LATER
        assert campaign.status == status


def test_end_a_live_campaign():
    campaign = live()
    campaign.end(LATER)
    assert names(campaign.collect_events()) == ["Ended"]
    assert campaign.status == CampaignStatus.ENDED


@pytest.mark.parametrize("budget", ["0", None])
def test_no_launch_without_a_positive_budget(budget):
    campaign = drafted(gbp("0"))
    if budget is None:  # a positive budget set back to zero
        campaign.set_budget(gbp("100"))
        campaign.set_budget(gbp("0"))
        campaign.collect_events()
    refused(campaign, BudgetRequired, "BUDGET_REQUIRED", "budget", lambda: campaign.launch(AT))
    assert campaign.status == CampaignStatus.DRAFT


def test_launch_once_a_budget_is_set():
    campaign = drafted(gbp("0"))
    campaign.set_budget(gbp("0.01"))
    campaign.launch(AT)
    assert campaign.status == CampaignStatus.LIVE


# Which commands each state refuses, and with what.
REFUSED_TRANSITIONS = [
    ("draft", "pause"),
    ("draft", "resume"),
    ("draft", "end"),
    ("live", "launch"),
    ("live", "resume"),
    ("paused", "launch"),
    ("paused", "pause"),
    ("ended", "launch"),
    ("ended", "pause"),
    ("ended", "resume"),
    ("ended", "end"),
]


@pytest.mark.parametrize(("state", "command"), REFUSED_TRANSITIONS)
def test_transitions_that_do_not_apply_are_refused(state, command):
    campaign = STATES[state]()
    refused(campaign, InvalidTransition, "INVALID_TRANSITION", None, lambda: getattr(campaign, command)(LATER))
    assert campaign.status == state.upper()


# --- outcomes --------------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["live", "paused", "ended"])
def test_outcomes_are_added_up_once_launched(state):
    campaign = STATES[state]()
    campaign.record_outcome(gbp("120.00"), 1000, 30, gbp("900.00"), AT)
    campaign.record_outcome(gbp("80.50"), 500, 5, gbp("100.25"), LATER)
    first, second = campaign.collect_events()
    assert isinstance(first, Campaign.OutcomeRecorded)
    assert (first.spend, first.reach, first.conversions, first.revenue, first.at) == (
        gbp("120.00"),
        1000,
        30,
        gbp("900.00"),
        AT,
    )
    assert (second.spend, second.reach, second.conversions, second.revenue, second.at) == (
        gbp("80.50"),
        500,
        5,
        gbp("100.25"),
        LATER,
    )
    assert (campaign.spend, campaign.reach, campaign.conversions, campaign.revenue) == (
        gbp("200.50"),
        1500,
        35,
        gbp("1000.25"),
    )
    assert campaign.status == state.upper()


def test_an_outcome_of_nothing_is_accepted():
    campaign = live()
    campaign.record_outcome(gbp("0"), 0, 0, gbp("0"), AT)
    assert names(campaign.collect_events()) == ["OutcomeRecorded"]


def test_conversions_may_equal_reach():
    campaign = live()
    campaign.record_outcome(gbp("1"), 10, 10, gbp("1"), AT)
    assert (campaign.reach, campaign.conversions) == (10, 10)


def test_no_outcome_before_launch():
    campaign = drafted()
    refused(
        campaign,
        InvalidTransition,
        "INVALID_TRANSITION",
        None,
        lambda: campaign.record_outcome(gbp("1"), 1, 0, gbp("0"), AT),
    )


def test_conversions_cannot_exceed_reach():
    campaign = live()
    refused(
        campaign,
        InvalidQuantity,
        "INVALID_QUANTITY",
        "conversions",
        lambda: campaign.record_outcome(gbp("1"), 10, 11, gbp("1"), AT),
    )
    assert (campaign.reach, campaign.conversions) == (0, 0)


@pytest.mark.parametrize("field", ["spend", "revenue"])
@pytest.mark.parametrize("money", [eur("1"), gbp("-1"), Decimal("1")], ids=["other-currency", "negative", "not-money"])
def test_spend_and_revenue_are_money_in_the_budgets_currency_zero_or_more(field, money):
    campaign = live()
    kwargs = {"spend": gbp("1"), "reach": 1, "conversions": 0, "revenue": gbp("1"), "at": AT, field: money}
    refused(campaign, InvalidMoney, "INVALID_MONEY", field, lambda: campaign.record_outcome(**kwargs))


@pytest.mark.parametrize("field", ["reach", "conversions"])
@pytest.mark.parametrize("count", [-1, True, 1.5, "3"])
def test_reach_and_conversions_are_whole_numbers_zero_or_more(field, count):
    campaign = live()
    kwargs = {"spend": gbp("1"), "reach": 5, "conversions": 0, "revenue": gbp("1"), "at": AT, field: count}
    refused(campaign, InvalidQuantity, "INVALID_QUANTITY", field, lambda: campaign.record_outcome(**kwargs))


# --- replay ----------------------------------------------------------------------------------


def test_replaying_a_campaigns_events_rebuilds_it():
    campaign = Campaign.draft("Spring sale", "champions", "email", gbp("0"))
    log = Log(campaign)
    campaign.set_budget(gbp("500"))
    campaign.launch(AT)
    campaign.record_outcome(gbp("100"), 1000, 10, gbp("400"), AT)
    campaign.pause(AT)
    campaign.resume(LATER)
    campaign.record_outcome(gbp("50"), 200, 2, gbp("80"), LATER)
    campaign.end(LATER)
    assert names(log.take()) == [
        "Drafted",
        "Budgeted",
        "Launched",
        "OutcomeRecorded",
        "Paused",
        "Resumed",
        "OutcomeRecorded",
        "Ended",
    ]
    log.assert_replays()
    rebuilt = replay(log.events)
    assert (rebuilt.status, rebuilt.spend, rebuilt.reach, rebuilt.conversions, rebuilt.revenue) == (
        CampaignStatus.ENDED,
        gbp("150"),
        1200,
        12,
        gbp("480"),
    )


def test_conversions_are_checked_against_total_reach():
    campaign = live()
    campaign.record_outcome(gbp("10"), 100, 0, gbp("0"), AT)
    campaign.record_outcome(gbp("5"), 0, 5, gbp("50"), LATER)
    assert (campaign.reach, campaign.conversions) == (100, 5)
    refused(
        campaign,
        InvalidQuantity,
        "INVALID_QUANTITY",
        "conversions",
        lambda: campaign.record_outcome(gbp("1"), 0, 96, gbp("0"), LATER),
    )


def test_a_live_campaigns_budget_cannot_drop_to_zero():
    campaign = live()
    refused(campaign, BudgetRequired, "BUDGET_REQUIRED", "budget", lambda: campaign.set_budget(gbp("0")))
    paused_campaign = paused()
    paused_campaign.set_budget(gbp("0"))
    assert paused_campaign.budget == gbp("0")
