"""`storewise train sentiment --sample`: N for every language, or LANG=N for one."""

import pytest


def test_sentiment_sample_sizes_per_language():
    from infrastructure.cli import parser
    from infrastructure.reviews.commands import sample_sizes

    args = parser().parse_args(["train", "sentiment", "--sample", "en=4000", "--sample", "zh=12000"])
    assert sample_sizes(args.sample, ["en", "zh"]) == {"en": 4000, "zh": 12000}
    args = parser().parse_args(["train", "sentiment", "--sample", "500", "--sample", "zh=900"])
    assert sample_sizes(args.sample, ["en", "zh"]) == {"en": 500, "zh": 900}
    assert sample_sizes(None, ["en"]) is None
    with pytest.raises(SystemExit):
        parser().parse_args(["train", "sentiment", "--sample", "fr=10"])
