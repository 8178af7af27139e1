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
