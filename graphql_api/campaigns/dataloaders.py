"""Batch loads of the Campaign read models."""

from __future__ import annotations

from projections.tables import campaign_outcomes, campaigns

from ..core.db import group_loader, row_loader

campaigns_by_id = row_loader(campaigns, "id")
outcomes_by_campaign = group_loader(campaign_outcomes, "campaign_id", campaign_outcomes.c.version)
