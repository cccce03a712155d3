"""GraphQL types of review analyses and product sentiment."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from domain.feedback import aspect_name

from .enums import SentimentEnum


@strawberry.type(description="How likely each sentiment is (0 to 1; they add up to 1).")
class SentimentScores:
    positive: float = strawberry.field(description="Probability that the text is positive.")
    neutral: float = strawberry.field(
        description="Probability that it is neutral (the Chinese model knows no neutral: 0)."
    )
    negative: float = strawberry.field(description="Probability that it is negative.")


@strawberry.type(
    description="One mention of an aspect (what the review talks about) and the sentiment of the words around it."
)
class AspectMention:
    aspect: str = strawberry.field(
        description="The aspect's id, e.g. `size_fit`, `delivery` (a catalog term names itself)."
    )
    name: str = strawberry.field(description="The aspect's readable name.")
    term: str = strawberry.field(description="The words of the review that name it.")
    sentiment: SentimentEnum = strawberry.field(description="The sentiment of the clause around the mention.")
    score: float = strawberry.field(description="Positive minus negative probability of that clause (-1 to 1).")
    start: int = strawberry.field(description="Where the mention starts in the text (character offset).")
    end: int = strawberry.field(description="Where it ends (character offset, exclusive).")


@strawberry.type(
    description="A word of the review and how much it drove the sentiment (occlusion: how far the "
    "sentiment's probability drops without it)."
)
class ExplanationToken:
    token: str = strawberry.field(description="The word (lower-cased).")
    weight: float = strawberry.field(
        description="The drop in probability of the sentiment given when the word is removed."
    )


@strawberry.type(
    name="ReviewAnalysis", description="What a review feels and talks about, as the latest analysis found."
)
class ReviewAnalysisType:
    sentiment: SentimentEnum = strawberry.field(description="The review's overall sentiment.")
    scores: SentimentScores = strawberry.field(description="The probability of each sentiment.")
    language: str = strawberry.field(description="The language found in the text (`en` or `zh`).")
    aspects: list[AspectMention] = strawberry.field(description="The aspects it talks about, in the order mentioned.")
    keywords: list[str] = strawberry.field(description="Its most telling words (tf-idf against the training texts).")
    explanation: list[ExplanationToken] = strawberry.field(
        description="The words that drove the sentiment, strongest first."
    )
    method: str = strawberry.field(description="What analysed it: `textcat` (a model trained by the project).")
    model_version: str = strawberry.field(description="The version of the sentiment model that analysed it.")
    analysed_at: datetime = strawberry.field(description="When this analysis was made.")
    analysis_count: int = strawberry.field(
        description="How many analyses the review has had (earlier ones are kept in its history)."
    )

    @classmethod
    def from_row(cls, row: Any) -> ReviewAnalysisType:
        return cls(
            sentiment=SentimentEnum(row.sentiment),
            scores=SentimentScores(positive=row.positive, neutral=row.neutral, negative=row.negative),
            language=row.language,
            aspects=[
                AspectMention(
                    aspect=a["aspect"],
                    name=aspect_name(a["aspect"]),
                    term=a.get("term", ""),
                    sentiment=SentimentEnum(a["sentiment"]),
                    score=float(a.get("score", 0.0)),
                    start=int(a.get("start", 0)),
                    end=int(a.get("end", 0)),
                )
                for a in row.aspects
            ],
            keywords=list(row.keywords),
            explanation=[ExplanationToken(token=e["token"], weight=float(e["weight"])) for e in row.explanation],
            method=row.method,
            model_version=row.model_version,
            analysed_at=row.analysed_at,
            analysis_count=row.analysis_count,
        )


@strawberry.type(description="How many reviews are positive, neutral and negative.")
class SentimentDistribution:
    positive: int = strawberry.field(description="Reviews analysed as positive.")
    neutral: int = strawberry.field(description="Reviews analysed as neutral.")
    negative: int = strawberry.field(description="Reviews analysed as negative.")


@strawberry.type(description="What a product's reviews say about one aspect.")
class AspectSentiment:
    aspect: str = strawberry.field(description="The aspect's id.")
    name: str = strawberry.field(description="The aspect's readable name.")
    mentions: int = strawberry.field(description="Reviews that talk about it.")
    distribution: SentimentDistribution = strawberry.field(
        description="Those reviews by the sentiment about this aspect."
    )
    net_score: float = strawberry.field(description="(praising - criticising) / mentions, from -1 to 1.")

    @classmethod
    def from_row(cls, row: Any) -> AspectSentiment:
        mentions = row.positive + row.neutral + row.negative
        return cls(
            aspect=row.aspect,
            name=aspect_name(row.aspect),
            mentions=mentions,
            distribution=SentimentDistribution(positive=row.positive, neutral=row.neutral, negative=row.negative),
            net_score=round((row.positive - row.negative) / mentions, 4) if mentions else 0.0,
        )


@strawberry.type(description="A product's reviews in one month (UTC) of submission.")
class SentimentMonth:
    month: str = strawberry.field(description="`YYYY-MM`.")
    review_count: int = strawberry.field(description="Reviews submitted that month (not hidden).")
    average_rating: float = strawberry.field(description="Their average stars.")
    distribution: SentimentDistribution = strawberry.field(description="The analysed ones by sentiment.")


@strawberry.type(description="A word that sets these reviews apart from the others, with its weight.")
class Keyword:
    term: str = strawberry.field(description="The word.")
    score: float = strawberry.field(description="How distinctive (log-odds against the other reviews; larger is more).")
    count: int = strawberry.field(description="How many of these reviews have it among their keywords.")


@strawberry.type(description="What a product's reviews (not hidden) say: ratings, sentiment, aspects, trend, keywords.")
class ProductSentiment:
    review_count: int = strawberry.field(description="Reviews of the product (not hidden).")
    average_rating: float | None = strawberry.field(description="Their average stars (null without reviews).")
    analysed_count: int = strawberry.field(description="How many of them are analysed.")
    distribution: SentimentDistribution = strawberry.field(description="The analysed reviews by sentiment.")
    aspects: list[AspectSentiment] = strawberry.field(description="Every aspect mentioned, most mentioned first.")
    top_praised_aspects: list[AspectSentiment] = strawberry.field(
        description="Aspects praised more than criticised, best first (up to 5)."
    )
    top_criticised_aspects: list[AspectSentiment] = strawberry.field(
        description="Aspects criticised more than praised, worst first (up to 5)."
    )
    trend: list[SentimentMonth] = strawberry.field(description="Month by month, oldest first.")
    keywords: list[Keyword] = strawberry.field(
        description="Words distinctive of this product's reviews against the others' (up to 10)."
    )


@strawberry.type(description="A group of words that tend to occur together in a category's reviews (NMF over tf-idf).")
class ReviewTopic:
    terms: list[str] = strawberry.field(description="The topic's top words, most telling first.")
    weight: float = strawberry.field(description="The topic's share of the reviews' total topic weight (0 to 1).")
    review_count: int = strawberry.field(description="Reviews for which this is the main topic.")


@strawberry.type(description="Topics and distinctive words of the reviews of one catalog category.")
class ReviewTopics:
    category: str = strawberry.field(description="The category.")
    review_count: int = strawberry.field(description="Reviews of its products (not hidden) that were analysed.")
    topics: list[ReviewTopic] = strawberry.field(description="Topic groups, largest first (none with too few reviews).")
    keywords: list[Keyword] = strawberry.field(
        description="Words distinctive of this category's reviews against other categories'."
    )


def distribution(row: Any) -> SentimentDistribution:
    return SentimentDistribution(positive=row.positive, neutral=row.neutral, negative=row.negative)
