"""Batch loads of the Inventory read models."""

from __future__ import annotations

from projections.tables import purchase_order_lines, purchase_orders, stock_levels, supplier_terms, suppliers

from ..core.db import group_loader, row_loader

stock_levels_by_id = row_loader(stock_levels, "id")
stock_levels_by_sku = group_loader(stock_levels, "sku", stock_levels.c.warehouse)
suppliers_by_id = row_loader(suppliers, "id")
terms_by_supplier = group_loader(supplier_terms, "supplier_id", supplier_terms.c.sku)
purchase_orders_by_id = row_loader(purchase_orders, "id")
lines_by_purchase_order = group_loader(purchase_order_lines, "purchase_order_id", purchase_order_lines.c.sku)
