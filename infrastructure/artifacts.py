"""Trained models' artifacts on disk: where each version lives, and the checksum the
model registry records so that serving can refuse a file that is not the one trained."""

from __future__ import annotations

import hashlib
from pathlib import Path

from .settings import Settings


def artifact_dir(settings: Settings, kind: str, version: str) -> Path:
    """The directory of one trained model's artifact: ``<var>/artifacts/<kind>/<version>``."""
    return Path(settings.var_dir) / "artifacts" / kind / version


def checksum(directory: Path) -> str:
    """SHA-256 over every file of an artifact directory (relative names and contents, in name order)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in Path(directory).rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(directory)).encode())
        with open(path, "rb") as file:
            for chunk in iter(lambda: file.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def verify(directory: Path, expected: str | None) -> None:
    """Refuse (ValueError) an artifact whose files do not match the recorded checksum."""
    if expected is not None and checksum(directory) != expected:
        raise ValueError(f"{directory}: the artifact's checksum does not match the recorded one")
