"""The marketing engine behind ``application.marketing.MarketingEngine``: one object offering RFM
scoring, response curves, the optimiser, the purchase predictor and campaign uplift. The
composition root makes one per process (it holds the served purchase model).

The engine is a different thing from the Marketing context: it scores, fits and optimises; the
context records segments and allocations (``application.marketing.MarketingDecisions``)."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from application.marketing import PURCHASE_KIND
from domain.marketing import ResponseCurve
from infrastructure.metrics import engine_run, set_active_model
from infrastructure.serving import ServedModel

if TYPE_CHECKING:  # scipy loads with the first use, not with the process
    from . import budget, segments

#: z of a two-sided 95% interval.
Z95 = 1.959964


@dataclass
class TrainedPurchaseModel:
    """What training produced, for the model registry."""

    version: str
    hyperparameters: dict[str, Any]
    metrics: dict[str, float]
    checksum: str
    path: Path
    notes: str


class MarketingEngine:
    """RFM, response curves + OR-Tools, purchase prediction, uplift. ``artifacts``: where purchase
    models are saved (one directory per version); ``segment_rules``: the segment rules' file (the
    shipped one if None)."""

    def __init__(self, artifacts: Path, segment_rules: Path | None = None):
        self.artifacts = artifacts
        self.segment_rules = segment_rules
        #: The served purchase model (its record's artifact_path is the model file, in the artifact's directory).
        self.served: ServedModel[Any] = ServedModel(
            PURCHASE_KIND,
            lambda trained: _purchase_model(Path(trained.artifact_path)),
            directory=lambda trained: Path(trained.artifact_path).parent,
        )

    # --- segments ---------------------------------------------------------------------

    def segment_book(self, path: str | None = None) -> segments.SegmentBook:
        from . import segments

        return segments.load_segment_book(path or self.segment_rules)

    def rfm_scores(self, rows: Sequence[tuple[Any, datetime, int, float]], as_of: datetime) -> segments.RfmScores:
        from . import segments

        return segments.rfm_scores(rows, as_of)

    # --- budget -----------------------------------------------------------------------

    def fit_curve(self, segment: str, channel: str, spend: Sequence[float], outcome: Sequence[float]) -> budget.Curve:
        from . import budget

        return budget.fit_curve(segment, channel, spend, outcome)

    def constraints(self, request: Any) -> budget.Constraints:
        from . import budget

        def floats(values: dict[str, Any]) -> dict[str, float]:
            return {k: float(v) for k, v in (values or {}).items()}

        return budget.Constraints(
            channel_min=floats(request.channel_min),
            channel_max=floats(request.channel_max),
            segment_min=floats(request.segment_min),
            segment_max=floats(request.segment_max),
        )

    def allocate(
        self,
        curves: Sequence[budget.Curve],
        keys: Sequence[tuple[str, str]],
        total: float,
        constraints: budget.Constraints,
    ) -> budget.Allocation:
        from . import budget

        return budget.allocate(curves, keys, total, constraints)

    def proportional_split(self, weights: dict[tuple[str, str], float], total: float) -> dict[tuple[str, str], float]:
        from . import budget

        return budget.proportional_split(weights, total)

    def curve_points(self, curve: ResponseCurve, top: float, count: int) -> list[dict[str, float]]:
        from . import budget

        return budget.curve_points(budget.Curve.of(curve), top, count)

    @contextmanager
    def run(self, name: str) -> Iterator[None]:
        with engine_run(name):
            yield

    def serving(self, kind: str, version: str) -> None:
        set_active_model(kind, version)

    # --- purchase prediction ----------------------------------------------------------

    def train_purchase_model(
        self, order_lines: Sequence[tuple[Any, ...]], activity: Sequence[tuple[Any, ...]], **options: Any
    ) -> TrainedPurchaseModel:
        from . import purchase

        tx = purchase.transactions(order_lines)
        seen = _activity_frame(activity)
        version = options.pop("version", None) or datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        model = purchase.train_and_evaluate(tx, activity=seen, version=version, **options)
        path, checksum = model.save(self.artifacts / version)
        notes = (
            f"temporal split: fitted on cut-offs {', '.join(model.cutoffs['train'])}; measured on the "
            f"{model.horizon_days} days after {model.cutoffs['test']}"
        )
        return TrainedPurchaseModel(
            version,
            {**model.parameters, "horizon_days": model.horizon_days, "categories": model.categories},
            model.metrics,
            checksum,
            path,
            notes,
        )

    def purchase_model(self, trained: Any) -> Any:
        """The served model's object, loaded once per artifact (checked against its checksum)."""
        return self.served.of(trained)

    def score_customers(
        self, trained: Any, order_lines: Sequence[tuple[Any, ...]], activity: Sequence[tuple[Any, ...]], as_of: datetime
    ) -> dict[Any, dict[str, Any]]:
        import pandas as pd

        from . import purchase

        model = self.purchase_model(trained)
        tx = purchase.transactions(order_lines)
        frame = model.frame(tx, pd.Timestamp(as_of), _activity_frame(activity))
        if frame.empty:
            return {}
        probabilities = model.predict(frame)
        explanations = model.explain(frame)
        churn = _churn(frame)
        return {
            customer: {
                "probability": float(p),
                "horizon_days": model.horizon_days,
                "model_version": model.version,
                "model_id": trained.id,
                "as_of": as_of,
                **churn.get(customer, {}),
                "explanation": [
                    {**e, "value": None if isinstance(e["value"], float) and math.isnan(e["value"]) else e["value"]}
                    for e in explanation
                ],
            }
            for customer, p, explanation in zip(frame.index, probabilities, explanations)
        }

    def feature_drift(
        self, trained: Any, order_lines: Sequence[tuple[Any, ...]], activity: Sequence[tuple[Any, ...]], as_of: datetime
    ) -> dict[str, float]:
        """PSI of each input feature now against the training rows kept with the model (its background sample)."""
        import pandas as pd

        from domain.outcomes import population_stability

        from . import purchase

        model = self.purchase_model(trained)
        frame = model.frame(purchase.transactions(order_lines), pd.Timestamp(as_of), _activity_frame(activity))
        drift = {}
        for j, name in enumerate(model.feature_names):
            if frame.empty:
                break
            value = population_stability(
                [float(x) for x in model.background[:, j]], [float(x) for x in frame[name].to_numpy(dtype=float)]
            )
            if value is not None:
                drift[name] = round(value, 4)
        return drift

    # --- campaign evaluation ----------------------------------------------------------

    def uplift(
        self,
        *,
        reach: int,
        conversions: int,
        revenue: float,
        holdout: int,
        holdout_conversions: int,
        holdout_revenue: float,
    ) -> dict[str, Any]:
        """Uplift of the targeted group over the holdout: difference of conversion rates (Wald
        interval) and of revenue per person (revenue per conversion taken as known), at 95%."""
        result: dict[str, Any] = {
            "reach": reach,
            "conversions": conversions,
            "revenue": revenue,
            "holdout_size": holdout,
            "holdout_conversions": holdout_conversions,
            "holdout_revenue": holdout_revenue,
            "confidence": 0.95,
        }
        if reach <= 0 or holdout <= 0:
            result["note"] = "no uplift without people reached and a holdout group"
            return result
        p1, p0 = conversions / reach, holdout_conversions / holdout
        se = math.sqrt(p1 * (1 - p1) / reach + p0 * (1 - p0) / holdout)
        diff = p1 - p0
        aov1 = revenue / conversions if conversions else 0.0
        aov0 = holdout_revenue / holdout_conversions if holdout_conversions else 0.0
        r1, r0 = revenue / reach, holdout_revenue / holdout
        se_r = math.sqrt(aov1**2 * p1 * (1 - p1) / reach + aov0**2 * p0 * (1 - p0) / holdout)
        result.update(
            conversion_rate=p1,
            holdout_conversion_rate=p0,
            uplift=diff,
            uplift_low=diff - Z95 * se,
            uplift_high=diff + Z95 * se,
            relative_uplift=diff / p0 if p0 > 0 else None,
            incremental_conversions=diff * reach,
            incremental_conversions_low=(diff - Z95 * se) * reach,
            incremental_conversions_high=(diff + Z95 * se) * reach,
            revenue_per_person=r1,
            holdout_revenue_per_person=r0,
            incremental_revenue=(r1 - r0) * reach,
            incremental_revenue_low=(r1 - r0 - Z95 * se_r) * reach,
            incremental_revenue_high=(r1 - r0 + Z95 * se_r) * reach,
            significant=(diff - Z95 * se) > 0 or (diff + Z95 * se) < 0,
        )
        return result


def _churn(frame: Any) -> dict[Any, dict[str, Any]]:
    """The BG/NBD view of each customer: churn risk (1 - P(alive)), expected orders in the horizon, and
    the history it rests on (repeat purchase days, days since the last order, mean gap)."""
    if "bgnbd_p_alive" not in frame.columns:  # a model trained before the BG/NBD features
        return {}
    out = {}
    for customer, row in frame.iterrows():
        facts = {
            "repeat_purchase_days": row["purchase_days"] - 1,
            "recency_days": row["recency_days"],
            "tenure_days": row["tenure_days"],
            "mean_gap_days": row["mean_gap_days"],
        }
        out[customer] = {
            "churn_risk": float(1.0 - row["bgnbd_p_alive"]),
            "expected_orders": float(row["bgnbd_expected"]),
            "churn_basis": [
                {"feature": k, "value": None if math.isnan(float(v)) else float(v)} for k, v in facts.items()
            ],
        }
    return out


def _purchase_model(path: Path) -> Any:
    from .purchase import PurchaseModel

    return PurchaseModel.load(path)  # its checksum is checked by ServedModel


def _activity_frame(activity: Sequence[tuple[Any, ...]]) -> Any:
    import pandas as pd

    if not activity:
        return None
    frame = pd.DataFrame(list(activity), columns=["customer", "at"])
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    return frame
