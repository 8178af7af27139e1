"""Selectors (`--select`, `--exclude`) over the hierarchy of a map."""

import pytest

import capgraph
from capgraph.format.select import SelectionError, parse, select

BUG = capgraph.load("graphs/fix_unfamiliar_bug.yaml").spec


def test_node_alone_and_everything_by_default():
    assert select(BUG, ["debug"]) == {"debug"}
    assert select(BUG) == set(BUG.skills) | set(BUG.capabilities)


def test_plus_before_adds_what_it_requires_and_after_what_requires_it():
    assert select(BUG, ["+debug"]) == {"debug", "hypothesis"}
    assert select(BUG, ["+fix_bug"]) >= {"fix_bug", "debug", "hypothesis", "read_function"}
    up = select(BUG, ["debug+"])
    assert up == {"debug", "fix_bug", "fix_bug_pass_at_5"}
    both = select(BUG, ["+debug+"])
    assert both == select(BUG, ["+debug"]) | up


def test_depth_limits_union_and_exclude():
    assert select(BUG, ["1+fix_bug"]) == {"fix_bug", *BUG.capabilities["fix_bug"].requires}
    assert select(BUG, ["debug", "edit"]) == {"debug", "edit"}
    assert select(BUG, ["+debug"], exclude=["hypothesis"]) == {"debug"}
    assert select(BUG, exclude=["+fix_bug+"]) == set()


def test_unknown_names_get_did_you_mean_all_at_once():
    with pytest.raises(SelectionError) as info:
        select(BUG, ["+debgu", "fixbug+"], exclude=["nothing"])
    message = str(info.value)
    assert "no node 'debgu' in the map (did you mean 'debug'?)" in message
    assert "(did you mean 'fix_bug'?)" in message and "no node 'nothing'" in message


def test_parse_rejects_what_is_not_a_selector():
    assert parse(" +plan_fix+2 ") == (None, "plan_fix", 2)
    for bad in ["", "++a", "a b", "+"]:
        with pytest.raises(SelectionError):
            parse(bad)


# --- on the command line ---------------------------------------------------------------------------

BUG_PATH = "graphs/fix_unfamiliar_bug.yaml"


def test_show_and_at_keep_the_selection_in_level_then_name_order():
    import json

    from .conftest import invoke

    nodes = json.loads(invoke("show", BUG_PATH, "--select", "+debug", "--json").output)["nodes"]
    assert [n["name"] for n in nodes] == ["hypothesis", "debug"]
    tree = invoke("show", BUG_PATH, "-s", "debug+", "--exclude", "fix_bug_pass_at_5").output
    assert "fix_bug" in tree and "debug" in tree and "hypothesis" not in tree
    snap = json.loads(invoke("at", BUG_PATH, "1e24", "--unit", "flops", "-s", "+plan_fix",
                             "--json").output)
    assert list(snap["values"]) == ["plan_step", "plan_fix"]
    everything = json.loads(invoke("at", BUG_PATH, "1e24", "--unit", "flops", "--json").output)
    order = list(everything["values"])
    depth = {n["name"]: n for n in json.loads(invoke("show", BUG_PATH, "--json").output)["nodes"]}
    assert order == list(depth)  # the same order everywhere: levels, then names
    assert order.index("debug") > order.index("hypothesis")


def test_predict_render_and_report_take_selectors(tmp_path):
    import json

    from .conftest import invoke

    caps = json.loads(invoke("predict", BUG_PATH, "-s", "debug+", "--json").output)["capabilities"]
    assert {c["name"] for c in caps} == {"debug", "fix_bug", "fix_bug_pass_at_5"}
    table = invoke("predict", BUG_PATH, "-s", "debug", "-s", "edit").output
    assert "debug" in table and "fix_bug" not in table
    dot = tmp_path / "g.dot"
    invoke("render", BUG_PATH, "-o", dot, "-s", "+debug")
    text = dot.read_text()
    assert "debug" in text and "hypothesis" in text and "fix_bug" not in text
    page = tmp_path / "r.html"
    invoke("report", BUG_PATH, "-o", page, "--exclude", "fix_bug+")
    html = page.read_text()
    assert 'id="node-debug"' in html and 'id="node-fix_bug"' not in html
    bad = invoke("predict", BUG_PATH, "-s", "+debgu", code=2)
    assert "no node 'debgu' in the map (did you mean 'debug'?)" in bad.flat
    assert "leaves no node" in invoke("show", BUG_PATH, "--exclude", "+fix_bug+", code=2).flat
