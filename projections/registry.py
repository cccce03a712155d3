"""All projections, by bounded context (``domain.contexts``).

Each context has its projections (the first keeps its main read models; Inventory's second,
replenishment, follows the same log) and an event-log projection that indexes every one of
its events for the auditors. The registry is checked when this module is imported: every
context has a projection, and each projection follows the context it is listed under.
"""

from __future__ import annotations

from domain.contexts import CONTEXT_NAMES
from domain.shared import AttributionWindow

from .access import AccessProjection
from .base import Projection
from .campaigns import CampaignProjection
from .catalog import CatalogProjection
from .customers import CustomerProjection
from .event_log import EventLogProjection
from .exposure import ExposureProjection
from .feedback import FeedbackProjection
from .inventory import InventoryProjection
from .marketing import MarketingProjection
from .models import ModelProjection
from .outcomes import (
    CampaignAudienceProjection,
    ForecastRecordProjection,
    PurchasePredictionProjection,
    ReviewCorrectionProjection,
)
from .replenishment import ReplenishmentProjection

#: The projections of each context, by the context's name, in the registry's order.
CONTEXT_PROJECTIONS: dict[str, tuple[type[Projection], ...]] = {
    "Customers": (CustomerProjection, ExposureProjection),
    "Catalog": (CatalogProjection,),
    # Replenishment is part of Inventory: it follows the same log (no second event-log projection).
    "Inventory": (InventoryProjection, ReplenishmentProjection, ForecastRecordProjection),
    "Campaigns": (CampaignProjection, CampaignAudienceProjection),
    "Feedback": (FeedbackProjection, ReviewCorrectionProjection),
    "Access": (AccessProjection,),
    "Models": (ModelProjection,),
    "Marketing": (MarketingProjection, PurchasePredictionProjection),
}

if list(CONTEXT_PROJECTIONS) != list(CONTEXT_NAMES):
    raise ValueError(f"the projections' contexts {list(CONTEXT_PROJECTIONS)} are not {list(CONTEXT_NAMES)}")
for _context, _projections in CONTEXT_PROJECTIONS.items():
    for _projection in _projections:
        if _projection.leader != _context:
            raise ValueError(f"{_projection.__name__} follows {_projection.leader!r}, not {_context!r}")


def all_projections(attribution: AttributionWindow | None = None) -> list[Projection]:
    """Every projection: each context's main one, each context's event-log index, then the others
    (``attribution``: the window the exposure projection attributes orders within; the default's if None)."""
    main = [projections[0]() for projections in CONTEXT_PROJECTIONS.values()]
    others = [
        cls(attribution) if cls is ExposureProjection else cls()
        for projections in CONTEXT_PROJECTIONS.values()
        for cls in projections[1:]
    ]
    return main + [EventLogProjection(name) for name in CONTEXT_NAMES] + others
