"""RFM quintile scoring and the segment rules (data: ``segments.toml``, or the file the settings
name: ``STOREWISE_SEGMENT_RULES``)."""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
from scipy.stats import rankdata

from domain.marketing import InvalidSegmentRules, RfmScore, SegmentRule, check_rules

DEFAULT_RULES = Path(__file__).with_name("segments.toml")


@dataclass(frozen=True)
class SegmentTemplate:
    """How a segment is approached by a campaign: the offer and its usual channel."""

    segment: str
    offer: str
    channel: str
    description: str = ""


@dataclass(frozen=True)
class SegmentBook:
    """The segment rules in force, their campaign templates, and where they came from."""

    name: str
    rules: list[SegmentRule]
    templates: dict[str, SegmentTemplate]
    checksum: str
    source: str = ""

    def campaign_name(self, segment: str, channel: str) -> str:
        template = self.templates.get(segment)
        offer = template.offer if template else "campaign"
        return f"{segment}: {offer} via {channel}"


def load_segment_book(path: str | Path | None = None) -> SegmentBook:
    """The segment rules from ``path``, else the shipped file."""
    source = Path(path or DEFAULT_RULES)
    raw = source.read_bytes()
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise InvalidSegmentRules(f"{source}: not a TOML file: {error}") from None
    rules, templates = [], {}
    for n, entry in enumerate(data.get("segment") or []):
        try:
            name = str(entry["name"])
            rule = SegmentRule(
                segment=name,
                recency=tuple(entry.get("recency", (1, 5))),  # type: ignore[arg-type]
                frequency=tuple(entry.get("frequency", (1, 5))),  # type: ignore[arg-type]
                monetary=tuple(entry.get("monetary", (1, 5))),  # type: ignore[arg-type]
                description=str(entry.get("description", "")),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise InvalidSegmentRules(f"{source}: segment #{n + 1} is malformed ({error})") from None
        rules.append(rule)
        templates[name] = SegmentTemplate(
            name, str(entry.get("offer", "campaign")), str(entry.get("channel", "email")), rule.description
        )
    return SegmentBook(
        name=str(data.get("name") or source.stem),
        rules=check_rules(rules),
        templates=templates,
        checksum=hashlib.sha256(raw).hexdigest(),
        source=str(source),
    )


@dataclass
class RfmScores:
    """Each customer's RFM score as of an instant, and the quintile edges of each measure."""

    as_of: datetime
    scores: dict[object, RfmScore]
    thresholds: dict[str, list[float]] = field(default_factory=dict)


def quintile_scores(values: Sequence[float], *, higher_is_better: bool = True) -> np.ndarray:
    """Scores 1-5 by quintile of rank; equal values get the same score (the lower one's)."""
    x = np.asarray(values, dtype=float)
    if len(x) == 0:
        return np.zeros(0, dtype=int)
    ranks = rankdata(x if higher_is_better else -x, method="min")  # 1 = smallest (worst)
    return (1 + np.floor(5 * (ranks - 1) / len(x))).astype(int)


def rfm_scores(rows: Sequence[tuple[object, datetime, int, float]], as_of: datetime) -> RfmScores:
    """Score customers from (customer, last order at, orders count, monetary) rows as of an instant."""
    rows = [r for r in rows if r[2] > 0]
    recency = [max((as_of - last).total_seconds() / 86400, 0.0) for _, last, _, _ in rows]
    frequency = [float(count) for _, _, count, _ in rows]
    monetary = [float(value) for _, _, _, value in rows]
    r = quintile_scores(recency, higher_is_better=False)
    f = quintile_scores(frequency)
    m = quintile_scores(monetary)
    scores = {row[0]: RfmScore(int(r[n]), int(f[n]), int(m[n])) for n, row in enumerate(rows)}
    edges = [0.2, 0.4, 0.6, 0.8]
    thresholds = {
        name: [round(float(q), 4) for q in np.quantile(values, edges)] if values else []
        for name, values in (("recency_days", recency), ("frequency", frequency), ("monetary", monetary))
    }
    return RfmScores(as_of=as_of, scores=scores, thresholds=thresholds)
