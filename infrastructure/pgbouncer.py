"""PgBouncer in transaction mode, as Storewise runs behind it (docs/deployment.md, PgBouncer).

:func:`pgbouncer_ini` is the configuration the test suite and ``bench/scale.py`` run with;
:class:`LocalPgBouncer` starts one of its own in front of a server, for those two.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from sqlalchemy.engine import make_url


def pgbouncer_binary() -> str | None:
    """The pgbouncer binary (Debian installs it outside a normal user's PATH)."""
    return shutil.which("pgbouncer") or ("/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None)


def pgbouncer_ini(server_url: str, *, port: int, auth_file: Path, pool_size: int = 20) -> str:
    """A PgBouncer configuration in transaction mode in front of ``server_url``'s server.

    ``extra_float_digits`` is a start-up parameter psycopg sends, which PgBouncer must be told to ignore.
    """
    server = make_url(server_url)
    user = server.username or "postgres"
    return (
        "[databases]\n"
        f"* = host={server.host or '127.0.0.1'} port={server.port or 5432}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {auth_file}\nadmin_users = {user}\n"
        f"pool_mode = transaction\nmax_client_conn = 500\ndefault_pool_size = {pool_size}\n"
        "ignore_startup_parameters = extra_float_digits\n"
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LocalPgBouncer:
    """A PgBouncer of its own, in transaction mode with trust authentication, in front of a server.

    Raises :class:`FileNotFoundError` without the binary and :class:`RuntimeError` if it does not start.
    """

    def __init__(self, server_url: str, directory: Path, *, pool_size: int = 20):
        binary = pgbouncer_binary()
        if binary is None:
            raise FileNotFoundError("no pgbouncer binary (Debian package `pgbouncer`)")
        server = make_url(server_url)
        self.port = _free_port()
        self.user = server.username or "postgres"
        directory.mkdir(parents=True, exist_ok=True)
        directory.chmod(0o755)
        users = directory / "users.txt"
        users.write_text(f'"{self.user}" ""\n')
        ini = directory / "pgbouncer.ini"
        ini.write_text(pgbouncer_ini(server_url, port=self.port, auth_file=users, pool_size=pool_size))
        for path in (users, ini):
            path.chmod(0o644)
        self.log_path = directory / "pgbouncer.log"
        self._log = self.log_path.open("w")
        # PgBouncer refuses to run as root: it then switches to an unprivileged user.
        command = [binary, *(["-u", "nobody"] if os.geteuid() == 0 else []), str(ini)]
        self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while True:
            try:
                self.admin("SHOW VERSION")
                break
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.close()
                    raise RuntimeError(f"pgbouncer did not start: {self.log_path.read_text()[-500:]}") from None
                time.sleep(0.2)
        self.url = server.set(port=self.port).render_as_string(hide_password=False)

    def admin(self, command: str) -> list[dict[str, str]]:
        """Rows of an admin-console command (psql: the console speaks only the simple protocol)."""
        out = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, "-d", "pgbouncer", "-A", "-F|"]
            + ["-c", command],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.splitlines()
        header = out[0].split("|") if out else []
        return [dict(zip(header, line.split("|"))) for line in out[1:] if "|" in line]

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self._log.close()
