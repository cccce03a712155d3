"""Artifacts: the recorded checksum covers every file, by name and content."""

from __future__ import annotations

import pytest

from infrastructure.artifacts import checksum, verify


def test_the_checksum_changes_with_any_file_and_verify_refuses_a_changed_artifact(tmp_path):
    (tmp_path / "weights.bin").write_bytes(b"\x00\x01")
    (tmp_path / "meta.json").write_text("{}")
    recorded = checksum(tmp_path)
    verify(tmp_path, recorded)
    verify(tmp_path, None)  # nothing recorded: nothing to check
    (tmp_path / "meta.json").write_text('{"edited": true}')
    with pytest.raises(ValueError, match="checksum"):
        verify(tmp_path, recorded)
    (tmp_path / "meta.json").write_text("{}")
    (tmp_path / "meta.json").rename(tmp_path / "renamed.json")  # same bytes, another name
    assert checksum(tmp_path) != recorded
