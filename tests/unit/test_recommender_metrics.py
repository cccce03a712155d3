"""The recommender's data files, validation splits and ranking metrics, against hand-computed values."""

from __future__ import annotations

import gzip
import math
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from infrastructure.recommender.data import read_lightgcn, read_train_test, split_validation
from infrastructure.recommender.metrics import ranking_metrics


def test_metrics_follow_the_lightgcn_conventions() -> None:
    # user 0: test {1, 5, 7}; top-3 [5, 2, 1] -> hits at ranks 1 and 3
    # user 1: test {4};       top-3 [0, 4, 3] -> a hit at rank 2
    # user 2: no test items -> not evaluated
    test = sp.csr_matrix(([1, 1, 1, 1], ([0, 0, 0, 1], [1, 5, 7, 4])), shape=(3, 8))
    top = np.array([[5, 2, 1], [0, 4, 3], [6, 7, 0]])
    metrics = ranking_metrics(top, test, np.array([0, 1, 2]), 3, n_items=8)

    d = [1 / math.log2(r + 1) for r in (1, 2, 3)]
    assert metrics["recall@3"] == pytest.approx((2 / 3 + 1 / 1) / 2)
    assert metrics["precision@3"] == pytest.approx((2 / 3 + 1 / 3) / 2)
    ndcg_0 = (d[0] + d[2]) / (d[0] + d[1] + d[2])  # ideal DCG over min(3, 3 test items)
    ndcg_1 = d[1] / d[0]  # ideal DCG over min(3, 1 test item)
    assert metrics["ndcg@3"] == pytest.approx((ndcg_0 + ndcg_1) / 2)
    assert metrics["users"] == 2
    assert metrics["coverage"] == pytest.approx(len({5, 2, 1, 0, 4, 3}) / 8)  # only evaluated users' lists


def test_metrics_cut_the_lists_at_k() -> None:
    test = sp.csr_matrix(([1], ([0], [2])), shape=(1, 4))
    metrics = ranking_metrics(np.array([[0, 1, 2, 3]]), test, np.array([0]), 2, n_items=4)
    assert metrics["recall@2"] == 0.0
    assert metrics["ndcg@2"] == 0.0


def test_reads_lightgcn_files_plain_and_gzipped(tmp_path: Path) -> None:
    text = "0 3 4\n1 2\n2\n"  # user 2 has no items
    (tmp_path / "a.txt").write_text(text)
    with gzip.open(tmp_path / "a.txt.gz", "wt") as file:
        file.write(text)
    for name in ("a.txt", "a.txt.gz"):
        users, items = read_lightgcn(tmp_path / name)
        assert users.tolist() == [0, 0, 1]
        assert items.tolist() == [3, 4, 2]


def test_train_and_test_files_share_one_shape(tmp_path: Path) -> None:
    (tmp_path / "train.txt").write_text("0 1\n1 0\n")
    (tmp_path / "test.txt").write_text("2 5\n")
    train, test = read_train_test(tmp_path / "train.txt", tmp_path / "test.txt")
    assert train.shape == test.shape == (3, 6)


@pytest.mark.parametrize("text", ["0 a b\n", "0 -1\n", ""])
def test_refuses_malformed_files(tmp_path: Path, text: str) -> None:
    (tmp_path / "bad.txt").write_text(text)
    with pytest.raises(ValueError):
        read_lightgcn(tmp_path / "bad.txt")


def test_validation_split_holds_out_a_share_of_each_users_items() -> None:
    rng = np.random.default_rng(1)
    dense = (rng.random((50, 40)) < 0.3).astype(np.float32)
    dense[0] = 0
    dense[0, 3] = 1  # a user with a single item keeps it
    interactions = sp.csr_matrix(dense)
    train, held = split_validation(interactions, 0.25, seed=7)
    assert (train + held - interactions).nnz == 0  # a partition of the interactions
    assert train.multiply(held).nnz == 0
    assert held[0].nnz == 0 and train[0].nnz == 1
    counts, held_counts = np.diff(interactions.indptr), np.diff(held.indptr)
    for user in range(1, 50):
        if counts[user] >= 2:
            assert 1 <= held_counts[user] < counts[user]
            assert held_counts[user] == max(1, min(round(counts[user] * 0.25), counts[user] - 1))
    again, _ = split_validation(interactions, 0.25, seed=7)
    assert (again != train).nnz == 0  # reproducible by seed
