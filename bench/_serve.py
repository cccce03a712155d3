"""Serve one of the benchmark's two apps with uvicorn, configured from the environment
(``STOREWISE_DATABASE_URL``, ``STOREWISE_VAR_DIR``, ``STOREWISE_KEK``, as ``storewise serve``):

    python bench/_serve.py graphql PORT   # the real server: infrastructure.server.create_app
    python bench/_serve.py bare PORT      # the baseline: bench/_bare_app.py

Both run under the same uvicorn settings as ``storewise serve`` (uvloop and httptools
when installed, one worker process), except that the access log is off for both:
a log line per request would cost each server the same, and only blur the comparison.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def main(kind: str, port: int) -> None:
    import uvicorn

    from infrastructure.settings import Settings

    settings = Settings.from_env()
    if kind == "graphql":
        from infrastructure.server import create_app

        # BENCH_PROJECTIONS=off: no projection poller (queries only; e.g. under valgrind, where a
        # poll every 0.5 s would weigh by the slowed-down wall time, not by the requests)
        app = create_app(settings, projections_in_process=os.environ.get("BENCH_PROJECTIONS") != "off")
    elif kind == "bare":
        from _bare_app import create_bare_app

        app = create_bare_app(settings)
    else:
        raise SystemExit(f"unknown app {kind!r} (graphql or bare)")
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, timeout_graceful_shutdown=5)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
