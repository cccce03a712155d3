"""Keywords that set a product's reviews apart, and topic groups of a category's reviews."""

from infrastructure.reviews.topics import TopicModel, distinctive_keywords, tokenize


def test_distinctive_keywords_favour_what_is_frequent_here_and_rare_elsewhere():
    ours = [["zip", "broke"], ["zip", "colour"], ["zip"], ["colour"]]
    theirs = [["colour"], ["colour", "price"], ["price"], ["colour"]]
    found = distinctive_keywords(ours, theirs, top=5)
    terms = [k["term"] for k in found]
    assert terms[0] == "zip" and found[0]["count"] == 3
    assert "price" not in terms  # never in ours
    assert all(k["score"] > 0 for k in found)
    assert distinctive_keywords([], theirs) == []


def test_a_word_counts_once_per_review():
    once = distinctive_keywords([["zip"], ["other"]], [["x"]])
    many = distinctive_keywords([["zip", "zip", "zip"], ["other"]], [["x"]])
    assert once == many


def test_tokenize_drops_stop_words_in_both_languages():
    assert tokenize("The zipper broke and the colour faded") == ["zipper", "broke", "colour", "faded"]
    words = tokenize("这件衣服的质量很好")
    assert "质量" in words and "的" not in words and "很" not in words


def test_topics_group_words_that_occur_together():
    texts = ["zipper broke zipper stuck"] * 6 + ["delivery late parcel delivery slow"] * 6
    model = TopicModel.fit([tokenize(t) for t in texts], n_topics=2)
    groups = [set(terms) for terms in model.terms]
    assert len(groups) == 2
    assert {"zipper"} <= groups[0] | groups[1] and {"delivery"} <= groups[0] | groups[1]
    assert not any({"zipper", "delivery"} <= g for g in groups)
    found = model.describe(texts, "en", count=2)
    assert sum(t["review_count"] for t in found) == 12
    assert abs(sum(t["weight"] for t in found) - 1) < 1e-3
    assert TopicModel.fit([["too"], ["few"]]) is None


def test_a_topic_model_is_fitted_once_saved_and_assigns_new_texts_without_refitting(tmp_path):
    training = [tokenize(t) for t in ["zipper broke zipper stuck"] * 6 + ["delivery late parcel delivery slow"] * 6]
    TopicModel.fit(training, n_topics=2).save(tmp_path)
    model = TopicModel.load(tmp_path)
    assert TopicModel.exists(tmp_path)
    found = model.describe(["the zipper broke", "zipper stuck again", "parcel delivery was late"], "en", count=2)
    by_term = {t["terms"][0]: t for t in found}
    zipper = next(t for t in found if "zipper" in t["terms"])
    delivery = next(t for t in found if "delivery" in t["terms"])
    assert (zipper["review_count"], delivery["review_count"]) == (2, 1)
    assert zipper["weight"] > delivery["weight"] and abs(sum(t["weight"] for t in by_term.values()) - 1) < 1e-3
    # the topics are the saved ones: describing other texts does not change their terms
    assert model.describe(["nothing known here"], "en") == []
    assert [t["terms"] for t in model.describe(["zipper"], "en", count=2)][0] == zipper["terms"]
