"""Read models of segments, purchase predictions and budget allocations (issue 9)."""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401

from .tables import MONEY, WHEN, metadata  # noqa: F401
