"""The served-model loader the engines share: loaded once, again when the registry serves another
model, its artifact checked against the recorded checksum, the registry asked at most so often."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from infrastructure.artifacts import checksum
from infrastructure.serving import ServedModel


@dataclass(frozen=True)
class Record:
    id: UUID
    version: str
    artifact_path: str
    artifact_checksum: str


def saved(directory: Path, text: str, version: str = "v1") -> Record:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "model.txt").write_text(text)
    return Record(uuid4(), version, str(directory), checksum(directory))


class Registry:
    def __init__(self, record: Record | None = None):
        self.record, self.asked = record, 0

    def active_model(self, kind: str) -> Record | None:
        self.asked += 1
        return self.record


class Loader:
    def __init__(self):
        self.loads: list[str] = []

    def __call__(self, record: Record) -> str:
        self.loads.append(record.version)
        return (Path(record.artifact_path) / "model.txt").read_text()


def test_a_model_is_loaded_once_and_again_when_another_is_served(tmp_path):
    load = Loader()
    served = ServedModel("test-kind", load)
    first = saved(tmp_path / "v1", "one")
    assert served.of(first) == "one" and served.of(first) == "one"
    second = saved(tmp_path / "v2", "two", "v2")
    assert served.of(second) == "two"
    assert served.of(first) == "one"  # one model at a time: back to the first, loaded again
    assert load.loads == ["v1", "v2", "v1"]


def test_an_altered_artifact_is_refused_and_nothing_is_held(tmp_path):
    load = Loader()
    served = ServedModel("test-kind", load)
    record = saved(tmp_path / "v1", "one")
    (tmp_path / "v1" / "model.txt").write_text("not what was trained")
    with pytest.raises(ValueError, match="checksum"):
        served.of(record)
    assert load.loads == []
    (tmp_path / "v1" / "model.txt").write_text("one")
    assert served.of(record) == "one"


def test_the_artifact_directory_can_be_the_model_files_folder(tmp_path):
    record = saved(tmp_path / "v1", "one")
    as_file = Record(record.id, record.version, str(tmp_path / "v1" / "model.txt"), record.artifact_checksum)
    served = ServedModel(
        "test-kind", lambda r: Path(r.artifact_path).read_text(), directory=lambda r: Path(r.artifact_path).parent
    )
    assert served.of(as_file) == "one"


def test_the_registry_is_asked_at_most_every_recheck_seconds_and_forget_asks_again(tmp_path):
    load = Loader()
    registry = Registry()
    served = ServedModel("test-kind", load, recheck_seconds=60)
    assert served.active(registry) is None
    registry.record = saved(tmp_path / "v1", "one")
    assert served.active(registry) is None and registry.asked == 1  # not asked again yet
    served.forget()
    assert served.active(registry) == "one" and registry.asked == 2
    registry.record = None
    served.forget()
    assert served.active(registry) is None


def test_without_a_recheck_interval_every_call_asks_the_registry(tmp_path):
    registry = Registry(saved(tmp_path / "v1", "one"))
    served = ServedModel("test-kind", Loader())
    assert served.active(registry) == "one" and served.active(registry) == "one"
    assert registry.asked == 2


def test_a_failed_load_serves_nothing_until_the_next_check(tmp_path):
    record = saved(tmp_path / "v1", "one")
    (tmp_path / "v1" / "model.txt").write_text("altered")
    registry = Registry(record)
    served = ServedModel("test-kind", Loader(), recheck_seconds=60)
    with pytest.raises(ValueError):
        served.active(registry)
    assert served.active(registry) is None and registry.asked == 1


def test_concurrent_requests_load_a_model_once(tmp_path):
    record = saved(tmp_path / "v1", "one")
    loads = []

    def slow(r: Record) -> str:
        loads.append(r.version)
        time.sleep(0.05)
        return "one"

    served = ServedModel("test-kind", slow)
    results = []
    threads = [threading.Thread(target=lambda: results.append(served.of(record))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["one"] * 8 and loads == ["v1"]
