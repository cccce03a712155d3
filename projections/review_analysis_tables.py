"""Read models of review analyses and product sentiment (issue 8)."""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401

from .tables import MONEY, WHEN, metadata  # noqa: F401
