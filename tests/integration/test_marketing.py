"""Marketing on SQLite and PostgreSQL: segments from the event log (with moves an auditor can
see), and a budget allocation's flow: proposed from recorded campaign outcomes, approved,
campaigns drafted with its budgets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from application.marketing import BudgetRequest
from domain.marketing import AllocationInfeasible, InsufficientData, Objective, allocated_campaign_id
from domain.shared import InvalidTransition, Money
from infrastructure.migrations import upgrade
from projections.marketing_tables import budget_allocation_lines, budget_allocations, customer_segments, segment_moves

GBP = lambda amount: Money(Decimal(amount), "GBP")  # noqa: E731
T0 = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture
def marketing(storewise):
    upgrade(storewise.settings)
    return storewise.marketing_decisions, storewise.read_side


def shop_with_customers(storewise, orders_by_customer: dict[str, list[int]]) -> dict[str, object]:
    """Customers who ordered a mug on the given days after T0 (amount grows with the count)."""
    storewise.catalog.list_product("MUG", "Blue Mug", "Kitchen")
    storewise.inventory.receive_stock("MUG", "main", 1000)
    ids = {}
    for name, days in orders_by_customer.items():
        ids[name] = storewise.customers.register_customer(name.title(), f"{name}@example.com", at=T0)
        for day in days:
            storewise.customers.place_order(ids[name], [("MUG", 1, GBP("5"))], at=T0 + timedelta(days=day))
    return ids


def segments_of(engine) -> dict:
    with engine.connect() as connection:
        return {r.customer_id: r for r in connection.execute(sa.select(customer_segments))}


def test_customers_are_scored_placed_in_segments_and_their_moves_recorded(storewise, marketing):
    use, runner = marketing
    # Five customers, one per quintile of recency and of frequency: "fan" ordered most and lately.
    ids = shop_with_customers(
        storewise,
        {
            "fan": [10, 20, 30, 40, 95],
            "regular": [5, 15, 25, 85],
            "newbie": [99],
            "sleeper": [1, 2, 3],
            "gone": [0],
        },
    )
    runner.run_until_idle()
    as_of = T0 + timedelta(days=100)
    first = use.refresh_segments(as_of=as_of)
    runner.run_until_idle()
    rows = segments_of(runner.engine)
    scores = {name: (rows[i].recency, rows[i].frequency) for name, i in ids.items()}
    # Equal values share the lower score: "newbie" and "gone" both ordered once.
    assert scores == {"newbie": (5, 1), "fan": (4, 5), "regular": (3, 4), "sleeper": (2, 3), "gone": (1, 1)}
    segments = {name: rows[i].segment for name, i in ids.items()}
    assert segments == {"newbie": "new", "fan": "loyal", "regular": "loyal", "sleeper": "at risk", "gone": "lost"}
    run = storewise.marketing.repository.get(first)
    assert run.data_position == storewise.event_counts() | {"Marketing": 0} and run.moved == 0
    assert run.counts == {"new": 1, "loyal": 2, "at risk": 1, "lost": 1}

    # "gone" comes back with three orders: they move, and the move is visible with its date.
    for day in (101, 102, 103):
        storewise.customers.place_order(ids["gone"], [("MUG", 1, GBP("5"))], at=T0 + timedelta(days=day))
    runner.run_until_idle()
    later = T0 + timedelta(days=104)
    second = use.refresh_segments(as_of=later)
    runner.run_until_idle()
    assert storewise.marketing.repository.get(second).moved >= 1
    membership = storewise.marketing.segment_membership(ids["gone"])
    assert membership.segment != "lost" and membership.since == later
    with runner.engine.connect() as connection:
        moves = connection.execute(
            sa.select(segment_moves.c.from_segment, segment_moves.c.to_segment, segment_moves.c.at)
            .where(segment_moves.c.customer_id == ids["gone"])
            .order_by(segment_moves.c.id)
        ).all()
    assert [(m.from_segment, m.at) for m in moves] == [(None, as_of), ("lost", later)]
    assert moves[-1].to_segment == membership.segment
    # Nothing moved that did not change: a third run with the same data records no move.
    third = use.refresh_segments(as_of=later)
    assert storewise.marketing.repository.get(third).moved == 0


def run_campaigns(storewise, history: dict[tuple[str, str], list[tuple[str, int, str]]]) -> None:
    """Launch a campaign per (segment, channel, spend) and record its outcome."""
    campaigns = storewise.campaigns
    for (segment, channel), results in history.items():
        for n, (spend, conversions, revenue) in enumerate(results):
            campaign = campaigns.draft_campaign(f"{segment} {channel} {n}", segment, channel, GBP(spend))
            campaigns.launch_campaign(campaign, at=T0 + timedelta(days=n))
            campaigns.record_campaign_outcome(
                campaign, GBP(spend), 10 * conversions + 100, conversions, GBP(revenue), at=T0 + timedelta(days=n)
            )


def conversions_of(a: float, k: float):
    import math

    return lambda x: round(a * math.log1p(x / k))


def test_an_allocation_is_proposed_from_outcomes_approved_and_its_campaigns_drafted(storewise, marketing):
    use, runner = marketing
    strong, weak = conversions_of(400, 200), conversions_of(100, 200)
    spends = [100, 200, 400, 800, 1600]
    history = {
        ("champions", "email"): [(str(s), strong(s), str(10 * strong(s))) for s in spends],
        ("lost", "email"): [(str(s), weak(s), str(10 * weak(s))) for s in spends],
        ("champions", "social"): [(str(s), weak(s), str(10 * weak(s))) for s in spends],
        ("new", "display"): [("50", 3, "30")],  # too few outcomes for a curve
    }
    run_campaigns(storewise, history)
    runner.run_until_idle()

    request = BudgetRequest(
        total_budget=GBP("1000"), objective=Objective.CONVERSIONS, channel_min={"social": Decimal("100")}
    )
    allocation_id = use.propose_budget(request)
    runner.run_until_idle()
    allocation = storewise.marketing.budget_allocation(allocation_id)
    lines = {(line.segment, line.channel): line for line in allocation.lines}
    assert set(lines) == {("champions", "email"), ("lost", "email"), ("champions", "social")}
    total = sum(line.proposed_spend for line in lines.values())
    assert Decimal("999") <= total <= Decimal("1000")
    assert lines[("champions", "social")].proposed_spend >= Decimal("99.99")  # the channel minimum
    # The line that responds four times as strongly gets the most.
    assert lines[("champions", "email")].proposed_spend > 2 * lines[("lost", "email")].proposed_spend
    assert allocation.expected_outcome >= allocation.current_outcome
    with runner.engine.connect() as connection:
        row = connection.execute(sa.select(budget_allocations).where(budget_allocations.c.id == allocation_id)).one()
    assert row.status == "PROPOSED" and row.solver["status"] == "OPTIMAL"
    assert row.data_position["Campaigns"] == storewise.event_counts()["Campaigns"]
    assert "new|display" in row.constraints["skipped_lines"] and len(row.curves) == 3

    use.approve_budget(allocation_id)
    runner.run_until_idle()
    for (segment, channel), line in lines.items():
        campaign = storewise.campaigns.campaign(allocated_campaign_id(allocation_id, segment, channel))
        assert (campaign.segment, campaign.channel, campaign.budget) == (
            segment,
            channel,
            GBP(str(line.proposed_spend)),
        )
        assert campaign.status == "DRAFT"
    with runner.engine.connect() as connection:
        linked = (
            connection.execute(
                sa.select(budget_allocation_lines.c.campaign_id).where(
                    budget_allocation_lines.c.allocation_id == allocation_id
                )
            )
            .scalars()
            .all()
        )
        status = connection.execute(
            sa.select(budget_allocations.c.status).where(budget_allocations.c.id == allocation_id)
        ).scalar()
    assert None not in linked and status == "APPROVED"
    with pytest.raises(InvalidTransition):
        use.approve_budget(allocation_id)

    second = use.propose_budget(BudgetRequest(total_budget=GBP("500")))
    storewise.marketing.reject_budget_allocation(second, "not this quarter")
    assert storewise.marketing.budget_allocation(second).status == "REJECTED"


def test_impossible_requests_are_refused_with_a_reason(storewise, marketing):
    use, runner = marketing
    with pytest.raises(InsufficientData):
        use.propose_budget(BudgetRequest(total_budget=GBP("100")))
    run_campaigns(storewise, {("champions", "email"): [("100", 5, "50"), ("200", 8, "80"), ("400", 11, "110")]})
    runner.run_until_idle()
    with pytest.raises(AllocationInfeasible, match="channel minimums"):
        use.propose_budget(BudgetRequest(total_budget=GBP("100"), channel_min={"email": Decimal("500")}))
    before = storewise.event_counts()["Marketing"]
    with pytest.raises(AllocationInfeasible):
        use.propose_budget(BudgetRequest(total_budget=GBP("100"), segment_min={"nobody": Decimal("1")}))
    assert storewise.event_counts()["Marketing"] == before  # nothing recorded
