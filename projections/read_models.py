"""Every read-model table in one metadata: what Alembic migrates and an audit compares.

The core tables are in ``tables``; the engines' read models in a module each beside it.
"""

from __future__ import annotations

from . import (
    feedback_tables,
    marketing_tables,
    model_health_tables,
    models_tables,
    outcomes_tables,
    replenishment_tables,
    tables,
)

metadata = tables.metadata

__all__ = [
    "feedback_tables",
    "marketing_tables",
    "metadata",
    "model_health_tables",
    "models_tables",
    "outcomes_tables",
    "replenishment_tables",
    "tables",
]
