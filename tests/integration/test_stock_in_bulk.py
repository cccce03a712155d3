"""A rebuild on SQLite writes the stock items' read models (``stock_levels``, ``stock_positions``,
``stock_days``, ``stocktake_counts``) in a few statements over the stored events
(``StockMovesInBulk``): the same rows as event by event; the Inventory log's other events (suppliers,
purchase orders) applied one by one; and the whole log event by event where one stock item's event is
stored otherwise."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime

import pytest

from infrastructure.bootstrap import projection_runner
from infrastructure.migrations import upgrade
from projections.inventory import StockMovesInBulk

from .test_projections import dump, scripted_history

NAMES = ["inventory", "replenishment"]
TABLES = [
    "stock_levels",
    "stock_positions",
    "stock_days",
    "stocktake_counts",
    "suppliers",
    "supplier_terms",
    "purchase_orders",
    "purchase_order_lines",
]


def day(d: int, hour: int = 9) -> datetime:
    return datetime(2011, 3, d, hour, tzinfo=UTC)


def stock_history(storewise) -> None:
    """Movements of every kind over several days, two of them on one day, a stock-out, and one back-dated."""
    scripted_history(storewise)
    inventory = storewise.inventory
    inventory.receive_stock("CUP", "main", 5, "opening", at=day(1))
    inventory.receive_stock("CUP", "north", 7, at=day(1))
    inventory.adjust_stock("CUP", "main", -2, "broken", at=day(2))
    inventory.adjust_stock("CUP", "main", 4, "found", at=day(2, 15))
    inventory.count_stock("CUP", "main", 6, at=day(3))
    inventory.adjust_stock("CUP", "main", -6, "flood", at=day(4))  # nothing left: a stock-out day
    inventory.receive_stock("CUP", "main", 9, at=day(6))
    inventory.count_stock("CUP", "north", 7, at=day(6))
    inventory.adjust_stock("CUP", "north", 1, "late entry", at=day(2))  # back-dated into a day already begun
    inventory.receive_stock("PLATE", "main", 1, at=day(5))


def read_models(runner) -> dict[str, list[tuple]]:
    rows = dump(runner.engine)
    positions = [row for row in rows["projection_positions"] if row[0] in NAMES]
    return {table: rows[table] for table in TABLES} | {"positions": positions}


def watch_one_by_one(monkeypatch) -> list[tuple[str, str]]:
    applied: list[tuple[str, str]] = []
    apply = StockMovesInBulk.apply

    def watched(self, connection, event, metadata):
        applied.append((self.name, type(event).__qualname__))
        return apply(self, connection, event, metadata)

    monkeypatch.setattr(StockMovesInBulk, "apply", watched)
    return applied


def test_stock_written_in_bulk_is_the_stock_written_event_by_event(sqlite_storewise, monkeypatch):
    storewise = sqlite_storewise
    upgrade(storewise.settings)
    stock_history(storewise)
    runner = projection_runner(storewise, processes=1)
    runner.clear(NAMES)
    runner.run_until_idle(NAMES)
    expected = read_models(runner)
    assert len(expected["stock_days"]) >= 8 and len(expected["stocktake_counts"]) == 3
    assert any(row[3] == "0" for row in expected["stock_days"])  # the stock-out day's lowest balance

    applied = watch_one_by_one(monkeypatch)
    runner.clear(NAMES)
    runner.replay(NAMES)
    assert read_models(runner) == expected
    # Only what is not a stock item's event went one by one: suppliers, terms, the purchase order
    # (replenishment has none of its own here: no forecast, no plan).
    one_by_one = [
        ("inventory", "PurchaseOrder.Placed"),
        ("inventory", "PurchaseOrder.Received"),
        ("inventory", "Supplier.Registered"),
        ("inventory", "Supplier.TermsAgreed"),
    ]
    assert sorted(applied) == one_by_one
    # Again, on the same runner: the temporary tables went with the first replay (none left to add to).
    applied.clear()
    runner.clear(NAMES)
    runner.replay(NAMES)
    assert read_models(runner) == expected
    assert sorted(applied) == one_by_one


@pytest.mark.parametrize(
    "stored_otherwise",
    [
        lambda state: state | {"delta": float(state["delta"])},  # a whole number as a real: SQL cannot tell it is one
        lambda state: state | {"note": float("nan")},  # `NaN`: Python's json writes it, SQLite reads no JSON there
    ],
    ids=["real", "nan"],
)
def test_a_stock_event_stored_otherwise_sends_the_whole_log_event_by_event(
    sqlite_storewise, monkeypatch, stored_otherwise
):
    storewise = sqlite_storewise
    upgrade(storewise.settings)
    stock_history(storewise)
    runner = projection_runner(storewise, processes=1)
    recorder = runner.sources[runner.projections["inventory"].leader].recorder
    with sqlite3.connect(recorder.datastore.pool.db_name) as connection:
        adjustments = connection.execute(
            "SELECT originator_id, state FROM stored_events WHERE topic LIKE '%StockItem.Adjusted' ORDER BY rowid"
        ).fetchall()
        originator, state = adjustments[0]
        odd = stored_otherwise(json.loads(state))
        connection.execute(
            "UPDATE stored_events SET state = ? WHERE originator_id = ? AND state = ?",
            (json.dumps(odd).encode(), originator, state),
        )
    runner.clear(NAMES)
    runner.run_until_idle(NAMES)
    expected = read_models(runner)

    applied = watch_one_by_one(monkeypatch)
    runner.clear(NAMES)
    runner.replay(NAMES)
    assert read_models(runner) == expected
    # every adjustment (the odd one's fellows too), by both projections
    assert sum(kind == "StockItem.Adjusted" for _, kind in applied) == 2 * len(adjustments) == 8
