"""``storewise outcomes``: decisions scored against what followed them, from the command line.

``record`` records the served purchase model's probabilities now; ``launch`` launches a drafted
campaign measured (consent-checked audience, seeded held-out group); ``forecast``, ``predict`` and
``report`` print the figures as JSON; ``health`` records them per model version into model health and
checks the thresholds; ``demo`` makes one of each on the demo data (idempotent: a second run records
no new decision and prints the same figures).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime, time, timedelta
from typing import Any
from uuid import UUID

#: How the demo's records are keyed, so that running it again records nothing new.
DEMO_KEY = "outcomes-demo"
#: The demo draws consent for this share of the imported customers (the sample carries none).
DEMO_CONSENT_SHARE = 0.8
#: The campaign and the forecast start this many days before the newest order.
DEMO_DAYS = 14
#: The horizon of the demo's own purchase model, trained only if none is served.
DEMO_HORIZON = 7


def _instant(text: str | None) -> datetime | None:
    from application.analytics_clock import parse_as_of

    return parse_as_of(text) if text else None


def _print(value: Any) -> None:
    print(json.dumps(value, indent=2, default=str))


def register(*, commands: Any, train: Any, bench: Any) -> None:
    """Add ``storewise outcomes`` and its actions."""
    outcomes = commands.add_parser(
        "outcomes", help="decisions scored against what followed: campaigns, forecasts, purchase predictions"
    )
    actions = outcomes.add_subparsers(dest="action", required=True, metavar="ACTION")
    record = actions.add_parser("record", help="record the served purchase model's probabilities (to score later)")
    record.add_argument("--as-of", help="the instant to score as of (ISO, UTC; default now)")
    record.set_defaults(run=_record)
    launch = actions.add_parser("launch", help="launch a drafted campaign measured, with a held-out group")
    launch.add_argument("campaign_id", type=UUID)
    launch.add_argument("--holdout-share", type=float, default=0.2)
    launch.add_argument("--seed", type=int)
    launch.add_argument("--attribution-days", type=int, default=30)
    launch.set_defaults(run=_launch)
    forecast = actions.add_parser("forecast", help="recorded forecasts against the demand that followed (JSON)")
    forecast.add_argument("--sku")
    forecast.add_argument("--window-days", type=int, default=28)
    forecast.add_argument("--as-of", help="score the days before this instant (ISO, UTC; default now)")
    forecast.set_defaults(run=_forecast)
    predict = actions.add_parser("predict", help="recorded purchase predictions scored after their horizon (JSON)")
    predict.add_argument("--now", help="the instant that decides which horizons have passed (default now)")
    predict.set_defaults(run=_predict)
    actions.add_parser("report", help="every outcome figure (JSON)").set_defaults(run=_report)
    health = actions.add_parser(
        "health", help="record the figures per model version into model health and check the thresholds (JSON)"
    )
    health.add_argument("--as-of", help="look back from this instant (ISO, UTC; default now)")
    health.set_defaults(run=_health)
    demo = actions.add_parser(
        "demo",
        help=(
            "on the demo data: a measured campaign, a forecast scored against later demand and a scored "
            "purchase model (idempotent)"
        ),
    )
    demo.set_defaults(run=_demo)


def _running(args: argparse.Namespace) -> Any:
    from .cli import running

    return running(args)


def _record(args: argparse.Namespace) -> int:
    with _running(args) as storewise:
        storewise.read_side.run_until_idle()
        _print({"batch_id": storewise.outcomes.record_purchase_predictions(as_of=_instant(args.as_of))})
    return 0


def _launch(args: argparse.Namespace) -> int:
    with _running(args) as storewise:
        storewise.outcomes.launch_measured_campaign(
            args.campaign_id,
            holdout_share=args.holdout_share,
            seed=args.seed,
            attribution_days=args.attribution_days,
        )
        _print(storewise.outcomes.campaign_outcome(args.campaign_id))
    return 0


def _forecast(args: argparse.Namespace) -> int:
    with _running(args) as storewise:
        _print(
            storewise.outcomes.forecast_accuracy(sku=args.sku, window_days=args.window_days, as_of=_instant(args.as_of))
        )
    return 0


def _predict(args: argparse.Namespace) -> int:
    with _running(args) as storewise:
        _print(storewise.outcomes.purchase_prediction_scores(now=_instant(args.now)))
    return 0


def report(storewise: Any, *, as_of: datetime | None = None) -> dict[str, Any]:
    """Every outcome figure: the measured campaigns, forecast accuracy, scored predictions, corrections."""
    outcomes = storewise.outcomes
    outcomes.data.catch_up(("campaign_audiences",))
    campaigns = [outcomes.campaign_outcome(w["campaign_id"]) for w in outcomes.data.measured_campaigns()]
    forecast = outcomes.forecast_accuracy(as_of=as_of)
    return {
        "campaigns": campaigns,
        "forecast": {"aggregate": forecast["aggregate"], "series": forecast["series"][:10], "as_of": forecast["as_of"]},
        "purchase_predictions": outcomes.purchase_prediction_scores(),
        "review_corrections": outcomes.correction_accuracy(),
    }


def _report(args: argparse.Namespace) -> int:
    with _running(args) as storewise:
        _print(report(storewise))
    return 0


def _health(args: argparse.Namespace) -> int:
    with _running(args) as storewise:
        _print(storewise.outcomes.publish_health(as_of=_instant(args.as_of)))
    return 0


def _demo(args: argparse.Namespace) -> int:
    with _running(args) as storewise:
        result = demo(storewise, log=lambda line: print(line, file=sys.stderr, flush=True))
        _print(result)
    return 0


def demo(storewise: Any, *, log: Any = lambda _: None) -> dict[str, Any]:
    """On the imported demo data, idempotently: consent for a seeded share of customers, a campaign
    launched measured ``DEMO_DAYS`` before the newest order, a forecast made from the history up to then,
    and purchase probabilities one horizon of the served model before the newest order (a demo purchase
    model with a ``DEMO_HORIZON``-day horizon is trained first if none is served)."""
    import random

    import sqlalchemy as sa

    from application.context import acting_as
    from projections.tables import customers, event_log, orders

    storewise.read_side.run_until_idle()
    with storewise.read_side.engine.connect() as connection:
        newest = connection.execute(sa.select(sa.func.max(orders.c.placed_at))).scalar()
        people = connection.execute(
            sa.select(customers.c.id, customers.c.consents).where(customers.c.is_forgotten.is_(False))
        ).all()
        # A customer who ever withdrew a consent is never given one by the demo.
        withdrew = set(
            connection.execute(
                sa.select(event_log.c.aggregate_id).where(event_log.c.event_type == "Customer.ConsentWithdrawn")
            ).scalars()
        )
    if newest is None:
        raise ValueError("no orders: import the demo data first (storewise import online-retail ...)")
    start = datetime.combine((newest - timedelta(days=DEMO_DAYS)).date(), time(), tzinfo=UTC)
    with acting_as("system:outcomes-demo"):
        draw = random.Random(17)
        consenting = sorted(str(p.id) for p in people)
        untouched = {str(p.id) for p in people if "marketing" not in (p.consents or ()) and p.id not in withdrew}
        given = 0
        for customer_id in consenting:
            if draw.random() < DEMO_CONSENT_SHARE and customer_id in untouched:
                given += 1
                storewise.customers.give_consent(
                    UUID(customer_id),
                    "marketing",
                    at=start - timedelta(days=1),
                    idempotency_key=f"{DEMO_KEY}:{customer_id}",
                )
        log(f"outcomes demo: marketing consent newly given to {given} of {len(consenting)} customers (seed 17)")
        campaign_id = _demo_campaign(storewise, start, log)
        _demo_forecast(storewise, start, log)
        _demo_predictions(storewise, newest, log)
    storewise.read_side.run_until_idle()
    figures = report(storewise, as_of=newest + timedelta(days=1))
    figures["demo_campaign_id"] = campaign_id
    # Into model health, measured today looking back from the sample's end (a rerun replaces today's figures).
    figures["model_health"] = storewise.outcomes.publish_health(
        as_of=newest + timedelta(days=1), today=datetime.now(UTC).date()
    )
    return figures


def _demo_campaign(storewise: Any, start: datetime, log: Any) -> UUID:
    import sqlalchemy as sa

    from domain.campaign import CampaignStatus
    from domain.shared import Money
    from projections.marketing_tables import customer_segments

    segmentations = storewise.marketing_decisions
    segmentations.refresh_segments(as_of=start, idempotency_key=f"{DEMO_KEY}:segments")
    storewise.read_side.run_until_idle()
    with storewise.read_side.engine.connect() as connection:  # the largest segment (ties: by name)
        sizes = connection.execute(
            sa.select(customer_segments.c.segment, sa.func.count()).group_by(customer_segments.c.segment)
        ).all()
    segment = min(sizes, key=lambda row: (-row[1], row[0]))[0]
    campaign_id = storewise.campaigns.draft_campaign(
        f"Demo: {segment}, measured", segment, "email", Money("500", "GBP"), idempotency_key=f"{DEMO_KEY}:campaign"
    )
    if storewise.campaigns.campaign(campaign_id).status == CampaignStatus.DRAFT:
        storewise.outcomes.launch_measured_campaign(
            campaign_id, holdout_share=0.2, seed=17, attribution_days=DEMO_DAYS, at=start
        )
        log(f"outcomes demo: campaign {campaign_id} launched on {segment} at {start:%Y-%m-%d}, 20% held out")
    # Its audience is drawn; the segments go back to the analytics clock's instant, or the shop (and a
    # rerun of `storewise demo`, whose past campaigns follow the largest segments) would see April's.
    segmentations.refresh_segments(idempotency_key=f"{DEMO_KEY}:segments-now")
    return campaign_id


def _demo_forecast(storewise: Any, start: datetime, log: Any) -> None:
    import sqlalchemy as sa

    from application.base import CommandReceipt
    from application.replenishment import ForecastOutcome
    from domain.replenishment import ForecastSummary
    from projections.tables import daily_demand

    from .forecasting import forecast as forecasting
    from .forecasting.history import history_from_rows
    from .forecasting.service import quantile_offsets

    inventory = storewise.inventory
    if inventory.find(CommandReceipt.create_id(inventory.name, f"{DEMO_KEY}:forecast"), CommandReceipt) is not None:
        return
    last_day = (start - timedelta(days=1)).date()
    with storewise.read_side.engine.connect() as connection:
        rows = connection.execute(sa.select(daily_demand).where(daily_demand.c.day <= last_day)).all()
    revenue: dict[tuple[str, str], float] = {}
    for row in rows:
        revenue[(row.sku, row.warehouse)] = revenue.get((row.sku, row.warehouse), 0.0) + float(row.revenue)
    top = set(sorted(revenue, key=revenue.__getitem__, reverse=True)[:5])  # the demo SKUs
    history = history_from_rows([r for r in rows if (r.sku, r.warehouse) in top], [], last_day)
    run = forecasting.forecast(history, DEMO_DAYS, selection_windows=4)
    summaries = {}
    for uid, f in run.forecasts.items():
        sku, _, warehouse = uid.rpartition("@")
        summaries[(sku, warehouse)] = ForecastSummary(
            model=f.model,
            start=f.start.date(),
            mean=tuple(round(float(v), 4) for v in f.mean),
            point=tuple(round(float(v), 4) for v in f.point()),
            residual_quantiles=quantile_offsets(f),
            backtest_mae=f.backtest_mae.get(f.model),
        )
    outcome = ForecastOutcome(last_day, run.parameters, "outcomes-demo", summaries)
    storewise.inventory.record_forecast_run(
        outcome, storewise.event_counts(), at=start, idempotency_key=f"{DEMO_KEY}:forecast"
    )
    log(f"outcomes demo: forecast of {len(summaries)} SKUs from the history up to {last_day}")


def _demo_predictions(storewise: Any, newest: datetime, log: Any) -> None:
    """Predictions made one horizon before the newest order, so that their horizon has passed within the data."""
    from application.marketing import PURCHASE_KIND

    model = storewise.models.active_model(PURCHASE_KIND)
    if model is None:
        log(f"outcomes demo: training a purchase model ({DEMO_HORIZON}-day horizon)")
        storewise.marketing_decisions.train_purchase_model(
            horizon_days=DEMO_HORIZON, train_windows=14, step_days=1, version=f"{DEMO_KEY}-{DEMO_HORIZON}d"
        )
        model = storewise.models.active_model(PURCHASE_KIND)
    as_of = newest - timedelta(days=int(model.hyperparameters.get("horizon_days", DEMO_HORIZON)))
    storewise.outcomes.record_purchase_predictions(as_of=as_of, idempotency_key=f"{DEMO_KEY}:predictions")
    log(f"outcomes demo: purchase probabilities recorded as of {as_of:%Y-%m-%d %H:%M}")
