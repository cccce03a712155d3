"""Fault tests: real ``storewise`` processes on PostgreSQL (a schema of their own), killed,
cut off from the database or raced, on loopback only and bounded in time."""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from infrastructure.bootstrap import bootstrap
from infrastructure.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def environment(settings: Settings, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "STOREWISE_DATABASE_URL": settings.database_url,
        "STOREWISE_VAR_DIR": str(settings.var_dir),
        "STOREWISE_KEK": base64.urlsafe_b64encode(settings.kek).decode(),
        "STOREWISE_LOG_FORMAT": "json",
        **extra,
    }


@dataclass
class Process:
    """A ``storewise`` command running in a process of its own, its output in a file."""

    args: list[str]
    settings: Settings
    log: Path
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen | None = None

    def start(self) -> Process:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "infrastructure.cli", *self.args],
            cwd=ROOT,
            env=environment(self.settings, **self.env),
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def kill(self) -> None:
        """kill -9: no chance to finish anything."""
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def terminate(self, timeout: float = 30) -> int:
        """SIGTERM, then wait for it to exit by itself; its exit code."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


@dataclass
class Server(Process):
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 60) -> Server:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"the server exited with {self.process.returncode}:\n{self.output()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"the server was not ready after {timeout}s:\n{self.output()}")


def start_server(settings: Settings, tmp_path: Path, *extra_args: str, name: str = "server", **env: str) -> Server:
    port = free_port()
    server = Server(["serve", "--port", str(port), *extra_args], settings, tmp_path / f"{name}.log", env=env, port=port)
    return server.start().wait_ready()  # type: ignore[return-value]


def admin_token(settings: Settings) -> str:
    """A token of a fresh admin user (made before any server runs; the server's start-up projects it)."""
    with bootstrap(settings) as storewise:
        user = storewise.access.register_user(f"fault-admin-{os.urandom(3).hex()}", "admin")
        return storewise.access.issue_token(user, ttl=timedelta(hours=1)).token


def graphql(
    url: str, token: str, query: str, variables: dict[str, Any] | None = None, timeout: float = 30
) -> httpx.Response:
    return httpx.post(
        f"{url}/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"Bearer {token}"},
        timeout=timeout,
    )


@pytest.fixture
def pg(postgres_settings: Settings, tmp_path: Path) -> Iterator[Settings]:
    """PostgreSQL settings in a fresh schema, with a var directory of the test's own."""
    yield Settings(postgres_settings.database_url, postgres_settings.kek, tmp_path)
