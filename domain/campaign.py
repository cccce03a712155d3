"""Campaign: marketing actions aimed at groups of customers.

A *segment* is a group of customers with a shared pattern (e.g. by RFM:
recency, frequency, monetary value). A *campaign* is one marketing action for
one segment on one *channel* (e-mail, social, search...) with a *budget*. It is
drafted, launched, possibly paused and resumed, and ended; its *outcome* —
spend, reach, conversions, revenue — is recorded as it becomes known, either typed in
by hand (*hand-typed outcome*) or *measured*: a campaign launched with its *audience*
(the segment's customers who consented to marketing at that instant) and a *held-out
group* drawn from it at random (with a recorded seed) is judged by the orders attributed
to it. *Attribution rule*: an order is attributed to a measured campaign when its customer
is in the campaign's audience (treated or held out) and places it from the launch until
the campaign ends, at most ``attribution_days`` after the launch, in the campaign's
currency, and it was not cancelled nor found unfulfillable. A *conversion* is an audience
member with at least one attributed order; the *uplift* is the treated group's conversion
rate minus the held-out group's (see ``domain.outcomes``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from .outcomes import draw_holdout
from .shared import DomainError, InvalidArgument, InvalidMoney, InvalidQuantity, InvalidTransition, Money, require_text


class BudgetRequired(DomainError):
    """A campaign cannot be launched without a positive budget."""

    code = "BUDGET_REQUIRED"


class CampaignStatus:
    """Where a campaign is in its life."""

    DRAFT = "DRAFT"
    LIVE = "LIVE"
    PAUSED = "PAUSED"
    ENDED = "ENDED"


class Campaign(Aggregate):
    """A marketing action for one segment on one channel, with a budget."""

    class Drafted(Aggregate.Created):
        """The campaign was planned for a segment and a channel, with a budget (possibly zero for now)."""

        name: str
        segment: str
        channel: str
        budget: Money

    @classmethod
    def draft(cls, name: str, segment: str, channel: str, budget: Money, campaign_id: UUID | None = None) -> Campaign:
        """Plan a campaign. Rules: name, segment and channel given; the budget is money, zero or more.
        ``campaign_id``: its id when another context chose it beforehand (a budget allocation's line)."""
        if not isinstance(budget, Money) or budget.amount < 0:
            raise InvalidMoney("a budget must be an amount of money, zero or more", field="budget")
        values: dict[str, Any] = {
            "name": require_text(name, "name"),
            "segment": require_text(segment, "segment", max_length=64),
            "channel": require_text(channel, "channel", max_length=64),
            "budget": budget,
        }
        return cls(**values) if campaign_id is None else cls._create(cls.Drafted, id=campaign_id, **values)

    @event(Drafted)
    def __init__(self, name: str, segment: str, channel: str, budget: Money):
        self.name, self.segment, self.channel, self.budget = name, segment, channel, budget
        self.status = CampaignStatus.DRAFT
        self.spend = Money.zero(budget.currency)
        self.reach = 0
        self.conversions = 0
        self.revenue = Money.zero(budget.currency)
        self.holdout_size = 0
        self.holdout_conversions = 0
        self.holdout_revenue = Money.zero(budget.currency)

    def _require(self, *statuses: str, action: str) -> None:
        if self.status not in statuses:
            raise InvalidTransition(f"cannot {action} a campaign that is {self.status.lower()}")

    class Budgeted(Aggregate.Event):
        """The campaign's budget was set to ``budget``."""

        budget: Money

    def set_budget(self, budget: Money) -> None:
        """Change the budget. Rules: not once ended; the currency stays; zero or more,
        and positive while the campaign is live."""
        self._require(CampaignStatus.DRAFT, CampaignStatus.LIVE, CampaignStatus.PAUSED, action="budget")
        if not isinstance(budget, Money) or budget.amount < 0:
            raise InvalidMoney("a budget must be an amount of money, zero or more", field="budget")
        if budget.currency != self.budget.currency:
            raise InvalidMoney(f"the budget must stay in {self.budget.currency}", field="budget")
        if self.status == CampaignStatus.LIVE and not budget.is_positive:
            raise BudgetRequired("a live campaign needs a positive budget; pause or end it first", field="budget")
        self._budgeted(budget=budget)

    @event(Budgeted)
    def _budgeted(self, budget: Money) -> None:
        self.budget = budget

    class Launched(Aggregate.Event):
        """The campaign went live."""

        at: datetime

    def launch(self, at: datetime) -> None:
        """Start the campaign. Rules: only a draft; it needs a positive budget."""
        self._require(CampaignStatus.DRAFT, action="launch")
        if not self.budget.is_positive:
            raise BudgetRequired("set a budget before launching the campaign", field="budget")
        self._launched(at=at)

    @event(Launched)
    def _launched(self, at: datetime) -> None:
        self.status = CampaignStatus.LIVE
        self.launched_at = at

    class AudienceDrawn(Aggregate.Event):
        """At launch the campaign's audience was fixed: the ``treated`` customers it contacts and the
        ``held_out`` ones it deliberately does not (drawn with ``seed``, ``holdout_share`` of the
        audience); orders of either group are attributed to it for ``attribution_days`` at most."""

        treated: list[UUID]
        held_out: list[UUID]
        seed: int
        holdout_share: float
        attribution_days: int
        at: datetime

    def launch_measured(
        self, at: datetime, audience: list[UUID], holdout_share: float, seed: int, attribution_days: int
    ) -> None:
        """Launch with a measured audience: the held-out group is drawn here. Rules: those of
        ``launch``; a held-out share strictly between 0 and 1; an attribution window of 1 to 365 days."""
        if isinstance(holdout_share, bool) or not 0 < float(holdout_share) < 1:
            raise InvalidArgument("the held-out share is strictly between 0 and 1", field="holdoutShare")
        if (
            isinstance(attribution_days, bool)
            or not isinstance(attribution_days, int)
            or not 1 <= attribution_days <= 365
        ):
            raise InvalidArgument("the attribution window is 1 to 365 days", field="attributionDays")
        self.launch(at)
        treated, held_out = draw_holdout(audience, float(holdout_share), int(seed))
        self._audience(
            treated=treated,
            held_out=held_out,
            seed=int(seed),
            holdout_share=float(holdout_share),
            attribution_days=attribution_days,
            at=at,
        )

    @event(AudienceDrawn)
    def _audience(
        self,
        treated: list[UUID],
        held_out: list[UUID],
        seed: int,
        holdout_share: float,
        attribution_days: int,
        at: datetime,
    ) -> None:
        self.audience_size = len(treated) + len(held_out)
        self.attribution_ends = at + timedelta(days=attribution_days)

    class Paused(Aggregate.Event):
        """The live campaign was paused."""

        at: datetime

    def pause(self, at: datetime) -> None:
        """Pause a live campaign."""
        self._require(CampaignStatus.LIVE, action="pause")
        self._paused(at=at)

    @event(Paused)
    def _paused(self, at: datetime) -> None:
        self.status = CampaignStatus.PAUSED

    class Resumed(Aggregate.Event):
        """The paused campaign went live again."""

        at: datetime

    def resume(self, at: datetime) -> None:
        """Resume a paused campaign."""
        self._require(CampaignStatus.PAUSED, action="resume")
        self._resumed(at=at)

    @event(Resumed)
    def _resumed(self, at: datetime) -> None:
        self.status = CampaignStatus.LIVE

    class Ended(Aggregate.Event):
        """The campaign ended for good."""

        at: datetime

    def end(self, at: datetime) -> None:
        """End a live or paused campaign."""
        self._require(CampaignStatus.LIVE, CampaignStatus.PAUSED, action="end")
        self._ended(at=at)

    @event(Ended)
    def _ended(self, at: datetime) -> None:
        self.status = CampaignStatus.ENDED

    class OutcomeRecorded(Aggregate.Event):
        """Results came in: ``spend`` of the budget, people reached, conversions
        (purchases attributed to the campaign) and the revenue they brought."""

        spend: Money
        reach: int
        conversions: int
        revenue: Money
        at: datetime

    def record_outcome(self, spend: Money, reach: int, conversions: int, revenue: Money, at: datetime) -> None:
        """Add results. Rules: only once launched; amounts in the budget's
        currency, not negative; total conversions no more than total reach."""
        self._require(CampaignStatus.LIVE, CampaignStatus.PAUSED, CampaignStatus.ENDED, action="record an outcome of")
        for field, money in (("spend", spend), ("revenue", revenue)):
            if not isinstance(money, Money) or money.amount < 0 or money.currency != self.budget.currency:
                raise InvalidMoney(f"{field} must be money in {self.budget.currency}, zero or more", field=field)
        for field, count in (("reach", reach), ("conversions", conversions)):
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise InvalidQuantity(f"{field} must be a whole number, zero or more", field=field)
        if self.conversions + conversions > self.reach + reach:
            raise InvalidQuantity("conversions cannot exceed reach (in total)", field="conversions")
        self._outcome(spend=spend, reach=reach, conversions=conversions, revenue=revenue, at=at)

    @event(OutcomeRecorded)
    def _outcome(self, spend: Money, reach: int, conversions: int, revenue: Money, at: datetime) -> None:
        self.spend = self.spend + spend
        self.reach += reach
        self.conversions += conversions
        self.revenue = self.revenue + revenue

    class HoldoutMeasured(Aggregate.Event):
        """Results of the campaign's holdout group came in: ``size`` people of the segment deliberately
        not targeted, and the conversions and revenue they brought anyway (the baseline that the
        campaign's uplift is measured against); they add up."""

        size: int
        conversions: int
        revenue: Money
        at: datetime

    def record_holdout(self, size: int, conversions: int, revenue: Money, at: datetime) -> None:
        """Add results of the holdout group. Rules: only once launched; whole numbers, zero or more;
        in total no more conversions than people held out; revenue in the budget's currency."""
        self._require(CampaignStatus.LIVE, CampaignStatus.PAUSED, CampaignStatus.ENDED, action="record a holdout of")
        for field, count in (("size", size), ("conversions", conversions)):
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise InvalidQuantity(f"{field} must be a whole number, zero or more", field=field)
        if not isinstance(revenue, Money) or revenue.amount < 0 or revenue.currency != self.budget.currency:
            raise InvalidMoney(f"revenue must be money in {self.budget.currency}, zero or more", field="revenue")
        if self.holdout_conversions + conversions > self.holdout_size + size:
            raise InvalidQuantity(
                "holdout conversions cannot exceed the people held out (in total)", field="conversions"
            )
        self._holdout(size=size, conversions=conversions, revenue=revenue, at=at)

    @event(HoldoutMeasured)
    def _holdout(self, size: int, conversions: int, revenue: Money, at: datetime) -> None:
        self.holdout_size += size
        self.holdout_conversions += conversions
        self.holdout_revenue = self.holdout_revenue + revenue
