"""Strawberry's schema-extension hooks, found once per extension class instead of on every request.

For each request and each of its four stages (operation, parsing, validation, execution)
strawberry inspects every extension's hook and wraps it in a fresh ``contextlib`` context manager
(``inspect`` checks, ``functools.update_wrapper``): with nine extensions, a good part of a small
query's CPU. Here the wrapper of a class's hook is made once and called with the request's
extension instance, which is what strawberry's wrapper of the bound method does.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from typing import Any

from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import (
    ExecutingContextManager,
    OperationContextManager,
    ParsingContextManager,
    ValidationContextManager,
    WrappedHook,
)
from strawberry.extensions.runner import SchemaExtensionsRunner

#: (extension class, hook name) -> (context manager factory taking the extension, is async), None
#: when the class leaves the hook out, or "other" for hooks strawberry wraps itself (plain callables).
_HOOKS: dict[tuple[type, str], Any] = {}


def _factory(extension_type: type, hook_name: str) -> Any:
    key = (extension_type, hook_name)
    if key not in _HOOKS:
        hook_fn = getattr(extension_type, hook_name)
        if hook_fn is getattr(SchemaExtension, hook_name):
            found: Any = None
        elif inspect.isgeneratorfunction(hook_fn):
            found = (contextlib.contextmanager(hook_fn), False)
        elif inspect.isasyncgenfunction(hook_fn):
            found = (contextlib.asynccontextmanager(hook_fn), True)
        else:
            found = "other"
        _HOOKS[key] = found
    return _HOOKS[key]


class _CachedHooks:
    HOOK_NAME: str

    def get_hook(self, extension: SchemaExtension) -> WrappedHook | None:
        found = _factory(type(extension), self.HOOK_NAME)
        if found is None:
            return None
        if found == "other":
            return super().get_hook(extension)  # type: ignore[misc]
        make, is_async = found
        return WrappedHook(extension=extension, hook=functools.partial(make, extension), is_async=is_async)


class _Operation(_CachedHooks, OperationContextManager):
    pass


class _Parsing(_CachedHooks, ParsingContextManager):
    pass


class _Validation(_CachedHooks, ValidationContextManager):
    pass


class _Executing(_CachedHooks, ExecutingContextManager):
    pass


class CachedHooksRunner(SchemaExtensionsRunner):
    """Strawberry's runner of the extensions' hooks, with the hooks found once per class."""

    def operation(self) -> OperationContextManager:
        return _Operation(self.extensions)

    def parsing(self) -> ParsingContextManager:
        return _Parsing(self.extensions)

    def validation(self) -> ValidationContextManager:
        return _Validation(self.extensions)

    def executing(self) -> ExecutingContextManager:
        return _Executing(self.extensions)
