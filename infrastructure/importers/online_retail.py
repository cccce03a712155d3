"""Import the UCI "Online Retail" invoice lines into Storewise, through the application layer.

The file (CSV, plain or gzipped, UTF-8) has one row per invoice line:
``InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country``.
Invoices whose number starts with ``C`` are cancellations (negative quantities);
about a quarter of the lines have no CustomerID (guest checkouts). Data set:
Daqing Chen, Sai Liang Sain, Kun Guo (2012), UCI Machine Learning Repository,
CC BY 4.0.

What an import does, in this order, each step a command of the application layer
with a deterministic idempotency key (so that running the same import again
records nothing):

1. Read and check every row. A row that cannot be a product sale or a return is
   rejected with a short, stable reason (``REJECTION_REASONS``) and counted; the
   import never stops for a bad row. Stock codes are upper-cased (the file spells
   some, e.g. ``85123a``, both ways). Two lines of the same SKU in one invoice
   are merged when their unit prices agree; a second line with another price is
   rejected.
2. Products: every SKU sold is listed (title: its most frequent description;
   category: from keywords of the title), priced at its most frequent unit price
   (GBP) and published, at the time of its first invoice.
3. Opening stock: every SKU receives, at the earliest time in the file, as many
   units as the file sells of it plus a buffer (a quarter more, at least 10:
   ``opening_stock``), so that no order is refused for want of stock and the shop
   is not sold out when the import ends.
   The quantity is part of the idempotency key: importing more of the file later
   tops the stock up rather than being skipped.
4. Invoices in chronological order. A sale: the customer is registered at their
   first invoice (the data has no names or e-mail addresses; synthetic ones stand
   in, and exercise the personal-data encryption), then the order is placed,
   paid and shipped (the process managers reserve and ship its stock on the
   way). No CustomerID: a guest order. A cancellation: each line is matched to
   the same customer's most recent earlier shipped order of that SKU that still
   has enough units not returned, and recorded as a return of those units.

A command that a business rule refuses is counted by its error code, and the
import goes on.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from tqdm import tqdm

from application.context import acting_as
from domain.customer import Customer
from domain.shared import DomainError, Money

if TYPE_CHECKING:
    from application.storewise import Storewise

T = TypeVar("T")

ACTOR = "importer:online-retail"
SOURCE = "online-retail"
CURRENCY = "GBP"
COLUMNS = ("InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country")

# --- why a row is rejected (stable: reports and tests rely on these strings) -----------

MALFORMED_ROW = "malformed row"
MISSING_INVOICE = "missing invoice number"
MISSING_STOCK_CODE = "missing stock code"
BAD_STOCK_CODE = "bad stock code"
BAD_QUANTITY = "bad quantity"
BAD_PRICE = "bad price"
BAD_DATE = "bad date"
BAD_CUSTOMER_ID = "bad customer id"
NON_PRODUCT = "non-product code"
ZERO_QUANTITY = "zero quantity"
NON_POSITIVE_PRICE = "non-positive price"
WRITE_OFF = "stock write-off"
POSITIVE_CANCELLATION = "positive quantity on cancellation"
MISSING_DESCRIPTION = "missing description"
OTHER_CUSTOMER = "customer differs within invoice"
CONFLICTING_DUPLICATE = "conflicting duplicate line"
GUEST_CANCELLATION = "cancellation by guest"
UNMATCHED_CANCELLATION = "cancellation without original"

#: Every reason a row can be rejected for, in the order the checks run.
REJECTION_REASONS = (
    MALFORMED_ROW,
    MISSING_INVOICE,
    MISSING_STOCK_CODE,
    BAD_STOCK_CODE,
    BAD_QUANTITY,
    BAD_PRICE,
    BAD_DATE,
    BAD_CUSTOMER_ID,
    NON_PRODUCT,
    ZERO_QUANTITY,
    WRITE_OFF,
    POSITIVE_CANCELLATION,
    NON_POSITIVE_PRICE,
    MISSING_DESCRIPTION,
    OTHER_CUSTOMER,
    CONFLICTING_DUPLICATE,
    GUEST_CANCELLATION,
    UNMATCHED_CANCELLATION,
)

#: Stock codes that are not products: postage, carriage, fees, commissions,
#: discounts, manual entries, samples, bad-debt adjustments.
NON_PRODUCT_CODES = frozenset(
    {"POST", "DOT", "M", "D", "C2", "S", "B", "CRUK", "PADS", "BANK CHARGES", "AMAZONFEE", "AMAZON FEE"}
)
#: Families of non-product codes: gift vouchers (``gift_0001_20``), test and adjustment entries.
NON_PRODUCT_PREFIXES = ("GIFT_", "TEST", "ADJUST")


def opening_stock(sold: int) -> int:
    """Units received before the first invoice: what the file sells, plus a buffer."""
    return sold + max(10, -(-sold // 4))


#: Category by keyword of the product's title; the first category with a keyword in the title wins.
CATEGORY_KEYWORDS: tuple[tuple[str, frozenset[str]], ...] = tuple(
    (category, frozenset(words.split()))
    for category, words in (
        ("Bags", "BAG BAGS"),
        ("Cards & wrap", "CARD CARDS WRAP ENVELOPES TAGS"),
        ("Mugs & cups", "MUG MUGS CUP CUPS TEACUP BEAKER"),
        ("Holders", "HOLDER HOLDERS STAND"),
        ("Lanterns", "LANTERN LANTERNS"),
        ("Candles", "CANDLE CANDLES"),
        ("Lights", "LIGHT LIGHTS LAMP"),
        ("Signs", "SIGN SIGNS PLAQUE"),
        ("Clocks", "CLOCK"),
        ("Cushions", "CUSHION CUSHIONS"),
        ("Frames", "FRAME FRAMES"),
        ("Boxes & tins", "BOX BOXES TIN TINS JAR BASKET"),
        ("Bottles & warmers", "BOTTLE WARMER"),
        ("Tableware", "PLATE PLATES BOWL BOWLS NAPKINS CASES TRAY TEAPOT CUTLERY SPOON SPOONS GLASS"),
        ("Kitchen", "APRON OVEN GLOVE TOWEL CAKESTAND BAKING"),
        ("Stationery", "NOTEBOOK PEN PENCIL PENCILS STICKERS STICKER BOOK CALENDAR"),
        ("Decorations", "DECORATION DECORATIONS BUNTING GARLAND WREATH ORNAMENT BAUBLE"),
        ("Jewellery", "NECKLACE EARRINGS BRACELET"),
        ("Toys & games", "TOY GAME DOLL PUZZLE JIGSAW"),
        ("Umbrellas", "UMBRELLA"),
    )
)
OTHER_CATEGORY = "Other"

_WORD = re.compile(r"[A-Z0-9]+")
_CUSTOMER_ID = re.compile(r"^(\d+)(?:\.0*)?$")
_MAX_SKU = 64


def category_of(description: str) -> str:
    """A simple category from the keywords of a product's description, else ``Other``."""
    words = set(_WORD.findall(description.upper()))
    for category, keywords in CATEGORY_KEYWORDS:
        if words & keywords:
            return category
    return OTHER_CATEGORY


def is_non_product(sku: str) -> bool:
    """Postage, fees, discounts, manual entries and the like: not something the shop stocks."""
    return sku in NON_PRODUCT_CODES or sku.startswith(NON_PRODUCT_PREFIXES)


# --- the report ---------------------------------------------------------------------------


@dataclass
class ImportReport:
    """What an import read, what it did, and how fast."""

    source: str
    warehouse: str = "main"
    encoding: str = "utf-8"
    rows_read: int = 0
    rows_accepted: int = 0
    #: Rejected rows per reason (see ``REJECTION_REASONS``).
    rows_rejected: dict[str, int] = field(default_factory=dict)
    #: Sale invoices and cancellation invoices with at least one accepted line.
    invoices: int = 0
    cancellation_invoices: int = 0
    #: Products, customers, orders the file describes and that exist after the import
    #: (created by it, or already there from an earlier run of the same import).
    products: int = 0
    customers: int = 0
    orders_placed: int = 0
    orders_shipped: int = 0
    guest_orders: int = 0
    returns_recorded: int = 0
    units_returned: int = 0
    #: Commands refused by a business rule, per error code.
    commands_refused: dict[str, int] = field(default_factory=dict)
    events_recorded: int = 0
    elapsed_seconds: float = 0.0

    @property
    def rows_rejected_total(self) -> int:
        return sum(self.rows_rejected.values())

    @property
    def events_per_second(self) -> float:
        return self.events_recorded / self.elapsed_seconds if self.elapsed_seconds > 0 else 0.0

    @property
    def rows_per_second(self) -> float:
        return self.rows_read / self.elapsed_seconds if self.elapsed_seconds > 0 else 0.0

    def reject(self, reason: str, rows: int = 1) -> None:
        self.rows_rejected[reason] = self.rows_rejected.get(reason, 0) + rows

    def refuse(self, code: str) -> None:
        self.commands_refused[code] = self.commands_refused.get(code, 0) + 1

    def as_dict(self) -> dict[str, Any]:
        """The report as plain data (JSON-ready)."""
        return {
            "source": self.source,
            "warehouse": self.warehouse,
            "encoding": self.encoding,
            "rows_read": self.rows_read,
            "rows_accepted": self.rows_accepted,
            "rows_rejected": dict(sorted(self.rows_rejected.items(), key=lambda kv: (-kv[1], kv[0]))),
            "invoices": self.invoices,
            "cancellation_invoices": self.cancellation_invoices,
            "products": self.products,
            "customers": self.customers,
            "orders_placed": self.orders_placed,
            "orders_shipped": self.orders_shipped,
            "guest_orders": self.guest_orders,
            "returns_recorded": self.returns_recorded,
            "units_returned": self.units_returned,
            "commands_refused": dict(sorted(self.commands_refused.items(), key=lambda kv: (-kv[1], kv[0]))),
            "events_recorded": self.events_recorded,
            "elapsed_seconds": round(self.elapsed_seconds, 3),
            "events_per_second": round(self.events_per_second, 1),
            "rows_per_second": round(self.rows_per_second, 1),
        }

    def summary(self) -> str:
        """The report for people, one fact a line."""
        lines = [
            f"Online Retail import from {self.source} (warehouse {self.warehouse})",
            f"  rows read          {self.rows_read:>10,}",
            f"  rows accepted      {self.rows_accepted:>10,}",
            f"  rows rejected      {self.rows_rejected_total:>10,}",
        ]
        for reason, count in sorted(self.rows_rejected.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"    {reason:<34} {count:>8,}")
        lines += [
            f"  products           {self.products:>10,}",
            f"  customers          {self.customers:>10,}",
            f"  orders placed      {self.orders_placed:>10,}  "
            f"({self.guest_orders:,} guest, {self.orders_shipped:,} shipped)",
            f"  returns recorded   {self.returns_recorded:>10,}  "
            f"({self.units_returned:,} units, from {self.cancellation_invoices:,} cancellation invoices)",
            f"  commands refused   {sum(self.commands_refused.values()):>10,}",
        ]
        for code, count in sorted(self.commands_refused.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"    {code:<34} {count:>8,}")
        lines += [
            f"  events recorded    {self.events_recorded:>10,}",
            f"  elapsed            {self.elapsed_seconds:>10.1f} s",
            f"  rate               {self.events_per_second:>10,.0f} events/s, {self.rows_per_second:,.0f} rows/s",
        ]
        return "\n".join(lines)


# --- reading --------------------------------------------------------------------------------


class _Line:
    """One SKU of one invoice: the rows merged into it share its unit price."""

    __slots__ = ("descriptions", "price", "quantity")

    def __init__(self, quantity: int, price: Decimal, description: str):
        self.quantity = quantity
        self.price = price
        self.descriptions = [description]

    @property
    def rows(self) -> int:
        return len(self.descriptions)


class _Invoice:
    """The accepted lines of one invoice."""

    __slots__ = ("at", "cancellation", "country", "customer", "lines", "number", "position")

    def __init__(self, number: str, at: datetime, customer: str | None, country: str, position: int):
        self.number = number
        self.at = at
        self.customer = customer
        self.country = country
        self.cancellation = number.upper().startswith("C")
        self.lines: dict[str, _Line] = {}
        self.position = position

    @property
    def rows(self) -> int:
        return sum(line.rows for line in self.lines.values())


def _open_text(path: Path, encoding: str, errors: str) -> io.TextIOWrapper:
    with open(path, "rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    binary: Any = gzip.open(path, "rb") if gzipped else open(path, "rb")  # noqa: SIM115 - closed by the wrapper
    return io.TextIOWrapper(binary, encoding=encoding, errors=errors, newline="")


class _Reader:
    """Reads and checks the rows, grouping the accepted ones into invoices."""

    def __init__(self, report: ImportReport):
        self.report = report
        self.invoices: dict[str, _Invoice] = {}
        self.earliest: datetime | None = None
        self._dates: dict[str, datetime | None] = {}

    def read(self, path: Path, limit: int | None, progress: bool) -> None:
        # The data set is UTF-8 (the pound sign of the gift vouchers is its only
        # non-ASCII character); other exports of it are Windows-1252. Try UTF-8 and
        # start again in Windows-1252 if the file is not UTF-8.
        for encoding, errors in (("utf-8-sig", "strict"), ("cp1252", "replace")):
            self.report.rows_read, self.report.rows_rejected = 0, {}
            self.invoices, self.earliest = {}, None
            try:
                with _open_text(path, encoding, errors) as text:
                    self._read(text, limit, progress)
            except UnicodeDecodeError:
                continue
            self.report.encoding = "utf-8" if encoding == "utf-8-sig" else encoding
            return

    def _read(self, text: io.TextIOWrapper, limit: int | None, progress: bool) -> None:
        rows = csv.reader(text)
        header = next(rows, None)
        if header is None:
            return
        names = [name.strip().lstrip("\ufeff") for name in header]
        missing = [name for name in COLUMNS if name not in names]
        if missing:
            raise ValueError(f"not an Online Retail file: no column {', '.join(missing)} in {names}")
        positions = [names.index(name) for name in COLUMNS]
        width = max(positions) + 1
        bar = tqdm(total=limit, desc="reading", unit=" rows", disable=not progress, file=sys.stderr, mininterval=0.5)
        report = self.report
        with bar:
            for row in rows:
                if limit is not None and report.rows_read >= limit:
                    break
                if len(row) < width:
                    if not any(cell.strip() for cell in row):  # a blank line is no row at all
                        continue
                    report.rows_read += 1
                    report.reject(MALFORMED_ROW)
                else:
                    report.rows_read += 1
                    self._accept(report.rows_read, [row[p] for p in positions])
                if report.rows_read % 4096 == 0:
                    bar.update(report.rows_read - bar.n)
            bar.update(report.rows_read - bar.n)

    def _date(self, text: str) -> datetime | None:
        try:
            return self._dates[text]
        except KeyError:
            pass
        value = text.strip()
        at: datetime | None = None
        for parse in (datetime.fromisoformat, lambda v: datetime.strptime(v, "%m/%d/%Y %H:%M")):
            try:
                at = parse(value)
                break
            except ValueError:
                continue
        if at is not None:
            at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
        self._dates[text] = at
        return at

    def _accept(self, position: int, row: list[str]) -> None:
        number, sku, description, quantity_text, date_text, price_text, customer_text, country = row
        reject = self.report.reject
        number = number.strip()
        if not number:
            return reject(MISSING_INVOICE)
        sku = sku.strip().upper()
        if not sku:
            return reject(MISSING_STOCK_CODE)
        if len(sku) > _MAX_SKU:
            return reject(BAD_STOCK_CODE)
        try:
            quantity = int(quantity_text)
        except ValueError:
            return reject(BAD_QUANTITY)
        try:
            price = Decimal(price_text.strip())
        except InvalidOperation:
            return reject(BAD_PRICE)
        if not price.is_finite():
            return reject(BAD_PRICE)
        at = self._date(date_text)
        if at is None:
            return reject(BAD_DATE)
        if self.earliest is None or at < self.earliest:
            self.earliest = at
        customer_text = customer_text.strip()
        customer: str | None = None
        if customer_text:
            match = _CUSTOMER_ID.match(customer_text)
            if match is None:
                return reject(BAD_CUSTOMER_ID)
            customer = str(int(match.group(1)))
        if is_non_product(sku):
            return reject(NON_PRODUCT)
        if quantity == 0:
            return reject(ZERO_QUANTITY)
        cancellation = number.upper().startswith("C")
        if quantity < 0 and not cancellation:
            return reject(WRITE_OFF)
        if quantity > 0 and cancellation:
            return reject(POSITIVE_CANCELLATION)
        if price <= 0:
            return reject(NON_POSITIVE_PRICE)
        description = " ".join(description.split())
        if not description:
            return reject(MISSING_DESCRIPTION)

        invoice = self.invoices.get(number)
        if invoice is None:
            invoice = self.invoices[number] = _Invoice(number, at, customer, country.strip(), position)
        elif customer != invoice.customer:
            return reject(OTHER_CUSTOMER)
        elif at < invoice.at:
            invoice.at = at
        line = invoice.lines.get(sku)
        if line is None:
            invoice.lines[sku] = _Line(abs(quantity), price, description)
        elif line.price != price:
            return reject(CONFLICTING_DUPLICATE)
        else:
            line.quantity += abs(quantity)
            line.descriptions.append(description)
        return None


# --- importing ------------------------------------------------------------------------------


class _Shipment:
    """Units of one SKU that one customer's order shipped, and how many came back."""

    __slots__ = ("invoice", "order_id", "quantity", "returned")

    def __init__(self, invoice: str, order_id: UUID, quantity: int):
        self.invoice = invoice
        self.order_id = order_id
        self.quantity = quantity
        self.returned = 0


class _Importer:
    def __init__(self, storewise: Storewise, warehouse: str, report: ImportReport, progress: bool):
        self.customers = storewise.customers
        self.catalog = storewise.catalog
        self.inventory = storewise.inventory
        self.warehouse = warehouse
        self.report = report
        self.progress = progress
        #: Customers registered by this run (CustomerID -> customer id).
        self.registered: dict[str, UUID] = {}
        #: Per (CustomerID, SKU): that customer's shipped orders of the SKU, oldest first.
        self.shipments: dict[tuple[str, str], list[_Shipment]] = {}

    def attempt(self, command: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        """Run one command; a business rule refusing it is counted, not raised."""
        try:
            return command(*args, **kwargs)
        except DomainError as error:
            self.report.refuse(error.code)
            return None

    def run(self, invoices: list[_Invoice], earliest: datetime | None) -> None:
        sales = [invoice for invoice in invoices if not invoice.cancellation]
        products = self._product_facts(sales)
        bar = tqdm(
            total=2 * len(products) + len(invoices),
            desc="products",
            unit=" steps",
            disable=not self.progress,
            file=sys.stderr,
            mininterval=0.5,
        )
        with bar:
            for sku, (title, price, first_at, _) in products.items():
                self._product(sku, title, price, first_at)
                bar.update()
            bar.set_description("opening stock")
            for sku, (_, _, _, sold) in products.items():
                units = opening_stock(sold)
                self.attempt(
                    self.inventory.receive_stock,
                    sku,
                    self.warehouse,
                    units,
                    "opening-stock",
                    at=earliest,
                    idempotency_key=f"{SOURCE}:opening-stock:{self.warehouse}:{sku}:{units}",
                )
                bar.update()
            bar.set_description("invoices")
            for invoice in invoices:
                if invoice.cancellation:
                    self._cancellation(invoice)
                else:
                    self._sale(invoice)
                bar.update()

    @staticmethod
    def _product_facts(sales: list[_Invoice]) -> dict[str, tuple[str, Decimal, datetime, int]]:
        """Per SKU sold, in order of first sale: title, price, first sale time, units sold."""
        descriptions: dict[str, Counter[str]] = {}
        prices: dict[str, Counter[Decimal]] = {}
        first: dict[str, datetime] = {}
        units: dict[str, int] = {}
        for invoice in sales:
            for sku, line in invoice.lines.items():
                if sku not in first:
                    first[sku] = invoice.at
                    descriptions[sku], prices[sku], units[sku] = Counter(), Counter(), 0
                descriptions[sku].update(line.descriptions)
                prices[sku][line.price] += line.rows
                units[sku] += line.quantity
        return {
            sku: (descriptions[sku].most_common(1)[0][0], prices[sku].most_common(1)[0][0], first[sku], units[sku])
            for sku in first
        }

    def _product(self, sku: str, title: str, price: Decimal, at: datetime) -> None:
        key = f"{SOURCE}:product:{sku}"
        product_id = self.attempt(
            self.catalog.list_product, sku, title, category_of(title), {"source": SOURCE}, idempotency_key=f"{key}:list"
        )
        if product_id is None:
            return
        self.report.products += 1
        self.attempt(
            self.catalog.price_product, product_id, Money(price, CURRENCY), at=at, idempotency_key=f"{key}:price"
        )
        self.attempt(self.catalog.publish_product, product_id, at=at, idempotency_key=f"{key}:publish")

    def _customer(self, invoice: _Invoice) -> UUID:
        reference = invoice.customer
        assert reference is not None
        customer_id = self.registered.get(reference)
        if customer_id is None:
            registered = self.attempt(
                self.customers.register_customer,
                f"Customer {reference}",
                f"customer{reference}@example.com",
                address=invoice.country or None,
                reference=reference,
                at=invoice.at,
                idempotency_key=f"{SOURCE}:customer:{reference}:register",
            )
            if registered is not None:
                self.report.customers += 1
            # Refused or not, the customer's identity follows from the reference.
            customer_id = self.registered[reference] = registered or Customer.create_id(reference=reference)
        return customer_id

    def _sale(self, invoice: _Invoice) -> None:
        report = self.report
        report.invoices += 1
        customer_id = self._customer(invoice) if invoice.customer is not None else None
        lines = [(sku, line.quantity, Money(line.price, CURRENCY)) for sku, line in invoice.lines.items()]
        key = f"{SOURCE}:{invoice.number}"
        order_id = self.attempt(
            self.customers.place_order,
            customer_id,
            lines,
            warehouse=self.warehouse,
            reference=invoice.number,
            at=invoice.at,
            idempotency_key=f"{key}:place",
        )
        if order_id is None:
            return
        report.orders_placed += 1
        if customer_id is None:
            report.guest_orders += 1
        total = Money(sum((line.price * line.quantity for line in invoice.lines.values()), Decimal(0)), CURRENCY)
        self.attempt(self.customers.pay_order, order_id, total, at=invoice.at, idempotency_key=f"{key}:pay")
        if self.attempt(self.customers.ship_order, order_id, at=invoice.at, idempotency_key=f"{key}:ship") is None:
            return
        report.orders_shipped += 1
        if invoice.customer is not None:
            for sku, line in invoice.lines.items():
                self.shipments.setdefault((invoice.customer, sku), []).append(
                    _Shipment(invoice.number, order_id, line.quantity)
                )

    def _cancellation(self, invoice: _Invoice) -> None:
        report = self.report
        if invoice.customer is None:
            report.reject(GUEST_CANCELLATION, invoice.rows)
            return
        # Match each line to the most recent shipment with enough units not yet returned.
        by_order: dict[UUID, tuple[str, list[tuple[str, int, _Shipment]]]] = {}
        for sku, line in invoice.lines.items():
            for shipment in reversed(self.shipments.get((invoice.customer, sku), ())):
                if shipment.quantity - shipment.returned >= line.quantity:
                    by_order.setdefault(shipment.order_id, (shipment.invoice, []))[1].append(
                        (sku, line.quantity, shipment)
                    )
                    break
            else:
                report.reject(UNMATCHED_CANCELLATION, line.rows)
        if not by_order:
            return
        report.cancellation_invoices += 1
        for order_id, (original, matched) in by_order.items():
            recorded = self.attempt(
                self.customers.return_order_lines,
                order_id,
                [(sku, quantity) for sku, quantity, _ in matched],
                reason=f"cancellation invoice {invoice.number}",
                at=invoice.at,
                idempotency_key=f"{SOURCE}:{invoice.number}:return:{original}",
            )
            if recorded is None:
                continue
            report.returns_recorded += 1
            for _, quantity, shipment in matched:
                shipment.returned += quantity
                report.units_returned += quantity


def _events_recorded(storewise: Storewise) -> int:
    return sum(storewise.event_counts().values())


def _chronological(invoices: dict[str, _Invoice]) -> Iterator[_Invoice]:
    return iter(sorted(invoices.values(), key=lambda invoice: (invoice.at, invoice.position)))


def import_online_retail(
    storewise: Storewise,
    path: str | Path,
    *,
    limit: int | None = None,
    warehouse: str = "main",
    progress: bool = True,
) -> ImportReport:
    """Import the Online Retail invoice lines in ``path`` (CSV, plain or gzipped)
    into ``storewise`` through its applications' commands; at most ``limit`` rows.

    Idempotent: running the same import again records no event. Bad rows are
    rejected and counted, refused commands counted; neither stops the import.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    if limit is not None and limit < 0:
        raise ValueError("limit must be zero or more")
    started = time.perf_counter()
    report = ImportReport(source=str(path), warehouse=warehouse)
    events_before = _events_recorded(storewise)

    reader = _Reader(report)
    reader.read(path, limit, progress)
    invoices = list(_chronological(reader.invoices))
    with acting_as(ACTOR):
        _Importer(storewise, warehouse, report, progress).run(invoices, reader.earliest)

    report.rows_accepted = report.rows_read - report.rows_rejected_total
    report.events_recorded = _events_recorded(storewise) - events_before
    report.elapsed_seconds = time.perf_counter() - started
    return report
