"""Database failures, as an operator meets them: one line saying what is wrong and what to do, a
non-zero exit, no traceback; `serve` waits for a database that is still starting; names as typed."""

from __future__ import annotations

import base64
import os
import threading
import time
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from infrastructure.bootstrap import bootstrap
from infrastructure.cli import main
from infrastructure.migrations import alembic_config, upgrade
from infrastructure.operator_errors import DATABASE_EXIT, OperatorError, wait_for_database
from tests.conftest import POSTGRES_URL, sqlite_settings
from tests.faults.proxy import Proxy


def _run(monkeypatch, capsys, url: str, *argv: str, kek: bytes | None = None, var_dir: Path | None = None):
    monkeypatch.setenv("STOREWISE_DATABASE_URL", url)
    monkeypatch.setenv("STOREWISE_KEK", base64.urlsafe_b64encode(kek or os.urandom(32)).decode())
    if var_dir is not None:
        monkeypatch.setenv("STOREWISE_VAR_DIR", str(var_dir))
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert "Traceback" not in captured.err + captured.out
    return code, lines


def _postgres(**changes: object) -> str:
    return make_url(POSTGRES_URL).set(**changes).render_as_string(hide_password=False)


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (lambda: _postgres(port=1), "cannot reach the PostgreSQL server at 127.0.0.1:1 (connection refused)"),
        (lambda: _postgres(username="nobody_wt21"), "refused the login as nobody_wt21"),
        (lambda: _postgres(database="no_such_db_wt21"), "has no database named no_such_db_wt21: create it"),
    ],
    ids=["unreachable", "login-refused", "database-missing"],
)
def test_each_postgresql_failure_is_one_line_and_exit_3(monkeypatch, capsys, postgres_settings, url, expected):
    for command in (["status"], ["users", "list"], ["audit", "head"], ["backup", "/nonexistent/never-written"]):
        code, lines = _run(monkeypatch, capsys, url(), *command)
        assert code == DATABASE_EXIT, (command, lines)
        assert len(lines) == 1 and lines[0].startswith("storewise: ") and expected in lines[0], (command, lines)


def test_read_models_behind_the_code_say_run_migrate(monkeypatch, capsys, tmp_path):
    settings = sqlite_settings(tmp_path)
    scripts = ScriptDirectory.from_config(alembic_config(settings))
    head = scripts.get_current_head()
    before = scripts.get_revision(head).down_revision  # migrated by the version before this one
    upgrade(settings, before)
    code, lines = _run(monkeypatch, capsys, settings.database_url, "status", kek=settings.kek, var_dir=tmp_path)
    assert code == DATABASE_EXIT
    assert lines == [
        f"storewise: the read-model database is at migration {before}, this Storewise needs {head}: "
        "run `storewise migrate` first"
    ]
    code, _ = _run(monkeypatch, capsys, settings.database_url, "migrate", kek=settings.kek, var_dir=tmp_path)
    assert code == 0
    code, _ = _run(monkeypatch, capsys, settings.database_url, "status", kek=settings.kek, var_dir=tmp_path)
    assert code == 0


def test_a_kek_that_does_not_open_the_stored_keys_is_refused(monkeypatch, capsys, tmp_path):
    settings = sqlite_settings(tmp_path)
    with bootstrap(settings) as storewise:
        storewise.customers.register_customer("Ada", "ada@example.com")  # seals personal data: a key is stored
    code, lines = _run(monkeypatch, capsys, settings.database_url, "status", var_dir=tmp_path)  # another KEK
    assert code == 2
    assert len(lines) == 1 and "STOREWISE_KEK does not open the personal-data keys stored" in lines[0]
    code, _ = _run(monkeypatch, capsys, settings.database_url, "status", kek=settings.kek, var_dir=tmp_path)
    assert code == 0


def test_names_in_messages_are_the_ones_typed(monkeypatch, capsys, tmp_path):
    settings = sqlite_settings(tmp_path)
    code, lines = _run(
        monkeypatch, capsys, settings.database_url, "tokens", "issue", "nobody", kek=settings.kek, var_dir=tmp_path
    )
    assert code == 2 and lines == ["storewise: no user named nobody (NOT_FOUND)"]
    code, lines = _run(
        monkeypatch, capsys, settings.database_url, "users", "set-role", "nobody", "auditor", kek=settings.kek
    )
    assert code == 2 and lines == ["storewise: no user named nobody (NOT_FOUND)"]


@pytest.mark.postgres
def test_serve_gives_up_after_the_startup_wait_in_one_line(monkeypatch, capsys, postgres_settings):
    monkeypatch.setenv("STOREWISE_DB_STARTUP_WAIT", "1.5")
    started = time.monotonic()
    code, lines = _run(monkeypatch, capsys, _postgres(port=1), "serve", "--port", "18931")
    assert time.monotonic() - started >= 1.0  # it retried before giving up
    assert code == DATABASE_EXIT
    assert len(lines) == 1 and "cannot reach the PostgreSQL server at 127.0.0.1:1" in lines[-1], lines


@pytest.mark.postgres
def test_serve_waits_for_a_database_that_is_starting(postgres_settings):
    target = make_url(POSTGRES_URL)
    with Proxy((target.host or "127.0.0.1", target.port or 5432)) as proxy:
        proxy.cut()  # connections are dropped, as by a server that is still starting
        settings = postgres_settings.with_database(_postgres(host="127.0.0.1", port=proxy.port))
        threading.Timer(1.5, proxy.restore).start()
        started = time.monotonic()
        wait_for_database(settings, 20, interval=0.3)
        assert 1.0 <= time.monotonic() - started < 20
        proxy.cut()
        with pytest.raises(OperatorError, match="cannot reach"):
            wait_for_database(settings, 0.5, interval=0.2)
