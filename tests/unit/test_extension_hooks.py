"""The extensions' hooks run by ``graphql_api.core.hooks`` behave as strawberry's own context
managers run them: order in and out, and what an exception inside a stage does (seen by the hooks,
handled by one, replaced by another), synchronously and asynchronously."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner

from graphql_api.core.hooks import CachedHooksRunner

log: list[str] = []


class Watching(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        log.append("watching in")
        try:
            yield
        except ValueError as error:
            log.append(f"watching saw {error}")
            raise
        finally:
            log.append("watching out")


class Handling(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        log.append("handling in")
        try:
            yield
        except KeyError:
            log.append("handled")
        log.append("handling out")


class Replacing(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        try:
            yield
        except IndexError as error:
            raise RuntimeError("replaced") from error


class Results(SchemaExtension):
    def get_results(self) -> dict[str, str]:
        return {"seen": "yes"}


EXTENSIONS = (Watching, Replacing, Handling)


def run(runner_type: type, raising: BaseException | None, *, asynchronous: bool) -> tuple[list[str], str | None]:
    log.clear()
    runner = runner_type(execution_context=None, extensions=[extension() for extension in EXTENSIONS])

    def body() -> None:
        log.append("body")
        if raising is not None:
            raise raising

    async def run_async() -> None:
        async with runner.operation():
            body()

    try:
        if asynchronous:
            asyncio.run(run_async())
        else:
            with runner.operation():
                body()
    except Exception as error:  # noqa: BLE001 - the outcome compared
        return list(log), f"{type(error).__name__}: {error} (from {type(error.__cause__).__name__})"
    return list(log), None


@pytest.mark.parametrize("asynchronous", [False, True])
@pytest.mark.parametrize("raising", [None, ValueError("bad"), KeyError("gone"), IndexError("far")], ids=repr)
def test_hooks_run_as_strawberry_runs_them(raising, asynchronous):
    ours = run(CachedHooksRunner, raising, asynchronous=asynchronous)
    theirs = run(SchemaExtensionsRunner, raising, asynchronous=asynchronous)
    assert ours == theirs
    assert ours[0][0] == "watching in" and ours[0][-1] == "watching out"


def test_extension_results_are_collected_only_from_extensions_that_have_them():
    class Context:
        extensions_results = {"cost": 3}

    plain = CachedHooksRunner(execution_context=None, extensions=[Watching()])
    with_results = CachedHooksRunner(execution_context=None, extensions=[Watching(), Results()])
    assert asyncio.run(plain.get_extensions_results(Context())) == {"cost": 3}
    assert asyncio.run(with_results.get_extensions_results(Context())) == {"seen": "yes", "cost": 3}
