"""Each recommender model on a graph of known structure: two communities of users and items
with no edge between them; recommendations, explanations and similar items stay in the community."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from infrastructure.recommender.artifact import ServingArtifact, precompute
from infrastructure.recommender.ranking import build, evaluate, top_k

USERS, ITEMS = 40, 20  # users 0-19 and items 0-9 are community A; the rest community B


def community(index: int, size: int) -> int:
    return 0 if index < size // 2 else 1


@pytest.fixture(scope="module")
def graph() -> sp.csr_matrix:
    rng = np.random.default_rng(0)
    rows, cols = [], []
    for user in range(USERS):
        offset = 0 if community(user, USERS) == 0 else ITEMS // 2
        for item in rng.choice(ITEMS // 2, size=4, replace=False):
            rows.append(user)
            cols.append(offset + item)
    return sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(USERS, ITEMS))


MODELS = [
    ("sgfcf", {"rank": 4}),
    ("bspm", {"rank": 4}),
    ("bspm", {"rank": 4, "sharpen": "exact"}),
    ("turbo-cf", {}),
    ("gf-cf", {"alpha": 0.3, "rank": 4}),
    ("item-graph", {}),
    ("lightgcn", {"epochs": 40, "dim": 16, "layers": 2, "lr": 0.05, "batch_size": 64}),
    ("lightgcn", {"epochs": 5, "dim": 8, "layers": 2, "lr": 0.01, "batch_size": 64, "init": "spectral"}),
]


@pytest.fixture(scope="module", params=MODELS, ids=[f"{name}-{n}" for n, (name, _) in enumerate(MODELS)])
def fitted(request: pytest.FixtureRequest, graph: sp.csr_matrix):
    name, parameters = request.param
    return build(name, **parameters).fit(graph)


def test_recommendations_stay_in_the_community(fitted, graph: sp.csr_matrix) -> None:
    for batch, items, _ in top_k(fitted, graph, np.arange(USERS), 3):
        for user, row in zip(batch, items):
            assert {community(i, ITEMS) for i in row} == {community(user, USERS)}, (user, row)
            assert not set(row) & set(graph[user].indices)  # never what the user already has


def test_similar_items_and_explanations_stay_in_the_community(fitted, graph: sp.csr_matrix, tmp_path: Path) -> None:
    artifact = precompute(
        fitted, graph, [f"u{u}" for u in range(USERS)], [f"i{i}" for i in range(ITEMS)], n=5, similar=3
    )
    for item in range(ITEMS):
        similar = artifact.similar(f"i{item}", 3)
        assert similar and all(community(int(s.item[1:]), ITEMS) == community(item, ITEMS) for s in similar)
        assert f"i{item}" not in {s.item for s in similar}
    for user in range(USERS):
        own = {f"i{i}" for i in graph[user].indices}
        for ranked in artifact.recommend(f"u{user}", 3):
            assert ranked.because and set(ranked.because) <= own  # the user's own items explain it
    loaded = ServingArtifact.load(tmp_path, artifact.save(tmp_path))
    assert loaded.recommend("u3", 5) == artifact.recommend("u3", 5)


def test_the_models_beat_popularity_on_held_out_items(fitted, graph: sp.csr_matrix) -> None:
    # Hold out one item per user; a model that learned the communities finds more than chance.
    rng = np.random.default_rng(1)
    coo = graph.tocoo()
    held_mask = np.zeros(coo.nnz, dtype=bool)
    for user in range(USERS):
        held_mask[rng.choice(np.flatnonzero(coo.row == user))] = True
    part = lambda m: sp.csr_matrix((coo.data[m], (coo.row[m], coo.col[m])), shape=graph.shape)  # noqa: E731
    train, test = part(~held_mask), part(held_mask)
    model = type(fitted)(
        **{k: v for k, v in fitted.__dict__.items() if k in type(fitted).__dataclass_fields__ and k != "name"}
    )
    metrics = evaluate(model.fit(train), train, test, k=3)
    # Within its community a user has 7 candidate items: 3 picks find the held-out one 3/7 of the time.
    assert metrics["recall@3"] > 0.3


def test_serving_filters_and_knows_its_users(graph: sp.csr_matrix) -> None:
    model = build("item-graph").fit(graph)
    artifact = precompute(model, graph, [f"u{u}" for u in range(USERS)], [f"i{i}" for i in range(ITEMS)], n=6)
    full = [r.item for r in artifact.recommend("u0", 6)]
    assert [r.item for r in artifact.recommend("u0", 3, {full[0], full[2]})] == [full[1], full[3], full[4]]
    assert artifact.recommend("stranger", 3) == []
    assert artifact.similar("unknown item", 3) is None
    popular = [r.item for r in artifact.popular(ITEMS)]
    counts = np.asarray(graph.sum(axis=0)).ravel()
    assert [counts[int(i[1:])] for i in popular] == sorted(counts[counts > 0], reverse=True)


def test_an_altered_artifact_is_refused(graph: sp.csr_matrix, tmp_path: Path) -> None:
    artifact = precompute(
        build("item-graph").fit(graph), graph, [str(u) for u in range(USERS)], [str(i) for i in range(ITEMS)]
    )
    checksum = artifact.save(tmp_path)
    (tmp_path / "manifest.json").write_text('{"version": "forged"}')
    with pytest.raises(ValueError, match="checksum"):
        ServingArtifact.load(tmp_path, checksum)


@pytest.mark.parametrize("name", ["sgfcf", "bspm", "gf-cf", "turbo-cf"])
def test_graph_filter_scores_are_sums_of_item_rows(name: str, graph: sp.csr_matrix) -> None:
    # Explanations read each owned item's share from the filter's item rows: exact only if the score
    # is the user's weights times those rows.
    model = build(name, **({"rank": 4} if name != "turbo-cf" else {})).fit(graph)
    rows = graph[:6].multiply(np.arange(1, 7, dtype=np.float32)[:, None]).tocsr()  # unequal weights too
    expected = rows.toarray() @ model.item_rows(np.arange(ITEMS))
    np.testing.assert_allclose(model.scores(rows), expected, rtol=1e-4, atol=1e-5)


def test_a_stranger_is_folded_in_from_their_items(fitted, graph: sp.csr_matrix) -> None:
    artifact = precompute(
        fitted, graph, [f"u{u}" for u in range(USERS)], [f"i{i}" for i in range(ITEMS)], n=5, similar=5
    )
    for own in ({"i1": 1.0, "i4": 5.0}, {"i12": 3.0}):  # community A; community B
        ranked = artifact.fold_in(own, 4, excluded={"i2"})
        side = community(int(next(iter(own))[1:]), ITEMS)
        assert ranked and all(community(int(r.item[1:]), ITEMS) == side for r in ranked)
        assert not {r.item for r in ranked} & (set(own) | {"i2"})  # neither their own items nor the excluded
        assert all(r.because and set(r.because) <= set(own) for r in ranked)
    assert artifact.fold_in({"unknown item": 1.0}, 3) == []


@pytest.mark.parametrize("name", ["sgfcf", "gf-cf", "item-graph"])
def test_folding_in_is_the_filters_score_of_the_row(name: str, graph: sp.csr_matrix) -> None:
    # With every positive entry kept in the similar lists, a stranger's scores are their weights times the
    # filter's item rows (the positive entries): what the model gives a row it was fitted on.
    model = build(name, **({"rank": 4} if name in ("sgfcf", "gf-cf") else {})).fit(graph)
    artifact = precompute(
        model, graph, [f"u{u}" for u in range(USERS)], [f"i{i}" for i in range(ITEMS)], n=5, similar=ITEMS - 1
    )
    weights = {3: 1.0, 5: 5.0, 7: 3.0}
    rows = model.item_rows(np.array(list(weights))).astype(np.float64)
    shares = np.maximum(rows, 0.0) * np.array(list(weights.values()))[:, None]
    expected = shares.sum(axis=0)
    expected[list(weights)] = -np.inf  # their own items are not recommended
    ranked = artifact.fold_in({f"i{i}": w for i, w in weights.items()}, 4)
    best = np.argsort(-expected, kind="stable")[:4]
    assert [r.score for r in ranked] == pytest.approx(expected[best].tolist(), rel=1e-5)
    assert {int(r.item[1:]) for r in ranked} == set(best.tolist())
    top = int(ranked[0].item[1:])
    assert ranked[0].because[0] == f"i{list(weights)[int(np.argmax(shares[:, top]))]}"  # the largest share first


def test_a_product_the_model_never_saw_is_compared_by_content(graph: sp.csr_matrix, tmp_path: Path) -> None:
    from infrastructure.recommender.content import ContentModel

    titles = [("Red tea mug" if community(i, ITEMS) == 0 else "Garden seed tray") for i in range(ITEMS)]
    categories = ["Kitchen" if community(i, ITEMS) == 0 else "Garden" for i in range(ITEMS)]
    content = ContentModel().fit(titles, categories, [2.0 + i for i in range(ITEMS)])
    users, items = [f"u{u}" for u in range(USERS)], [f"i{i}" for i in range(ITEMS)]
    artifact = precompute(build("item-graph").fit(graph), graph, users, items, n=3, content=content)
    loaded = ServingArtifact.load(tmp_path, artifact.save(tmp_path))
    like = loaded.similar_by_content("Blue tea mug", "Kitchen", 4.0, 4, excluded={"i0"})
    assert (
        len(like) == 4
        and all(community(int(r.item[1:]), ITEMS) == 0 for r in like)
        and "i0" not in {r.item for r in like}
    )
    assert like == artifact.similar_by_content("Blue tea mug", "Kitchen", 4.0, 4, excluded={"i0"})  # as saved
    assert {r.item for r in loaded.similar_by_content("Seed tray", "Garden", None, 3)} <= set(items[ITEMS // 2 :])
    without = precompute(build("item-graph").fit(graph), graph, users, items, n=3)
    assert without.similar_by_content("Blue tea mug", "Kitchen", 4.0, 4) == []  # an artifact made without a catalog


def test_a_stranger_is_folded_in_with_the_content_of_their_items() -> None:
    from infrastructure.recommender.content import ContentModel

    titles = ["Red tea mug", "Blue plate", "Red tea mug large", "Garden seed"]
    content = ContentModel().fit(titles, ["Kitchen", "Kitchen", "Kitchen", "Garden"], [3.0, 3.0, 3.0, 50.0])
    artifact = ServingArtifact(
        users=np.array(["u0"]),
        items=np.array(["mug", "plate", "big mug", "seed"]),
        top_items=np.full((1, 1), -1, dtype=np.int32),
        top_scores=np.zeros((1, 1), dtype=np.float32),
        because=np.full((1, 1, 3), -1, dtype=np.int32),
        similar_items=np.array([[1], [-1], [-1], [-1]], dtype=np.int32),  # the graph: mug -> plate only
        similar_scores=np.array([[2.0], [0], [0], [0]], dtype=np.float32),
        popular_items=np.array([0], dtype=np.int32),
        popular_scores=np.array([1.0], dtype=np.float32),
        content=content,
    )
    blended = artifact.fold_in({"mug": 1.0, "seed": 0.0}, 5)
    assert [(r.item, r.because) for r in blended] == [("plate", ("mug",)), ("big mug", ("mug",))]
    like = float((content.vectors[0] @ content.vectors[2].T).toarray()[0, 0])  # the mugs' content cosine
    assert blended[1].score == pytest.approx(0.25 * like)  # content alone brought it, at its weight
    assert blended[0].score > 0.75  # the graph's whole weight, and content's share
    assert [r.item for r in artifact.fold_in({"mug": 1.0}, 5, graph_weight=1.0)] == ["plate"]
    assert [r.item for r in artifact.fold_in({"mug": 1.0}, 5, excluded={"plate"})] == ["big mug"]


def test_new_arrivals_are_ranked_by_the_users_scores_of_the_items_most_like_them(graph: sp.csr_matrix) -> None:
    from infrastructure.recommender.content import ContentModel

    titles = [("Red tea mug" if community(i, ITEMS) == 0 else "Garden seed tray") for i in range(ITEMS)]
    categories = ["Kitchen" if community(i, ITEMS) == 0 else "Garden" for i in range(ITEMS)]
    content = ContentModel().fit(titles, categories, [2.0 + i for i in range(ITEMS)])
    users, items = [f"u{u}" for u in range(USERS)], [f"i{i}" for i in range(ITEMS)]
    artifact = precompute(build("item-graph").fit(graph), graph, users, items, n=5, content=content)
    arrivals = [("seed-new", "Garden seed tray large", "Garden", 20.0), ("mug-new", "Red tea mug tall", "Kitchen", 3.0)]
    for user in ("u0", "u30"):  # community A, community B
        own = {f"i{i}": 1.0 for i in graph[int(user[1:])].indices}
        ranked = artifact.rank_new(arrivals, user, own, 2)
        expected = "mug-new" if community(int(user[1:]), USERS) == 0 else "seed-new"
        assert ranked[0].item == expected and set(ranked[0].because) <= set(own) and ranked[0].because
    stranger = artifact.rank_new(arrivals, "stranger", {"i12": 3.0}, 2)  # folded in from what they did
    assert stranger[0].item == "seed-new" and stranger[0].because == ("i12",)
    assert artifact.rank_new(arrivals, "stranger", {}, 2) == []  # nothing to go on
    without = precompute(build("item-graph").fit(graph), graph, users, items, n=5)
    assert without.rank_new(arrivals, "u0", {"i1": 1.0}, 2) == []  # no content model
