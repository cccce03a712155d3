"""A sentiment model trained for the tests from the shipped sample (data/reviews-sample), once
per test session: a real, small spaCy training run, no mock."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "reviews-sample"
CATALOG_TERMS = [("mugs & cups", "mugs & cups"), ("mugs & cups", "mugs"), ("lanterns", "lantern")]


@functools.cache
def trained_model_dir(version: str = "test-sentiment-1") -> Path:
    """Train both languages on the sample and save the model; returns its directory."""
    from infrastructure.reviews.training import SPLITS, save_model, train_language

    directory = Path(tempfile.mkdtemp(prefix="storewise-sentiment-")) / version
    pipelines, metrics, texts = {}, {}, {}
    for language in ("en", "zh"):
        splits = SPLITS[language](SAMPLE)
        pipelines[language], metrics[language] = train_language(language, splits)
        texts[language] = [r.text for r in splits.train]
    save_model(directory, version, pipelines, metrics, {}, CATALOG_TERMS, texts, {"source": str(SAMPLE)}, topics=4)
    return directory


def copy_as(version: str) -> Path:
    """The same trained model under another version (a 'newer' model, without training again)."""
    import json
    import shutil

    source = trained_model_dir()
    target = source.parent / version
    if not target.exists():
        shutil.copytree(source, target)
        meta = json.loads((target / "meta.json").read_text())
        meta["version"] = version
        (target / "meta.json").write_text(json.dumps(meta))
    return target


def serve_model(storewise: Any, directory: Path | None = None) -> Any:
    """Record the model in the registry and activate it; returns its id."""
    from infrastructure.reviews.pipeline import read_meta
    from infrastructure.reviews.training import checksum

    directory = directory or trained_model_dir()
    model_id = storewise.models.record_training(
        "sentiment",
        read_meta(directory)["version"],
        hyperparameters={},
        data_position=storewise.event_counts(),
        metrics={},
        artifact_checksum=checksum(directory),
        artifact_path=str(directory),
    )
    storewise.models.activate_model(model_id)
    return model_id
