"""A little shop for the access tests: two customers with an order and a review each, a
published review, a supplier with a purchase order, a campaign, a proposed budget allocation,
and a user of every role (the customer user is the "own" customer). Not a test module itself."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from application.replenishment import ForecastOutcome, PlanOutcome
from domain.inventory import SupplierTerms
from domain.marketing import AllocationLine, ResponseCurve
from domain.replenishment import ForecastSummary, PlanLine
from domain.shared import Money
from graphql_api.core.ids import to_global_id
from projections.tables import stock_levels

from .conftest import USER_ROLES, Api

OWN_EMAIL = "own.customer@example.com"
OTHER_EMAIL = "pat.other@example.com"


def gbp(amount: str) -> Money:
    return Money(Decimal(amount), "GBP")


@dataclass
class Shop:
    """Global IDs of what the shop holds, and a client per role."""

    ids: dict[str, str]
    clients: dict[str, Api] = field(default_factory=dict)

    def __getitem__(self, key: str) -> str:
        return self.ids[key]


async def make_shop(api: Api) -> Shop:
    storewise = api.storewise

    def write() -> dict[str, Any]:
        customers, catalog, inventory, feedback = (
            storewise.customers,
            storewise.catalog,
            storewise.inventory,
            storewise.feedback,
        )
        own = customers.register_customer("Olive Own", OWN_EMAIL, phone="+44 7700 900111", address="1 Own Street")
        other = customers.register_customer("Pat Other", OTHER_EMAIL, phone="+44 7700 900222", address="2 Other Road")
        victim = customers.register_customer("Vic Tim", "victim@example.com")
        product = catalog.list_product("MUG", "Blue Mug", "Kitchen")
        catalog.price_product(product, gbp("4.50"))
        catalog.publish_product(product)
        inventory.receive_stock("MUG", "main", 100)
        own_order = customers.place_order(own, [("MUG", 1, gbp("4.50"))])
        other_order = customers.place_order(other, [("MUG", 2, gbp("4.50"))])
        own_review = feedback.submit_review(product, own, 5, "Mine, not yet moderated")
        other_review = feedback.submit_review(product, other, 1, "Theirs, not yet moderated")
        published = feedback.submit_review(product, other, 4, "Theirs, published")
        feedback.publish_review(published)
        supplier = inventory.register_supplier("Acme")
        inventory.agree_supplier_terms(supplier, "MUG", SupplierTerms(7, 1, 1, gbp("1.20")))
        purchase_order = inventory.place_purchase_order(supplier, "main", {"MUG": 5})
        campaign = storewise.campaigns.draft_campaign("Spring", "champions", "email", gbp("100"))
        allocation = storewise.marketing.propose_budget_allocation(
            total_budget=gbp("100"),
            objective="CONVERSIONS",
            data_position=storewise.event_counts(),
            constraints={},
            curves=[
                ResponseCurve("champions", "email", "log", {"a": 10.0, "k": 50.0}, [[0.0, 0.0], [0.0, 0.0]], 3, 0.9)
            ],
            solver={"name": "GLOP", "status": "OPTIMAL", "seconds": 0.0, "pieces": 1},
            lines=[AllocationLine("champions", "email", Decimal("50"), Decimal("100"), 5.0, 7.0, 6.0, 8.0, 0.07, 0.03)],
            expected_outcome=7.0,
            current_outcome=5.0,
            at=datetime.now(UTC),
        )
        inventory.record_forecast_run(
            ForecastOutcome(
                None,
                {},
                "fixture",
                {("MUG", "main"): ForecastSummary("fixture", date(2024, 1, 1), (1.0,) * 14, {"p90": 1.0})},
            ),
            storewise.event_counts(),
        )
        plan = inventory.record_replenishment_plan(
            PlanOutcome(
                ForecastOutcome(None, {}, "fixture", {}),
                {},
                {},
                {"status": "OPTIMAL"},
                [
                    PlanLine(
                        "MUG",
                        "main",
                        supplier,
                        5,
                        gbp("1.20"),
                        0,
                        5,
                        4.0,
                        {"p90": 6.0},
                        1.0,
                        0.9,
                        0.1,
                        0.2,
                        "fixture",
                        "fixture",
                    ),
                ],
            ),
            storewise.event_counts(),
            None,
        )
        model = storewise.models.record_training(
            "recommender",
            "fixture-1",
            hyperparameters={},
            data_position=storewise.event_counts(),
            metrics={},
            artifact_checksum="0" * 64,
            artifact_path="fixture",
        )
        slates = {
            who: storewise.customers.serve_slate(customer, "recommender", "fixture-1", "champion", [product])
            for who, customer in (("own", own), ("other", other))
        }
        api.services.read_side.run_until_idle()
        with api.services.read_side.engine.connect() as connection:
            stock = connection.execute(sa.select(stock_levels.c.id).where(stock_levels.c.sku == "MUG")).scalar_one()
        return {
            "own_customer": to_global_id("Customer", own),
            "other_customer": to_global_id("Customer", other),
            "victim_customer": to_global_id("Customer", victim),
            "product": to_global_id("Product", product),
            "own_order": to_global_id("Order", own_order),
            "other_order": to_global_id("Order", other_order),
            "own_review": to_global_id("Review", own_review),
            "other_review": to_global_id("Review", other_review),
            "published_review": to_global_id("Review", published),
            "supplier": to_global_id("Supplier", supplier),
            "purchase_order": to_global_id("PurchaseOrder", purchase_order),
            "campaign": to_global_id("Campaign", campaign),
            "budget_allocation": to_global_id("BudgetAllocation", allocation),
            "replenishment_plan": to_global_id("ReplenishmentPlan", plan),
            "stock_level": to_global_id("StockLevel", stock),
            "trained_model": to_global_id("TrainedModel", model),
            "own_slate": to_global_id("RecommendationSlate", slates["own"]),
            "other_slate": to_global_id("RecommendationSlate", slates["other"]),
        }

    shop = Shop(await asyncio.to_thread(write))
    for role in USER_ROLES:
        shop.clients[role] = await api.as_role(role, shop["own_customer"] if role == "customer" else None)
    shop.clients["anonymous"] = api.anonymous()
    shop.ids["admin_user"] = (await shop.clients["admin"].data("{ viewer { userId } }"))["viewer"]["userId"]
    return shop


def codes(body: dict[str, Any]) -> list[str]:
    return [error.get("extensions", {}).get("code") for error in body.get("errors") or []]
