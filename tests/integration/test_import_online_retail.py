"""The Online Retail importer, on a tiny hand-made file with every kind of bad row.

tests/fixtures/online_retail_small.csv, row by row (data rows numbered from 1):

 1-3  invoice 100001, customer 12345: 85123A 6 + 85123a 2 (same SKU, same price:
      merged into 8) and 71053 4; row 4 is 71053 again at another price
      (conflicting duplicate), row 5 is POSTAGE (non-product).
 6-7  invoice 100002, a guest: 85123A 3, 22423 1; rows 8-11 are a blank stock
      code, a bad quantity, a bad price, a bad date.
 12-16 invoice 100003, customer 12346 (France): 22423 2, 85123A 1 at 2.95,
      82567 2 (a description with a comma); a zero quantity (14), a zero price (15).
 17   a negative quantity on a normal invoice: a stock write-off.
 18   C100008 (6 Dec), customer 12345: 71053 -1, listed before the invoice it
      cancels (100007 of 5 Dec): it must match 100007, the most recent one.
 19-21 C100004 (3 Dec), customer 12345: 85123A -2 (matches 100001), 71053 -10
      (more than was bought: no original), D (discount: non-product).
 22   C100005: a guest's cancellation.  23-24 C100006, customer 12347 who bought
      nothing: no original; a positive quantity on a cancellation.
 25   invoice 100007, customer 12345: 71053 3.
 26-27 bad-debt adjustment (B), gift voucher (non-product codes).
 28   an unreadable CustomerID.  29 a row with missing columns.
 30-32 invoice 100014, customer 12348: 22197 12; a line of another customer; a
      blank description.
"""

from __future__ import annotations

import gzip
import json
import shutil
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from application.errors import NotFound
from domain.customer import Customer, Order, OrderStatus
from domain.shared import Money
from infrastructure.importers.online_retail import ImportReport, import_online_retail, opening_stock

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "online_retail_small.csv"

EXPECTED_REJECTIONS = {
    "conflicting duplicate line": 1,
    "non-product code": 4,
    "missing stock code": 1,
    "bad quantity": 1,
    "bad price": 1,
    "bad date": 1,
    "zero quantity": 1,
    "non-positive price": 1,
    "stock write-off": 1,
    "cancellation without original": 2,
    "cancellation by guest": 1,
    "positive quantity on cancellation": 1,
    "bad customer id": 1,
    "malformed row": 1,
    "customer differs within invoice": 1,
    "missing description": 1,
}


def gbp(amount: str) -> Money:
    return Money(Decimal(amount), "GBP")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def run_import(storewise, path: Path = FIXTURE, **options) -> ImportReport:
    return import_online_retail(storewise, path, progress=False, **options)


def events_in(storewise) -> int:
    return sum(app.recorder.max_notification_id() or 0 for app in storewise.applications)


def order(storewise, invoice: str) -> Order:
    return storewise.customers.order(Order.create_id(reference=invoice))


def customer_id(reference: str):
    return Customer.create_id(reference=reference)


def on_hand(storewise, sku: str) -> int:
    item = storewise.inventory.stock_item(sku, "main")
    assert item is not None, f"no stock item of {sku}"
    assert item.reserved == 0, "every order was shipped: nothing stays reserved"
    return item.on_hand


def test_every_bad_row_is_rejected_and_counted_by_reason(sqlite_storewise):
    report = run_import(sqlite_storewise)

    assert report.rows_read == 32
    assert report.rows_rejected == EXPECTED_REJECTIONS
    assert report.rows_accepted == 32 - sum(EXPECTED_REJECTIONS.values()) == 12
    assert report.commands_refused == {}
    assert (report.products, report.customers) == (5, 3)
    assert (report.orders_placed, report.orders_shipped, report.guest_orders) == (5, 5, 1)
    assert (report.returns_recorded, report.units_returned) == (2, 3)
    assert report.events_recorded == events_in(sqlite_storewise) > 0


def test_products_are_listed_priced_and_published_once_per_stock_code(sqlite_storewise):
    run_import(sqlite_storewise)
    catalog = sqlite_storewise.catalog

    heart = catalog.product(catalog.product_id("85123A"))
    assert heart.title == "WHITE HANGING HEART T-LIGHT HOLDER"  # 3 rows, against 1 of the cream one
    assert heart.category == "Holders"
    assert heart.price == gbp("2.55")  # the most frequent price (2.95 once)
    assert heart.is_published
    assert heart.attributes == {"source": "online-retail"}

    sign = catalog.product(catalog.product_id("82567"))
    assert (sign.title, sign.category, sign.price) == ("AIRLINE LOUNGE,METAL SIGN", "Signs", gbp("2.10"))
    assert catalog.product(catalog.product_id("71053")).category == "Lanterns"
    assert catalog.product(catalog.product_id("22423")).category == "Kitchen"

    # The lower-case spelling is the same product; rejected rows and fees make none.
    for sku in ("85123a", "POST", "D", "21777", "84880", "84879", "GIFT_0001_20"):
        with pytest.raises(NotFound):
            catalog.product(catalog.product_id(sku))


def test_customers_are_registered_with_synthetic_personal_data_kept_encrypted(sqlite_storewise):
    run_import(sqlite_storewise)
    customers = sqlite_storewise.customers

    ann = customers.customer(customer_id("12345"))
    assert (ann.name, ann.email, ann.address, ann.reference) == (
        "Customer 12345",
        "customer12345@example.com",
        "United Kingdom",
        "12345",
    )
    assert ann.registered_at == utc("2010-12-01 08:26:00")
    assert customers.customer(customer_id("12346")).address == "France"
    with pytest.raises(NotFound):  # only a cancellation, nothing bought: never registered
        customers.customer(customer_id("12347"))

    (stored,) = customers.recorder.select_events(customer_id("12345"))
    assert b"customer12345@example.com" not in stored.state
    assert b"Customer 12345" not in stored.state
    metadata = customers.mapper.metadata_of(stored)
    assert metadata["actor"] == "importer:online-retail"
    assert metadata["idempotency_key"] == "online-retail:customer:12345:register"


def test_invoices_become_shipped_orders_and_stock_follows(sqlite_storewise):
    run_import(sqlite_storewise)

    first = order(sqlite_storewise, "100001")
    assert first.status == OrderStatus.SHIPPED
    assert first.is_paid
    assert first.customer_id == customer_id("12345")
    assert first.placed_at == utc("2010-12-01 08:26:00")
    assert [(line.sku, line.quantity, line.unit_price) for line in first.lines] == [
        ("85123A", 8, gbp("2.55")),  # two rows of the same price merged
        ("71053", 4, gbp("3.39")),
    ]
    assert first.total == gbp("33.96")

    guest = order(sqlite_storewise, "100002")
    assert guest.customer_id is None
    assert guest.status == OrderStatus.SHIPPED
    assert [(line.sku, line.quantity) for line in guest.lines] == [("85123A", 3), ("22423", 1)]

    french = order(sqlite_storewise, "100003")
    assert [(line.sku, line.quantity, line.unit_price) for line in french.lines] == [
        ("22423", 2, gbp("12.75")),
        ("85123A", 1, gbp("2.95")),  # the order keeps the invoice's own price
        ("82567", 2, gbp("2.10")),
    ]

    # Opening stock = units sold + a buffer of at least 10; on hand = received - shipped + returned.
    assert [opening_stock(n) for n in (12, 7, 3, 40)] == [22, 17, 13, 50]
    assert on_hand(sqlite_storewise, "85123A") == 22 - (8 + 3 + 1) + 2
    assert on_hand(sqlite_storewise, "71053") == 17 - (4 + 3) + 1
    assert on_hand(sqlite_storewise, "22423") == 13 - (1 + 2)
    assert on_hand(sqlite_storewise, "22197") == 22 - 12
    assert sqlite_storewise.inventory.stock_item("21777", "main") is None


def test_cancellations_return_units_of_the_most_recent_matching_order(sqlite_storewise):
    run_import(sqlite_storewise)

    assert order(sqlite_storewise, "100001").returned == {"85123A": 2}  # C100004; its 71053 -10 had no original
    assert order(sqlite_storewise, "100007").returned == {"71053": 1}  # C100008, though first in the file
    assert order(sqlite_storewise, "100003").returned == {}
    with pytest.raises(NotFound):  # a cancellation invoice is no order
        order(sqlite_storewise, "C100004")


def test_running_the_same_import_again_records_nothing(sqlite_storewise):
    first = run_import(sqlite_storewise)
    events = events_in(sqlite_storewise)

    second = run_import(sqlite_storewise)

    assert second.events_recorded == 0
    assert events_in(sqlite_storewise) == events
    assert second.commands_refused == {}
    assert second.rows_rejected == first.rows_rejected
    assert (second.products, second.customers, second.orders_placed, second.returns_recorded) == (5, 3, 5, 2)
    assert on_hand(sqlite_storewise, "85123A") == 22 - (8 + 3 + 1) + 2
    assert order(sqlite_storewise, "100001").returned == {"85123A": 2}


def test_a_limit_reads_only_the_first_rows(sqlite_storewise):
    report = run_import(sqlite_storewise, limit=5)

    assert report.rows_read == 5
    assert report.rows_rejected == {"conflicting duplicate line": 1, "non-product code": 1}
    assert (report.products, report.customers, report.orders_placed) == (2, 1, 1)
    assert order(sqlite_storewise, "100001").status == OrderStatus.SHIPPED
    with pytest.raises(NotFound):
        order(sqlite_storewise, "100002")
    assert on_hand(sqlite_storewise, "85123A") == opening_stock(8) - 8

    # Importing the whole file afterwards tops the stock up: no order is refused.
    rest = run_import(sqlite_storewise)
    assert rest.commands_refused == {}
    assert order(sqlite_storewise, "100002").status == OrderStatus.SHIPPED
    assert order(sqlite_storewise, "100014").status == OrderStatus.SHIPPED


def test_a_gzipped_file_reads_the_same(sqlite_storewise, tmp_path):
    packed = tmp_path / "small.csv.gz"
    with FIXTURE.open("rb") as plain, gzip.open(packed, "wb") as zipped:
        shutil.copyfileobj(plain, zipped)

    report = run_import(sqlite_storewise, packed)

    assert report.rows_read == 32
    assert report.rows_rejected == EXPECTED_REJECTIONS
    assert report.orders_shipped == 5


def test_a_windows_1252_export_reads_the_same(sqlite_storewise, tmp_path):
    legacy = tmp_path / "small-cp1252.csv"
    legacy.write_bytes(FIXTURE.read_text(encoding="utf-8").encode("cp1252"))  # the pound sign becomes one byte

    report = run_import(sqlite_storewise, legacy)

    assert report.encoding == "cp1252"
    assert report.rows_read == 32
    assert report.rows_rejected == EXPECTED_REJECTIONS


def test_the_report_reads_well_and_serialises(sqlite_storewise):
    report = run_import(sqlite_storewise)

    summary = report.summary()
    assert "rows read" in summary and "32" in summary
    assert "cancellation without original" in summary
    assert "events/s" in summary
    data = json.loads(json.dumps(report.as_dict()))
    assert data["rows_rejected"] == EXPECTED_REJECTIONS
    assert data["events_recorded"] == report.events_recorded
    assert data["orders_placed"] == 5


def test_import_on_each_backend(storewise):
    report = run_import(storewise)

    assert report.rows_rejected == EXPECTED_REJECTIONS
    assert report.commands_refused == {}
    assert order(storewise, "100001").status == OrderStatus.SHIPPED
    assert order(storewise, "100002").customer_id is None
    assert order(storewise, "100007").returned == {"71053": 1}
    assert on_hand(storewise, "85123A") == 22 - (8 + 3 + 1) + 2
    assert storewise.customers.customer(customer_id("12348")).email == "customer12348@example.com"

    again = run_import(storewise)
    assert again.events_recorded == 0
