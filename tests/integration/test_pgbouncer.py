"""Storewise behind PgBouncer in transaction mode (``STOREWISE_DB_PGBOUNCER=on``).

A PgBouncer of its own (Debian's ``pgbouncer``; ``.ci/run`` installs it) is started on a free
port in front of the test server, and the integration suite's write, projection and
subscription tests run through it in a child pytest: PgBouncer hands each transaction any
server connection, so anything that relied on session state (prepared statements, session
advisory locks, ``SET`` without ``LOCAL``, ``LISTEN``) fails there.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

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


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _admin(port: int, command: str) -> str:
    """A command of PgBouncer's admin console (psql: the console speaks only the simple protocol)."""
    return subprocess.run(
        ["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", "pgbouncer", "-At", "-c", command],
        capture_output=True,
        text=True,
        timeout=10,
        check=True,
    ).stdout


@pytest.fixture(scope="module")
def pgbouncer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a PgBouncer in transaction mode in front of the test server."""
    binary = shutil.which("pgbouncer") or next((p for p in ("/usr/sbin/pgbouncer",) if Path(p).exists()), None)
    if binary is None:
        _unavailable("no pgbouncer binary (Debian package `pgbouncer`)")
    if problem := _postgres_reachable():
        _unavailable(f"no PostgreSQL server: {problem}")
    server = make_url(POSTGRES_URL)
    port = _free_port()
    directory = tmp_path_factory.mktemp("pgbouncer")
    directory.chmod(0o755)
    users = directory / "users.txt"
    users.write_text(f'"{server.username or "postgres"}" ""\n')
    ini = directory / "pgbouncer.ini"
    ini.write_text(
        "[databases]\n"
        f"* = host={server.host or '127.0.0.1'} port={server.port or 5432}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {users}\nadmin_users = {server.username or 'postgres'}\n"
        "pool_mode = transaction\nmax_client_conn = 500\ndefault_pool_size = 20\n"
        "ignore_startup_parameters = extra_float_digits\n"
    )
    for path in (users, ini):
        path.chmod(0o644)
    # PgBouncer refuses to run as root: it then switches to an unprivileged user.
    command = [binary, *(["-u", "nobody"] if os.geteuid() == 0 else []), str(ini)]
    log = (directory / "pgbouncer.log").open("w")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                _admin(port, "SHOW VERSION")
                break
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
                if process.poll() is not None or time.monotonic() > deadline:
                    _unavailable(f"pgbouncer did not start: {(directory / 'pgbouncer.log').read_text()[-500:]}")
                time.sleep(0.2)
        yield server.set(port=port).render_as_string(hide_password=False)
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def test_write_projection_and_subscription_tests_pass_through_pgbouncer(pgbouncer):
    port = make_url(pgbouncer).port
    before = _admin(port, "SHOW TOTALS")
    env = {
        **os.environ,
        "STOREWISE_TEST_POSTGRES_URL": pgbouncer,
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
    totals = dict(line.split("|", 1) for line in _admin(port, "SHOW TOTALS").splitlines())
    was = dict(line.split("|", 1) for line in before.splitlines())
    assert int(totals["total_xact_count"]) - int(was["total_xact_count"]) > 1000, totals
    assert "transaction" in _admin(port, "SHOW CONFIG").split("pool_mode|", 1)[1].split("\n", 1)[0]
