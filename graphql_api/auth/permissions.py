"""Who may use which field: one mechanism, declared on the fields themselves.

Every Query, Mutation and Subscription field — and every nested field that reaches
into personal data or another context's restricted data (``Order.customer``,
``Customer.orders``...) — carries a guard::

    @strawberry.field(description="...", extensions=[requires(Role.ADMIN, Role.MERCHANDISER)])

``requires(*roles, when={role: condition})``: the listed roles may use the field; a role
in ``when`` may use it only while its condition holds (ownership: "the customer in the
arguments is the caller", "the order's customer is the caller"; or "only published
reviews"). A Strawberry permission class (:class:`Allow`) does the checking, so nothing
is checked in the resolvers. The guard is also the rule table: ``guard.rule.roles`` and
``guard.rule.conditions`` are what the permission-matrix test reads from the schema,
and each guarded field's description says who may use it.

Denied: the field resolves to null with a GraphQL error whose ``extensions.code`` is
``UNAUTHENTICATED`` (no token, or one that was refused) or ``FORBIDDEN`` (a token whose
role or ownership does not allow it); the rest of the response is unaffected (guarded
fields that can be denied are nullable — the schema refuses to build otherwise).

Audit of access (logger ``storewise.access``, fields in ``extra``): every denied attempt
(WARNING), and every read of clear personal data by someone other than its owner (INFO),
with the principal, the correlation id, the field and the subject's id.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Mapping
from typing import Any

from strawberry.exceptions import StrawberryGraphQLError
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.types import Info
from strawberry.types.base import StrawberryOptional

from domain.access import Role

from .principal import ANONYMOUS, Principal

audit = logging.getLogger("storewise.access")

FORBIDDEN = "FORBIDDEN"
UNAUTHENTICATED = "UNAUTHENTICATED"

#: Every role, in the order they are listed in the docs.
ALL_ROLES: tuple[Role, ...] = tuple(Role)
EVERYONE = ALL_ROLES
#: The shop's staff: they read the catalog and operations; what else depends on the role.
STAFF = (Role.ADMIN, Role.MERCHANDISER, Role.INVENTORY_PLANNER, Role.MARKETER, Role.AUDITOR)
#: Who reads customers (masked), orders, activity and RFM figures.
CUSTOMER_DATA_READERS = (Role.ADMIN, Role.MARKETER, Role.AUDITOR)
#: Who reads suppliers and purchase orders.
INVENTORY_READERS = (Role.ADMIN, Role.INVENTORY_PLANNER, Role.AUDITOR)
#: Who reads campaigns.
CAMPAIGN_READERS = (Role.ADMIN, Role.MARKETER, Role.AUDITOR)
#: Who reads every review, moderated or not.
REVIEW_READERS = (Role.ADMIN, Role.MERCHANDISER, Role.MARKETER, Role.AUDITOR)
#: Who reads users and their tokens (who granted what).
ACCESS_READERS = (Role.ADMIN, Role.AUDITOR)
CATALOG_WRITERS = (Role.ADMIN, Role.MERCHANDISER)
INVENTORY_WRITERS = (Role.ADMIN, Role.INVENTORY_PLANNER)
CAMPAIGN_WRITERS = (Role.ADMIN, Role.MARKETER)
MODERATORS = (Role.ADMIN, Role.MERCHANDISER)


class AccessDenied(StrawberryGraphQLError):
    """A guarded field refused: ``extensions.code`` is FORBIDDEN or UNAUTHENTICATED."""

    def __init__(self, message: str, code: str):
        super().__init__(message, extensions={"code": code})


def principal_of(info: Info) -> Principal:
    """The request's principal (anonymous where a context has none, e.g. a bare schema.execute)."""
    return getattr(info.context, "principal", None) or ANONYMOUS


def field_name(info: Info) -> str:
    return f"{info.path.typename}.{info.field_name}"


# --- conditions ----------------------------------------------------------------------------------


class Condition:
    """What must hold, beside the role, for a role listed in ``when``."""

    #: For people (the field's description and error messages).
    description: str = ""

    def holds(self, principal: Principal, source: Any, info: Info, kwargs: Mapping[str, Any]) -> bool | Awaitable[bool]:
        raise NotImplementedError


def argument(kwargs: Mapping[str, Any], path: str) -> Any:
    """``customer_id`` or ``input.customer_id``: an argument, or a field of an input argument."""
    value: Any = kwargs
    for part in path.split("."):
        if value is None:
            return None
        value = value.get(part) if isinstance(value, Mapping) else getattr(value, part, None)
    return value


def _uuid_of(value: Any, type_name: str) -> Any:
    """The UUID inside a global ID of ``type_name`` (None if it is not one: nobody owns garbage)."""
    from ..core.errors import BadUserInput
    from ..core.ids import decode_id

    if value is None:
        return None
    try:
        return decode_id(value, type_name)
    except BadUserInput:
        return None


class OwnCustomer(Condition):
    """The customer named by an argument is the caller."""

    def __init__(self, path: str):
        self.path = path
        self.description = f"only with their own customer id as `{_camel(path)}`"

    def holds(self, principal: Principal, source: Any, info: Info, kwargs: Mapping[str, Any]) -> bool:
        return principal.owns(_uuid_of(argument(kwargs, self.path), "Customer"))


class OwnSource(Condition):
    """The object the field belongs to (a customer, their order, their review) is the caller's."""

    description = "only on their own customer, orders and reviews"

    def holds(self, principal: Principal, source: Any, info: Info, kwargs: Mapping[str, Any]) -> bool:
        return principal.owns(getattr(source, "owner_pk", None))


class OwnOrder(Condition):
    """The order named by an argument was placed by the caller."""

    def __init__(self, path: str):
        self.path = path
        self.description = f"only for an order of their own as `{_camel(path)}`"

    async def holds(self, principal: Principal, source: Any, info: Info, kwargs: Mapping[str, Any]) -> bool:
        from ..core.db import loader
        from ..customers.dataloaders import orders_by_id

        order_id = _uuid_of(argument(kwargs, self.path), "Order")
        if order_id is None or principal.customer_id is None:
            return False
        row = await loader(info, orders_by_id).load(order_id)
        return row is not None and principal.owns(row.customer_id)


class PublishedOrOwnReview(Condition):
    """The review named by an argument is published, or the caller wrote it."""

    def __init__(self, path: str = "id"):
        self.path = path
        self.description = "only a published review, or one of their own"

    async def holds(self, principal: Principal, source: Any, info: Info, kwargs: Mapping[str, Any]) -> bool:
        from domain.feedback import ReviewStatus

        from ..core.db import loader
        from ..feedback.dataloaders import reviews_by_id

        review_id = _uuid_of(argument(kwargs, self.path), "Review")
        if review_id is None:
            return False
        row = await loader(info, reviews_by_id).load(review_id)
        return row is not None and (row.status == ReviewStatus.PUBLISHED or principal.owns(row.customer_id))


class ArgumentIs(Condition):
    """An argument has one given value (e.g. ``status: PUBLISHED``)."""

    def __init__(self, path: str, value: Any, shown: str | None = None):
        self.path, self.value = path, value
        self.description = (
            f"only with `{_camel(path)}: {shown}`" if value is not None else f"only without `{_camel(path)}`"
        )

    def holds(self, principal: Principal, source: Any, info: Info, kwargs: Mapping[str, Any]) -> bool:
        return argument(kwargs, self.path) == self.value


class AnyOf(Condition):
    """At least one of several conditions."""

    def __init__(self, *conditions: Condition):
        self.conditions = conditions
        self.description = "; or ".join(c.description for c in conditions)

    async def holds(self, principal: Principal, source: Any, info: Info, kwargs: Mapping[str, Any]) -> bool:
        for condition in self.conditions:
            if await _await(condition.holds(principal, source, info, kwargs)):
                return True
        return False


class AllOf(Condition):
    """Every one of several conditions."""

    def __init__(self, *conditions: Condition):
        self.conditions = conditions
        self.description = " and ".join(c.description for c in conditions)

    async def holds(self, principal: Principal, source: Any, info: Info, kwargs: Mapping[str, Any]) -> bool:
        for condition in self.conditions:
            if not await _await(condition.holds(principal, source, info, kwargs)):
                return False
        return True


#: The rule of each object type reachable by ``node(id:)``, by GraphQL type name.
OBJECT_RULES: dict[str, Allow] = {}


class ReadableObjects(Condition):
    """Every object named by the argument (global IDs) may be read by the caller, by the rule
    of its type's own query field (``customer(id:)``, ``order(id:)``...)."""

    def __init__(self, path: str):
        self.path = path
        self.description = "only objects their role may read through the object's own query field"

    async def holds(self, principal: Principal, source: Any, info: Info, kwargs: Mapping[str, Any]) -> bool:
        from ..core.errors import BadUserInput
        from ..core.ids import from_global_id

        ids = argument(kwargs, self.path)
        for global_id in ids if isinstance(ids, list) else [ids]:
            try:
                type_name, _ = from_global_id(global_id)
            except BadUserInput:
                continue  # the resolver answers BAD_USER_INPUT: nothing is read
            rule = OBJECT_RULES.get(type_name)
            if rule is None:
                continue  # no such type: the resolver answers BAD_USER_INPUT
            if not await _await(rule.decide(principal, None, info, {"id": global_id})):
                return False
        return True


async def _await(value: bool | Awaitable[bool]) -> bool:
    return await value if inspect.isawaitable(value) else value  # type: ignore[misc]


def _camel(path: str) -> str:
    from ..core.errors import camel

    return ".".join(camel(part) for part in path.split("."))


# --- the permission ------------------------------------------------------------------------------


class Allow(BasePermission):
    """The permission class of a guarded field: ``roles`` may use it; a role in ``when``
    only while its condition holds. ``personal_data``: the field returns clear personal
    data, so a read by anyone but its owner is written to the access log."""

    def __init__(
        self,
        *roles: Role,
        when: Mapping[Role, Condition] | None = None,
        personal_data: bool = False,
        object_type: str | None = None,
    ):
        self.conditions: dict[Role, Condition] = dict(when or {})
        self.roles: frozenset[Role] = frozenset(roles) | frozenset(self.conditions)
        self.unconditional: frozenset[Role] = frozenset(roles) - frozenset(self.conditions)
        self.personal_data = personal_data
        if object_type is not None:
            OBJECT_RULES[object_type] = self

    @property
    def can_deny(self) -> bool:
        """Whether some valid principal can be refused (then the field must be nullable)."""
        return self.unconditional != frozenset(ALL_ROLES)

    def describe(self) -> str:
        """Who may use the field, in words (appended to its description)."""
        if self.unconditional == frozenset(ALL_ROLES):
            return "Who may use it: everyone (no token needed)."
        parts = [
            role.value if role in self.unconditional else f"{role.value} ({self.conditions[role].description})"
            for role in ALL_ROLES
            if role in self.roles
        ]
        return "Who may use it: " + (", ".join(parts) if parts else "nobody") + "."

    def decide(
        self, principal: Principal, source: Any, info: Info, kwargs: Mapping[str, Any]
    ) -> bool | Awaitable[bool]:
        """Whether the principal may use the field here (an awaitable where a condition must load something)."""
        if principal.refused:
            return False
        if principal.role in self.unconditional:
            return True
        condition = self.conditions.get(principal.role)
        if condition is None:
            return False
        return condition.holds(principal, source, info, kwargs)

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool | Awaitable[bool]:
        principal = principal_of(info)
        decided = self.decide(principal, source, info, kwargs)
        if inspect.isawaitable(decided):
            return self._settle(decided, principal, source, info, kwargs)
        return self._conclude(decided, principal, source, info, kwargs)

    async def _settle(
        self, decided: Awaitable[bool], principal: Principal, source: Any, info: Info, kwargs: Any
    ) -> bool:
        return self._conclude(await decided, principal, source, info, kwargs)

    def _conclude(
        self, allowed: bool, principal: Principal, source: Any, info: Info, kwargs: Mapping[str, Any]
    ) -> bool:
        if not allowed:
            self._deny(principal, source, info, kwargs)
        if self.personal_data and not principal.owns(getattr(source, "owner_pk", None)):
            _log_access(logging.INFO, "personal data read", principal, source, info, kwargs)
        return True

    def _deny(self, principal: Principal, source: Any, info: Info, kwargs: Mapping[str, Any]) -> None:
        _log_access(logging.WARNING, "access denied", principal, source, info, kwargs)
        name = field_name(info)
        if principal.refused:
            raise AccessDenied(f"Not authenticated: {principal.refused}.", UNAUTHENTICATED)
        condition = self.conditions.get(principal.role)
        if not principal.is_authenticated:
            if condition is not None:
                raise AccessDenied(
                    f"Not authenticated: without a token, {name} is open {condition.description}.", UNAUTHENTICATED
                )
            raise AccessDenied(f"Not authenticated: {name} needs a token.", UNAUTHENTICATED)
        if condition is not None:
            raise AccessDenied(
                f"Forbidden: {name} is open to a {principal.role.value} {condition.description}.", FORBIDDEN
            )
        raise AccessDenied(f"Forbidden: {name} is not open to the role {principal.role.value}.", FORBIDDEN)


def _subject(source: Any, kwargs: Mapping[str, Any]) -> str | None:
    """The id (a UUID where one can be read) of whom or what the field is about, as far as the request says:
    the customer an object belongs to, the object itself, or the id an argument names."""
    for attribute in ("owner_pk", "pk"):
        if getattr(source, attribute, None) is not None:
            return str(getattr(source, attribute))
    for path in (
        "id",
        "customer_id",
        "ids",
        "input.customer_id",
        "input.order_id",
        "input.review_id",
        "input.product_id",
        "input.campaign_id",
        "input.supplier_id",
        "input.purchase_order_id",
        "product_id",
        "supplier_id",
    ):
        value = argument(kwargs, path)
        if value is not None:
            return ",".join(_readable_id(v) for v in value) if isinstance(value, list) else _readable_id(value)
    return None


def _readable_id(value: Any) -> str:
    from ..core.errors import BadUserInput
    from ..core.ids import from_global_id

    try:
        return str(from_global_id(value)[1])
    except BadUserInput:
        return repr(str(value)[:100])  # not an id: quoted, so the log line cannot be forged


def _log_access(
    level: int, what: str, principal: Principal, source: Any, info: Info, kwargs: Mapping[str, Any]
) -> None:
    correlation_id = getattr(info.context, "correlation_id", "") or ""
    name = field_name(info)
    subject = _subject(source, kwargs)
    audit.log(
        level,
        "%s: %s by %s (correlation id %s, subject %s)",
        what,
        name,
        principal.describe(),
        correlation_id,
        subject,
        extra={
            "event": what.replace(" ", "_"),
            "principal": principal.actor,
            "principal_refused": principal.refused or None,
            "role": principal.role.value,
            "correlation_id": correlation_id,
            "field": name,
            "subject_id": subject,
        },
    )


class Guard(PermissionExtension):
    """The field extension that runs one :class:`Allow` (what ``requires`` gives)."""

    def __init__(self, rule: Allow):
        super().__init__([rule], use_directives=False)
        self.rule = rule

    def apply(self, field: Any) -> None:
        super().apply(field)
        name = f"{getattr(field.origin, '__name__', '?')}.{field.python_name}"
        if not field.is_async:
            raise TypeError(f"{name}: a guarded field needs an async resolver")
        if self.rule.can_deny and not field.is_subscription and not isinstance(field.type, StrawberryOptional):
            raise TypeError(f"{name} can be denied, so it must be nullable (a denial must not null its parent)")
        # Once per field object, however many schemas are built from it.
        if "Who may use it:" not in (field.description or ""):
            field.description = f"{(field.description or '').rstrip()} {self.rule.describe()}".strip()


def requires(
    *roles: Role,
    when: Mapping[Role, Condition] | None = None,
    personal_data: bool = False,
    object_type: str | None = None,
) -> Guard:
    """The guard of a field: ``roles`` may use it; a role in ``when`` only while its condition
    holds. ``object_type``: this is the rule for reading objects of that GraphQL type by ID
    (``node(id:)`` applies it too)."""
    return Guard(Allow(*roles, when=when, personal_data=personal_data, object_type=object_type))


def rule_of(field: Any) -> Allow | None:
    """The rule declared on a Strawberry field (None if it has none)."""
    for extension in getattr(field, "extensions", None) or ():
        if isinstance(extension, Guard):
            return extension.rule
    return None


def unguarded_fields(schema: Any, type_names: tuple[str, ...] = ("Query", "Mutation", "Subscription")) -> list[str]:
    """Root fields that declare no rule (there must be none)."""
    missing = []
    for type_name in type_names:
        definition = schema.get_type_by_name(type_name)
        if definition is None:
            continue
        for field in definition.fields:
            if rule_of(field) is None:
                missing.append(f"{type_name}.{field.name}")
    return missing
