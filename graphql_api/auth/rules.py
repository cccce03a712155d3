"""Conditions shared by several fields' rules."""

from __future__ import annotations

from domain.access import Role

from ..feedback.enums import ReviewStatusEnum
from .permissions import AllOf, AnyOf, ArgumentIs, OwnCustomer, PublishedOrOwnReview

#: The roles that see published reviews only (beside their own, for a customer).
PUBLIC_REVIEW_ROLES = (Role.INVENTORY_PLANNER, Role.CUSTOMER, Role.ANONYMOUS)

#: What shoppers may list: published reviews, not filtered by author (who wrote what is not public).
PUBLIC_REVIEWS = AllOf(ArgumentIs("status", ReviewStatusEnum.PUBLISHED, "PUBLISHED"), ArgumentIs("customer_id", None))

#: ``reviews``: beside the review readers, everyone may list public reviews; a customer also their own.
REVIEWS_FOR_EVERYONE_ELSE = {
    Role.INVENTORY_PLANNER: PUBLIC_REVIEWS,
    Role.ANONYMOUS: PUBLIC_REVIEWS,
    Role.CUSTOMER: AnyOf(PUBLIC_REVIEWS, OwnCustomer("customer_id")),
}

#: ``Product.reviews``: the public reviews only, for the roles that are not review readers.
PRODUCT_REVIEWS_FOR_EVERYONE_ELSE = dict.fromkeys(PUBLIC_REVIEW_ROLES, PUBLIC_REVIEWS)

#: ``review(id:)``: a published review, or (a customer) one of their own.
REVIEW_FOR_EVERYONE_ELSE = {role: PublishedOrOwnReview("id") for role in PUBLIC_REVIEW_ROLES}
