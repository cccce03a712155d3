"""Aspect extraction: the lexicon's entity ruler finds what a review talks about, in both
languages, on hand-labelled sentences (a blank pipeline: no trained model is needed)."""

import pytest

from domain.feedback import aspect_name
from infrastructure.reviews.lexicon import aspect_patterns
from infrastructure.reviews.pipeline import add_aspects, blank

LABELLED = [
    (
        "en",
        "The fabric is soft but it runs small.",
        {("material", "fabric"), ("material", "soft"), ("size_fit", "runs small")},
    ),
    (
        "en",
        "Delivery took three weeks and customer service never answered.",
        {("delivery", "Delivery"), ("customer_service", "customer service")},
    ),
    ("en", "Great value for the price, lovely colour.", {("price", "value"), ("price", "price"), ("colour", "colour")}),
    ("en", "I simply adore it.", set()),
    (
        "zh",
        "这件衣服质量很好，但是尺码偏小，物流很慢",
        {("quality", "质量"), ("size_fit", "尺码"), ("size_fit", "偏小"), ("delivery", "物流")},
    ),
    (
        "zh",
        "客服态度很差，退货也麻烦",
        {("customer_service", "客服"), ("customer_service", "态度"), ("customer_service", "退货")},
    ),
    ("zh", "颜色好看，价格便宜", {("colour", "颜色"), ("style", "好看"), ("price", "价格"), ("price", "便宜")}),
]


@pytest.fixture(scope="module")
def pipelines():
    found = {}
    for language in ("en", "zh"):
        nlp = blank(language)
        add_aspects(nlp, language, [("mugs & cups", "mugs")])
        found[language] = nlp
    return found


@pytest.mark.parametrize("language,text,expected", LABELLED)
def test_aspects_of_hand_labelled_sentences(pipelines, language, text, expected):
    doc = pipelines[language](text)
    assert {(ent.ent_id_, ent.text) for ent in doc.ents if ent.label_ == "ASPECT"} == expected


def test_catalog_terms_become_aspects_case_insensitively(pipelines):
    doc = pipelines["en"]("The MUGS chipped.")
    assert [(ent.ent_id_, ent.text) for ent in doc.ents] == [("mugs & cups", "MUGS")]


def test_catalog_terms_do_not_override_the_lexicon():
    patterns = aspect_patterns("en", [("catalog-size", "size"), ("lanterns", "Lantern ")])
    assert {"label": "ASPECT", "pattern": "size", "id": "size_fit"} in patterns
    assert not any(p["id"] == "catalog-size" for p in patterns)
    assert {"label": "ASPECT", "pattern": "lantern", "id": "lanterns"} in patterns


def test_aspects_have_readable_names():
    assert aspect_name("size_fit") == "size and fit"
    assert aspect_name("customer_service") == "customer service"
    assert aspect_name("mugs_and_cups") == "mugs and cups"
