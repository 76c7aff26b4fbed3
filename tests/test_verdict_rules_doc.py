"""docs/verdict-rules.md is generated from the rule tables and stays in step with them."""

from __future__ import annotations

from probectl.core import rules
from probectl.core.workload_rules import WORKLOAD
from probectl.render.verdict_rules import render
from tests.conftest import ROOT


def test_committed_page_is_current():
    committed = (ROOT / "docs" / "verdict-rules.md").read_text("utf-8")
    assert committed == render(), (
        "docs/verdict-rules.md is out of date: run "
        "'python -m probectl.render.verdict_rules > docs/verdict-rules.md'")


def test_page_lists_every_rule_in_authority_order():
    page = render()
    positions = [page.index(f"### {r.id} `{r.name}`") for r in rules.POD]
    assert positions == sorted(positions)
    for r in rules.ALL:
        assert f"### {r.id} `{r.name}`" in page and " ".join(r.doc.split()) in " ".join(page.split())


def test_page_lists_the_workload_rules_in_authority_order_after_the_pod_rules():
    page = render()
    section = page.index("## Workload rules")
    positions = [page.index(f"### {r.id} `{r.name}`") for r in WORKLOAD]
    assert section < positions[0] and positions == sorted(positions)
    for r in WORKLOAD:
        assert " ".join(r.doc.split()) in " ".join(page.split())
