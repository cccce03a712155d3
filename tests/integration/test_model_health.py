"""Model health through the application: figures recorded by any use case, checked against the
thresholds, ModelDegraded recorded once; the read model rebuilds to the same rows."""

from datetime import date

import pytest
import sqlalchemy as sa

from infrastructure.migrations import upgrade
from projections.model_health_tables import model_degradations, model_health_figures
from tests.conftest import record_recommender_training

DAY = date(2026, 12, 1)


@pytest.fixture(autouse=True)
def migrated(storewise):
    upgrade(storewise.settings)


def _rows(storewise, table):
    with storewise.read_side.engine.connect() as connection:
        return sorted(tuple(row) for row in connection.execute(sa.select(table)))


def test_a_figure_below_its_threshold_records_model_degraded_once(storewise):
    health = storewise.model_health
    health.record_figure("forecast", "ets-1", DAY, "band_coverage", 0.9, 40)
    health.record_figure("forecast", "ets-2", DAY, "band_coverage", 0.7, 10)
    health.record_figure("forecast", "ets-2", DAY, "band_coverage", 0.45, 60)  # replaces the day's measurement

    found = health.check("forecast", today=DAY)
    assert [(d.version, d.figure, d.value, d.recorded) for d in found] == [("ets-2", "band_coverage", 0.45, True)]
    assert [d.recorded for d in health.check("forecast", today=DAY)] == [False]  # reported once per day

    current = health.current("forecast", today=DAY)
    assert current[("forecast", "ets-1")]["band_coverage"].value == 0.9
    assert current[("forecast", "ets-2")]["band_coverage"].count == 60
    with storewise.read_side.engine.connect() as connection:
        reports = connection.execute(sa.select(model_degradations)).all()
    assert [(r.kind, r.model_version, r.figure, r.rule, r.threshold) for r in reports] == [
        ("forecast", "ets-2", "band_coverage", "min", 0.6)
    ]
    assert "below 0.6" in reports[0].reason


def test_the_figures_rebuild_to_the_same_rows(storewise):
    storewise.model_health.record_figure("purchase-prediction", "p-1", DAY, "auc", 0.61, 300)
    storewise.model_health.check(today=DAY)
    storewise.read_side.run_until_idle()
    before = _rows(storewise, model_health_figures), _rows(storewise, model_degradations)
    storewise.read_side.rebuild(["models"])
    assert (_rows(storewise, model_health_figures), _rows(storewise, model_degradations)) == before
    assert before[1] and before[0]


def _model(storewise, version):
    return record_recommender_training(storewise.models, version)


def test_promoting_the_challenger_makes_it_the_champion_with_actor_and_reason(storewise):
    from application.context import acting_as
    from domain.models import NoChallenger, ServingSlot

    v1, v2 = _model(storewise, "v1"), _model(storewise, "v2")
    models = storewise.models
    with pytest.raises(Exception) as no_champion:
        models.start_challenger(v2, 0.2, reason="too early")
    assert getattr(no_champion.value, "code", None) == "NO_CHAMPION"
    models.activate_model(v1)
    with acting_as("user:ops:admin"):
        models.start_challenger(v2, 0.2, reason="try v2 on a fifth")
        plan = models.serving_plan("recommender")
        assert (plan.champion_version, plan.challenger_version, plan.share) == ("v1", "v2", 0.2)
        assert models.promote_challenger("recommender", reason="v2 clicks more") == v2
    assert models.active_model("recommender").version == "v2"
    assert models.trained_model(v1).status == "SUPERSEDED"
    assert models.serving_plan("recommender").challenger_version is None
    with pytest.raises(NoChallenger):
        models.roll_back_challenger("recommender", reason="nothing to roll back")
    events = list(models.repository.event_store.get(ServingSlot.create_id("recommender")))
    [promoted] = [e for e in events if isinstance(e, ServingSlot.ChallengerPromoted)]
    assert (promoted.actor, promoted.reason, promoted.challenger_id) == ("user:ops:admin", "v2 clicks more", v2)


def test_attribution_gives_the_same_rows_in_small_batches_and_in_one_rebuild(storewise):
    from datetime import UTC, datetime, timedelta
    from decimal import Decimal

    from domain.shared import Money
    from projections.model_health_tables import (
        recommendation_attributions,
        recommendation_slate_items,
        recommendation_slates,
    )

    price = Money(Decimal("2.50"), "GBP")
    catalog, customers = storewise.catalog, storewise.customers
    products = {}
    for sku in ("A", "B", "C"):
        products[sku] = catalog.list_product(sku, sku, "Kitchen")
        catalog.price_product(products[sku], price)
        catalog.publish_product(products[sku])
        storewise.inventory.receive_stock(sku, "main", 100)
    buyer = customers.register_customer("Buyer", "buyer@example.com")
    start = datetime(2026, 12, 1, 9, tzinfo=UTC)
    first = customers.serve_slate(buyer, "recommender", "v1", "champion", [products["A"], products["B"]], at=start)
    customers.record_slate_shown(first, at=start)
    customers.record_slate_clicked(first, products["A"], at=start + timedelta(minutes=1))
    second = customers.serve_slate(buyer, "recommender", "v1", "champion", [products["B"], products["C"]], at=start)
    customers.record_slate_shown(second, at=start + timedelta(hours=1))
    # A: clicked, within 7 days -> first slate; B: shown in both, the later view (second) within a day;
    # C: shown, but ordered 2 days later -> not attributed.
    customers.place_order(buyer, [("A", 1, price), ("B", 2, price)], at=start + timedelta(hours=3))
    customers.place_order(buyer, [("C", 1, price)], at=start + timedelta(days=2))
    read_side = storewise.read_side
    read_side.batch_size = 2  # slates and their orders split across batches
    read_side.run_until_idle()
    tables = (recommendation_slates, recommendation_slate_items, recommendation_attributions, model_health_figures)
    live = [_rows(storewise, table) for table in tables]
    attributions = {(r.product_id, r.slate_id, r.via) for r in (_named(storewise, recommendation_attributions))}
    assert attributions == {(products["A"], first, "click"), (products["B"], second, "view")}
    read_side.batch_size = 500
    read_side.rebuild(["recommendation_exposure"])
    assert [_rows(storewise, table) for table in tables] == live
    figures = storewise.model_health.current("recommender", today=start.date())[("recommender", "v1")]
    assert figures["impressions"].value == 2 and figures["click_through_rate"].value == 0.5
    assert figures["precision_at_k"].value == 0.25 and figures["conversion_rate"].value == 1.0
    assert figures["attributed_revenue"].value == 7.5  # A 2.50 + B 2 x 2.50


def _named(storewise, table):
    with storewise.read_side.engine.connect() as connection:
        return connection.execute(sa.select(table)).all()


def test_a_check_as_of_the_first_days_there_are_finds_nothing(storewise):
    # a date the GraphQL input allows: the window must not reach before the first day there is
    assert storewise.model_health.check(today=date(1, 1, 2)) == []
    assert storewise.model_health.current(today=date.min) == {}
