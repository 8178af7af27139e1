"""Bad input: every problem at once, each at the exact line and column of the offending text."""

import pytest

import capgraph
from capgraph.core.errors import MapError
from capgraph.format.source import ALIAS_EXPANSION_FLOOR

GOOD_SKILL = "  s: {curve: {logistic: {midpoint: 1e10, slope: 1}}}\n"


def problems(path):
    with pytest.raises(MapError) as info:
        capgraph.load(path)
    return [(p.line, p.col, p.message) for p in info.value.problems]


def only(path):
    found = problems(path)
    assert len(found) == 1, found
    return found[0]


#: Bad maps with one problem each: (text, line, token it points at, fragment of the message).
LOCATED = [
        # YAML syntax: an unclosed flow mapping
        ("skills:\n  s: {curve: {logistic: {midpoint: 1e10, slope: 1}}\n", 3, "", "YAML syntax"),
        # unknown key with a near miss
        ("skills:\n  s:\n    curve: {logistic: {midpoint: 1e10, slop: 1}}\n", 3, "slop", "did you mean 'slope'"),
        ("skills:\n  s:\n    curv: {logistic: {midpoint: 1e10, slope: 1}}\n", 3, "curv", "did you mean 'curve'"),
        ("skils:\n" + GOOD_SKILL, 1, "skils", "did you mean 'skills'"),
        # values out of range
        ("threshold: 1.2\nskills:\n" + GOOD_SKILL, 1, "1.2", "strictly between 0 and 1"),
        ("threshold: 0\nskills:\n" + GOOD_SKILL, 1, "0", "strictly between 0 and 1"),
        ("skills:\n  s: {curve: {logistic: {midpoint: -1e10, slope: 1}}}\n", 2, "-1e10", "positive"),
        ("skills:\n  s: {curve: {logistic: {midpoint: 0, slope: 1}}}\n", 2, "0,", "positive"),
        ("skills:\n  s: {curve: {logistic: {midpoint: 1e10, slope: 1, floor: 0.6, ceiling: 0.5}}}\n",
         2, "0.5}", "floor (0.6) must be below ceiling (0.5)"),
        ("skills:\n  s: {curve: {logistic: {midpoint: .nan, slope: 1}}}\n", 2, ".nan", "finite"),
        ("skills:\n  s: {curve: {logistic: {midpoint: .inf, slope: 1}}}\n", 2, ".inf", "finite"),
        ("skills:\n  s: {curve: {logistic: {midpoint: 7Q, slope: 1}}}\n", 2, "7Q", "not a number"),
        ("scale: {range: [1e14, 1e8]}\nskills:\n" + GOOD_SKILL, 1, "[1e14", "low < high"),
        ("scale: {axis: parms}\nskills:\n" + GOOD_SKILL, 1, "parms", "'params', 'tokens', 'flops' or 'loss'"),
        # structure
        ("skills:\n  s: {curve: {}}\n", 2, "curve", "exactly one of: logistic, power_law, points"),
        ("skills:\n  s: {description: x}\n", 2, "s", "missing required key 'curve'"),
        ("skills: {}\n", 1, "skills", "at least one skill"),
        ("skills:\n  s: {curve: {points: [[1e9, 0.1], [1e8, 0.5]]}}\n", 2, "curve", "strictly increasing"),
        # duplicate keys: PyYAML would silently keep the last one
        ("skills:\n" + GOOD_SKILL + "  s: {curve: {logistic: {midpoint: 1e9, slope: 1}}}\n", 3, "s",
         "duplicate key 's' (first defined on line 2)"),
        # references and cycles
        ("skills:\n" + GOOD_SKILL + "capabilities:\n  c: {requires: {ss: 2}}\n", 4, "ss",
         "'ss' is not a skill or capability (did you mean 's'?)"),
        ("skills:\n" + GOOD_SKILL + "capabilities:\n  c: {requires: [s, t]}\n", 4, "t]",
         "'t' is not a skill or capability"),
        ("skills:\n" + GOOD_SKILL + "capabilities:\n  c: {requires: [c]}\n", 4, "c]", "cycle: c → c"),
        ("skills:\n" + GOOD_SKILL + "  t: {curve: {power_law: {scale: 1e9, exponent: 1}}}\n"
         "capabilities:\n  s: {requires: [t]}\n", 5, "s", "defined as a skill too"),
        ("skills:\n" + GOOD_SKILL + "capabilities:\n  c: {requires: {s: 2}, combine: k_of_n}\n",
         4, "c", "needs a key k"),
        ("skills:\n" + GOOD_SKILL + "capabilities:\n  c: {requires: {s: 2}, combine: k_of_n, k: 3}\n",
         4, "3}", "k = 3 but the children make only 2 trial(s)"),
        ("skills:\n" + GOOD_SKILL + "capabilities:\n  c: {requires: {s: 2}, k: 1}\n", 4, "1}",
         "k applies only to combine: k_of_n"),
        ("skills:\n" + GOOD_SKILL + "capabilities:\n  c: {requires: {}}\n", 4, "requires", "at least one child"),
        ("skills:\n" + GOOD_SKILL + "capabilities:\n  c: {requires: [s], combine: product}\n",
         4, "product", "combine: must be 'all', 'any'"),
        ("skills:\n" + GOOD_SKILL + "capabilities:\n  c: {requires: [s], metric: {exact_match: {length: 0}}}\n",
         4, "0}", "greater than 0"),
        ("skills:\n" + GOOD_SKILL + "capabilities:\n  c: {requires: [s], metric: f1}\n", 4, "metric",
         "unknown key 'f1'"),
        # a map that is not a mapping
        ("- just\n- a list\n", 1, "-", "a map must be a mapping"),
]


@pytest.mark.parametrize("text, line, token, fragment", LOCATED)
def test_located_problem(write_map, text, line, token, fragment):
    """``token`` is the text the problem must point at: its first occurrence on ``line``."""
    got_line, got_col, message = only(write_map(text))
    assert fragment in message
    lines = text.splitlines() + [""]
    col = lines[line - 1].index(token) + 1 if token else 1
    assert (got_line, got_col) == (line, col), message


def test_cycle_through_several_nodes_prints_the_path(write_map):
    path = write_map("""
        skills:
          s: {curve: {logistic: {midpoint: 1e10, slope: 1}}}
        capabilities:
          c: {requires: [b, s]}
          b: {requires: [a]}
          a: {requires: [c]}
        """)
    line, col, message = only(path)
    assert message == "cycle: a → c → b → a"
    assert (line, col) == (6, 18)  # the edge a → c, where the path starts


def test_every_problem_reported_at_once_in_order(write_map):
    path = write_map("""
        threshold: 2
        skills:
          s: {curve: {logistic: {midpoint: 1e10, slope: -1}}}
        capabilities:
          c: {requires: [x]}
        """)
    text = path.read_text().splitlines()
    expected = [(1, text[0].index("2") + 1), (3, text[2].index("-1") + 1), (5, text[4].index("x]") + 1)]
    assert [(line, col) for line, col, _ in problems(path)] == expected


@pytest.mark.parametrize(
    "content, fragment, pos",
    [
        (b"", "empty file", (1, 1)),
        (b"# only a comment\n", "empty file", (1, 1)),
        (b"name: caf\xe9\n", "not UTF-8", (1, 10)),
        (b"skills: !!python/object:os.system {}\n", "not allowed", (1, 9)),
        (b"skills:\n  s: !!binary aGVsbG8=\n", "not allowed", (2, 6)),
    ],
)
def test_bad_files(tmp_path, content, fragment, pos):
    path = tmp_path / "m.yaml"
    path.write_bytes(content)
    found = problems(path)
    assert any(fragment in m and (line, col) == pos for line, col, m in found), found


def test_missing_file(tmp_path):
    assert only(tmp_path / "nope.yaml") == (1, 1, "no such file")


def test_python_tags_never_construct_objects(write_map, tmp_path):
    marker = tmp_path / "pwned"
    path = write_map(f"skills: !!python/object/apply:os.system ['touch {marker}']\n")
    problems(path)
    assert not marker.exists()


def test_alias_bomb_is_refused_without_expanding(write_map):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    lines.append("skills: *a8")
    line, col, message = only(write_map("\n".join(lines) + "\n"))
    assert "aliases expand this document" in message
    assert f"limit {ALIAS_EXPANSION_FLOOR:,}" in message
    assert line <= 9  # points at an anchor, not the end of the file


def test_recursive_alias(write_map):
    line, col, message = only(write_map("skills: &a\n  s: *a\n"))
    assert "recursive alias" in message


def test_reasonable_aliases_and_merge_keys_work(write_map):
    m = capgraph.load(write_map("""
        x-defaults: &d {slope: 1.5, floor: 0}
        skills:
          s: {curve: {logistic: {<<: *d, midpoint: 1e10}}}
        """))
    assert m.spec.skills["s"].curve.logistic.slope == 1.5


def test_json_maps_have_json_positions(write_map):
    line3 = '    "s": {"curve": {"logistic": {"midpoint": "1e10", "slop": 1}}}'
    path = write_map('{\n  "skills": {\n' + line3 + '\n  }\n}\n', name="map.json")
    col = line3.index('"slop"') + 1
    assert problems(path) == [(3, col, "unknown key 'slop' (did you mean 'slope'?)")]
    path = write_map('{"skills": {"s": {}, "s": {}}}', name="dup.json")
    assert any("duplicate key 's'" in m and (line, col) == (1, 22) for line, col, m in problems(path))


def test_yaml_booleans_as_names_stay_names(write_map):
    m = capgraph.load(write_map("""
        skills:
          yes: {curve: {logistic: {midpoint: 1e10, slope: 1}}}
        capabilities:
          c: {requires: {yes: 2}}
        """))
    assert m.spec.capabilities["c"].requires == {"yes": 2}
