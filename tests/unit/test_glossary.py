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
