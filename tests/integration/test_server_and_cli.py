"""The HTTP health endpoints and the command line."""

from __future__ import annotations

import json

import httpx
import pytest

from infrastructure.cli import main
from infrastructure.server import create_app
from tests.conftest import sqlite_settings


async def test_health_and_readiness(tmp_path):
    app = create_app(sqlite_settings(tmp_path))
    async with app.router.lifespan_context(app):
        app.state.storewise.inventory.receive_stock("MUG", "main", 3)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            health = await client.get("/healthz")
            ready = await client.get("/readyz")
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    assert ready.status_code == 200
    assert ready.json()["events"]["Inventory"] == 2  # stock item opened, then received


def test_cli_status_counts_events(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("STOREWISE_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("STOREWISE_DATABASE_URL", raising=False)
    assert main(["migrate"]) == 0
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    status = json.loads(out[out.index("{") :])
    assert status == {
        "database": "sqlite",
        "events": dict.fromkeys(
            ("Customers", "Catalog", "Inventory", "Campaigns", "Feedback", "Access", "Models", "Marketing"), 0
        ),
    }
    assert (tmp_path / "storewise.inventory-events.sqlite").exists()


def test_cli_refuses_a_bad_database_url_clearly(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("STOREWISE_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("STOREWISE_DATABASE_URL", "mysql://nowhere/db")
    assert main(["status"]) == 2
    assert "STOREWISE_DATABASE_URL must be sqlite" in capsys.readouterr().err


def test_cli_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for command in ("serve", "migrate", "import", "status"):
        assert command in out
