"""Read models of the Inventory context: stock levels (with a low-stock flag),
suppliers and their terms, purchase orders."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from eventsourcing.utils import get_topic
from sqlalchemy.engine import Connection

from domain.inventory import PurchaseOrder, StockItem, Supplier

from .base import Projection, StoredEnvelopes, handles, insert, update, upsert
from .tables import (
    WHEN,
    purchase_order_lines,
    purchase_orders,
    sqlite_text_of_utc_iso,
    stock_levels,
    supplier_terms,
    suppliers,
)

#: A stock item is flagged low when fewer units than this are available.
LOW_STOCK_THRESHOLD = 5


@dataclass(frozen=True)
class StockChange:
    """What one stock movement does to its stock item: units on hand and reserved, and
    units shipped or received (the read models of stock levels and of stock days share it)."""

    on_hand: int = 0
    reserved: int = 0
    shipped: int = 0
    received: int = 0


#: Each stock movement and how it changes its stock item.
STOCK_CHANGES: dict[type, Callable[[Any], StockChange]] = {
    StockItem.Received: lambda e: StockChange(on_hand=e.quantity, received=e.quantity),
    StockItem.Reserved: lambda e: StockChange(reserved=e.quantity),
    StockItem.Released: lambda e: StockChange(reserved=-e.quantity),
    StockItem.Shipped: lambda e: StockChange(on_hand=-e.quantity, reserved=-e.quantity, shipped=e.quantity),
    StockItem.Adjusted: lambda e: StockChange(on_hand=e.delta),
    StockItem.Counted: lambda e: StockChange(on_hand=e.difference),
}


def stock_change(event: Any) -> StockChange:
    return STOCK_CHANGES[type(event)](event)


# --- a rebuild's stock movements in bulk (SQLite) ---------------------------------------------------

_scratch = sa.MetaData()
#: A stock item's movements as a rebuild reads them in bulk, one row each, in a temporary table: the
#: change each makes (``on_hand`` … ``received``, as ``STOCK_CHANGES`` says), a count's figures, and
#: the times as ISO text in UTC.
stock_moves = sa.Table(
    "stock_moves",
    _scratch,
    sa.Column("position", sa.Integer),
    sa.Column("item", sa.String),
    sa.Column("version", sa.Integer),
    sa.Column("is_opening", sa.Boolean),
    sa.Column("is_count", sa.Boolean),
    sa.Column("sku", sa.String),
    sa.Column("warehouse", sa.String),
    sa.Column("on_hand", sa.Integer),
    sa.Column("reserved", sa.Integer),
    sa.Column("shipped", sa.Integer),
    sa.Column("received", sa.Integer),
    sa.Column("expected", sa.Integer),
    sa.Column("counted", sa.Integer),
    sa.Column("difference", sa.Integer),
    sa.Column("recorded_at", sa.String),
    sa.Column("at", sa.String),
    prefixes=["TEMPORARY"],
)
#: The stock items opened, with when (the openings leave ``stock_moves`` for this table).
stock_items = sa.Table(
    "stock_items",
    _scratch,
    sa.Column("item", sa.String, primary_key=True),
    sa.Column("sku", sa.String),
    sa.Column("warehouse", sa.String),
    sa.Column("opened_at", sa.String),
    prefixes=["TEMPORARY"],
)
#: The fields a bulk replay reads of each stock item's event (the movements not named: ``quantity``).
_STOCK_FIELDS: dict[type, dict[str, str]] = {
    StockItem.Opened: {"sku": "text", "warehouse": "text"},
    StockItem.Adjusted: {"delta": "integer"},
    StockItem.Counted: {"expected": "integer", "counted": "integer", "difference": "integer"},
}


def _is_stock_event(cls: type) -> bool:
    return cls is StockItem.Opened or cls in STOCK_CHANGES


def _read_stock_events(connection: Connection, envelopes: StoredEnvelopes) -> bool:
    """Fill ``stock_moves`` and ``stock_items`` with every stock item's event of the log; False where
    some does not read plainly (then the whole log is replayed event by event: a balance is the sum of
    all its movements)."""
    topics = {topic: cls for topic, cls in envelopes.classes.items() if _is_stock_event(cls)}
    # Every stock class's own topic too, so that every field has its column whichever events the log holds.
    readable = {get_topic(cls): cls for cls in (StockItem.Opened, *STOCK_CHANGES)} | topics
    e = envelopes.with_fields({t: _STOCK_FIELDS.get(cls, {"quantity": "integer"}) for t, cls in readable.items()})
    # Each movement reads one amount (quantity, delta or difference); what it changes, per unit, is
    # what STOCK_CHANGES makes of a movement of one unit.
    amount = sa.func.coalesce(e.c.quantity, e.c.delta, e.c.difference)
    per_unit = {
        topic: STOCK_CHANGES[cls](SimpleNamespace(quantity=1, delta=1, difference=1))
        for topic, cls in topics.items()
        if cls in STOCK_CHANGES
    }

    def change(field: str) -> Any:
        factors = {topic: getattr(unit, field) for topic, unit in per_unit.items()}
        return amount * sa.case(factors, value=e.c.topic, else_=0) if factors else sa.literal(0)

    opening = e.c.topic.in_([t for t, cls in topics.items() if cls is StockItem.Opened])
    count = e.c.topic.in_([t for t, cls in topics.items() if cls is StockItem.Counted])
    reads_plainly = sa.case(
        (opening, sa.and_(e.c.sku.is_not(None), e.c.warehouse.is_not(None))),
        (count, sa.and_(e.c.expected.is_not(None), e.c.counted.is_not(None), e.c.difference.is_not(None))),
        else_=amount.is_not(None),
    )
    rows = sa.select(
        e.c.position,
        e.c.aggregate_id,
        e.c.version,
        opening,
        count,
        e.c.sku,
        e.c.warehouse,
        change("on_hand"),
        change("reserved"),
        change("shipped"),
        change("received"),
        e.c.expected,
        e.c.counted,
        e.c.difference,
        e.c.recorded_at,
        e.c.business_at,
    ).where(reads_plainly)
    read = connection.execute(sa.insert(stock_moves).from_select(list(stock_moves.c.keys()), rows)).rowcount
    if read != sum(envelopes.counts[topic] for topic in topics):
        return False
    m = stock_moves.c
    openings = sa.select(m.item, m.sku, m.warehouse, m.recorded_at).where(m.is_opening)
    connection.execute(sa.insert(stock_items).from_select(list(stock_items.c.keys()), openings))
    connection.execute(stock_moves.delete().where(m.is_opening))
    # Indexed once filled (cheaper than as each row goes in): the windows and groups go by item and version.
    connection.exec_driver_sql("CREATE INDEX temp.stock_moves_by_item ON stock_moves (item, version)")
    return True


class StockMovesInBulk(Projection):
    """A projection of the Inventory log that a rebuild on SQLite replays in bulk: the stock items'
    events in a few statements over ``stock_moves`` and ``stock_items`` (read once for all such
    projections of the log), the rest (``left_by_bulk``) one by one."""

    def read_in_bulk(self, connection: Connection, envelopes: StoredEnvelopes) -> None:
        """The stock items' events in the temporary tables, once for every projection of the log."""
        if connection.dialect.name == "sqlite" and "stock" not in envelopes.shared:
            _scratch.create_all(connection)
            envelopes.cleanup.callback(_scratch.drop_all, connection)
            envelopes.shared["stock"] = False  # until read (the read may stop at an unreadable event)
            envelopes.shared["stock"] = _read_stock_events(connection, envelopes)

    def replay_in_bulk(self, connection: Connection, envelopes: StoredEnvelopes) -> int | None:
        if not envelopes.shared.get("stock"):
            return None
        self.write_stock_in_bulk(connection)
        return sum(envelopes.counts[topic] for topic, cls in envelopes.classes.items() if _is_stock_event(cls))

    def write_stock_in_bulk(self, connection: Connection) -> None:
        """Write what the stock items' events (``stock_items``, ``stock_moves``) make of this projection's tables."""
        raise NotImplementedError

    def left_by_bulk(self, envelopes: StoredEnvelopes) -> sa.Executable:
        return envelopes.positions(
            [topic for topic, cls in envelopes.classes.items() if cls in self._handlers and not _is_stock_event(cls)]
        )


def stock_totals() -> sa.Subquery:
    """Each stock item with movements: its units on hand and reserved, how many movements, and the last one's
    recording time (SQLite gives a bare column the value of the row its group's max() came from)."""
    m = stock_moves.c
    return (
        sa.select(
            m.item,
            sa.func.sum(m.on_hand).label("on_hand"),
            sa.func.sum(m.reserved).label("reserved"),
            sa.func.count().label("movements"),
            sa.func.max(m.version).label("version"),
            m.recorded_at,
        )
        .group_by(m.item)
        .subquery()
    )


class InventoryProjection(StockMovesInBulk):
    name = "inventory"
    leader = "Inventory"
    tables = (stock_levels, suppliers, supplier_terms, purchase_orders, purchase_order_lines)
    rebuild_cost = 0.6
    bulk_rebuild_cost = 0.05

    def __init__(self, low_stock_threshold: int = LOW_STOCK_THRESHOLD):
        self.low_stock_threshold = low_stock_threshold
        self.start_batch()

    # --- stock --------------------------------------------------------------------------

    @handles(StockItem.Opened)
    def opened(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        # Inserted at the end of the batch, before the batch's movements are added to it.
        self._opened.append(
            {
                "id": event.originator_id,
                "sku": event.sku,
                "warehouse": event.warehouse,
                "on_hand": 0,
                "reserved": 0,
                "available": 0,
                "is_low": True,
                "last_counted_at": None,
                "updated_at": event.timestamp,
            }
        )

    @handles(*STOCK_CHANGES)
    def moved(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        change = stock_change(event)
        counted_at = event.at if isinstance(event, StockItem.Counted) else None
        self._move(connection, event, on_hand=change.on_hand, reserved=change.reserved, counted_at=counted_at)

    # Stock movements only add to on hand and reserved, so a batch's movements of one stock
    # item are summed in memory and written once, all items in one executemany, at the end
    # of the batch (most events of a busy shop are reservations and shipments).

    def start_batch(self) -> None:
        self._opened: list[dict[str, Any]] = []
        self._moves: dict[Any, list[Any]] = {}

    def _move(
        self, connection: Connection, event: Any, *, on_hand: int = 0, reserved: int = 0, counted_at: Any = None
    ) -> None:
        move = self._moves.setdefault(event.originator_id, [0, 0, None, None])
        move[0] += on_hand
        move[1] += reserved
        move[2] = event.timestamp
        if counted_at is not None:
            move[3] = counted_at

    def end_batch(self, connection: Connection) -> None:
        if self._opened:
            insert(connection, stock_levels, self._opened)
            self._opened = []
        if not self._moves:
            return
        connection.execute(
            self._move_statement,
            [{"k_id": pk, "on_hand": m[0], "reserved": m[1], "at": m[2]} for pk, m in self._moves.items()],
        )
        counted = [{"k_id": pk, "counted_at": m[3]} for pk, m in self._moves.items() if m[3] is not None]
        if counted:
            connection.execute(self._counted_statement, counted)
        self._moves = {}

    def write_stock_in_bulk(self, connection: Connection) -> None:
        i, m, totals = stock_items.c, stock_moves.c, stock_totals()
        counted = (  # each item's last count (the bare column again)
            sa.select(m.item, sa.func.max(m.version), m.at).where(m.is_count).group_by(m.item).subquery()
        )
        on_hand, reserved = sa.func.coalesce(totals.c.on_hand, 0), sa.func.coalesce(totals.c.reserved, 0)
        rows = (
            sa.select(
                i.item,
                i.sku,
                i.warehouse,
                on_hand,
                reserved,
                on_hand - reserved,
                on_hand - reserved < self.low_stock_threshold,
                sqlite_text_of_utc_iso(counted.c.at),  # NULL where none was counted
                sqlite_text_of_utc_iso(sa.func.coalesce(totals.c.recorded_at, i.opened_at)),
            )
            .outerjoin(totals, totals.c.item == i.item)
            .outerjoin(counted, counted.c.item == i.item)
        )
        connection.execute(sa.insert(stock_levels).from_select(list(stock_levels.c.keys()), rows))

    @functools.cached_property
    def _counted_statement(self) -> Any:
        return (
            stock_levels.update()
            .where(stock_levels.c.id == sa.bindparam("k_id", type_=sa.Uuid))
            .values(last_counted_at=sa.bindparam("counted_at", type_=WHEN))
        )

    @functools.cached_property
    def _move_statement(self) -> Any:
        on_hand = stock_levels.c.on_hand + sa.bindparam("on_hand", type_=sa.Integer)
        reserved = stock_levels.c.reserved + sa.bindparam("reserved", type_=sa.Integer)
        return (
            stock_levels.update()
            .where(stock_levels.c.id == sa.bindparam("k_id", type_=sa.Uuid))
            .values(
                on_hand=on_hand,
                reserved=reserved,
                available=on_hand - reserved,
                is_low=(on_hand - reserved) < self.low_stock_threshold,
                updated_at=sa.bindparam("at", type_=WHEN),
            )
        )

    # --- suppliers and purchase orders -------------------------------------------------------

    @handles(Supplier.Registered)
    def supplier(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        insert(connection, suppliers, {"id": event.originator_id, "name": event.name, "registered_at": event.timestamp})

    @handles(Supplier.TermsAgreed)
    def terms(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        terms = event.terms
        upsert(
            connection,
            supplier_terms,
            {
                "supplier_id": event.originator_id,
                "sku": event.sku,
                "lead_time_days": terms.lead_time_days,
                "minimum_order_quantity": terms.minimum_order_quantity,
                "pack_size": terms.pack_size,
                "unit_cost": terms.unit_cost.amount,
                "currency": terms.unit_cost.currency,
            },
        )

    @handles(PurchaseOrder.Placed)
    def purchase_placed(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        lines = list(event.lines)
        insert(
            connection,
            purchase_orders,
            {
                "id": event.originator_id,
                "supplier_id": event.supplier_id,
                "warehouse": event.warehouse,
                "status": "PLACED",
                "total_cost": sum((line.unit_cost.amount * line.quantity for line in lines), Decimal(0)),
                "currency": lines[0].unit_cost.currency,
                "placed_at": event.at,
                "received_at": None,
            },
        )
        insert(
            connection,
            purchase_order_lines,
            [
                {
                    "purchase_order_id": event.originator_id,
                    "sku": line.sku,
                    "quantity": line.quantity,
                    "unit_cost": line.unit_cost.amount,
                    "received_quantity": None,
                }
                for line in lines
            ],
        )

    @handles(PurchaseOrder.Received)
    def purchase_received(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        update(
            connection,
            purchase_orders,
            {"id": event.originator_id},
            set={"status": "RECEIVED", "received_at": event.at},
        )
        for sku, quantity in event.quantities.items():
            update(
                connection,
                purchase_order_lines,
                {"purchase_order_id": event.originator_id, "sku": sku},
                set={"received_quantity": quantity},
            )
