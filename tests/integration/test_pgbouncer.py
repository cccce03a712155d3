"""Storewise behind PgBouncer in transaction mode (``STOREWISE_DB_PGBOUNCER=on``).

A PgBouncer of its own (Debian's ``pgbouncer``; ``.ci/run`` installs it) is started on a free
port in front of the test server, and the integration suite's write, projection and
subscription tests run through it in a child pytest: PgBouncer hands each transaction any
server connection, so anything that relied on session state (prepared statements, session
advisory locks, ``SET`` without ``LOCAL``, ``LISTEN``) fails there.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from infrastructure.pgbouncer import LocalPgBouncer
from tests.conftest import POSTGRES_URL, _postgres_reachable

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
#: The suite's write, projection and subscription tests, on PostgreSQL only.
THROUGH_PGBOUNCER = [
    "tests/integration/test_applications.py",
    "tests/integration/test_projections.py",
    "tests/e2e/test_subscriptions.py",
]


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"PgBouncer is required under CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def pgbouncer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPgBouncer]:
    """A PgBouncer in transaction mode in front of the test server."""
    if problem := _postgres_reachable():
        _unavailable(f"no PostgreSQL server: {problem}")
    try:
        bouncer = LocalPgBouncer(POSTGRES_URL, tmp_path_factory.mktemp("pgbouncer"))
    except (FileNotFoundError, RuntimeError) as error:
        _unavailable(str(error))
    try:
        yield bouncer
    finally:
        bouncer.close()


def _totals(bouncer: LocalPgBouncer) -> dict[str, int]:
    return {row["name"]: int(row["value"]) for row in bouncer.admin("SHOW TOTALS")}


def test_write_projection_and_subscription_tests_pass_through_pgbouncer(pgbouncer):
    before = _totals(pgbouncer)
    env = {
        **os.environ,
        "STOREWISE_TEST_POSTGRES_URL": pgbouncer.url,
        "STOREWISE_TEST_PGBOUNCER_DIRECT_URL": POSTGRES_URL,
        "CI": "1",  # through PgBouncer nothing may be skipped
    }
    child = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-m", "postgres", "-p", "no:cacheprovider", *THROUGH_PGBOUNCER],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    summary = child.stdout.strip().splitlines()[-1] if child.stdout.strip() else child.stderr[-2000:]
    assert child.returncode == 0, child.stdout[-6000:] + child.stderr[-2000:]
    assert "passed" in summary and "skipped" not in summary, summary
    # The traffic did go through PgBouncer, in transaction mode.
    totals = _totals(pgbouncer)
    assert totals["total_xact_count"] - before["total_xact_count"] > 1000, totals
    config = {row["key"]: row["value"] for row in pgbouncer.admin("SHOW CONFIG")}
    assert config["pool_mode"] == "transaction"
