"""One source of truth: the GraphQL descriptions of domain types and fields are the domain's docstrings."""

from __future__ import annotations

from domain.catalog import Product
from domain.customer import Order, OrderLine, OrderStatus
from domain.inventory import StockItem
from graphql_api.core.docs import domain_doc
from graphql_api.schema import build_schema

#: (GraphQL type, field or None for the type itself) -> the domain term it shows.
SHOWN = {
    ("Product", None): Product,
    ("Order", None): Order,
    ("Order", "total"): Order.total,
    ("Order", "status"): OrderStatus,
    ("OrderLine", None): OrderLine,
    ("OrderLine", "total"): OrderLine.total,
    ("StockLevel", "reserved"): StockItem.reserved,
    ("StockLevel", "available"): StockItem.available,
}


def test_graphql_descriptions_are_the_domain_docstrings():
    schema = build_schema()._schema
    for (type_name, field_name), term in SHOWN.items():
        graphql_type = schema.type_map[type_name]
        description = graphql_type.description if field_name is None else graphql_type.fields[field_name].description
        expected = domain_doc(term)
        assert expected and " ".join((description or "").split()).startswith(expected), (type_name, field_name)
