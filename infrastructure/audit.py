"""What an auditor runs: verify the event logs' hash chains, and that the live read
models equal a rebuild of every projection from the log."""

from __future__ import annotations

import hashlib
import hmac
import os
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from projections.tables import metadata

from .bootstrap import Storewise, projection_runner
from .event_chain import ChainReport, signed_heads, verify
from .migrations import upgrade
from .read_model_db import sync_engine
from .settings import Settings

#: Columns that say when a row was written, not what it holds: left out of the comparison.
_VOLATILE = {"projection_positions": {"updated_at"}, "customer_activity": {"id"}}


@dataclass
class TableCheck:
    table: str
    live_checksum: str
    rebuilt_checksum: str
    only_live: list[tuple] = field(default_factory=list)
    only_rebuilt: list[tuple] = field(default_factory=list)

    @property
    def equal(self) -> bool:
        return self.live_checksum == self.rebuilt_checksum


def audit_key(settings: Settings) -> bytes:
    """The key that signs chain heads: ``STOREWISE_AUDIT_KEY`` if set, else derived from the KEK."""
    given = os.environ.get("STOREWISE_AUDIT_KEY")
    return given.encode() if given else hmac.new(settings.kek, b"storewise audit heads", hashlib.sha256).digest()


def verify_chains(storewise: Storewise) -> list[ChainReport]:
    return [verify(app.name, app.recorder) for app in storewise.applications]


def heads(storewise: Storewise) -> dict[str, Any]:
    """Signed chain heads to keep outside the database (a later rewrite of a whole chain then shows)."""
    return signed_heads(verify_chains(storewise), audit_key(storewise.settings))


def check_heads(storewise: Storewise, exported: dict[str, Any]) -> list[str]:
    """Problems with previously exported heads: a bad signature, or a head no longer in the chain."""
    problems = []
    expected = signed_heads(
        [ChainReport(c, 0, h["position"], h["hash"]) for c, h in exported["heads"].items()], audit_key(storewise.settings)
    )
    if not hmac.compare_digest(expected["signature"], exported.get("signature", "")):
        problems.append("the exported heads' signature does not match")
    apps = {app.name: app for app in storewise.applications}
    for context, head in exported["heads"].items():
        if head["position"] == 0:
            continue
        links = dict(apps[context].recorder.chain(head["position"] - 1, 1)) if context in apps else {}
        if links.get(head["position"], b"").hex() != head["hash"]:
            problems.append(f"{context}: the chain no longer holds the exported head at position {head['position']}")
    return problems


def _rows(engine: sa.Engine, table: sa.Table) -> list[tuple]:
    skip = _VOLATILE.get(table.name, set())
    columns = [c for c in table.columns if c.name not in skip]
    with engine.connect() as connection:
        return sorted(tuple(str(v) for v in row) for row in connection.execute(sa.select(*columns)))


def _checksum(rows: list[tuple]) -> str:
    digest = hashlib.sha256()
    for row in rows:
        digest.update(repr(row).encode())
    return digest.hexdigest()


def verify_read_models(storewise: Storewise, *, show: int = 5) -> list[TableCheck]:
    """Rebuild every projection into a scratch database and compare it, table by table, with the live one."""
    live = sync_engine(storewise.settings)
    scratch_settings, cleanup = _scratch(storewise.settings)
    upgrade(scratch_settings)
    scratch = sync_engine(scratch_settings)
    try:
        projection_runner(storewise, scratch).run_until_idle()
        checks = []
        for table in metadata.sorted_tables:
            live_rows, rebuilt_rows = _rows(live, table), _rows(scratch, table)
            check = TableCheck(table.name, _checksum(live_rows), _checksum(rebuilt_rows))
            if not check.equal:
                live_set, rebuilt_set = set(live_rows), set(rebuilt_rows)
                check.only_live = sorted(live_set - rebuilt_set)[:show]
                check.only_rebuilt = sorted(rebuilt_set - live_set)[:show]
            checks.append(check)
        return checks
    finally:
        live.dispose()
        scratch.dispose()
        cleanup()


def _scratch(settings: Settings) -> tuple[Settings, Any]:
    """Settings of an empty read-model database for a rebuild, and how to remove it."""
    if settings.backend == "sqlite":
        directory = Path(tempfile.mkdtemp(prefix="storewise-verify-"))
        scratch = Settings(f"sqlite:///{directory / 'read-models.sqlite'}", settings.kek, directory)

        def cleanup() -> None:
            for path in directory.iterdir():
                path.unlink()
            directory.rmdir()

        return scratch, cleanup
    schema = f"verify_{uuid.uuid4().hex[:12]}"
    url = settings.url.set(query={"schema": schema}).render_as_string(hide_password=False)
    scratch = Settings(url, settings.kek, settings.var_dir)

    def drop() -> None:
        import psycopg

        with psycopg.connect(settings.postgres_conninfo(), autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

    return scratch, drop
