"""The review commands on small fixtures: train (a real, tiny run on the shipped sample),
bench on a labelled file (with the lexicon baseline), reanalyse, and the demo reviews."""

from __future__ import annotations

import json

import pytest

from infrastructure.cli import main
from infrastructure.reviews.evaluation import metrics, parse_labels
from tests.review_model import SAMPLE, trained_model_dir


@pytest.fixture
def shop(tmp_path, monkeypatch):
    monkeypatch.setenv("STOREWISE_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("STOREWISE_DATABASE_URL", raising=False)
    assert main(["migrate"]) == 0
    return tmp_path


def _json(capsys) -> dict:
    return json.loads(capsys.readouterr().out)


def test_train_records_and_serves_a_model_then_reviews_are_analysed(shop, capsys):
    assert main(["reviews", "reanalyse"]) == 2
    assert "no sentiment model is active" in capsys.readouterr().err

    args = [
        "train",
        "sentiment",
        "--data-dir",
        str(SAMPLE),
        "--languages",
        "en",
        "--sample",
        "150",
        "--quiet",
    ]
    assert main([*args, "--version", "cli-1"]) == 0
    report = _json(capsys)
    assert report["version"] == "cli-1" and report["active"] is True
    assert (shop / "artifacts" / "sentiment" / "cli-1" / "en" / "meta.json").is_file()
    assert 0 <= report["metrics"]["en"]["test_binary_accuracy"] <= 1
    assert main([*args, "--if-absent"]) == 0 and "already served" in _json(capsys)["skipped"]

    assert main(["import", "online-retail", "data/online-retail-sample.csv.gz", "--limit", "200", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["reviews", "demo", "--count", "6"]) == 0
    assert _json(capsys) == {"reviews": 6, "products": 6, "analysed": True}
    assert main(["reviews", "demo", "--count", "6"]) == 0  # again: nothing new
    capsys.readouterr()
    assert main(["reviews", "reanalyse"]) == 0
    assert _json(capsys)["analysed"] == 0  # the process manager analysed them on submission
    assert main(["reviews", "reanalyse", "--all"]) == 0
    assert _json(capsys) | {"model_id": None} == {
        "analysed": 6,
        "skipped": 0,
        "model_version": "cli-1",
        "model_id": None,
    }


def test_bench_scores_a_labelled_file_beside_the_baseline(tmp_path, capsys):
    data = tmp_path / "labelled.tsv"
    rows = [
        ("1", "I love it, perfect and beautiful"),
        ("0", "Terrible quality, very disappointed"),
        ("1", "非常好，很满意"),
        ("0", "太差了，很失望"),
    ]
    data.write_text("label\ttext\n" + "".join(f"{label}\t{text}\n" for label, text in rows), encoding="utf-8")
    args = ["bench", "sentiment", "--data", str(data), "--format", "tsv", "--text-col", "text", "--label-col", "label"]
    assert main([*args, "--model", str(trained_model_dir()), "--baseline"]) == 0
    report = _json(capsys)
    assert report["model"]["n"] == 4 and report["languages"] == {"en": 2, "zh": 2}
    assert report["model"]["labels"] == ["POSITIVE", "NEGATIVE"]
    assert sum(sum(row.values()) for row in report["model"]["confusion"].values()) == 4
    assert report["model"]["reviews_per_second"] > 0 and report["model"]["peak_memory_mb"] > 0
    assert report["baseline"]["method"] == "vaderSentiment + snownlp" and report["baseline"]["n"] == 4

    assert main([*args[:-4], "--text-col", "review", "--label-col", "label", "--model", str(trained_model_dir())]) == 2
    assert "no column review" in capsys.readouterr().err


def test_labels_and_metrics():
    assert parse_labels(["1", "0"]) == ["POSITIVE", "NEGATIVE"]
    assert parse_labels(["1", "3", "5", "Negative"]) == ["NEGATIVE", "NEUTRAL", "POSITIVE", "NEGATIVE"]
    with pytest.raises(ValueError):
        parse_labels(["7"])
    result = metrics(["POSITIVE", "POSITIVE", "NEGATIVE", "NEGATIVE"], ["POSITIVE", "NEGATIVE", "NEGATIVE", "NEGATIVE"])
    assert result["accuracy"] == 0.75
    assert result["confusion"] == {
        "POSITIVE": {"POSITIVE": 1, "NEGATIVE": 1},
        "NEGATIVE": {"POSITIVE": 0, "NEGATIVE": 2},
    }
    # F1: positive 2*1/(2+0+1) = 0.6667, negative 2*2/(4+1+0) = 0.8
    assert result["macro_f1"] == pytest.approx((2 / 3 + 0.8) / 2, abs=1e-4)
