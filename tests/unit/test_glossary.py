"""The ubiquitous-language document is generated from the domain code and committed:
it must be up to date, and everything it names must be explained."""

from infrastructure.glossary import OUTPUT, render


def test_the_committed_glossary_is_up_to_date():
    assert OUTPUT.read_text() == render(), "docs/ubiquitous-language.md is stale: run `storewise glossary`"


def test_the_glossary_explains_every_term_it_lists():
    text = render()
    assert "```mermaid" in text and "Order.Placed: allocate the order's stock" in text
    for line in text.splitlines():
        if line.startswith("- ") and " — " in line:
            assert line.split(" — ", 1)[1].strip(), f"no explanation: {line}"
    for term in ("### Order", "### StockItem", "### Product", "### Campaign", "### Review", "**Placed** (version 2)"):
        assert term in text


def test_the_context_map_shows_what_each_engine_reads_and_decides():
    text = render()
    map_text = text.split("```mermaid", 1)[1].split("```", 1)[0]
    # read model -> engine -> the events that record its decisions, in the context that records them
    assert "rm_interactions --> engine_recommender" in map_text
    assert 'engine_recommender -- "TrainedModel.Recorded" --> Models' in map_text
    assert 'Feedback -- "Review.Submitted" --> engine_review_analyser' in map_text
    assert 'engine_review_analyser -- "Review.Analysed" --> Feedback' in map_text
    assert "rm_daily_demand --> engine_planning_engine" in map_text
    planned = "ForecastRun.Recorded, DemandForecast.Made, ReplenishmentPlan.Proposed"
    assert f'engine_planning_engine -- "{planned}" --> Inventory' in map_text
    assert 'BudgetAllocation.Proposed" --> Marketing' in map_text
