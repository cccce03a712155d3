"""Reading the domain's docstrings: the one source of the words that the glossary
(docs/ubiquitous-language.md) and the GraphQL descriptions both show."""

from __future__ import annotations

import inspect
from typing import Any


def docstring(member: Any) -> str:
    """The docstring of a domain class, method or property, as its author wrote it (for an
    event, not the signature its dataclass generated)."""
    for owner in getattr(member, "__mro__", (member,)):
        doc = owner.__doc__ or ""
        if doc and not doc.startswith(f"{getattr(owner, '__name__', '')}("):
            return inspect.cleandoc(doc).strip()
    return ""


def one_line(member: Any) -> str:
    """The docstring on one line."""
    return " ".join(docstring(member).split())
