"""Operating the server: readiness (database, migrations, projection lag), graceful shutdown
on SIGTERM, structured logs, and the command line's scale-out options."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from dataclasses import replace

import httpx
import sqlalchemy as sa

from application.context import request_scope
from infrastructure.cli import main
from infrastructure.logging_setup import JsonFormatter
from infrastructure.server import create_app
from infrastructure.settings import health_from
from tests.conftest import sqlite_settings
from tests.faults.conftest import admin_token, graphql, start_server


async def test_readiness_checks_migrations_and_projection_lag(tmp_path):
    settings = replace(sqlite_settings(tmp_path), health=health_from({"STOREWISE_READY_MAX_LAG": "2"}))
    app = create_app(settings, projections_in_process=False)  # nothing keeps the read models
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            ready = await client.get("/readyz")
            assert ready.status_code == 200 and ready.json()["checks"]["migrations"]["ok"]
            inventory = app.state.storewise.inventory
            for _ in range(3):  # 1 + 3 events: the inventory projection falls 4 behind, over the limit of 2
                inventory.receive_stock("MUG", "main", 1)
            lagging = await client.get("/readyz")
            assert lagging.status_code == 503
            assert lagging.json()["checks"]["projections"] == {"ok": False, "max_lag": 2, "worst_lag": 4}
            app.state.services.read_side.run_until_idle()
            assert (await client.get("/readyz")).status_code == 200

            with app.state.services.read_side.engine.begin() as connection:  # the database falls behind the code
                connection.execute(sa.text("UPDATE alembic_version SET version_num = '0001'"))
            stale = await client.get("/readyz")
            assert stale.status_code == 503 and stale.json()["checks"]["migrations"]["database"] == ["0001"]
            assert (await client.get("/healthz")).status_code == 200  # alive all the same


def test_sigterm_lets_the_request_in_flight_finish_then_exits(tmp_path):
    settings = sqlite_settings(tmp_path)
    token = admin_token(settings)
    server = start_server(settings, tmp_path)
    # Hold the inventory store's write lock, so the mutation below stays in flight until released.
    lock = sqlite3.connect(settings.sqlite_path("inventory-events"), isolation_level=None, timeout=30)
    lock.execute("BEGIN IMMEDIATE")
    answers: list[httpx.Response] = []
    mutation = (
        'mutation { receiveStock(input: {sku: "MUG", warehouse: "main", quantity: 2}) '
        "{ stockLevel { onHand } userErrors { code } } }"
    )
    request = threading.Thread(target=lambda: answers.append(graphql(server.url, token, mutation, timeout=60)))
    try:
        request.start()
        deadline = time.monotonic() + 30
        while "storewise_graphql_requests_in_progress 1.0" not in httpx.get(f"{server.url}/metrics").text:
            assert time.monotonic() < deadline, "the mutation never got under way"
            time.sleep(0.05)
        server.process.send_signal(15)  # SIGTERM
        while "Shutting down" not in server.output():
            assert time.monotonic() < deadline, "the server did not see SIGTERM"
            time.sleep(0.05)
        with httpx.Client() as client:  # no new work is taken on
            try:
                refused = client.get(f"{server.url}/healthz", timeout=2).status_code != 200
            except httpx.HTTPError:
                refused = True
        assert refused
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    request.join(60)
    # It exits by itself; uvicorn re-raises the SIGTERM it caught once shut down, so the status says "terminated".
    assert server.process.wait(30) in (0, -15), server.output()
    assert answers and answers[0].status_code == 200, server.output()
    assert answers[0].json()["data"]["receiveStock"] == {"stockLevel": {"onHand": 2}, "userErrors": []}
    assert "Application shutdown complete" in server.output()


def test_log_lines_are_json_with_the_request_context():
    record = logging.LogRecord("storewise.test", logging.WARNING, __file__, 1, "stock of %s is low", ("MUG",), None)
    record.sku = "MUG"  # what a caller passes with extra=
    with request_scope("cid-7", "user:42:admin"):
        line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "stock of MUG is low" and line["level"] == "WARNING" and line["sku"] == "MUG"
    assert (line["correlation_id"], line["principal"], line["operation"]) == ("cid-7", "user:42:admin", "")
    assert json.loads(JsonFormatter().format(record))["correlation_id"] == ""  # outside a request


def test_serve_with_workers_needs_postgresql(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("STOREWISE_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("STOREWISE_DATABASE_URL", raising=False)
    assert main(["serve", "--workers", "2"]) == 2
    assert "--workers needs PostgreSQL" in capsys.readouterr().err
