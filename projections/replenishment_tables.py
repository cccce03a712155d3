"""Read models of demand forecasts and replenishment plans (issue 7)."""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401

from .tables import MONEY, WHEN, metadata  # noqa: F401
