"""All projections, by name."""

from __future__ import annotations

from .access import AccessProjection
from .base import Projection
from .campaigns import CampaignProjection
from .catalog import CatalogProjection
from .customers import CustomerProjection
from .event_log import EventLogProjection
from .feedback import FeedbackProjection
from .inventory import InventoryProjection
from .marketing import MarketingProjection
from .models import ModelProjection
from .replenishment import ReplenishmentProjection


def all_projections() -> list[Projection]:
    contexts: list[Projection] = [
        CustomerProjection(),
        CatalogProjection(),
        InventoryProjection(),
        CampaignProjection(),
        FeedbackProjection(),
        AccessProjection(),
        ModelProjection(),
        MarketingProjection(),
    ]
    # Replenishment follows Inventory too: not a context of its own (no second event-log projection).
    return contexts + [EventLogProjection(p.leader) for p in contexts] + [ReplenishmentProjection()]
