"""The read-model tables. Every row here can be rebuilt from the event log.

Money is stored as an exact ``Numeric`` amount beside its currency. Times are UTC.
Personal data never lands here in plain text: customers hold masked values only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

metadata = sa.MetaData()


class UtcDateTime(sa.TypeDecorator):
    """A UTC instant: stored in UTC, always read back with its time zone (SQLite keeps none)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value

    def bind_processor(self, dialect: Any) -> Any:
        general = super().bind_processor(dialect)
        if dialect.name != "sqlite" or general is None:
            return general

        # What the two steps (UTC without a zone, then SQLAlchemy's SQLite text form
        # "YYYY-MM-DD HH:MM:SS.ffffff") give, formatted from the fields: every event writes a few of
        # these, and isoformat with a zone costs twice as much.
        def process(value: Any) -> Any:
            if type(value) is not datetime:
                return general(value)
            if value.tzinfo is not None and value.tzinfo is not UTC:
                value = value.astimezone(UTC)
            return _SQLITE_TEXT % (
                value.year,
                value.month,
                value.day,
                value.hour,
                value.minute,
                value.second,
                value.microsecond,
            )

        return process


_SQLITE_TEXT = "%04d-%02d-%02d %02d:%02d:%02d.%06d"


def sqlite_text_of_utc_iso(iso: Any) -> Any:
    """In SQL: what ``UtcDateTime`` stores on SQLite for an instant given as ISO 8601 text in UTC
    (``YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00``): ``YYYY-MM-DD HH:MM:SS.ffffff``."""
    microseconds = sa.case((sa.func.length(iso) == 32, sa.func.substr(iso, 21, 6)), else_="000000")
    date, time = sa.func.substr(iso, 1, 10, type_=sa.String), sa.func.substr(iso, 12, 8, type_=sa.String)
    return date + " " + time + "." + sa.type_coerce(microseconds, sa.String)


MONEY = sa.Numeric(18, 4)
WHEN = UtcDateTime()

#: How far each projection has processed its context's event log (its notification id).
projection_positions = sa.Table(
    "projection_positions",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("leader", sa.String(64), nullable=False),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("updated_at", WHEN, nullable=False),
)

# --- Customer context ----------------------------------------------------------------

customers = sa.Table(
    "customers",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("reference", sa.String(64), nullable=False, index=True),
    sa.Column("name_masked", sa.String(300), nullable=False),
    sa.Column("email_masked", sa.String(300), nullable=False),
    sa.Column("phone_masked", sa.String(60), nullable=False),
    sa.Column("address_masked", sa.String(300), nullable=False),
    sa.Column("consents", sa.JSON, nullable=False),
    sa.Column("is_forgotten", sa.Boolean, nullable=False),
    sa.Column("registered_at", WHEN, nullable=False, index=True),
    sa.Column("updated_at", WHEN, nullable=False),
)

#: Which customer each day's activity record belongs to (its later events name only the record).
activity_records = sa.Table(
    "activity_records",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("customer_id", sa.Uuid, nullable=False),
    sa.Column("day", sa.Date, nullable=False),
)

customer_activity = sa.Table(
    "customer_activity",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("customer_id", sa.Uuid, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # VIEWED | SEARCHED | ADDED_TO_CART
    sa.Column("product_id", sa.Uuid, nullable=True),
    sa.Column("query", sa.String(200), nullable=True),
    sa.Column("quantity", sa.Integer, nullable=True),
    sa.Column("at", WHEN, nullable=False),
    sa.Index("ix_customer_activity_customer_at", "customer_id", "at"),
)

orders = sa.Table(
    "orders",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("reference", sa.String(64), nullable=False, index=True),
    sa.Column("customer_id", sa.Uuid, nullable=True),
    sa.Column("status", sa.String(20), nullable=False, index=True),
    sa.Column("warehouse", sa.String(64), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("total", MONEY, nullable=False),
    sa.Column("is_paid", sa.Boolean, nullable=False),
    sa.Column("not_fulfillable_reason", sa.String(500), nullable=False),
    sa.Column("placed_at", WHEN, nullable=False, index=True),
    sa.Column("paid_at", WHEN, nullable=True),
    sa.Column("shipped_at", WHEN, nullable=True),
    sa.Column("delivered_at", WHEN, nullable=True),
    sa.Column("cancelled_at", WHEN, nullable=True),
    sa.Index("ix_orders_customer_placed", "customer_id", "placed_at"),
)

order_lines = sa.Table(
    "order_lines",
    metadata,
    sa.Column("order_id", sa.Uuid, primary_key=True),
    sa.Column("sku", sa.String(64), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("product_id", sa.Uuid, nullable=False, index=True),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("unit_price", MONEY, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("returned_quantity", sa.Integer, nullable=False),
)

# --- Catalog context -------------------------------------------------------------------

products = sa.Table(
    "products",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("sku", sa.String(64), nullable=False, unique=True),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("title_search", sa.String(300), nullable=False, index=True),  # lower-cased, for text search
    sa.Column("category", sa.String(100), nullable=False, index=True),
    sa.Column("attributes", sa.JSON, nullable=False),
    sa.Column("price", MONEY, nullable=True, index=True),
    sa.Column("currency", sa.String(3), nullable=True),
    sa.Column("is_published", sa.Boolean, nullable=False),
    sa.Column("is_discontinued", sa.Boolean, nullable=False),
    sa.Column("listed_at", WHEN, nullable=False),
    sa.Column("updated_at", WHEN, nullable=False),
)

# --- Inventory context -----------------------------------------------------------------

stock_levels = sa.Table(
    "stock_levels",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("sku", sa.String(64), nullable=False, index=True),
    sa.Column("warehouse", sa.String(64), nullable=False),
    sa.Column("on_hand", sa.Integer, nullable=False),
    sa.Column("reserved", sa.Integer, nullable=False),
    sa.Column("available", sa.Integer, nullable=False),
    sa.Column("is_low", sa.Boolean, nullable=False, index=True),
    sa.Column("last_counted_at", WHEN, nullable=True),
    sa.Column("updated_at", WHEN, nullable=False),
    sa.UniqueConstraint("sku", "warehouse"),
)

suppliers = sa.Table(
    "suppliers",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("registered_at", WHEN, nullable=False),
)

supplier_terms = sa.Table(
    "supplier_terms",
    metadata,
    sa.Column("supplier_id", sa.Uuid, primary_key=True),
    sa.Column("sku", sa.String(64), primary_key=True),
    sa.Column("lead_time_days", sa.Integer, nullable=False),
    sa.Column("minimum_order_quantity", sa.Integer, nullable=False),
    sa.Column("pack_size", sa.Integer, nullable=False),
    sa.Column("unit_cost", MONEY, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
)

purchase_orders = sa.Table(
    "purchase_orders",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("supplier_id", sa.Uuid, nullable=False, index=True),
    sa.Column("warehouse", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False, index=True),  # PLACED | RECEIVED
    sa.Column("total_cost", MONEY, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("placed_at", WHEN, nullable=False),
    sa.Column("received_at", WHEN, nullable=True),
)

purchase_order_lines = sa.Table(
    "purchase_order_lines",
    metadata,
    sa.Column("purchase_order_id", sa.Uuid, primary_key=True),
    sa.Column("sku", sa.String(64), primary_key=True),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("unit_cost", MONEY, nullable=False),
    sa.Column("received_quantity", sa.Integer, nullable=True),
)

# --- Campaign context ------------------------------------------------------------------

campaigns = sa.Table(
    "campaigns",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("segment", sa.String(64), nullable=False, index=True),
    sa.Column("channel", sa.String(64), nullable=False, index=True),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("budget", MONEY, nullable=False),
    sa.Column("spend", MONEY, nullable=False),
    sa.Column("reach", sa.Integer, nullable=False),
    sa.Column("conversions", sa.Integer, nullable=False),
    sa.Column("revenue", MONEY, nullable=False),
    sa.Column("drafted_at", WHEN, nullable=False),
    sa.Column("launched_at", WHEN, nullable=True),
    sa.Column("ended_at", WHEN, nullable=True),
)

#: Feature view: each recorded campaign outcome, for response curves.
campaign_outcomes = sa.Table(
    "campaign_outcomes",
    metadata,
    sa.Column("campaign_id", sa.Uuid, primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("segment", sa.String(64), nullable=False),
    sa.Column("channel", sa.String(64), nullable=False),
    sa.Column("spend", MONEY, nullable=False),
    sa.Column("reach", sa.Integer, nullable=False),
    sa.Column("conversions", sa.Integer, nullable=False),
    sa.Column("revenue", MONEY, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("at", WHEN, nullable=False),
)

# --- Feedback context ------------------------------------------------------------------

#: Also the feature view of review texts.
reviews = sa.Table(
    "reviews",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("product_id", sa.Uuid, nullable=False),
    sa.Column("customer_id", sa.Uuid, nullable=True, index=True),
    sa.Column("rating", sa.Integer, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("language", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("moderation_reason", sa.String(200), nullable=False),
    sa.Column("submitted_at", WHEN, nullable=False, index=True),
    sa.Index("ix_reviews_product_submitted", "product_id", "submitted_at"),
)

# --- Feature views for the engines -----------------------------------------------------

#: Customer x product interaction weights: weight = 1 x views + 3 x add-to-carts + 5 x purchases
#: (orders holding the product, not cancelled, not found unfulfillable and the line not fully returned;
#: a row whose weight fell to 0 is no interaction). The recommender trains on rows with weight > 0.
interactions = sa.Table(
    "interactions",
    metadata,
    sa.Column("customer_id", sa.Uuid, primary_key=True),
    sa.Column("product_id", sa.Uuid, primary_key=True),
    sa.Column("views", sa.Integer, nullable=False),
    sa.Column("carts", sa.Integer, nullable=False),
    sa.Column("purchases", sa.Integer, nullable=False),
    sa.Column("weight", sa.Float, nullable=False),
    sa.Column("last_at", WHEN, nullable=False),
)

#: Units of each SKU ordered per day (business date, UTC), net of cancellations and returns.
daily_demand = sa.Table(
    "daily_demand",
    metadata,
    sa.Column("sku", sa.String(64), primary_key=True),
    sa.Column("warehouse", sa.String(64), primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("ordered", sa.Integer, nullable=False),
    sa.Column("cancelled", sa.Integer, nullable=False),
    sa.Column("returned", sa.Integer, nullable=False),
    sa.Column("net_units", sa.Integer, nullable=False),
    sa.Column("revenue", MONEY, nullable=False),
)

#: Per-customer recency / frequency / monetary figures (orders not cancelled nor unfulfillable; returns deducted).
customer_rfm = sa.Table(
    "customer_rfm",
    metadata,
    sa.Column("customer_id", sa.Uuid, primary_key=True),
    sa.Column("first_order_at", WHEN, nullable=False),
    sa.Column("last_order_at", WHEN, nullable=False),
    sa.Column("orders_count", sa.Integer, nullable=False),
    sa.Column("monetary", MONEY, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
)

# --- Access context --------------------------------------------------------------------

#: Who may use the API, with their role; ``*_by`` is the actor of the event that granted it.
users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("customer_id", sa.Uuid, nullable=True),
    sa.Column("registered_at", WHEN, nullable=False),
    sa.Column("registered_by", sa.String(200), nullable=False),
    sa.Column("role_changed_at", WHEN, nullable=True),
    sa.Column("role_changed_by", sa.String(200), nullable=True),
)

#: API tokens by their SHA-256 fingerprint (the token itself is never stored anywhere).
api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("user_id", sa.Uuid, nullable=False, index=True),
    sa.Column("issued_at", WHEN, nullable=False),
    sa.Column("issued_by", sa.String(200), nullable=False),
    sa.Column("expires_at", WHEN, nullable=False),
    sa.Column("revoked_at", WHEN, nullable=True),
    sa.Column("revoked_by", sa.String(200), nullable=True),
)


# --- For auditors ---------------------------------------------------------------------

#: Every event of every context, indexed for the auditors' event log (the payload itself
#: is read from the event store when shown, so personal data stays sealed there).
event_log = sa.Table(
    "event_log",
    metadata,
    sa.Column("context", sa.String(32), primary_key=True),
    sa.Column("position", sa.BigInteger, primary_key=True),
    sa.Column("aggregate_id", sa.Uuid, nullable=False),
    sa.Column("aggregate_type", sa.String(64), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("event_type", sa.String(100), nullable=False, index=True),
    sa.Column("recorded_at", WHEN, nullable=False, index=True),
    sa.Column("event_id", sa.String(36), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False, index=True),
    sa.Column("correlation_id", sa.String(128), nullable=False, index=True),
    sa.Column("causation_id", sa.String(200), nullable=False),
    # When it happened in the shop (its ``at``; the recording time if it carries none): the business clock.
    sa.Column("business_at", WHEN, nullable=False, index=True),
    sa.Index("ix_event_log_aggregate", "aggregate_id", "version"),
)
