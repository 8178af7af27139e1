"""Tables at 80 columns: nothing split, columns left out or intervals moved, and said so."""

import io
import re

from rich.console import Console

import capgraph
from capgraph.outputs.columns import fit_table
from capgraph.outputs.terminal import predictions_table, snapshot_table


def rendered(table, width=80) -> str:
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(table)
    return console.export_text()


def test_uncertain_predictions_fit_80_columns_without_splitting_anything():
    m = capgraph.load("graphs/uncertain_reasoning.yaml")
    predictions = m.predict(samples=200)
    text = rendered(predictions_table(m, predictions, width=80))
    assert max(map(len, text.splitlines())) <= 80
    for p in predictions:  # every name and every interval whole, on one line
        assert re.search(rf"\b{p.name}\b", text), p.name
        low, high = re.findall(r"\[([^\]–]+)–([^\]]+)\]", text)[0]
        assert low and high
    assert "[" in text and "To fit 80 columns: intervals under their medians" in text


def test_columns_are_left_out_least_important_first_and_named():
    m = capgraph.load("graphs/fix_unfamiliar_bug.yaml")
    text = rendered(predictions_table(m, m.predict(), width=80))
    assert max(map(len, text.splitlines())) <= 80
    assert "left out: tokens" in text and "bottleneck" in text
    wide = rendered(predictions_table(m, m.predict(), width=200), width=200)
    assert "To fit" not in wide and "tokens" in wide


def test_at_lists_levels_then_names_and_fits():
    m = capgraph.load("graphs/fix_unfamiliar_bug.yaml")
    text = rendered(snapshot_table(m, m.at("1e24", "flops"), width=60), width=60)
    names = [line.split("│")[1].strip() for line in text.splitlines() if line.startswith("│")]
    assert names == m.nodes
    assert max(map(len, text.splitlines())) <= 60


def test_fit_table_keeps_everything_when_it_fits():
    table = fit_table("t", ["node", "a"], [["x", "1"]], width=80, drop=("a",))
    assert [c.header for c in table.columns] == ["node", "a"] and table.caption is None
