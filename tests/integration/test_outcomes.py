"""Outcomes through the application on SQLite and PostgreSQL: the budget optimiser's response
curves learn from measured campaigns (the conversions each caused over its held-out group)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from application.marketing import BudgetRequest
from domain.marketing import RfmScore
from domain.outcomes import draw_holdout
from domain.shared import Money
from infrastructure.migrations import upgrade

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def gbp(amount: str) -> Money:
    return Money(Decimal(amount), "GBP")


@pytest.fixture(autouse=True)
def migrated(storewise):
    upgrade(storewise.settings)


def test_the_response_curves_learn_from_measured_campaigns(storewise):
    storewise.catalog.list_product("MUG", "Blue Mug", "Kitchen")
    storewise.inventory.receive_stock("MUG", "main", 1000)
    people = []
    for n in range(20):
        customer = storewise.customers.register_customer(f"p{n}", f"p{n}@example.com", at=T0)
        storewise.customers.give_consent(customer, "marketing", at=T0)
        people.append(customer)
    placements = {c: ("testers", RfmScore(3, 3, 3)) for c in people}
    storewise.marketing.record_segmentation(T0, storewise.event_counts(), "test", "-", {}, placements, at=T0)
    treated, held = draw_holdout(people, 0.5, 5)
    caused = []
    for k, (spend, buyers) in enumerate(((100, 2), (200, 4), (400, 5))):
        start = T0 + timedelta(days=30 * k)
        campaign = storewise.campaigns.draft_campaign(f"Wave {k}", "testers", "email", gbp(str(spend)))
        storewise.outcomes.launch_measured_campaign(campaign, holdout_share=0.5, seed=5, attribution_days=14, at=start)
        for customer in [*treated[:buyers], held[0]]:  # one held-out buyer each time: 10% of the held out
            storewise.customers.place_order(customer, [("MUG", 1, gbp("5"))], at=start + timedelta(days=1))
        caused.append(buyers - 0.1 * 10)

    points = sorted(storewise.outcomes.measured_campaign_results(), key=lambda p: p.spend)
    assert [(p.segment, p.channel, p.spend, p.conversions) for p in points] == [
        ("testers", "email", Decimal(s), round(c)) for s, c in zip((100, 200, 400), caused)
    ]
    curves, skipped, _ = storewise.marketing_decisions.response_curves("CONVERSIONS", "GBP")
    assert not skipped and [(c.segment, c.channel) for c in curves] == [("testers", "email")]
    assert curves[0].record().observations == 3
    allocation = storewise.marketing_decisions.propose_budget(BudgetRequest(total_budget=gbp("300")))
    [line] = storewise.marketing.budget_allocation(allocation).lines
    assert (line.segment, line.channel) == ("testers", "email") and line.proposed_spend > 0
