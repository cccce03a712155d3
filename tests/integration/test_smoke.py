from decimal import Decimal

from domain.customer import OrderStatus
from domain.shared import Money


def test_an_order_reserves_stock_on_each_backend(storewise):
    customer_id = storewise.customers.register_customer("Ann Lee", "ann@example.com")
    storewise.inventory.receive_stock("A1", "main", 5)
    order_id = storewise.customers.place_order(customer_id, [("A1", 3, Money(Decimal("2.50"), "GBP"))])
    assert storewise.customers.order(order_id).status == OrderStatus.RESERVED
    assert storewise.inventory.stock_item("A1", "main").available == 2
