"""Generate ``docs/ubiquitous-language.md`` from the domain code.

The docstrings and type hints of ``domain/`` are the single source: per bounded
context (``domain.contexts``, in its order) what it keeps, the engines that serve it, and
for each of its domain modules the aggregates, their commands (public methods) with their
rules, the events with their fields, the value objects, and the domain error codes; plus a
context map of the process managers between contexts (``application.system.CONTEXT_MAP``)
and of the engines (``application.engines``): the read models each reads, the engine, and
the events that record its decisions.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
from pathlib import Path
from typing import Any

from eventsourcing.domain import Aggregate, AggregateEvent

from application import errors as application_errors
from application.docs import docstring as _doc
from application.engines import ENGINES, Engine, engines_of, event_name
from application.system import CONTEXT_MAP
from domain.contexts import CONTEXTS, BoundedContext, context_of
from domain.shared import Clock, DomainError

#: The module of what every context shares, presented after the contexts.
SHARED = ("Shared by every context", "domain.shared")

OUTPUT = Path(__file__).resolve().parent.parent / "docs" / "ubiquitous-language.md"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _own_members(module: Any, kind: type) -> list[Any]:
    """Classes of ``kind`` defined in the module itself, in source order."""
    found = [
        value
        for value in vars(module).values()
        if inspect.isclass(value) and value.__module__ == module.__name__ and issubclass(value, kind)
    ]
    return sorted(found, key=lambda cls: inspect.getsourcelines(cls)[1])


def _fields(cls: type) -> list[str]:
    hints: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        if klass.__module__.startswith("domain"):
            hints.update(getattr(klass, "__annotations__", {}))
    return [f"`{name}: {hint}`" for name, hint in hints.items() if not str(hint).startswith("ClassVar")]


def _events(aggregate: type) -> list[type]:
    # The library gives every aggregate its own base ``Event`` and ``Created``: not domain events.
    return [
        value
        for name, value in vars(aggregate).items()
        if inspect.isclass(value) and issubclass(value, AggregateEvent) and name not in ("Event", "Created")
    ]


def _commands(aggregate: type) -> list[tuple[str, Any]]:
    commands = []
    for name, value in vars(aggregate).items():
        if name.startswith("_") or name == "create_id":
            continue
        function = value.__func__ if isinstance(value, (classmethod, staticmethod)) else value
        if inspect.isfunction(function):
            commands.append((name, function))
    return commands


def _facts(aggregate: type) -> list[tuple[str, Any]]:
    return [
        (name, value)
        for name, value in vars(aggregate).items()
        if isinstance(value, property) and not name.startswith("_")
    ]


def _signature(name: str, function: Any) -> str:
    parameters = [p for p in inspect.signature(function).parameters.values() if p.name not in ("self", "cls")]
    rendered = ", ".join(
        p.name if p.default is inspect.Parameter.empty else f"{p.name}={p.default!r}" for p in parameters
    )
    return f"{name}({rendered})"


def _node(prefix: str, name: str) -> str:
    return prefix + "_" + "_".join(name.split())


def _context_map() -> list[str]:
    lines = ["```mermaid", "flowchart LR"]
    for source, event, target, command in CONTEXT_MAP:
        lines.append(f'    {source} -- "{event}: {command}" --> {target}')
    lines.append("    %% engines: the read models each reads -> the engine -> the events that record its decisions")
    read_models = sorted({table for engine in ENGINES for table in engine.reads})
    lines += [f'    {_node("rm", table)}[("{table}")]' for table in read_models]
    for engine in ENGINES:
        node = _node("engine", engine.name)
        lines.append(f'    {node}[["{engine.name}"]]')
        lines += [f"    {_node('rm', table)} --> {node}" for table in engine.reads]
        for followed in engine.follows:
            lines.append(f'    {context_of(followed.__module__).name} -- "{event_name(followed)}" --> {node}')
        for target, events in _recorded_in(engine).items():
            lines.append(f'    {node} -- "{", ".join(events)}" --> {target}')
    lines.append("```")
    return lines


def _recorded_in(engine: Engine) -> dict[str, list[str]]:
    """The engine's decisions, by the context that records them."""
    found: dict[str, list[str]] = {}
    for event in engine.decides:
        found.setdefault(context_of(event.__module__).name, []).append(event_name(event))
    return found


def _engine_line(engine: Engine) -> str:
    reads = ", ".join(f"`{table}`" for table in engine.reads)
    follows = "".join(
        f"; handed `{event_name(e)}` by the {context_of(e.__module__).name} process manager" for e in engine.follows
    )
    records = "; ".join(
        f"{', '.join(f'`{e}`' for e in events)} in {target}" for target, events in _recorded_in(engine).items()
    )
    return (
        f"- **{engine.name}** (serves {engine.context}) — {engine.description} "
        f"Reads {reads}{follows}. Records {records}."
    )


def _context_intro(bounded: BoundedContext) -> list[str]:
    modules = ", ".join(f"`{m}`" for m in bounded.modules)
    lines = [
        bounded.purpose,
        "",
        f"Context name `{bounded.name}` (it names the context's event log and is the `context` of the auditors' "
        f"event-log filter); domain modules: {modules}.",
    ]
    engines = engines_of(bounded.name)
    if engines:
        lines[-1] += " Engines serving it: " + ", ".join(f"**{e.name}**" for e in engines) + " (see the context map)."
    return lines


def _module(module: Any) -> list[str]:
    """A domain module's docstring, aggregates, value objects and errors."""
    out = ["", _doc(module)]
    for aggregate in _own_members(module, Aggregate):
        out += ["", f"### {aggregate.__name__}", "", _doc(aggregate)]
        commands = _commands(aggregate)
        if commands:
            out += ["", "Commands:", ""]
            out += [f"- `{_signature(name, fn)}` — {_one_line(_doc(fn))}" for name, fn in commands]
        facts = _facts(aggregate)
        if facts:
            out += ["", "Facts it can tell:", ""]
            out += [f"- `{name}` — {_one_line(_doc(prop))}" for name, prop in facts]
        events = _events(aggregate)
        if events:
            out += ["", "Events:", ""]
            for event in events:
                fields = ", ".join(_fields(event)) or "no fields"
                version = getattr(event, "class_version", 1)
                suffix = f" (version {version})" if version > 1 else ""
                out.append(f"- **{event.__name__}**{suffix} — {_one_line(_doc(event))} Fields: {fields}.")
    values = [
        cls
        for cls in vars(module).values()
        if inspect.isclass(cls) and cls.__module__ == module.__name__ and dataclasses.is_dataclass(cls)
    ]
    if values:
        out += ["", "Value objects:", ""]
        for cls in values:
            fields = ", ".join(f"`{f.name}: {f.type}`" for f in dataclasses.fields(cls))
            out.append(f"- **{cls.__name__}** ({fields}) — {_one_line(_doc(cls))}")
    errors = _own_members(module, DomainError)
    if errors:
        out += ["", "Domain errors:", "", *_errors_table(errors)]
    return out


def _errors_table(errors: list[type[DomainError]]) -> list[str]:
    lines = ["| code | error | meaning |", "|---|---|---|"]
    lines += [f"| `{error.code}` | `{error.__name__}` | {_one_line(_doc(error))} |" for error in errors]
    return lines


def render() -> str:
    """The whole glossary, as Markdown."""
    out = [
        "# Ubiquitous language",
        "",
        "Generated by `storewise glossary` from the docstrings and type hints in `domain/`, the registry of",
        "bounded contexts (`domain/contexts.py`) and of engines (`application/engines.py`):",
        "the code is the single source; do not edit this file by hand.",
        "",
        "## Context map",
        "",
        "A process manager turns an event of one bounded context into a command in another (an arrow",
        "between contexts, labelled with the event and what it makes happen). An engine (a box with double",
        "sides) reads read models (cylinders), may be handed events by a process manager, and records its",
        "decisions as events in the context that owns them (an arrow to that context):",
        "",
        *_context_map(),
        "",
        "Engines:",
        "",
        *[_engine_line(engine) for engine in ENGINES],
    ]
    for bounded in CONTEXTS:
        out += ["", f"## {bounded.title}", "", *_context_intro(bounded)]
        for module_name in bounded.modules:
            out += _module(importlib.import_module(module_name))
    title, module_name = SHARED
    out += ["", f"## {title}", *_module(importlib.import_module(module_name))]
    out += ["", "## Two clocks: business time and recording time", "", _doc(Clock)]
    out += [
        "",
        "## Errors the application adds",
        "",
        *_errors_table(_own_members(application_errors, DomainError)),
        "",
    ]
    return "\n".join(out)


def write(path: Path = OUTPUT) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render())
    return path
