"""Whether a trained model is still current: it has seen every customer event that carries behaviour."""

from __future__ import annotations

from typing import Any

#: Customer events that say nothing of what customers buy or look at: a model trained before them is still current.
NOT_BEHAVIOUR = ("Customer.Registered", "Customer.ProfileChanged", "Customer.ConsentGiven", "Customer.ConsentWithdrawn")


def has_seen_behaviour(storewise: Any, model: Any) -> bool:
    """Whether ``model`` was trained on every customer event recorded so far that carries behaviour
    (orders, activity, forgetting); consents, profile changes and slates do not count."""
    from projections.customers import CustomerProjection

    topics = [t for t in CustomerProjection.topics() if not t.endswith(NOT_BEHAVIOUR)]
    seen = model.data_position.get("Customers", 0)
    newer = storewise.customers.recorder.select_notifications(
        start=seen, limit=1, topics=topics, inclusive_of_start=False
    )
    return not newer
