"""The README's quick-start queries, run as written against a demo shop built like ``make run``'s.

The shop: ``tests/fixtures/online_retail_demo.csv`` (61 customers and 412 invoice lines of the
demo sample, 2011-01..05: see ``make_online_retail_demo.py`` there) imported, every
``storewise demo`` step run, and the recommender trained, so that it takes seconds rather than
``make run``'s minutes. Every GraphQL block between the README's ``demo-queries`` markers runs as
an admin without errors, and the engines' outputs are there: suppliers, a proposed replenishment
plan with lines, campaigns, a proposed budget allocation, at least 5 segments with customers, and
for a customer with orders a segment, a purchase probability, recommendations and a recency
measured from the data's end (the analytics clock), not from today.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from infrastructure.bootstrap import bootstrap
from infrastructure.demo import run_demo
from infrastructure.importers.online_retail import import_online_retail
from infrastructure.migrations import upgrade
from infrastructure.server import create_app
from infrastructure.settings import Settings

from .conftest import Api

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "online_retail_demo.csv"


def readme_queries() -> list[str]:
    """The GraphQL blocks of the README's quick start, in order."""
    text = (ROOT / "README.md").read_text()
    section = re.search(r"<!-- demo-queries:begin -->(.*?)<!-- demo-queries:end -->", text, re.S)
    assert section, "README.md has no demo-queries section"
    return re.findall(r"```graphql\n(.*?)```", section.group(1), re.S)


def build_demo_shop(settings: Settings) -> None:
    upgrade(settings)
    with bootstrap(settings) as storewise:
        import_online_retail(storewise, FIXTURE, progress=False)
        run_demo(storewise, say=lambda _: None)
        storewise.recommendations.train(models=("gf-cf",))


@pytest.fixture
async def demo_api(settings: Settings) -> Any:
    build_demo_shop(settings)
    app = create_app(settings, poll_interval=0.2)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            yield await Api(app, client).as_role("admin")


def test_the_readme_has_the_engines_queries():
    queries = readme_queries()
    assert len(queries) >= 3
    text = " ".join(queries)
    for field in ("suppliers", "replenishmentPlans", "campaigns", "budgetAllocations", "segments", "recommendations"):
        assert field in text, field


async def test_the_readme_queries_show_every_engine_on_the_demo_shop(demo_api: Api):
    answers: dict[str, Any] = {}
    for query in readme_queries():
        variables = {"customerId": answers["customer"]["id"]} if "$customerId" in query else {}
        body = await demo_api.post(query, variables)
        assert "errors" not in body, (query, body["errors"])
        data = body["data"]
        if "customers" in data:
            answers["customer"] = data["customers"]["edges"][0]["node"]
        answers.update(data)

    assert answers["suppliers"]["totalCount"] > 0
    assert answers["suppliers"]["edges"][0]["node"]["terms"]
    plans = answers["replenishmentPlans"]
    assert plans["totalCount"] >= 1
    plan = plans["edges"][0]["node"]
    assert plan["status"] == "PROPOSED" and plan["lineCount"] >= 1 and plan["lines"]
    assert answers["campaigns"]["totalCount"] > 0
    allocations = answers["budgetAllocations"]
    assert allocations["totalCount"] >= 1 and allocations["edges"][0]["node"]["lines"]
    assert sum(1 for s in answers["segments"] if s["customers"] > 0) >= 5

    customer = answers["customer"]
    assert customer["rfm"]["ordersCount"] >= 1
    assert customer["segment"] is not None
    assert customer["purchaseProbability"] is not None
    assert 0 <= customer["purchaseProbability"]["probability"] <= 1
    # measured from the data's end (2011-05-31), not from today: the demo runs to May 2011
    assert customer["rfm"]["recencyDays"] < 400
    assert customer["purchaseProbability"]["asOf"].startswith("2011-05")
    assert answers["recommendations"]

    # a second run (as a second `make run` does) records nothing and retrains nothing
    before = demo_api.event_counts()
    await asyncio.to_thread(run_demo, demo_api.storewise, say=lambda _: None)
    assert demo_api.event_counts() == before
