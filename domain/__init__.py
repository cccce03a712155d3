"""The Storewise domain model: the bounded contexts of an online shop.

- ``customer``: people who shop, their activity and their orders.
- ``catalog``: the products the shop sells.
- ``inventory``: stock of each product at each warehouse, suppliers and purchase orders.
- ``campaign``: marketing actions aimed at customer segments.
- ``feedback``: reviews customers write about products.
- ``access``: who may use the API (users, their roles and API tokens).

This package imports only the standard library and ``eventsourcing.domain``.
"""
