"""`storewise audit verify` and `audit head`: exit 0 only when the chains and the read models check out."""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal

from domain.shared import Money
from infrastructure.bootstrap import bootstrap, projection_runner
from infrastructure.cli import main
from infrastructure.migrations import upgrade
from infrastructure.settings import Settings


def setup(tmp_path, monkeypatch) -> Settings:
    monkeypatch.setenv("STOREWISE_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("STOREWISE_DATABASE_URL", raising=False)
    settings = Settings.from_env()
    upgrade(settings)
    with bootstrap(settings) as storewise:
        storewise.inventory.receive_stock("MUG", "main", 5)
        storewise.customers.place_order(None, [("MUG", 2, Money(Decimal("4.50"), "GBP"))])
        projection_runner(storewise).run_until_idle()
    return settings


def test_a_clean_database_verifies(tmp_path, monkeypatch, capsys):
    setup(tmp_path, monkeypatch)
    assert main(["audit", "verify"]) == 0
    out = capsys.readouterr().out
    assert "chain Inventory: intact" in out and "read model stock_levels: equal to a rebuild" in out


def test_read_models_that_lag_the_log_are_verified_as_far_as_they_got(tmp_path, monkeypatch, capsys):
    settings = setup(tmp_path, monkeypatch)
    with bootstrap(settings) as storewise:  # recorded, not yet projected (as while a server is busy)
        storewise.inventory.receive_stock("MUG", "main", 3)
        storewise.inventory.receive_stock("JUG", "main", 1)
    assert main(["audit", "verify"]) == 0
    out = capsys.readouterr().out
    assert "projection inventory: verified up to position" in out and "3 events behind the log" in out
    assert "read model stock_levels: equal to a rebuild" in out

    with sqlite3.connect(settings.sqlite_path()) as connection:  # a lagging read model edited by hand still shows
        connection.execute("UPDATE stock_levels SET on_hand = 99")
    assert main(["audit", "verify"]) == 1
    assert "read model stock_levels: DIFFERS" in capsys.readouterr().out


def test_a_read_model_edited_by_hand_fails_verification_and_shows_the_rows(tmp_path, monkeypatch, capsys):
    settings = setup(tmp_path, monkeypatch)
    with sqlite3.connect(settings.sqlite_path()) as connection:
        connection.execute("UPDATE stock_levels SET on_hand = 99")
    assert main(["audit", "verify"]) == 1
    out = capsys.readouterr().out
    assert "read model stock_levels: DIFFERS" in out and "99" in out


def test_exported_heads_catch_a_rewritten_chain(tmp_path, monkeypatch, capsys):
    settings = setup(tmp_path, monkeypatch)
    assert main(["audit", "head"]) == 0
    heads_file = tmp_path / "heads.json"
    heads_file.write_text(capsys.readouterr().out)
    assert json.loads(heads_file.read_text())["heads"]["Inventory"]["position"] > 0
    assert main(["audit", "verify", "--heads", str(heads_file)]) == 0
    capsys.readouterr()
    # a forger rewrites the last link of the chain consistently: only the exported head can tell
    with sqlite3.connect(settings.sqlite_path("inventory-events")) as connection:
        connection.execute(
            "UPDATE event_chain SET hash = zeroblob(32) WHERE position = (SELECT max(position) FROM event_chain)"
        )
    assert main(["audit", "verify", "--heads", str(heads_file)]) == 1
    assert "no longer holds the exported head" in capsys.readouterr().out


def test_export_writes_an_aggregates_events_as_json_lines_masked(tmp_path, monkeypatch, capsys):
    settings = setup(tmp_path, monkeypatch)
    with bootstrap(settings) as storewise:
        customer = storewise.customers.register_customer("Ann Lee", "ann@example.com")
        storewise.customers.give_consent(customer, "marketing")
    out = tmp_path / "export.jsonl"
    assert main(["audit", "export", "--aggregate", str(customer), "--out", str(out)]) == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["event_type"] for r in records] == ["Customer.Registered", "Customer.ConsentGiven"]
    assert [r["version"] for r in records] == [1, 2]
    assert records[0]["payload"]["email"] == "a***@example.com"
    assert "ann@example.com" not in out.read_text()
    # one correlation: the order placed in setup() and everything it set in motion
    capsys.readouterr()
    with bootstrap(settings) as storewise:
        order_event = next(
            n
            for n in storewise.customers.recorder.select_notifications(start=1, limit=100)
            if n.topic.endswith("Order.Placed")
        )
        correlation = storewise.customers.mapper.metadata_of(order_event)["correlation_id"]
    assert main(["audit", "export", "--correlation-id", correlation]) == 0
    kinds = [json.loads(line)["event_type"] for line in capsys.readouterr().out.splitlines()]
    assert kinds[0] == "Order.Placed" and "Allocation.Allocated" in kinds and "Order.StockReserved" in kinds


def test_an_export_re_imports_to_the_same_history(tmp_path, monkeypatch, capsys):
    settings = setup(tmp_path / "shop", monkeypatch)
    with bootstrap(settings) as storewise:
        order_event = next(
            n
            for n in storewise.customers.recorder.select_notifications(start=1, limit=100)
            if n.topic.endswith("Order.Placed")
        )
        order_id = order_event.originator_id
        storewise.customers.pay_order(order_id, Money(Decimal("9.00"), "GBP"))
        storewise.customers.ship_order(order_id)
        original = vars(storewise.customers.order(order_id)).copy()
    export = tmp_path / "order.jsonl"
    assert main(["audit", "export", "--aggregate", str(order_id), "--out", str(export)]) == 0

    monkeypatch.setenv("STOREWISE_VAR_DIR", str(tmp_path / "elsewhere"))
    upgrade(Settings.from_env())
    assert main(["audit", "import", str(export)]) == 0
    with bootstrap(Settings.from_env()) as elsewhere:
        copy = vars(elsewhere.customers.order(order_id)).copy()
        assert verify_chain(elsewhere).intact
    for state in (original, copy):
        state.pop("_pending_events", None)
    assert copy == original
    assert [r["event_type"] for r in map(json.loads, export.read_text().splitlines())] == [
        "Order.Placed",
        "Order.StockReserved",
        "Order.Paid",
        "Order.Shipped",
    ]


def verify_chain(storewise):
    from infrastructure.event_chain import verify

    return verify("Customers", storewise.customers.recorder)
