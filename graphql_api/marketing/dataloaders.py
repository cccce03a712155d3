"""Batch loads of the Marketing read models."""

from __future__ import annotations

from projections.marketing_tables import (
    budget_allocation_lines,
    budget_allocations,
    customer_scores,
    customer_segments,
    segment_moves,
)

from ..core.db import group_loader, row_loader

allocations_by_id = row_loader(budget_allocations, "id")
lines_by_allocation = group_loader(budget_allocation_lines, "allocation_id", budget_allocation_lines.c.position)
segments_by_customer = row_loader(customer_segments, "customer_id")
moves_by_customer = group_loader(segment_moves, "customer_id", segment_moves.c.at, segment_moves.c.id)
scores_by_customer = row_loader(customer_scores, "customer_id")
