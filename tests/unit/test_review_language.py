"""Which language a review is in: by the share of CJK ideographs among its letters."""

from infrastructure.reviews.language import cjk_share, detect_language


def test_english_and_chinese_texts_are_told_apart():
    assert detect_language("Runs small, order a size up.") == "en"
    assert detect_language("质量很好，物流也快。") == "zh"


def test_a_latin_brand_name_in_a_chinese_sentence_is_still_chinese():
    assert detect_language("这款iPhone手机的屏幕很清楚") == "zh"
    assert 0 < cjk_share("这款iPhone手机") < 1


def test_a_chinese_word_in_an_english_sentence_does_not_make_it_chinese():
    assert detect_language("I bought this as a gift for 春节 and my mother loved the colours") == "en"


def test_text_without_letters_gets_the_default():
    assert detect_language("!!! 5/5 :)") == "en"
    assert detect_language("", default="zh") == "zh"
    assert cjk_share("123") == 0.0
