"""The Storewise domain model: the bounded contexts of an online shop.

``contexts.py`` lists them (the one registry every layer reads), each with its domain modules;
``shared.py`` holds what every context uses (money, identities, the domain error) and
``masking.py`` how personal data is shown to staff who may not see it.

This package imports only the standard library and ``eventsourcing.domain``.
"""
