"""The ``storewise`` sub-commands of this engine (train, bench, ...).

Keep imports of heavy libraries inside the functions: the CLI builds every parser at start-up.
"""

from __future__ import annotations

import argparse
from typing import Any


def register(*, commands: Any, train: Any, bench: Any) -> None:
    """Add this engine's sub-commands to ``storewise``, ``storewise train`` and ``storewise bench``."""
    del commands, train, bench  # filled in by the engine's issue
