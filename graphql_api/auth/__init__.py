"""Authentication (bearer tokens -> principals) and authorisation (a rule on every field)."""

from .authentication import Authenticator, bearer_token
from .permissions import (
    ACCESS_READERS,
    ALL_ROLES,
    CAMPAIGN_READERS,
    CAMPAIGN_WRITERS,
    CATALOG_WRITERS,
    CUSTOMER_DATA_READERS,
    EVERYONE,
    FORBIDDEN,
    INVENTORY_READERS,
    INVENTORY_WRITERS,
    MODERATORS,
    REVIEW_READERS,
    STAFF,
    UNAUTHENTICATED,
    AllOf,
    Allow,
    AnyOf,
    ArgumentIs,
    Guard,
    OwnCustomer,
    OwnOrder,
    OwnSource,
    PublishedOrOwnReview,
    ReadableObjects,
    requires,
    rule_of,
    unguarded_fields,
)
from .principal import ANONYMOUS, Principal, Role

__all__ = [
    "ACCESS_READERS", "ALL_ROLES", "ANONYMOUS", "CAMPAIGN_READERS", "CAMPAIGN_WRITERS", "CATALOG_WRITERS",
    "CUSTOMER_DATA_READERS", "EVERYONE", "FORBIDDEN", "INVENTORY_READERS", "INVENTORY_WRITERS", "MODERATORS",
    "REVIEW_READERS", "STAFF", "UNAUTHENTICATED", "AllOf", "Allow", "AnyOf", "ArgumentIs", "Authenticator", "Guard",
    "OwnCustomer", "OwnOrder", "OwnSource", "Principal", "PublishedOrOwnReview", "ReadableObjects", "Role",
    "bearer_token", "requires", "rule_of", "unguarded_fields",
]
