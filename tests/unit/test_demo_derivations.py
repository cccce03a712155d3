"""What ``storewise demo`` derives from the data (data/README.md): supplier terms and past campaigns."""

from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace
from uuid import uuid4

from infrastructure.demo import past_campaigns, supplier_terms_from_data


def product(sku, category, price):
    return SimpleNamespace(sku=sku, category=category, price=price, currency="GBP")


def test_supplier_terms_come_from_the_catalog_and_the_order_lines():
    products = [product("A", "Kitchen", Decimal("2.55")), product("B", "Kitchen", Decimal("0.85"))]
    products += [product("C", "Garden", None), product("D", "Garden", Decimal("5.00"))]
    sold = {"A": Counter({6: 5, 12: 5, 1: 2}), "B": Counter({100: 3}), "C": Counter({1: 1})}
    terms = supplier_terms_from_data(products, sold)
    assert set(terms) == {"Kitchen supply co."}  # C has no price, D did not sell lately
    a, b = terms["Kitchen supply co."]["A"], terms["Kitchen supply co."]["B"]
    assert (a.pack_size, a.minimum_order_quantity, a.unit_cost.amount) == (6, 6, Decimal("1.27"))
    assert (b.pack_size, b.minimum_order_quantity, b.unit_cost.amount) == (1, 2, Decimal("0.42"))
    assert a.lead_time_days == b.lead_time_days in (7, 14, 21)
    assert supplier_terms_from_data(products, sold) == terms  # deterministic


def test_past_campaigns_cover_the_largest_segments_in_the_last_three_months():
    members = {name: [uuid4() for _ in range(size)] for name, size in (("a", 10), ("b", 8), ("c", 6), ("d", 2))}
    orders = [
        SimpleNamespace(customer_id=members["a"][i], placed_at=datetime(2011, month, 10), total=Decimal("30"))
        for i in range(5)
        for month in (3, 4, 5)
    ]
    plans = past_campaigns(members, orders, datetime(2011, 5, 31, 13, 32, tzinfo=UTC))
    assert len(plans) == 3 * 2 * 3 and {p["segment"] for p in plans} == {"a", "b", "c"}
    assert sorted({p["since"].month for p in plans}) == [2, 3, 4]  # whole months before the as-of instant
    email = [p for p in plans if p["segment"] == "a" and p["channel"] == "email"]
    assert len({p["spend"] for p in email}) == 3  # three different spends: a response curve can be fitted
    assert all(0 <= p["conversions"] <= p["reach"] == 10 for p in email)
    # March and April: half the segment ordered; February: nobody, so the 2% floor rounds to none
    assert [p["conversions"] > 0 for p in sorted(email, key=lambda p: p["since"])] == [False, True, True]
    assert plans == past_campaigns(members, orders, datetime(2011, 5, 31, 13, 32, tzinfo=UTC))
