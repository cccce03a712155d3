"""Projections on SQLite and PostgreSQL: read models follow the events, exactly once,
and equal a rebuild from position 0 whatever happened in between."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from domain.inventory import SupplierTerms
from domain.shared import Money
from infrastructure.bootstrap import projection_runner
from infrastructure.migrations import upgrade
from infrastructure.read_model_db import sync_engine
from projections.read_models import metadata

GBP = lambda amount: Money(Decimal(amount), "GBP")  # noqa: E731


def scripted_history(storewise) -> dict:
    """A little of everything, in every context."""
    catalog, customers, inventory = storewise.catalog, storewise.customers, storewise.inventory
    mug = catalog.list_product("MUG", "Blue Mug", "Kitchen", {"colour": "blue"})
    catalog.price_product(mug, GBP("4.50"))
    catalog.publish_product(mug)
    bag = catalog.list_product("BAG", "Jute Bag", "Bags")
    catalog.price_product(bag, GBP("9.00"))
    catalog.price_product(bag, GBP("8.00"))
    inventory.receive_stock("MUG", "main", 10)
    inventory.receive_stock("BAG", "main", 3)
    ann = customers.register_customer("Ann Lee", "ann@example.com", phone="+44 7700 900123")
    bob = customers.register_customer("Bob Ray", "bob@example.com")
    customers.give_consent(ann, "marketing")
    customers.record_product_view(ann, mug)
    customers.record_add_to_cart(ann, mug, 2)
    first = customers.place_order(ann, [("MUG", 2, GBP("4.50")), ("BAG", 1, GBP("8.00"))])
    customers.pay_order(first, GBP("17.00"))
    customers.ship_order(first)
    customers.return_order_lines(first, [("MUG", 1)], "chipped")
    second = customers.place_order(bob, [("BAG", 2, GBP("8.00"))])
    customers.cancel_order(second)
    third = customers.place_order(bob, [("BAG", 5, GBP("8.00"))])  # more than there is
    inventory.count_stock("MUG", "main", 8)
    supplier = inventory.register_supplier("Acme")
    inventory.agree_supplier_terms(supplier, "MUG", SupplierTerms(7, 12, 6, GBP("1.20")))
    po = inventory.place_purchase_order(supplier, "main", {"MUG": 24})
    inventory.receive_purchase_order(po)
    campaign = storewise.campaigns.draft_campaign("Spring", "champions", "email", GBP("100"))
    storewise.campaigns.launch_campaign(campaign)
    storewise.campaigns.record_campaign_outcome(campaign, GBP("40"), 1000, 12, GBP("300"))
    review = storewise.feedback.submit_review(mug, ann, 4, "Nice mug", "en")
    storewise.feedback.publish_review(review)
    customers.forget_customer(bob)
    return {"ann": ann, "bob": bob, "mug": mug, "first": first, "second": second, "third": third, "po": po}


def dump(engine) -> dict[str, list[tuple]]:
    """Every read-model row, ordered, without surrogate keys."""
    with engine.connect() as connection:
        result = {}
        for table in metadata.sorted_tables:
            skip = {"customer_activity": {"id"}, "projection_positions": {"updated_at"}}.get(table.name, set())
            columns = [c for c in table.columns if c.name not in skip]
            rows = connection.execute(sa.select(*columns)).all()
            result[table.name] = sorted(tuple(str(v) for v in row) for row in rows)
        return result


@pytest.fixture
def read_side(storewise):
    upgrade(storewise.settings)
    engine = sync_engine(storewise.settings)
    runner = projection_runner(storewise, engine)
    yield runner
    engine.dispose()


def test_read_models_follow_the_events(storewise, read_side):
    scripted_history(storewise)
    read_side.run_until_idle()
    engine = read_side.engine
    with engine.connect() as c:
        ann = c.execute(
            sa.text(
                "SELECT email_masked, phone_masked, consents FROM customers "
                "WHERE reference = '' AND name_masked = 'A** L**'"
            )
        ).one()
        assert ann.email_masked == "a***@example.com" and ann.phone_masked == "+44 ******* 123"
        bob = c.execute(
            sa.text("SELECT email_masked, is_forgotten FROM customers WHERE name_masked = '[forgotten]'")
        ).one()
        assert bob.is_forgotten
        mug = c.execute(
            sa.text("SELECT on_hand, reserved, available, is_low FROM stock_levels WHERE sku = 'MUG'")
        ).one()
        # 10 received - 2 shipped + 1 returned = 9, counted as 8, then 24 received
        assert tuple(mug) == (32, 0, 32, False)
        bag = c.execute(sa.text("SELECT on_hand, available, is_low FROM stock_levels WHERE sku = 'BAG'")).one()
        assert tuple(bag) == (2, 2, True)
        statuses = dict(c.execute(sa.text("SELECT status, count(*) FROM orders GROUP BY status")).all())
        assert statuses == {"SHIPPED": 1, "CANCELLED": 1, "NOT_FULFILLABLE": 1}
        price = c.execute(sa.text("SELECT price FROM products WHERE sku = 'BAG'")).scalar_one()
        assert Decimal(str(price)) == Decimal("8")
        assert c.execute(sa.text("SELECT returned_quantity FROM order_lines WHERE sku = 'MUG'")).scalar_one() == 1
        demand = c.execute(
            sa.text("SELECT sku, ordered, cancelled, returned, net_units FROM daily_demand ORDER BY sku")
        ).all()
        assert [tuple(r) for r in demand] == [("BAG", 8, 2, 0, 6), ("MUG", 2, 0, 1, 1)]
        weight = c.execute(
            sa.text(
                "SELECT views, carts, purchases, weight FROM interactions "
                "WHERE product_id IN (SELECT id FROM products WHERE sku = 'MUG')"
            )
        ).one()
        assert tuple(weight) == (1, 1, 1, 9.0)
        rfm = c.execute(sa.text("SELECT orders_count, monetary FROM customer_rfm")).all()
        # Ann: 17.00 paid, 4.50 returned. Bob: one order cancelled, one not fulfillable: no purchase.
        assert sorted((r[0], Decimal(str(r[1]))) for r in rfm) == [(0, Decimal("0")), (1, Decimal("12.5"))]
        campaign = c.execute(sa.text("SELECT status, spend, reach, conversions FROM campaigns")).one()
        assert (campaign.status, campaign.reach, campaign.conversions) == ("LIVE", 1000, 12)
        assert c.execute(sa.text("SELECT status FROM reviews")).scalar_one() == "PUBLISHED"
        assert c.execute(sa.text("SELECT status, total_cost FROM purchase_orders")).one()[0] == "RECEIVED"
    # nothing left to do, and nothing applied twice when asked again
    assert read_side.run_until_idle() == 0
    assert all(status.lag == 0 for status in read_side.status())


def test_a_rebuild_from_zero_gives_the_same_rows(storewise, read_side):
    scripted_history(storewise)
    read_side.run_until_idle()
    before = dump(read_side.engine)
    read_side.rebuild()
    assert dump(read_side.engine) == before


def test_a_crash_mid_batch_leaves_nothing_half_applied(storewise, read_side, monkeypatch):
    scripted_history(storewise)
    read_side.batch_size = 4
    projection = read_side.projections["customers"]
    original = type(projection).apply
    calls = {"n": 0}

    def failing_apply(self, connection, event, metadata):
        calls["n"] += 1
        if calls["n"] == 7:  # in the middle of the second batch
            raise RuntimeError("killed")
        return original(self, connection, event, metadata)

    monkeypatch.setattr(type(projection), "apply", failing_apply)
    with pytest.raises(RuntimeError):
        read_side.run_until_idle(["customers"])
    assert read_side.position("customers") > 0  # the first batch committed
    monkeypatch.setattr(type(projection), "apply", original)
    read_side.run_until_idle()  # restart: carries on from the committed position
    after_restart = dump(read_side.engine)
    read_side.rebuild()
    assert dump(read_side.engine) == after_restart


def test_runners_racing_on_the_same_projections_apply_each_event_once(storewise, read_side):
    """Several workers (each with its own engine, as separate processes have) run the
    same projections at once: none fails, and the rows equal a rebuild."""
    import threading

    scripted_history(storewise)
    runners = [read_side] + [projection_runner(storewise, sync_engine(storewise.settings)) for _ in range(3)]
    for runner in runners:
        runner.batch_size = 3  # many small batches, so the workers interleave
    errors: list[Exception] = []
    start = threading.Barrier(len(runners))

    def work(runner) -> None:
        try:
            start.wait(timeout=10)
            runner.run_until_idle()
        except Exception as error:  # collected: the assertion below names it
            errors.append(error)

    threads = [threading.Thread(target=work, args=(runner,)) for runner in runners]
    [t.start() for t in threads]
    [t.join(120) for t in threads]
    for runner in runners[1:]:
        runner.engine.dispose()
    assert errors == []
    raced = dump(read_side.engine)
    read_side.rebuild()
    assert dump(read_side.engine) == raced


def test_migrations_match_the_tables(storewise):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    upgrade(storewise.settings)
    engine = sync_engine(storewise.settings)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_name": lambda name, type_, _: type_ != "table" or name in metadata.tables}
        )
        assert compare_metadata(context, metadata) == []
    engine.dispose()
