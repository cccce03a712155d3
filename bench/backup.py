"""Backup, restore and moving a whole store: time, rows per second and peak memory of each.

Runs the real commands (``storewise backup``, ``restore``, ``migrate-store``) as child processes on
an existing store (e.g. the full Online Retail history imported under ``var/``), and measures each
child's wall time and peak resident memory (``wait4``): flat memory whatever the history's length
is the point of the streaming copy.

    .venv/bin/python bench/backup.py --database-url sqlite:///var/full/storewise.sqlite \
        [--postgres-url postgresql://postgres@127.0.0.1:5432/test] [--out bench/results/backup.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STOREWISE = str(ROOT / ".venv" / "bin" / "storewise")


def run(argv: list[str], env: dict[str, str]) -> dict[str, object]:
    started = time.perf_counter()
    process = subprocess.Popen([STOREWISE, *argv, "--quiet"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    out = process.stdout.read().decode() if process.stdout else ""
    err = process.stderr.read().decode() if process.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"storewise {' '.join(argv)} failed:\n{out}\n{err}")
    return {"seconds": round(seconds, 1), "peak_rss_mib": round(usage.ru_maxrss / 1024, 1), "said": out.strip()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="the store to copy (sqlite:///PATH)")
    parser.add_argument("--postgres-url", help="also move it into a fresh schema of this PostgreSQL database")
    parser.add_argument("--out", help="write the figures as JSON here")
    args = parser.parse_args()

    env = dict(os.environ, STOREWISE_DATABASE_URL=args.database_url)
    work = Path(tempfile.mkdtemp(prefix="storewise-bench-backup-", dir=ROOT / "var"))
    results: dict[str, object] = {"machine": platform.node(), "python": platform.python_version()}
    try:
        results["backup"] = run(["backup", str(work / "backup")], env)
        manifest = json.loads((work / "backup" / "manifest.json").read_text())
        counts = manifest["counts"]
        results["events"] = sum(n for key, n in counts.items() if key.endswith("/events"))
        results["rows"] = sum(counts.values())
        results["backup_mib"] = round((work / "backup" / "data.sqlite").stat().st_size / 2**20, 1)
        restored = dict(env, STOREWISE_DATABASE_URL=f"sqlite:///{work / 'restored' / 'storewise.sqlite'}")
        results["restore_sqlite"] = run(["restore", str(work / "backup")], restored)
        if args.postgres_url:
            schema = f"bench_move_{uuid.uuid4().hex[:8]}"
            separator = "&" if "?" in args.postgres_url else "?"
            target = f"{args.postgres_url}{separator}schema={schema}"
            try:
                results["migrate_store_to_postgresql"] = run(
                    ["migrate-store", "--from", args.database_url, "--to", target], env
                )
            finally:
                import psycopg

                with psycopg.connect(args.postgres_url, autocommit=True) as connection:
                    connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        for step in ("backup", "restore_sqlite", "migrate_store_to_postgresql"):
            if isinstance(results.get(step), dict):
                step_result = results[step]
                assert isinstance(step_result, dict)
                step_result["rows_per_second"] = round(int(results["rows"]) / max(float(step_result["seconds"]), 1e-9))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = json.dumps(results, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
