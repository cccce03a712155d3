"""The domain model is documented, and depends on nothing but the standard library and eventsourcing.domain.

Both are read from the source with ``ast``, so inherited or generated docstrings
(dataclasses write one) do not count.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parents[2] / "domain"
MODULES = sorted(DOMAIN.glob("*.py"))


def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _is_public(name: str) -> bool:
    return not name.startswith("_")


def _is_aggregate(node: ast.ClassDef) -> bool:
    """A class whose bases include ``Aggregate`` (the eventsourcing base class)."""
    return any(
        (isinstance(base, ast.Name) and base.id == "Aggregate")
        or (isinstance(base, ast.Attribute) and base.attr == "Aggregate")
        for base in node.bases
    )


def _public_classes(tree: ast.Module, prefix: str = "") -> list[tuple[str, ast.ClassDef]]:
    """Public top-level classes and the public classes nested in them (e.g. an aggregate's events)."""
    found = []
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and _is_public(node.name):
            name = f"{prefix}{node.name}"
            found.append((name, node))
            found.extend(_public_classes(ast.Module(body=node.body, type_ignores=[]), prefix=f"{name}."))
    return found


def _aggregates(tree: ast.Module) -> list[tuple[str, ast.ClassDef]]:
    return [(name, node) for name, node in _public_classes(tree) if _is_aggregate(node)]


def _public_methods(cls: ast.ClassDef) -> list[ast.FunctionDef]:
    return [n for n in cls.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and _is_public(n.name)]


def _module_name(path: Path) -> str:
    return f"domain.{path.stem}" if path.stem != "__init__" else "domain"


def test_the_domain_modules_are_found():
    assert {p.stem for p in MODULES} >= {
        "__init__",
        "shared",
        "catalog",
        "inventory",
        "customer",
        "campaign",
        "feedback",
        "access",
    }


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.stem)
def test_every_domain_module_has_a_docstring(path):
    assert ast.get_docstring(_parse(path)), f"{_module_name(path)} has no docstring"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.stem)
def test_every_public_class_has_a_docstring(path):
    missing = [name for name, node in _public_classes(_parse(path)) if not ast.get_docstring(node)]
    assert not missing, f"{_module_name(path)}: classes without a docstring: {missing}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.stem)
def test_every_public_method_of_an_aggregate_has_a_docstring(path):
    missing = [
        f"{name}.{method.name}"
        for name, node in _aggregates(_parse(path))
        for method in _public_methods(node)
        if not ast.get_docstring(method)
    ]
    assert not missing, f"{_module_name(path)}: aggregate methods without a docstring: {missing}"


def test_the_checks_see_the_aggregates_their_events_and_their_methods():
    """Guard against the checks above passing because they looked at nothing."""
    classes = {f"{_module_name(p)}:{name}" for p in MODULES for name, _ in _public_classes(_parse(p))}
    assert {
        "domain.shared:Money",
        "domain.shared:DomainError",
        "domain.inventory:StockItem",
        "domain.inventory:StockItem.Reserved",
        "domain.inventory:SupplierTerms",
        "domain.customer:Order.Returned",
        "domain.feedback:InvalidRating",
    } <= classes
    aggregates = {name for p in MODULES for name, _ in _aggregates(_parse(p))}
    assert aggregates == {
        "Product",
        "StockItem",
        "Supplier",
        "PurchaseOrder",
        "Allocation",
        "Customer",
        "CustomerActivity",
        "Order",
        "Campaign",
        "Review",
        "User",
        "Segmentation",
        "SegmentMembership",
        "BudgetAllocation",
        "PurchaseScoring",
        "ReplenishmentPlan",
        "DemandForecast",
        "ForecastRun",
        "TrainedModel",
        "ServingSlot",
        "PurchasePredictionBatch",
        "ModelHealthRecord",
        "Slate",
    }
    methods = {
        f"{name}.{m.name}" for p in MODULES for name, node in _aggregates(_parse(p)) for m in _public_methods(node)
    }
    assert {
        "StockItem.reserve",
        "StockItem.available",
        "Order.return_lines",
        "Product.create_id",
        "Allocation.allocate",
        "User.issue_token",
    } <= methods
    assert not any(".__" in m or "._" in m for m in methods)


def test_a_class_without_a_docstring_would_be_caught():
    tree = ast.parse(
        'class Thing(Aggregate):\n    """Doc."""\n'
        "    class Happened(Aggregate.Event):\n        at: int\n    def do(self):\n        pass\n"
    )
    assert [name for name, node in _public_classes(tree) if not ast.get_docstring(node)] == ["Thing.Happened"]
    assert [m.name for _, node in _aggregates(tree) for m in _public_methods(node) if not ast.get_docstring(m)] == [
        "do"
    ]


# --- dependencies ----------------------------------------------------------------------------

ALLOWED_THIRD_PARTY = {"eventsourcing.domain"}


def _forbidden_imports(tree: ast.Module) -> list[str]:
    """Imports other than the standard library, ``eventsourcing.domain`` and the domain package itself."""
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    bad = []
    for node in ast.walk(tree):  # also imports inside functions
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: the domain package itself
                continue
            modules = [node.module or ""]
        else:
            continue
        for module in modules:
            top = module.split(".")[0]
            if top in stdlib or top == "domain" or module in ALLOWED_THIRD_PARTY:
                continue
            bad.append(module)
    return bad


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.stem)
def test_the_domain_imports_only_the_standard_library_and_eventsourcing_domain(path):
    assert _forbidden_imports(_parse(path)) == []


def test_the_import_check_catches_what_it_should():
    source = (
        "from __future__ import annotations\n"
        "import re, uuid\n"
        "from datetime import datetime\n"
        "from eventsourcing.domain import Aggregate, event\n"
        "from .shared import Money\n"
        "from domain.shared import Money\n"
        "import eventsourcing\n"
        "from eventsourcing.application import Application\n"
        "import sqlalchemy.orm\n"
        "def f():\n"
        "    import torch\n"
    )
    assert _forbidden_imports(ast.parse(source)) == [
        "eventsourcing",
        "eventsourcing.application",
        "sqlalchemy.orm",
        "torch",
    ]
