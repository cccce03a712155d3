"""Strawberry's schema-extension hooks, run without its per-request machinery.

For each request and each of its four stages (operation, parsing, validation, execution)
strawberry inspects every extension's hook, wraps it in a fresh ``contextlib`` context manager
and enters them through an ``ExitStack``; then it asks every extension for its results. With nine
extensions that was a good part of a small query's CPU. Here which classes implement a stage is
worked out once per set of extension classes, and a stage runs its generator hooks directly: each
to its ``yield`` on the way in, and on from there on the way out, the last entered first, with an
exception raised inside the stage thrown into them (as ``contextlib`` does; as strawberry's, the
stage's own exception goes on even if a hook handles it). Extensions whose hook
is not a plain generator function get strawberry's own context manager for that stage.
"""

from __future__ import annotations

import inspect
from types import TracebackType
from typing import Any

from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import (
    ExecutingContextManager,
    OperationContextManager,
    ParsingContextManager,
    ValidationContextManager,
)
from strawberry.extensions.runner import SchemaExtensionsRunner

_STAGES = {
    "on_operation": OperationContextManager,
    "on_parse": ParsingContextManager,
    "on_validate": ValidationContextManager,
    "on_execute": ExecutingContextManager,
}

#: (extension classes, hook name) -> the positions and generator functions of the hooks, or None
#: when one of them is not a generator function (strawberry's context manager runs that stage).
_HOOKS: dict[tuple[tuple[type, ...], str], list[tuple[int, Any]] | None] = {}

#: extension classes -> whether any of them has results of its own (``get_results``).
_RESULTS: dict[tuple[type, ...], bool] = {}


def _hooks(types: tuple[type, ...], hook_name: str) -> list[tuple[int, Any]] | None:
    key = (types, hook_name)
    if key not in _HOOKS:
        found: list[tuple[int, Any]] | None = []
        for position, extension_type in enumerate(types):
            hook = getattr(extension_type, hook_name)
            if hook is getattr(SchemaExtension, hook_name):
                continue
            if not inspect.isgeneratorfunction(hook):
                found = None
                break
            found.append((position, hook))
        _HOOKS[key] = found
    return _HOOKS[key]


class _Stage:
    """One stage's generator hooks, entered in order and left in the reverse order."""

    __slots__ = ("hooks", "running")

    def __init__(self, hooks: list[tuple[Any, SchemaExtension]]):
        self.hooks = hooks
        self.running: list[Any] = []

    def __enter__(self) -> None:
        for hook, extension in self.hooks:
            generator = hook(extension)
            next(generator)
            self.running.append(generator)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool:
        pending = exc
        for generator in reversed(self.running):
            if pending is None:
                try:
                    next(generator)
                except StopIteration:
                    continue
                except BaseException as error:  # noqa: BLE001 - a hook failed on the way out: passed on
                    pending = error
                else:
                    pending = RuntimeError("generator didn't stop")
            else:
                try:
                    generator.throw(pending)
                except StopIteration:
                    pending = None  # the hook handled it
                except BaseException as error:  # noqa: BLE001 - the same exception, or the hook's own
                    if error is not pending and error.__context__ is None:
                        error.__context__ = pending
                    pending = error
                else:
                    pending = RuntimeError("generator didn't stop after throw()")
        self.running.clear()
        if pending is None or pending is exc:
            return False  # as strawberry's: a hook that handles the stage's exception does not swallow it
        raise pending

    async def __aenter__(self) -> None:
        self.__enter__()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool:
        return self.__exit__(exc_type, exc, tb)


class CachedHooksRunner(SchemaExtensionsRunner):
    """Strawberry's runner of the extensions' hooks, with the hooks found once per set of classes."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._types = tuple(type(extension) for extension in self.extensions)

    def _stage(self, hook_name: str) -> Any:
        hooks = _hooks(self._types, hook_name)
        if hooks is None:
            return _STAGES[hook_name](self.extensions)
        return _Stage([(hook, self.extensions[position]) for position, hook in hooks])

    def operation(self) -> Any:
        return self._stage("on_operation")

    def parsing(self) -> Any:
        return self._stage("on_parse")

    def validation(self) -> Any:
        return self._stage("on_validate")

    def executing(self) -> Any:
        return self._stage("on_execute")

    async def get_extensions_results(self, ctx: Any) -> dict[str, Any]:
        types = self._types
        if types not in _RESULTS:
            _RESULTS[types] = any(t.get_results is not SchemaExtension.get_results for t in types)
        if _RESULTS[types]:
            return await super().get_extensions_results(ctx)
        return dict(ctx.extensions_results)
