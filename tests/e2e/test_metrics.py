"""``/metrics`` (Prometheus) and the structured logs, through the running app.

Counters are process-wide and other tests add to them, so each test compares the
exposition before and after what it does.
"""

from __future__ import annotations

import json
import logging

import pytest
from prometheus_client.parser import text_string_to_metric_families

from infrastructure.logging_setup import JsonFormatter
from infrastructure.metrics import engine_run, set_active_model

LIST_MUG = (
    'mutation ListMug { listProduct(input: {sku: "MUG", title: "Mug", category: "Kitchen"}) '
    "{ product { id } userErrors { code } } }"
)


async def scrape(api) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await api.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_operations_errors_commands_events_and_projections_are_counted(api):
    before = await scrape(api)
    listed = (await api.data(LIST_MUG))["listProduct"]
    again = (await api.data(LIST_MUG))["listProduct"]  # the SKU exists: refused by a rule
    bad = await api.post('query Broken { product(id: "not-a-global-id") { sku } }')
    after = await scrape(api)

    assert listed["userErrors"] == [] and again["userErrors"][0]["code"] == "ALREADY_EXISTS"
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    mutation = {"operation": "ListMug", "type": "mutation"}
    assert delta("storewise_graphql_requests_total", status="ok", **mutation) == 2  # userErrors are not errors
    assert delta("storewise_graphql_request_seconds_count", **mutation) == 2
    assert delta("storewise_graphql_requests_total", operation="Broken", type="query", status="error") == 1
    assert delta("storewise_graphql_errors_total", code="BAD_USER_INPUT") == 1
    command = {"application": "Catalog", "command": "list_product"}
    assert delta("storewise_commands_total", outcome="ok", **command) == 1
    assert delta("storewise_commands_total", outcome="refused", **command) == 1
    assert delta("storewise_events_appended_total", context="Catalog") == 1

    catalog = api.event_counts()["Catalog"]
    assert value(after, "storewise_database_up") == 1
    assert value(after, "storewise_projection_position", projection="catalog", leader="Catalog") == catalog
    assert value(after, "storewise_projection_head", projection="catalog", leader="Catalog") == catalog
    assert value(after, "storewise_projection_lag", projection="catalog", leader="Catalog") == 0
    assert delta("storewise_projection_events_total", projection="catalog") >= 1


async def test_conflicting_commands_are_counted_as_conflicts(api):
    from application.errors import ConcurrencyConflict
    from domain.inventory import StockItem
    from domain.shared import utc_now

    inventory = api.storewise.inventory
    inventory.receive_stock("LAMP", "main", 5)
    before = await scrape(api)
    # Two writers load the same stock item; the second save collides with the first.
    first = inventory.get(StockItem.create_id("LAMP", "main"), StockItem)
    second = inventory.get(StockItem.create_id("LAMP", "main"), StockItem)

    def adjust(item):
        def action():
            item.adjust(1, "found one", utc_now())
            return [item], None

        return action

    inventory.execute("adjust_stock", None, adjust(first))
    with pytest.raises(ConcurrencyConflict):
        inventory.execute("adjust_stock", None, adjust(second))
    after = await scrape(api)
    labels = {"application": "Inventory", "command": "adjust_stock"}
    assert (
        value(after, "storewise_commands_total", outcome="ok", **labels)
        - value(before, "storewise_commands_total", outcome="ok", **labels)
        == 1
    )
    assert (
        value(after, "storewise_commands_total", outcome="conflict", **labels)
        - value(before, "storewise_commands_total", outcome="conflict", **labels)
        == 1
    )


async def test_engine_runs_and_the_active_model_versions(api):
    before = await scrape(api)
    with engine_run("test-engine-fit"):
        pass
    with pytest.raises(RuntimeError), engine_run("test-engine-fit"):
        raise RuntimeError("the solver gave up")
    set_active_model("test-kind", "v1")
    set_active_model("test-kind", "v2")  # replaces v1
    after = await scrape(api)
    for status in ("ok", "error"):
        name, labels = "storewise_engine_run_seconds_count", {"engine": "test-engine-fit", "status": status}
        assert value(after, name, **labels) - value(before, name, **labels) == 1
    versions = {
        dict(k[1])["version"]: v
        for k, v in after.items()
        if k[0] == "storewise_active_model_info" and dict(k[1])["kind"] == "test-kind"
    }
    assert versions == {"v2": 1.0}


async def test_log_lines_carry_the_correlation_id_principal_and_operation(api):
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    handler = Keep()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        merchandiser = await api.as_role("merchandiser")
        login = merchandiser.headers
        # Reading the users is for admins: the denial is logged (storewise.access, WARNING).
        body = await merchandiser.post(
            "query WhoIsThere { users(first: 1) { totalCount } }", None, **{"X-Correlation-ID": "cid-logs-1"}
        )
    finally:
        root.removeHandler(handler)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    lines = [json.loads(line) for line in records]
    denied = [line for line in lines if line["logger"] == "storewise.access" and line["correlation_id"] == "cid-logs-1"]
    assert denied, lines
    assert denied[0]["operation"] == "WhoIsThere"
    assert denied[0]["principal"].startswith("user:") and denied[0]["principal"].endswith(":merchandiser")
    assert login  # the request was made with the merchandiser's token
