"""Marketing's domain: RFM scores, segment rules, memberships that move, budget allocations
proposed, approved or rejected; and the campaign's holdout group."""

from __future__ import annotations

from decimal import Decimal
from uuid import uuid4

import pytest

from domain.campaign import Campaign
from domain.marketing import (
    UNSEGMENTED,
    AllocationLine,
    AllocationStatus,
    BudgetAllocation,
    CustomerScore,
    InsufficientData,
    InvalidSegmentRules,
    PurchaseScoring,
    ResponseCurve,
    RfmScore,
    SegmentMembership,
    SegmentRule,
    allocated_campaign_id,
    check_rules,
    segment_of,
)
from domain.shared import InvalidArgument, InvalidMoney, InvalidQuantity, InvalidTransition, Money
from tests.unit.support import AT, LATER, names, replay

RULES = [
    SegmentRule("champions", recency=(5, 5), frequency=(4, 5)),
    SegmentRule("big spenders", monetary=(5, 5)),
    SegmentRule("lost", recency=(1, 1), frequency=(1, 2)),
]


def gbp(amount: str) -> Money:
    return Money(Decimal(amount), "GBP")


def test_an_rfm_score_is_three_quintiles():
    assert RfmScore(5, 4, 3).code == "543"
    for bad in (0, 6, 2.5, True):
        with pytest.raises(InvalidArgument):
            RfmScore(bad, 1, 1)  # type: ignore[arg-type]


def test_the_first_matching_rule_names_the_segment():
    assert segment_of(RfmScore(5, 5, 5), RULES) == "champions"  # champions is tried before big spenders
    assert segment_of(RfmScore(3, 3, 5), RULES) == "big spenders"
    assert segment_of(RfmScore(1, 2, 1), RULES) == "lost"
    assert segment_of(RfmScore(3, 3, 3), RULES) == UNSEGMENTED


def test_malformed_rules_are_refused():
    with pytest.raises(InvalidSegmentRules):
        SegmentRule("odd", recency=(4, 2))
    with pytest.raises(InvalidSegmentRules):
        SegmentRule("odd", frequency=(0, 5))
    with pytest.raises(InvalidSegmentRules, match="more than once"):
        check_rules([SegmentRule("a"), SegmentRule("a")])
    with pytest.raises(InvalidSegmentRules):
        check_rules([])


def test_a_membership_records_a_move_only_when_the_segment_changes():
    customer, run = uuid4(), uuid4()
    membership = SegmentMembership.join(customer, "new", RfmScore(5, 1, 1), run, AT)
    assert membership.id == SegmentMembership.create_id(customer)
    assert membership.place("new", RfmScore(5, 1, 2), uuid4(), LATER) is False
    assert membership.place("loyal", RfmScore(4, 4, 4), uuid4(), LATER) is True
    events = membership.collect_events()
    assert names(events) == ["Joined", "Moved"]
    moved = events[1]
    assert (moved.customer_id, moved.from_segment, moved.to_segment, moved.at) == (customer, "new", "loyal", LATER)
    again = replay(events)
    assert (again.segment, again.since, again.score) == ("loyal", LATER, RfmScore(4, 4, 4))


def line(segment: str, channel: str, proposed: str, current: str = "10") -> AllocationLine:
    return AllocationLine(segment, channel, Decimal(current), Decimal(proposed), 1.0, 2.0, 1.5, 2.5, 0.1, 0.01)


def propose(lines: list[AllocationLine], budget: str = "100", objective: str = "CONVERSIONS") -> BudgetAllocation:
    curve = ResponseCurve("champions", "email", "log", {"a": 1.0, "k": 1.0}, [[0.0, 0.0], [0.0, 0.0]], 3, 0.9)
    return BudgetAllocation.propose(
        gbp(budget),
        objective,
        {"Campaigns": 7},
        {},
        [curve],
        {"name": "GLOP", "status": "OPTIMAL"},
        lines,
        2.0,
        1.0,
        AT,
    )


def test_an_approved_allocation_names_a_campaign_per_line_with_spend():
    allocation = propose([line("champions", "email", "60"), line("lost", "social", "40"), line("new", "email", "0")])
    ids = allocation.approve({("champions", "email"): "Champions: loyalty points"}, LATER)
    assert allocation.status == AllocationStatus.APPROVED
    assert ids == [
        allocated_campaign_id(allocation.id, "champions", "email"),
        allocated_campaign_id(allocation.id, "lost", "social"),
    ]
    approved = allocation.collect_events()[-1]
    assert [(c["name"], c["budget"]) for c in approved.campaigns] == [
        ("Champions: loyalty points", gbp("60")),
        ("lost via social", gbp("40")),
    ]
    with pytest.raises(InvalidTransition):
        allocation.approve({}, LATER)
    with pytest.raises(InvalidTransition):
        allocation.reject("too late", LATER)


def test_a_rejected_allocation_stays_rejected():
    allocation = propose([line("champions", "email", "100")])
    with pytest.raises(InvalidArgument):
        allocation.reject("  ", LATER)
    allocation.reject("not this quarter", LATER)
    assert replay(allocation.collect_events()).status == AllocationStatus.REJECTED
    with pytest.raises(InvalidTransition):
        allocation.approve({}, LATER)


def test_a_proposal_must_be_a_split_of_its_budget():
    with pytest.raises(InvalidArgument, match="exceed"):
        propose([line("champions", "email", "60"), line("lost", "email", "41")])
    with pytest.raises(InvalidArgument):
        propose([line("champions", "email", "-1")])
    with pytest.raises(InsufficientData):
        propose([])
    with pytest.raises(InvalidArgument):
        propose([line("champions", "email", "1")], budget="0")
    with pytest.raises(InvalidArgument):
        propose([line("champions", "email", "1")], objective="LIKES")


def test_a_campaign_can_be_drafted_with_an_id_chosen_beforehand_and_measures_its_holdout():
    chosen = uuid4()
    campaign = Campaign.draft("Champions", "champions", "email", gbp("50"), campaign_id=chosen)
    assert campaign.id == chosen
    with pytest.raises(InvalidTransition):
        campaign.record_holdout(100, 1, gbp("10"), AT)
    campaign.launch(AT)
    campaign.record_holdout(100, 3, gbp("30"), LATER)
    campaign.record_holdout(50, 1, gbp("5"), LATER)
    assert (campaign.holdout_size, campaign.holdout_conversions, campaign.holdout_revenue) == (150, 4, gbp("35"))
    with pytest.raises(InvalidQuantity):
        campaign.record_holdout(0, 200, gbp("0"), LATER)
    with pytest.raises(InvalidMoney):
        campaign.record_holdout(10, 0, Money(Decimal("1"), "EUR"), LATER)
    assert replay(campaign.collect_events()).holdout_size == 150


def test_a_purchase_scoring_records_one_score_per_customer():
    ann, bob, model = uuid4(), uuid4(), uuid4()
    scores = [CustomerScore(ann, 0.8, 0.1, 2.0), CustomerScore(bob, 0.05)]
    run = PurchaseScoring.run(AT, {"Customers": 9}, model, "v1", 30, scores, LATER)
    events = run.collect_events()
    assert names(events) == ["Run"] and events[0].scores == scores and events[0].model_id == model
    again = replay(events)
    assert (again.model_version, again.horizon_days, again.scores[1].churn_risk) == ("v1", 30, None)


@pytest.mark.parametrize(
    "make",
    [
        lambda c: CustomerScore(c, 1.2),
        lambda c: CustomerScore(c, float("nan")),
        lambda c: CustomerScore(c, 0.5, churn_risk=-0.1),
        lambda c: CustomerScore(c, 0.5, expected_orders=-1.0),
        lambda c: PurchaseScoring.run(AT, {}, uuid4(), "v1", 0, [], LATER),
        lambda c: PurchaseScoring.run(AT, {}, uuid4(), " ", 30, [], LATER),
        lambda c: PurchaseScoring.run(AT, {}, uuid4(), "v1", 30, [CustomerScore(c, 0.1), CustomerScore(c, 0.2)], LATER),
    ],
)
def test_scores_outside_their_range_and_a_customer_scored_twice_are_refused(make):
    with pytest.raises(InvalidArgument):
        make(uuid4())
