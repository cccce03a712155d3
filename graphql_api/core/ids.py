"""Global IDs: every object with an identity is a ``Node`` whose ``id`` is the
base64 of ``"<Type>:<uuid>"`` (e.g. ``Product:5b0f...``). Clients treat them as
opaque; ``node(id:)`` fetches any of them. A malformed ID, or one of another type
than the argument expects, is a ``BAD_USER_INPUT`` error."""

from __future__ import annotations

import base64
import binascii
from uuid import UUID

import strawberry

from .errors import BadUserInput


def to_global_id(type_name: str, pk: UUID) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def from_global_id(value: object, *, field: str = "id") -> tuple[str, UUID]:
    """The type name and UUID inside a global ID."""
    if not isinstance(value, str) or not value or len(value) > 200:
        raise BadUserInput(f"{field}: not a global ID", field=field)
    try:
        text = base64.b64decode(value.encode(), validate=True).decode()
        type_name, _, raw = text.partition(":")
        if not type_name or not raw:
            raise ValueError(text)
        return type_name, UUID(raw)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadUserInput(f"{field}: {value!r} is not a global ID", field=field) from None


def decode_id(value: object, expected: str, *, field: str = "id") -> UUID:
    """The UUID inside a global ID that must be of type ``expected``."""
    type_name, pk = from_global_id(value, field=field)
    if type_name != expected:
        raise BadUserInput(f"{field}: expected the ID of a {expected}, got one of a {type_name}", field=field)
    return pk


def optional_id(value: object, expected: str, *, field: str) -> UUID | None:
    return None if value is None else decode_id(value, expected, field=field)


@strawberry.interface(
    description=(
        "An object with a global ID (Relay's Node): fetch any of them again with `node(id:)`. "
        "IDs are opaque strings; do not parse them."
    )
)
class Node:
    id: strawberry.ID = strawberry.field(description="The object's global ID (opaque).")
