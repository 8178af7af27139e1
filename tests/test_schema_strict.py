"""The JSON Schema is as strict as `check` wherever JSON Schema can say it.

A corpus of bad maps (those of test_errors and test_allocation, and one for every bound the format
has) goes through both `check` and the schema. Every problem the schema can express must be flagged
by it; the ones it cannot express are listed below, each asserted to be both caught by `check` and
missed by the schema, so the list stays true (docs/format.md, "The JSON Schema", lists it).
Good maps go through both too: the schema never refuses a map `check` accepts.
"""

from __future__ import annotations

import json
import re
import sys

import jsonschema
import pytest

import capgraph
from capgraph.core.errors import MapError
from capgraph.format.schema import json_schema
from capgraph.format.source import parse_document

from .conftest import GRAPHS, ROOT
from .test_errors import GOOD_SKILL, LOCATED

sys.path.insert(0, str(ROOT / "bench"))
from generate import generate  # noqa: E402

VALIDATOR = jsonschema.Draft202012Validator(json_schema())


def test_the_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(json_schema())

#: What the schema cannot express, by a fragment of check's message, and why.
CANNOT = {
    "YAML syntax": "a syntax error: the schema sees data, never text",
    "duplicate key": "duplicate keys: by the time a schema sees the data, the last one has won",
    "is not a skill or capability": "references to nodes that do not exist (names are data)",
    "cycle:": "cycles among capabilities",
    "defined as a skill too": "a name that is both a skill and a capability",
    "must be below ceiling": "a floor below the ceiling of the same curve (compares two values)",
    "the children make only": "k at most the number of trials (a sum of the counts)",
    "low < high": "a range's low end below its high end",
    "strictly increasing": "points with increasing scales",
    "the interval's ends are reversed": "an interval's low end below its high end",
    "must lie between p5": "an interval's median between its ends",
    "finite": "NaN and infinity (YAML `.nan` and `.inf` compare as no JSON number does)",
    "irreducible loss": "a loss range above the loss law's irreducible loss E",
}

SKILL = "skills:\n" + GOOD_SKILL
CAP = SKILL + "capabilities:\n  c: "
LOGISTIC = "skills:\n  s: {{curve: {{logistic: {{{}}}}}}}\n"

#: Bad maps for every bound and rule of the format that JSON Schema can say (one problem each).
BOUNDS = [
    "threshold: 1.5\n" + SKILL,
    "threshold: 7B\n" + SKILL,
    "threshold: 1\n" + SKILL,
    "threshold: -0.2\n" + SKILL,
    "threshold: '1.5'\n" + SKILL,
    "skills:\n  s: {curve: {logistic: {midpoint: 1e10, slope: 1}}, threshold: 1.0}\n",
    CAP + "{requires: [s], threshold: 2}\n",
    "correlation: 1.5\n" + SKILL,
    "correlation: -0.1\n" + SKILL,
    CAP + "{requires: [s], correlation: 2}\n",
    LOGISTIC.format("midpoint: 1e10, slope: 0"),
    LOGISTIC.format("midpoint: 1e10, slope: -1"),
    LOGISTIC.format("midpoint: 1e10, slope: 0 to 2"),
    LOGISTIC.format("midpoint: 1e10, slope: {p5: 0, p95: 2}"),
    LOGISTIC.format("midpoint: 0B, slope: 1"),
    LOGISTIC.format("midpoint: -3e9 to 3e10, slope: 1"),
    LOGISTIC.format("midpoint: 1e10, slope: 1, floor: 1.5"),
    LOGISTIC.format("midpoint: 1e10, slope: 1, floor: -0.1"),
    LOGISTIC.format("midpoint: 1e10, slope: 1, ceiling: 1.2"),
    LOGISTIC.format("midpoint: 1e10, slope: 1, floor: 0.1 to 1.5"),
    LOGISTIC.format("midpoint: 1e10, slope: 1, floor: 25%"),
    LOGISTIC.format("midpoint: 1e10, slope: 1, floor: {p5: 0.1}"),
    "skills:\n  s: {curve: {power_law: {scale: 1e9, exponent: 0}}}\n",
    LOGISTIC.format("midpoint: 3e10 to 3e9, slope: 1"),
    LOGISTIC.format("midpoint: {p5: 3e9, p50: 5e10, p95: 3e10}, slope: 1"),
    "skills:\n  s: {curve: {points: [[1e8, 0.1], [1e10, 1.5]]}}\n",
    "skills:\n  s: {curve: {points: [[0, 0.1], [1e10, 0.5]]}}\n",
    "skills:\n  s: {curve: {points: [[1e8, 0.1]]}}\n",
    "skills:\n  s: {curve: {points: [[1e8, 0.1, 3], [1e10, 0.5]]}}\n",
    "skills:\n  s: {curve: {logistic: {midpoint: 1e10, slope: 1}, power_law: {scale: 1e9, exponent: 1}}}\n",
    CAP + "{requires: {s: 0}}\n",
    CAP + "{requires: {s: -1}}\n",
    CAP + "{requires: {s: 2K}}\n",
    CAP + "{requires: {s: true}}\n",
    CAP + "{requires: [s, s]}\n",
    CAP + "{requires: []}\n",
    CAP + "{requires: {s: 3}, combine: k_of_n, k: 0}\n",
    CAP + "{requires: {s: 1.5}, combine: k_of_n, k: 1}\n",
    CAP + "{requires: [s], combine: mean, k: 1}\n",
    CAP + "{requires: [s], metric: {multiple_choice: {options: 1}}}\n",
    CAP + "{requires: [s], metric: {pass_at: {k: 0}}}\n",
    CAP + "{requires: [s], metric: {exact_match: {length: -2}}}\n",
    CAP + "{requires: [s], metric: {exact_match: {length: 3}, pass_at: {k: 2}}}\n",
    CAP + "{requires: [s], metric: {}}\n",
    "scale: {tokens_per_param: 0}\n" + SKILL,
    "scale: {tokens_per_param: 20, allocation: besiroglu2024}\n" + SKILL,
    "scale: {axis: loss}\n" + SKILL,
    "scale: {axis: loss, allocation: {tokens_per_param: 20}}\n" + SKILL,
    "scale: {data_limit: 0}\n" + SKILL,
    "scale: {range: [0, 1e10]}\n" + SKILL,
    "scale: {allocation: {loss_law: {E: 0, A: 406.4, B: 410.7, alpha: 0.34, beta: 0.28}}}\n" + SKILL,
    "timeline: {start: 2024-01-01, flops: 5e25, growth_per_year: 0.9}\n" + SKILL,
    "timeline: {start: 2024-01-01, flops: -5e25, growth_per_year: 4}\n" + SKILL,
    "scenarios: {strict: {threshold: 1.5}}\n" + SKILL,
    "scenarios: {slow: {efficiency: 0}}\n" + SKILL,
    "skills:\n  s: {curve: {fit: {data: r.csv, x: n, y: acc, curve: power_law, floor: 0.25}}}\n",
    "skills:\n  s: {curve: {fit: {data: r.csv, x: n, y: acc, ceiling: 1.5}}}\n",
    "skills:\n  s: {curve: {fit: {data: r.csv, x: n, y: acc, curve: gompertz}}}\n",
    "skills: {}\n",
    "skills:\n  s: {curve: {logistic: {midpoint: 1e10, slope: 1}}, metric: {f1: {}}}\n",
]

#: test_allocation's bad scales, whole maps here.
ALLOCATION = [
    "scale: {allocation: chinchila}\n" + SKILL,
    "scale: {allocation: {}}\n" + SKILL,
    "scale: {axis: loss, allocation: besiroglu2024, range: [1.5, 4]}\n" + SKILL,
]

CORPUS = [case[0] for case in LOCATED] + ALLOCATION + BOUNDS


def check_messages(text: str) -> list[str]:
    try:
        capgraph.loads(text)
    except MapError as exc:
        return [p.message for p in exc.problems]
    return []


def schema_errors(text: str) -> list[str] | None:
    """The schema's complaints about the map's data; None if the text is not data at all."""
    try:
        data = parse_document(text).data
    except MapError:
        return None
    return [e.message for e in VALIDATOR.iter_errors(data)]


def inexpressible(messages: list[str]) -> list[str]:
    return [key for key in CANNOT if any(key in m for m in messages)]


def short(text: str) -> str:
    """A readable test id: the map's text on one line."""
    return " ".join(text.split())[:70]


@pytest.mark.parametrize("text", CORPUS, ids=short)
def test_schema_flags_every_problem_it_can_express(text):
    messages = check_messages(text)
    assert messages, "check must refuse every map of the corpus"
    flagged = schema_errors(text)
    if not flagged:
        assert inexpressible(messages), f"check says {messages}; the schema says nothing"


def test_the_inexpressible_list_is_exact():
    """Each listed problem occurs in the corpus, and there the schema indeed says nothing."""
    missed = set()
    for text in CORPUS:
        messages = check_messages(text)
        if not schema_errors(text):
            missed.update(inexpressible(messages))
    assert missed == set(CANNOT)


def test_the_inexpressible_list_is_documented():
    text = (ROOT / "docs" / "format.md").read_text()
    documented = re.search(r"\n## The JSON Schema\n(.*?)(?:\n## |\Z)", text, flags=re.S).group(1)
    for reason in CANNOT.values():
        assert reason.split(" (")[0] in documented, reason


def good_maps() -> list[str]:
    texts = [path.read_text() for path in GRAPHS]
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        texts += [b for b in re.findall(r"```yaml\n(.*?)```", path.read_text(), flags=re.S) if "skills:" in b]
    texts.append(json.dumps(generate(300, ranges=True)))  # every rule, ranges everywhere
    return texts


def test_the_schema_accepts_every_map_check_accepts(monkeypatch):
    monkeypatch.chdir(ROOT / "graphs")  # fit: data files are relative to the map
    checked = 0
    for text in good_maps():
        if check_messages(text):
            continue  # a fragment of a map in the docs, not a whole one
        assert schema_errors(text) == [], text[:200]
        checked += 1
    assert checked >= len(GRAPHS) + 2


@pytest.mark.parametrize(("kind_text", "good", "bad"), [
    ("threshold: {}\n" + SKILL, ["0.5", "'0.25'", "'.9'", "'5e-1'", "0.999"], ["'1.0'", "'0'", "'2e0'", "'50%'"]),
    (LOGISTIC.format("midpoint: {}, slope: 1"), ["7B", "'1.4T'", "3e9 to 3e10", "1e10", "'70 M'"],
     ["0", "'-1e9'", "7Q", "'0e5'"]),
    (LOGISTIC.format("midpoint: 1e10, slope: 1, floor: {}"), ["0", "'0.25'", "'1'", "0 to 0.3", "'1.0'"],
     ["'1.5'", "'05'", "0.2 to 2"]),
])
def test_number_text_forms(kind_text, good, bad):
    """Numbers written as text (YAML 1.1 reads 1e10 as text): the schema's patterns agree with check."""
    for value in good:
        text = kind_text.replace("{}", value)
        assert check_messages(text) == [] and schema_errors(text) == [], value
    for value in bad:
        text = kind_text.replace("{}", value)
        assert check_messages(text) and schema_errors(text), value


@pytest.mark.parametrize("value", ["slope: 2K", "slope: 1 to 2B", "floor: 0K"])
def test_the_schema_refuses_suffixes_where_no_scale_goes(value):
    """The one place the schema is stricter than check, which reads any number with a suffix."""
    text = LOGISTIC.format("midpoint: 1e10, slope: 1, " + value).replace("slope: 1, slope", "slope")
    assert schema_errors(text)
