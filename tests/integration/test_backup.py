"""`storewise backup` while the shop keeps writing, `storewise restore` into an empty database, and
`storewise migrate-store` from SQLite to PostgreSQL: whole history, chains, positions, receipts."""

from __future__ import annotations

import base64
import threading
import uuid
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from domain.shared import Money
from infrastructure import audit, backup
from infrastructure.bootstrap import bootstrap, projection_runner
from infrastructure.cli import main
from infrastructure.importers.online_retail import import_online_retail
from infrastructure.migrations import upgrade
from infrastructure.server import create_app
from infrastructure.settings import Settings
from tests.conftest import sqlite_settings
from tests.integration.test_import_online_retail import FIXTURE


def _empty_twin(settings: Settings, tmp_path: Path, name: str) -> Settings:
    """An empty database of the same backend, with the same key-encryption key."""
    if settings.backend == "sqlite":
        directory = tmp_path / name
        return replace(settings, database_url=f"sqlite:///{directory / 'storewise.sqlite'}", var_dir=directory)
    url = settings.url.set(query={"schema": f"{settings.postgres_schema}_{name}"})
    return settings.with_database(url.render_as_string(hide_password=False))


def _drop(settings: Settings) -> None:
    if settings.backend == "postgresql":
        import psycopg

        with psycopg.connect(settings.postgres_conninfo(), autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{settings.postgres_schema}" CASCADE')


def _cli(settings: Settings, monkeypatch: pytest.MonkeyPatch, *argv: str) -> int:
    monkeypatch.setenv("STOREWISE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("STOREWISE_KEK", base64.urlsafe_b64encode(settings.kek).decode())
    monkeypatch.setenv("STOREWISE_VAR_DIR", str(settings.var_dir))
    return main(list(argv))


def test_a_backup_taken_under_write_load_restores_and_verifies(settings, tmp_path, monkeypatch, capsys):
    upgrade(settings)
    stop, written = threading.Event(), [0]
    with bootstrap(settings) as storewise:
        import_online_retail(storewise, FIXTURE, progress=False)
        projection_runner(storewise).run_until_idle()

        def write_load() -> None:  # the shop keeps selling (and its read models follow) during the backup
            while not stop.is_set():
                storewise.inventory.receive_stock("MUG", "main", 5)
                storewise.customers.place_order(None, [("MUG", 1, Money(Decimal("2"), "GBP"))])
                storewise.read_side.run_until_idle()
                written[0] += 1

        writer = threading.Thread(target=write_load)
        writer.start()
        try:
            while written[0] < 3:
                stop.wait(0.05)
            report = backup.backup(settings, tmp_path / "backup", progress=False)
            while written[0] < report.events // 10 + 6:  # writes went on after it too
                stop.wait(0.05)
        finally:
            stop.set()
            writer.join()
    target = _empty_twin(settings, tmp_path, "restored")
    try:
        assert _cli(target, monkeypatch, "restore", str(tmp_path / "backup"), "--quiet") == 0
        restored = backup.live_source(target)
        try:
            counts = {part.key: restored.count(part) for part in backup.parts()}
        finally:
            restored.close()
        assert counts == report.counts
        assert counts["Customers/events"] > 0 and counts["read_models/orders"] > 0 and counts["keys"] > 0
        heads = tmp_path / "backup" / backup.HEADS
        capsys.readouterr()
        assert _cli(target, monkeypatch, "audit", "verify", "--heads", str(heads)) == 0
        assert "verified: everything matches" in capsys.readouterr().out
        # a restore only goes into an empty database
        assert _cli(target, monkeypatch, "restore", str(tmp_path / "backup"), "--quiet") != 0
        assert "not empty" in capsys.readouterr().err
    finally:
        _drop(target)


README_QUERIES = [
    '{ products(first: 5, search: "heart", sortBy: PRICE) { totalCount '
    "edges { node { sku title price { amount currency } stockLevels { warehouse available isLow } } } "
    "pageInfo { hasNextPage endCursor } } }",
    "{ viewer { role name } customers(first: 3) { edges { node { nameMasked profile { email } } } } }",
    '{ stockLevels(sku: "85123A") { edges { node { onHand reserved available } } } }',
    "{ eventLog(first: 5) { totalCount edges { node { context position eventType businessAt } } } }",
]


@pytest.mark.postgres
async def test_a_sqlite_shop_moved_to_postgresql_answers_the_same(tmp_path, postgres_settings):
    source = sqlite_settings(tmp_path)
    target = replace(postgres_settings, kek=source.kek)
    upgrade(source)
    with bootstrap(source) as storewise:
        import_online_retail(storewise, FIXTURE, progress=False)
        admin = storewise.access.issue_token(storewise.access.register_user(f"a{uuid.uuid4().hex[:6]}", "admin"))
        projection_runner(storewise).run_until_idle()
    report = backup.migrate_store(source, target, progress=False)
    assert report.events > 100

    async def answers(settings: Settings) -> list[dict]:
        app = create_app(settings)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
        ):
            found = []
            for query in README_QUERIES:
                response = await client.post(
                    "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {admin.token}"}
                )
                body = response.json()
                assert "errors" not in body, (query, body)
                found.append(body["data"])
            return found

    before, after = await answers(source), await answers(target)
    assert after == before
    assert after[0]["products"]["totalCount"] > 0 and after[1]["customers"]["edges"]
    with bootstrap(target) as moved:
        # the idempotency receipts came along: the same import again records nothing
        assert import_online_retail(moved, FIXTURE, progress=False).events_recorded == 0
        # and the logs go on after the copied positions, their chains with them
        recorder = moved.application("Inventory").recorder
        before = recorder.max_notification_id()
        assert before >= report.heads["Inventory"]["position"]
        moved.inventory.receive_stock("85123A", "main", 1)
        [first_new] = recorder.select_notifications(start=before, limit=1, inclusive_of_start=False)
        assert first_new.id > before  # the sequence goes on after the copied ids (gaps are normal on PostgreSQL)
        assert all(chain.intact for chain in audit.verify_chains(moved))
