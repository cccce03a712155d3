"""GraphiQL's page and assets over HTTP: served from the package (no external URL), under a
Content-Security-Policy, with example operations that are valid against the real schema, and
vendored files that match ``VENDORED.json``. (The page in a real browser:
``test_graphiql_browser.py``.)"""

from __future__ import annotations

import hashlib
import json
import re

import httpx
import pytest
from graphql import OperationDefinitionNode, parse, validate

from graphql_api import graphiql
from graphql_api.schema import build_schema
from infrastructure.server import create_app
from tests.conftest import sqlite_settings

#: What each user group's tab must show (the issue's list), as root fields its operations use.
EXPECTED_FIELDS = {
    "frontend": {"products", "placeOrder"},
    "operator": {
        "replenishmentPlans",
        "approveReplenishmentPlan",
        "proposeBudgetAllocation",
        "budgetAllocations",
        "approveBudgetAllocation",
        "lowStockAlerts",
    },
    "auditor": {"eventLog", "aggregateAt"},
}


@pytest.fixture(scope="module")
def schema():
    return build_schema()._schema


@pytest.mark.parametrize("tab", graphiql.example_tabs(), ids=lambda tab: tab.group)
def test_each_example_tab_is_valid_against_the_schema(tab, schema):
    document = parse(tab.query)
    assert validate(schema, document) == []
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    assert all(op.name for op in operations)  # GraphiQL lists them by name in the run button's menu
    fields = {s.name.value for op in operations for s in op.selection_set.selections}  # type: ignore[attr-defined]
    assert EXPECTED_FIELDS[tab.group] <= fields
    declared = {v.variable.name.value for op in operations for v in op.variable_definitions or ()}
    assert set(tab.variables) == declared  # the Variables editor offers exactly what the operations take


def test_the_vendored_files_are_the_ones_recorded():
    vendor = graphiql.STATIC / "vendor"
    manifest = json.loads((vendor / "VENDORED.json").read_text())
    listed = {"VENDORED.json"}
    for package in manifest["packages"]:
        assert package["version"] and package["license"] == "MIT"
        licence = package.get("license_file", {}).get("path") or next(
            f["path"] for f in package["files"] if f["path"].endswith("LICENSE")
        )
        assert (
            "MIT License" in (vendor / licence).read_text()
            or "Permission is hereby granted" in (vendor / licence).read_text()
        )
        for file in package["files"]:
            listed.add(file["path"])
            assert hashlib.sha256((vendor / file["path"]).read_bytes()).hexdigest() == file["sha256"], file["path"]
    assert {p.name for p in vendor.iterdir()} == listed


async def test_the_page_needs_nothing_from_outside_and_has_a_content_security_policy(tmp_path):
    app = create_app(sqlite_settings(tmp_path))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            page = await client.get("/graphql", headers={"Accept": "text/html"})
            assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
            policy = page.headers["content-security-policy"]
            for directive in (
                "default-src 'self'",
                "script-src 'self'",
                "connect-src 'self'",
                "frame-ancestors 'none'",
            ):
                assert directive in policy
            assert "unsafe-eval" not in policy and "script-src 'self';" in policy + ";"  # nothing more for scripts
            assert not re.search(r"(src|href)=\"(https?:)?//", page.text)
            assert "Bearer &lt;token&gt;" not in page.text and "Bearer <token>" in page.text  # the placeholder
            # every script and stylesheet the page names is served from the package
            assets = re.findall(r"(?:src|href)=\"([^\"]+)\"", page.text)
            assert len(assets) == 8
            for asset in assets:
                response = await client.get(f"/{asset}", headers={"Accept-Encoding": "gzip"})
                assert response.status_code == 200, asset
                kind = "javascript" if asset.endswith(".js") else "css"
                assert kind in response.headers["content-type"], asset
            # no inline script: the only <script> without src is the JSON data block
            inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", page.text)
            assert inline == [' id="storewise-graphiql-config" type="application/json"']
            config = json.loads(re.search(r'type="application/json">(.*?)</script>', page.text, re.S).group(1))
            assert [tab["query"] for tab in config["tabs"]] == [tab.query for tab in graphiql.example_tabs()]
            # the API itself is unchanged at the same path
            response = await client.post("/graphql", json={"query": "{ __typename }"})
            assert response.json() == {"data": {"__typename": "Query"}}
            assert (await client.get("/graphql/static/vendor/nothing.js")).status_code == 404
