"""The registry of bounded contexts (``domain.contexts``) is the one list: every context has an
application, projections and a glossary section; the engines' registry names real read models and
events; and README's "How it is built" and ``docs/domain.md`` list exactly the registry's contexts."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest
from eventsourcing.domain import Aggregate

from application.engines import ENGINES, event_name
from application.system import APPLICATIONS, CONTEXT_MAP, SYSTEM
from domain.contexts import CONTEXT_NAMES, CONTEXTS, context, context_of
from infrastructure.glossary import render
from projections import read_models as tables
from projections.registry import CONTEXT_PROJECTIONS, all_projections

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = ROOT / "domain"
NUMBERS = "zero one two three four five six seven eight nine ten eleven twelve".split()


def _section(text: str, heading: str) -> str:
    """The lines from the line ``heading`` to the next heading of its level."""
    level = heading.split(" ", 1)[0] + " "
    lines = text.splitlines()
    start = lines.index(heading)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith(level)), len(lines))
    return "\n".join(lines[start:end])


def _aggregates(module_name: str) -> list[type[Aggregate]]:
    module = importlib.import_module(module_name)
    return [
        value
        for value in vars(module).values()
        if inspect.isclass(value) and issubclass(value, Aggregate) and value.__module__ == module_name
    ]


def _event(context_name: str, name: str) -> type[object]:
    """The event ``Aggregate.Event`` of one of the context's domain modules."""
    aggregate_name, _, event_name_ = name.partition(".")
    for module_name in context(context_name).modules:
        aggregate = getattr(importlib.import_module(module_name), aggregate_name, None)
        found = getattr(aggregate, event_name_, None)
        if inspect.isclass(found):
            return found
    raise AssertionError(f"{context_name} has no event {name}")


# --- the registry itself -------------------------------------------------------------------


def test_the_registry_names_each_context_once() -> None:
    assert len(set(CONTEXT_NAMES)) == len(CONTEXTS)
    assert len({c.title for c in CONTEXTS}) == len(CONTEXTS)
    assert CONTEXT_NAMES == (
        "Customers",
        "Catalog",
        "Inventory",
        "Campaigns",
        "Feedback",
        "Access",
        "Models",
        "Marketing",
    )
    for bounded in CONTEXTS:
        assert context(bounded.name) is bounded
        assert bounded.title and bounded.modules and bounded.purpose.strip()
    with pytest.raises(KeyError):
        context("Replenishment")  # part of Inventory, not a context of its own


def test_every_domain_module_with_aggregates_belongs_to_exactly_one_context() -> None:
    listed = [module for bounded in CONTEXTS for module in bounded.modules]
    assert len(listed) == len(set(listed))
    for module in listed:
        assert (DOMAIN / (module.split(".", 1)[1] + ".py")).exists(), module
    with_aggregates = {f"domain.{p.stem}" for p in DOMAIN.glob("*.py") if _aggregates(f"domain.{p.stem}")}
    assert with_aggregates == set(listed)
    assert context_of("domain.replenishment").name == "Inventory"
    assert context_of("domain.feedback").name == "Feedback"


# --- every context has an application, projections and a glossary section -----------------


def test_every_context_has_its_application_and_nothing_else_has_one() -> None:
    assert list(APPLICATIONS) == list(CONTEXT_NAMES)
    for name, application in APPLICATIONS.items():
        assert application.name == name
    assert set(SYSTEM.nodes) == set(CONTEXT_NAMES)


def test_every_context_has_its_projections_and_an_event_log_index() -> None:
    assert list(CONTEXT_PROJECTIONS) == list(CONTEXT_NAMES)
    for name, projections in CONTEXT_PROJECTIONS.items():
        assert projections and all(p.leader == name for p in projections)
    running = all_projections()
    assert {p.leader for p in running} == set(CONTEXT_NAMES)
    assert {p.name for p in running} >= {f"event-log:{name.lower()}" for name in CONTEXT_NAMES}
    assert len({p.name for p in running}) == len(running)


def test_every_context_has_a_glossary_section() -> None:
    text = render()
    for bounded in CONTEXTS:
        section = _section(text, f"## {bounded.title}")
        assert f"Context name `{bounded.name}`" in section
        for module in bounded.modules:
            assert f"`{module}`" in section
            for aggregate in _aggregates(module):
                assert f"### {aggregate.__name__}" in section.splitlines()


def test_the_process_managers_connect_real_events_of_real_contexts() -> None:
    for leader, event, follower, action in CONTEXT_MAP:
        assert leader in CONTEXT_NAMES and follower in CONTEXT_NAMES and action
        _event(leader, event)
    assert set(SYSTEM.edges) == {(pm.leader, pm.follower) for pm in CONTEXT_MAP}


# --- the engines ---------------------------------------------------------------------------


def test_each_engine_reads_real_read_models_and_records_events_of_a_context() -> None:
    assert len({e.name for e in ENGINES}) == len(ENGINES)
    known_tables = set(tables.metadata.tables)
    for engine in ENGINES:
        assert engine.context in CONTEXT_NAMES
        assert engine.description.strip() and engine.decides
        assert set(engine.reads) <= known_tables, set(engine.reads) - known_tables
        for event in (*engine.decides, *engine.follows):
            recorded_in = context_of(event.__module__)
            assert _event(recorded_in.name, event_name(event)) is event
        for event in engine.follows:  # a process manager of that context hands it the event
            assert any(
                pm.event == event_name(event) and pm.leader == context_of(event.__module__).name for pm in CONTEXT_MAP
            )


def test_the_engines_named_in_the_docs_are_the_registry_s() -> None:
    glossary = render()
    domain_md = (ROOT / "docs" / "domain.md").read_text()
    for engine in ENGINES:
        assert f"**{engine.name}**" in glossary
        assert f"**{engine.name}**" in domain_md


# --- the documentation lists exactly the registry's contexts ---------------------------------


def test_readme_how_it_is_built_lists_the_registry_s_contexts() -> None:
    section = _section((ROOT / "README.md").read_text(), "## How it is built")
    listed = re.findall(r"^- \*\*([^*]+)\*\* \(`([^`]+)`\) —", section, flags=re.MULTILINE)
    assert listed == [(c.title, c.name) for c in CONTEXTS], "README's How it is built differs from domain/contexts.py"
    assert f"The {NUMBERS[len(CONTEXTS)]} bounded contexts" in section


def test_the_domain_guide_describes_every_context() -> None:
    text = (ROOT / "docs" / "domain.md").read_text()
    section = _section(text, f"## The {NUMBERS[len(CONTEXTS)]} parts of the shop")
    listed = re.findall(r"^- \*\*([^*]+)\*\* ", section, flags=re.MULTILINE)
    assert listed == [c.title for c in CONTEXTS], "docs/domain.md's parts of the shop differ from domain/contexts.py"
