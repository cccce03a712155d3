"""The sentiment component's naive-Bayes scaling (``nb``): the log-count ratios are folded into the
stored weights, so the served model scores a text exactly as the logistic regression fitted on the
ratio-scaled features does."""

import numpy
import pytest

POSITIVE_TEXTS = [
    "great fit and lovely fabric",
    "lovely colour, great price",
    "great quality, love it",
    "love the fabric",
]
NEGATIVE_TEXTS = [
    "awful fit and cheap fabric",
    "cheap and awful, returned it",
    "awful quality, hate it",
    "hate the colour",
]


def _fitted(nb: bool, nb_mean: bool = False):
    from infrastructure.reviews.pipeline import blank

    nlp = blank("en")
    sentiment = nlp.add_pipe("storewise_sentiment", config={"buckets": 1 << 12, "nb": nb, "nb_mean": nb_mean})
    texts = POSITIVE_TEXTS + NEGATIVE_TEXTS
    docs = list(nlp.tokenizer.pipe(texts))
    sentiment.fit(docs, [1] * len(POSITIVE_TEXTS) + [0] * len(NEGATIVE_TEXTS))
    return nlp, sentiment, docs


def test_folded_weights_score_as_the_regression_on_scaled_features():
    from sklearn.linear_model import LogisticRegression

    nlp, sentiment, docs = _fitted(nb=True)
    counts, lexical = sentiment.features.counts(docs)
    rows = sentiment.features.transform(counts, lexical)
    ratios = sentiment._log_count_ratios(counts, [1] * 4 + [0] * 4)
    reference = LogisticRegression(C=4.0, solver="liblinear", max_iter=2000)
    reference.fit(rows.multiply(ratios).tocsr(), [1] * 4 + [0] * 4)
    served = sentiment.logits(docs)[0]
    assert served == pytest.approx(reference.decision_function(rows.multiply(ratios).tocsr()), abs=1e-4)
    assert sentiment.weight_of(nlp.vocab.strings["great"]) > 0 > sentiment.weight_of(nlp.vocab.strings["awful"])


def test_the_mean_head_scores_as_the_mean_of_the_scaled_and_the_plain_regressions():
    _, scaled, docs = _fitted(nb=True)
    _, plain, _ = _fitted(nb=False)
    nlp, mean, _ = _fitted(nb=True, nb_mean=True)
    expected = (scaled.logits(docs)[0] + plain.logits(docs)[0]) / 2
    assert mean.logits(docs)[0] == pytest.approx(expected, abs=1e-5)
    assert not numpy.allclose(scaled.logits(docs)[0], plain.logits(docs)[0])  # two different heads
    assert mean.weight_of(nlp.vocab.strings["great"]) > 0 > mean.weight_of(nlp.vocab.strings["awful"])


def test_words_seen_on_both_sides_weigh_less_than_one_sided_ones():
    nlp, model, _ = _fitted(nb=True)
    weight = lambda word: abs(model.weight_of(nlp.vocab.strings[word]))  # noqa: E731
    # "fit" and "fabric" occur in positive and negative texts alike: their log-count ratio is near 0.
    assert max(weight("fit"), weight("fabric")) < min(weight("great"), weight("awful"), weight("lovely"))
    scores = [doc.cats["POSITIVE"] for doc in nlp.pipe(["lovely, great", "cheap, awful"])]
    assert scores[0] > 0.5 > scores[1]
    assert numpy.isfinite(model.polarity).all()


def test_words_after_a_negator_up_to_punctuation_are_features_of_their_own():
    from infrastructure.reviews.pipeline import blank

    nlp = blank("en")
    sentiment = nlp.add_pipe("storewise_sentiment", config={"buckets": 1 << 20, "negation": True})
    plain = nlp.add_pipe("storewise_sentiment", name="plain", config={"buckets": 1 << 20})

    def keys(model, text):
        doc = nlp.make_doc(text)
        return set(model.features.keys(doc.to_array(["LOWER"]), "").tolist())

    # "good" after "not" is another feature than "good"; after the comma it is "good" again.
    assert keys(sentiment, "not good") != keys(plain, "not good")
    assert keys(sentiment, "good") == keys(plain, "good")
    assert keys(sentiment, "good") <= keys(sentiment, "not bad, good")
    assert keys(sentiment, "good") - keys(sentiment, "not good")
    assert keys(sentiment, "it isn't good") != keys(plain, "it isn't good")
