"""Messages that say what to write: expected shapes with an example, keys that belong elsewhere,
did-you-mean for enum values, percentages, and scenario problems beside the base map's."""

import pytest

import capgraph
from capgraph.core.errors import MapError

from .conftest import invoke

CURVE = "{logistic: {midpoint: 1e10, slope: 1}}"


def problems(path):
    with pytest.raises(MapError) as info:
        capgraph.load(path)
    return [(p.line, p.col, p.message) for p in info.value.problems]


@pytest.mark.parametrize(
    "text, expected",
    [
        (f"skills:\n  s:\n    curve: {CURVE}\n    metric: {{pass_at: 3}}\n",
         [(4, 23, "pass_at: expected a mapping such as `pass_at: {k: 5}`, got 3")]),
        (f"skills:\n  s:\n    curve: {CURVE}\n    metric: 3\n",
         [(4, 13, "metric: expected a mapping such as `metric: {exact_match: {length: 10}}`, got 3")]),
        ("skills:\n  s:\n    curve: 7B\n",
         [(3, 12, "curve: expected a mapping such as `curve: {logistic: {midpoint: 1e10, slope: 1.5}}`, "
                  "got '7B'")]),
        # under-indented under `curve:`: one message, at the stray key
        ("skills:\n  s:\n    curve:\n    logistic: {midpoint: 1e10, slope: 1}\n",
         [(4, 5, "'logistic' belongs under 'curve:', which is empty: indent it under 'curve:'")]),
        (f"skills:\n  a: {{curve: {CURVE}}}\n  s:\n    curve: {CURVE}\n    requires: [a]\n",
         [(5, 5, "a skill has no 'requires': only capabilities are built from other nodes; to build "
                 "'s' from others, make it a capability (move it under 'capabilities:' and drop "
                 "its curve)")]),
        (f"skills:\n  a: {{curve: {CURVE}}}\ncapabilities:\n  c: {{requires: [a], curve: {CURVE}}}\n",
         [(4, 22, "a capability has no 'curve': its curve comes from what it requires; to give 'c' "
                  "a curve of its own, make it a skill (move it under 'skills:' and drop 'requires')")]),
        (f"axis: params\nskills:\n  s: {{curve: {CURVE}}}\n",
         [(1, 1, "unknown key 'axis' here: it belongs under 'scale:'")]),
        (f"threshold: 50%\nskills:\n  s: {{curve: {CURVE}}}\n",
         [(1, 12, "threshold: '50%' is a percentage: write 0.5")]),
        (f"threshold: half\nskills:\n  s: {{curve: {CURVE}}}\n",
         [(1, 12, "threshold: 'half' is not a number: write a value between 0 and 1, e.g. 0.5")]),
        # enum values: did-you-mean, and no spurious "k applies only to combine: k_of_n"
        (f"skills:\n  a: {{curve: {CURVE}}}\ncapabilities:\n  c: {{requires: {{a: 3}}, combine: k-of-n, k: 2}}\n",
         [(4, 34, "combine: must be 'all', 'any', 'k_of_n', 'mean', 'min' or 'geomean', got 'k-of-n' "
                  "(did you mean 'k_of_n'?)")]),
        (f"scale: {{axis: flop}}\nskills:\n  s: {{curve: {CURVE}}}\n",
         [(1, 15, "axis: must be 'params', 'tokens', 'flops' or 'loss', got 'flop' (did you mean "
                  "'flops'?)")]),
    ],
)
def test_message(write_map, text, expected):
    assert problems(write_map(text)) == expected


def test_scenario_problems_are_reported_beside_the_base_maps(write_map):
    path = write_map(f"""
        skills:
          a: {{curve: {CURVE}}}
        capabilities:
          c: {{requires: [a], threshold: 2}}
        scenarios:
          typo: {{skills: {{a: {{curve: {{logistic: {{midpont: 1e9}}}}}}}}}}
          fine: {{threshold: 0.6}}
          new: {{skills: {{b: {{curve: {CURVE}}}}}}}
        """)
    assert problems(path) == [
        (4, 33, "threshold: must lie strictly between 0 and 1, got 2.0"),
        (6, 42, "scenario 'typo': unknown key 'midpont' (did you mean 'midpoint'?)"),
        (8, 18, "scenario 'new': 'b' is not one of the map's skills; a scenario changes existing "
                "nodes only"),
    ]


def test_units_on_the_command_line_ignore_case():
    flops = invoke("at", "graphs/ten_step_reasoning.yaml", "1e24", "--unit", "FLOPs", "--json").output
    assert flops == invoke("at", "graphs/ten_step_reasoning.yaml", "1e24", "--unit", "flops",
                           "--json").output
    bad = invoke("at", "graphs/ten_step_reasoning.yaml", "1e24", "--unit", "flop", code=2)
    assert "did you mean 'flops'" in bad.flat
