"""The hostile corpus: bad, absurd and malicious input, each ending in a clear line and exit 1 or 2.

One table of cases, one parametrised test (issue 14). Each case gives the files it needs (a map,
data, a special file), the command line, the expected exit status and, for map content, the line
and the token where the problem must be reported (the column is the token's, found in the text).
Every case also checks that no traceback is printed, and the run stays in process (fast in CI).
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import invoke

S = "  s: {curve: {logistic: {midpoint: 1e10, slope: 1.5}}}\n"
T = "  t: {curve: {logistic: {midpoint: 1e11, slope: 1.0}}}\n"
SKILLS = "skills:\n" + S + T
CHAIN = SKILLS + "capabilities:\n  c: {requires: {s: 3, t: 1}}\n"
RANGED = "skills:\n  s: {curve: {logistic: {midpoint: 3e9 to 3e10, slope: 1.5}}}\n"
LOSS_MAP = "scale: {axis: loss, allocation: besiroglu2024, range: [2.0, 4.0]}\n"
CSV = "n,y,task\n" + "".join(
    f"{10 ** (8 + i / 4):.6g},{1 / (1 + math.exp(-1.5 * (8 + i / 4 - 10))):.6f},a\n" for i in range(17))
JSONL = "".join(json.dumps({"n": float(line.split(",")[0]), "y": float(line.split(",")[1])}) + "\n"
                for line in CSV.splitlines()[1:])
RUNS = "N,D,L\n" + "".join(
    f"{n:.4g},{20 * n:.4g},{1.8 + 482 / n ** 0.35 + 2085 / (20 * n) ** 0.37:.5f}\n"
    for n in (1e7, 3e7, 1e8, 3e8, 1e9, 3e9, 1e10, 3e10))
FIT_MAP = "skills:\n  s: {curve: {fit: {data: d.csv, x: n, y: y}}}\n"


def deep(opening: str, closing: str, depth: int, inner: str = "1") -> str:
    return opening * depth + inner + closing * depth


def block(depth: int) -> str:
    """A block mapping nested ``depth`` deep under an x- key (ignored by the format, read by YAML)."""
    return "x-deep:\n" + "".join(" " * (2 * i + 2) + f"k{i}:\n" for i in range(depth)) + " " * (
        2 * depth + 2) + "v\n"


def chain(n: int) -> str:
    return ("skills:\n  s0: {curve: {logistic: {midpoint: 1e10, slope: 1.5}}}\ncapabilities:\n"
            + "".join(f"  s{i}: {{requires: [s{i - 1}]}}\n" for i in range(1, n)))


def cycle(n: int) -> str:
    return SKILLS + "capabilities:\n" + "".join(
        f"  c{i}: {{requires: [c{(i + 1) % n}, s]}}\n" for i in range(n))


def alias_chain(n: int) -> str:
    return SKILLS + "x-a0: &a0 [1]\n" + "".join(f"x-a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, n))


BOMB = SKILLS + "x-a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"x-{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
    for p, c in zip("abcdefgh", "bcdefghi", strict=True))


KOFN_WIDE = ("threshold: 0.5\nskills:\n" + "".join(
    f"  k{i}: {{curve: {{logistic: {{midpoint: {10 ** (9 + i % 30 / 10):.3g}, slope: 1.5}}}}}}\n"
    for i in range(10_000)) + "capabilities:\n  c: {requires: [" + ", ".join(f"k{i}" for i in range(10_000))
    + "], combine: k_of_n, k: 5000}\n")


@dataclass
class Case:
    """One hostile input: ``files`` (name → text or bytes; ``m.yaml`` is ``{map}`` in ``args``)."""

    id: str
    args: list[str]
    code: int
    files: dict[str, str | bytes] = field(default_factory=dict)
    #: (line, token): the problem must be at this line, at the column where ``token`` starts in it.
    where: tuple[int, str] | None = None
    says: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    #: Corrupt every fit-cache entry with this function after a first, clean run.
    corrupt: object = None


def M(id, text, code=1, where=None, says=None, cmd="check", extra=(), env=None, name="m.yaml"):  # noqa: N802
    """A case over one map file."""
    return Case(id, [cmd, f"{{{name}}}", *extra], code, {name: text}, where, says, env or {})


def O(id, args, code=2, says=None, text=CHAIN, files=None):  # noqa: N802, E741, E743
    """A case over a command line (a usage error unless said otherwise)."""
    return Case(id, args, code, {"m.yaml": text, **(files or {})}, None, says)


def cache_case(id, corrupt):
    return Case(id, ["show", "{m.yaml}"], 0, {"m.yaml": FIT_MAP, "d.csv": CSV},
                says="ignored the fit-cache entry", corrupt=corrupt)


def _set(path, value):
    def corrupt(entry):
        target = entry["value"]
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        return entry
    return corrupt


CASES = [
    # --- YAML syntax and traps -----------------------------------------------------------------------
    M("empty", "", where=(1, ""), says="empty file"),
    M("only-comments", "# nothing here\n", says="empty file"),
    M("unclosed-flow", "skills:\n  s: {curve: {logistic: {midpoint: 1e10, slope: 1}}\n", says="YAML syntax"),
    M("tab-indent", "skills:\n\ts: {curve: {logistic: {midpoint: 1e10, slope: 1}}}\n", says="YAML"),
    M("bad-indent", "skills:\n  s:\n    curve: {}\n   x: 1\n", says="YAML syntax"),
    M("duplicate-skill", SKILLS + S, where=(4, "s:"), says="duplicate key 's'"),
    M("duplicate-top", SKILLS + "skills:\n" + S, where=(4, "skills"), says="duplicate key 'skills'"),
    M("python-tag", SKILLS + "x-t: !!python/object/apply:os.system [echo hi]\n", where=(4, "!!python"),
      says="not allowed"),
    M("custom-tag-map", "skills: !weird\n" + S, says="tag"),
    M("custom-tag-scalar", "name: !env HOME\n" + SKILLS, where=(1, "!env"), says="not allowed"),
    M("binary-tag", "name: !!binary aGVsbG8=\n" + SKILLS, where=(1, "!!binary"), says="not allowed"),
    M("set-tag", "x-s: !!set {a, b}\n" + SKILLS, where=(1, "!!set"), says="not allowed"),
    M("alias-bomb", BOMB, says="aliases expand"),
    M("alias-chain-300", alias_chain(300), says="nest lists and mappings more than 100"),
    M("merge-scalar", SKILLS + "capabilities:\n  c: {<<: 3, requires: [s]}\n", where=(5, "3"),
      says="merges only mappings"),
    M("merge-ok", SKILLS + "x-d: &d {threshold: 0.6}\ncapabilities:\n  c: {<<: *d, requires: [s]}\n", 0),
    M("yes-in-list", SKILLS + "capabilities:\n  c: {requires: [s, yes]}\n", says="yes"),
    M("yes-as-name", "skills:\n  yes: {curve: {logistic: {midpoint: 1e10, slope: 1}}}\n", 0),
    M("null-as-name", "skills:\n  null: {curve: {logistic: {midpoint: 1e10, slope: 1}}}\n", 0),
    M("date-as-name", "skills:\n  2024-01-01: {curve: {logistic: {midpoint: 1e10, slope: 1}}}\n", 0),
    M("two-documents", SKILLS + "---\n" + SKILLS, says="YAML"),
    M("complex-key", "skills:\n  ? [a, b]\n  : {curve: {logistic: {midpoint: 1e10, slope: 1}}}\n",
      where=(2, "[a"), says="plain name"),
    M("list-document", "- skills\n- s\n", where=(1, "-"), says="must be a mapping"),
    M("scalar-document", "just text\n", says="must be a mapping"),
    M("null-document", "~\n", where=(1, ""), says="must be a mapping"),
    M("skills-null", "skills: ~\n", where=(1, "~"), says="skills"),
    M("skills-list", "skills: [s, t]\n", where=(1, "["), says="skills"),
    M("key-2000-chars", "skills:\n  " + "k" * 2000 + ": {curve: {logistic: {midpoint: 1e10, slope: 1}}}\n",
      where=(2, ":"), says="YAML reads at most 1,024"),
    M("nul-byte", SKILLS + "name: a\0b\n", where=(4, "\0"), says="control character 0x00"),
    M("bell-char", SKILLS + "name: a\x07b\n", where=(4, "\x07"), says="control character 0x07"),
    M("escape-char-raw", SKILLS + "name: a\x1bb\n", where=(4, "\x1b"), says="control character 0x1b"),
    # the root mapping is level 1, so the 100th bracket is the first level over the limit
    M("flow-seq-500", SKILLS + "x-deep: " + deep("[", "]", 500) + "\n", where=(4, len("x-deep: ") + 100),
      says="nest more than 100 deep"),
    M("flow-map-500", SKILLS + "x-deep: " + deep("{a: ", "}", 500) + "\n", says="nest more than 100"),
    M("flow-seq-5000", SKILLS + "x-deep: " + deep("[", "]", 5000) + "\n", says="nest more than 100"),
    M("block-nest-150", SKILLS + block(150), says="nest more than 100"),
    M("flow-nest-101", SKILLS + "x-deep: " + deep("[", "]", 100) + "\n", says="nest more than 100"),
    M("flow-nest-95-ok", SKILLS + "x-deep: " + deep("[", "]", 95) + "\n", 0),
    M("nest-limit-raised", SKILLS + "x-deep: " + deep("[", "]", 150) + "\n", 0,
      env={"CAPGRAPH_MAX_NESTING": "300"}),
    M("nest-limit-lowered", CHAIN, says="CAPGRAPH_MAX_NESTING", env={"CAPGRAPH_MAX_NESTING": "2"}),
    M("brackets-in-strings", SKILLS + "description: '" + "]" * 300 + "[" * 300 + "'\n", 0),
    M("huge-indent-scalar", SKILLS + "description: |\n" + " " * 400 + "indented text\n", 0),
    # --- encodings -------------------------------------------------------------------------------------
    M("utf16-le", SKILLS.encode("utf-16"), says="UTF-16"),
    M("utf16-be", b"\xfe\xff" + SKILLS.encode("utf-16-be"), says="UTF-16"),
    M("utf32", SKILLS.encode("utf-32"), says="UTF-32"),
    M("utf16-no-bom", SKILLS.encode("utf-16-le"), says="control character 0x00"),
    M("utf8-bom-ok", b"\xef\xbb\xbf" + SKILLS.encode(), 0),
    M("invalid-utf8", (SKILLS + "name: caf\xe9\n").encode("latin-1"), where=(4, "\xe9"), says="not UTF-8"),
    M("overlong-utf8", SKILLS.encode() + b"name: \xc0\xaf\n", says="not UTF-8: byte 0xc0"),
    M("surrogate-utf8", SKILLS.encode() + b"name: \xed\xa0\x80\n", says="not UTF-8"),
    M("truncated-utf8", SKILLS.encode() + b"name: \xe2\x82\n", says="not UTF-8"),
    M("json-utf16", '{"skills": {}}'.encode("utf-16"), says="UTF-16", name="m.json"),
    # --- JSON ----------------------------------------------------------------------------------------
    M("json-deep-500", '{"skills": {}, "x-d": ' + deep("[", "]", 500) + "}", where=(1, 22 + 100),
      says="nest more than 100", name="m.json"),
    M("json-deep-5000", '{"x-d": ' + deep("[", "]", 5000) + "}", says="nest more than 100", name="m.json"),
    M("json-deep-objects", '{"x-d": ' + deep('{"a": ', "}", 400) + "}", says="nest more than 100",
      name="m.json"),
    M("json-nan", '{"skills": {"s": {"curve": {"logistic": {"midpoint": NaN, "slope": 1}}}}}',
      where=(1, "NaN"), says="not a number", name="m.json"),
    M("json-infinity", '{"skills": {"s": {"curve": {"logistic": {"midpoint": 1e10, "slope": Infinity}}}}}',
      where=(1, "Infinity"), says="not a number", name="m.json"),
    M("json-1e999", '{"skills": {"s": {"curve": {"logistic": {"midpoint": 1e999, "slope": 1}}}}}',
      where=(1, "1e999"), says="finite", name="m.json"),
    M("json-duplicate", '{"skills": {"s": {"curve": {"logistic": {"midpoint": 1e10, "slope": 1}}}},\n'
      ' "skills": {}}', where=(2, '"skills"'), says="duplicate key", name="m.json"),
    M("json-syntax", '{"skills": {"s": }}', where=(1, "}}"), says="JSON syntax error", name="m.json"),
    M("json-trailing-comma", '{"skills": {},}', says="JSON syntax error", name="m.json"),
    M("json-null", "null", says="empty file", name="m.json"),
    M("json-array", "[1, 2]", says="must be a mapping", name="m.json"),
    M("json-escaped-esc", '{"skills": {"a\\u001b[31mok": {"curve": {"logistic": {"midpoint": 1e10, '
      '"slope": 1}}}}}', 0, cmd="show", says="a\\x1b[31mok", name="m.json"),
    # --- numbers -------------------------------------------------------------------------------------
    *[M(f"midpoint-{tag}", f"skills:\n  s: {{curve: {{logistic: {{midpoint: {v}, slope: 1}}}}}}\n",
        where=(2, v), says=msg) for tag, v, msg in [
        ("nan", ".nan", "finite"), ("inf", ".inf", "finite"), ("neg-inf", "-.inf", "finite"),
        ("negative", "-1e10", "positive"), ("zero", "0", "positive"), ("1e400", "1e400", "finite"),
        ("text-nan", "NaN", "not a number"), ("text-inf", "inf", "not a number"),
        ("suffix", "7X", "not a number"), ("bool", "true", "number"), ("list", "[1]", "number"),
        ("thousands", "'1,000'", "not a number"), ("reversed-range", "'1e10 to 1e9'", "reversed")]],
    *[M(f"slope-{tag}", f"skills:\n  s: {{curve: {{logistic: {{midpoint: 1e10, slope: {v}}}}}}}\n",
        where=(2, token), says=msg) for tag, v, token, msg in [
        ("zero", "0", "slope: |0", "greater than 0"), ("negative", "-1", "-1", "greater than 0"),
        ("nan", ".nan", ".nan", "finite"),
        # a problem with a whole interval points at its key
        ("interval-nan", "{p5: 1, p95: .nan}", "slope", "finite"),
        ("interval-keys", "{lo: 1, hi: 2}", "slope", "p5")]],
    M("floor-above-one", "skills:\n  s: {curve: {logistic: {midpoint: 1e10, slope: 1, floor: 1.5}}}\n",
      where=(2, "1.5"), says="between 0 and 1"),
    M("floor-over-ceiling", "skills:\n  s: {curve: {logistic: {midpoint: 1e10, slope: 1, floor: 0.6, "
      "ceiling: 0.5}}}\n", where=(2, "0.5"), says="below ceiling"),
    *[M(f"threshold-{tag}", f"threshold: {v}\n" + SKILLS, where=(1, v), says=msg) for tag, v, msg in [
        ("one", "1", "strictly between"), ("zero", "0", "strictly between"), ("nan", ".nan", "finite"),
        ("text", "high", "not a number")]],
    *[M(f"weight-{tag}", SKILLS + f"capabilities:\n  c: {{requires: {{s: {v}}}}}\n", where=(5, v),
        says=msg) for tag, v, msg in [
        ("zero", "0", "greater than 0"), ("negative", "-2", "greater than 0"), ("inf", ".inf", "finite"),
        ("nan", ".nan", "finite")]],
    # a problem found by the requires validator points at requires, and names the child
    M("weight-bool", SKILLS + "capabilities:\n  c: {requires: {s: true}}\n", where=(5, "requires"),
      says="'s': expected a count, got true"),
    M("k-zero", SKILLS + "capabilities:\n  c: {requires: {s: 2}, combine: k_of_n, k: 0}\n", where=(5, "0}"),
      says="greater than or equal to 1"),
    M("k-fraction", SKILLS + "capabilities:\n  c: {requires: {s: 2}, combine: k_of_n, k: 1.5}\n",
      where=(5, "1.5"), says="k"),
    M("k-over-trials", SKILLS + "capabilities:\n  c: {requires: {s: 2}, combine: k_of_n, k: 3}\n",
      where=(5, "3}"), says="only 2 trial"),
    M("k-million", SKILLS + "capabilities:\n  c: {requires: {s: 2}, combine: k_of_n, k: 1000000}\n",
      where=(5, "1000000"), says="only 2 trial"),
    M("k-of-n-billion-trials-ok", SKILLS + "capabilities:\n  c: {requires: {s: 1000000000}, combine: k_of_n, "
      "k: 500000000, threshold: 0.5}\n", 0, cmd="predict"),
    M("k-of-n-1e19-trials", SKILLS + "capabilities:\n  c: {requires: {s: 1e19}, combine: k_of_n, k: 3}\n",
      where=(5, "3}"), says="CAPGRAPH_MAX_TRIALS"),
    M("k-of-n-over-hard-max", SKILLS + "capabilities:\n  c: {requires: {s: 1e19}, combine: k_of_n, k: 3}\n",
      where=(5, "3}"), says="over the limit", env={"CAPGRAPH_MAX_TRIALS": "100000000000000000000"}),
    M("k-of-n-1e308-counts", SKILLS + "capabilities:\n  c: {requires: {s: 1e308, t: 1e308}, combine: k_of_n, "
      "k: 3}\n", where=(5, "3}"), says="over the limit"),
    M("k-of-n-trials-env-ok", SKILLS + "capabilities:\n  c: {requires: {s: 150}, combine: k_of_n, k: 3}\n",
      0, env={"CAPGRAPH_MAX_TRIALS": "200"}),
    M("k-of-n-trials-lowered", SKILLS + "capabilities:\n  c: {requires: {s: 150}, combine: k_of_n, k: 3}\n",
      where=(5, "3}"), says="limit of 100", env={"CAPGRAPH_MAX_TRIALS": "100"}),
    # 10,000 children (30 curves, each 333 times): the bottleneck of the normal approximation's sums,
    # not a 10,000 × 10,000 table of nudged parents (58 s and 7.9 GB before)
    M("k-of-n-10000-children", KOFN_WIDE, 0, cmd="predict", says="k1004"),
    M("tokens-per-param-1e300", "scale: {tokens_per_param: 1e300}\n" + SKILLS, where=(1, "tokens_per_param"),
      says="beyond 1e±300"),
    M("range-1e-400", "scale: {range: [1e-400, 1e10]}\n" + SKILLS, where=(1, "1e-400"), says="positive"),
    M("range-huge", "scale: {range: [1e10, 1e200]}\n" + SKILLS, where=(1, "range"), says="beyond 1e±300"),
    M("range-reversed", "scale: {range: [1e14, 1e8]}\n" + SKILLS, where=(1, "[1e14"), says="low < high"),
    M("data-limit-negative", "scale: {data_limit: -1}\n" + SKILLS, where=(1, "-1"), says="positive"),
    M("growth-one", SKILLS + "timeline: {start: 2024-01-01, flops: 1e25, growth_per_year: 1}\n",
      where=(4, "1}"), says="greater than 1"),
    M("bad-date", SKILLS + "timeline: {start: 2024-13-45, flops: 1e25, growth_per_year: 4}\n",
      where=(4, "2024-13-45"), says="date"),
    M("points-unordered", "skills:\n  s: {curve: {points: [[1e9, 0.1], [1e8, 0.5]]}}\n", where=(2, "curve"),
      says="strictly increasing"),
    M("points-nan", "skills:\n  s: {curve: {points: [[1e8, .nan], [1e9, 0.5]]}}\n", where=(2, "[1e8"),
      says="finite"),
    M("allocation-empty", "scale: {allocation: {}}\n" + SKILLS, where=(1, "allocation"),
      says="needs tokens_per_param, loss_law or both"),
    M("loss-law-nan", "scale: {allocation: {loss_law: {E: .nan, A: 1, B: 1, alpha: 0.3, beta: 0.3}}}\n"
      + SKILLS, where=(1, ".nan"), says="finite"),
    M("mean-1e308", SKILLS + "capabilities:\n  c: {requires: {s: 1e308, t: 1e308}, combine: mean}\n", 0,
      cmd="at", extra=["1e10"], says="0.3845"),  # (0.5 + 0.2689) / 2
    M("geomean-1e308", SKILLS + "capabilities:\n  c: {requires: {s: 1e308, t: 1e308}, combine: geomean}\n",
      0, cmd="at", extra=["1e10"], says="0.3667"),  # sqrt(0.5 · 0.2689)
    # --- names ---------------------------------------------------------------------------------------
    M("name-escape-check", 'skills:\n  "a\\e[2K\\rok": {curve: {logistic: {midpoint: 1e10, slope: 1}}}\n'
      'capabilities:\n  c: {requires: ["a\\e[2K\\rok", zz]}\n', where=(4, "zz"), says="'zz' is not a skill"),
    M("name-escape-show", 'skills:\n  "a\\e[2K\\rok": {curve: {logistic: {midpoint: 1e10, slope: 1}}}\n', 0,
      cmd="show", says="a\\x1b[2K"),
    M("name-escape-predict", 'threshold: 0.5\nskills:\n  "\\e]0;title\\a": {curve: {logistic: {midpoint: 1e10, '
      'slope: 1}}, threshold: 0.5}\n', 0, cmd="predict", says="\\x1b]0;title"),
    M("name-c1-csi", 'skills:\n  "a\\x9b31mb": {curve: {logistic: {midpoint: 1e10, slope: 1}}}\n', 0, cmd="show",
      says="a\\x9b31mb"),
    M("name-markup", 'skills:\n  "[/][bold]x[/bold]": {curve: {logistic: {midpoint: 1e10, slope: 1}}, '
      'threshold: 0.5}\n', 0, cmd="predict", says="[/][bold]x[/bold]"),
    M("name-newline", 'skills:\n  "two\\nlines": {curve: {logistic: {midpoint: 1e10, slope: 1}}}\n'
      'capabilities:\n  c: {requires: {"two\\nlines": 1, nope: 1}}\n', where=(4, "nope"), says="'nope'"),
    M("name-empty", 'skills:\n  "": {curve: {logistic: {midpoint: 1e10, slope: 1}}}\n', 0, cmd="show"),
    M("name-skill-and-cap", SKILLS + "capabilities:\n  s: {requires: [t]}\n", where=(5, "s:"),
      says="defined as a skill too"),
    M("name-did-you-mean", SKILLS + "capabilities:\n  c: {requires: {ss: 2}}\n", where=(5, "ss"),
      says="did you mean 's'"),
    M("self-cycle", SKILLS + "capabilities:\n  c: {requires: [c]}\n", where=(5, "c]"), says="cycle: c → c"),
    M("cycle-1000", cycle(1000), says="cycle: c0 → c1 → c2"),
    M("show-chain-1000", chain(1000), 0, cmd="show", says="more level(s) below"),
    M("predict-chain-300", chain(300), 0, cmd="predict"),
    M("name-10k-dot", json.dumps({"skills": {"n" * 10000: {"curve": {"logistic": {"midpoint": 1e10,
      "slope": 1}}, "description": "d" * 16500}}}), 0, cmd="render", extra=["-o", "{out.dot}"],
      name="m.json"),
    M("description-16k-svg", "skills:\n  s: {curve: {logistic: {midpoint: 1e10, slope: 1}}, description: "
      + "x" * 16500 + "}\n", 0, cmd="render", extra=["-o", "{out.svg}"]),
    M("title-100k-svg", "name: " + "t" * 100_000 + "\n" + SKILLS, 0, cmd="render", extra=["-o", "{out.svg}"]),
    # --- scenario patches ------------------------------------------------------------------------------
    M("scenario-baseline", SKILLS + "scenarios:\n  baseline: {efficiency: 2}\n", where=(5, "baseline"),
      says="reserved"),
    M("scenario-new-node", SKILLS + "scenarios:\n  more:\n    skills:\n      u: {curve: {}}\n",
      where=(7, "u:"), says="changes existing nodes only"),
    M("scenario-bad-value", SKILLS + "scenarios:\n  fast:\n    skills:\n      s: {curve: {logistic: {slope: "
      "-1}}}\n", where=(7, "-1"), says="scenario 'fast'"),
    M("scenario-efficiency-nan", SKILLS + "scenarios:\n  x: {efficiency: .nan}\n", where=(5, ".nan"),
      says="finite"),
    M("scenario-efficiency-zero", SKILLS + "scenarios:\n  x: {efficiency: 0}\n", where=(5, "0}"),
      says="greater than 0"),
    M("scenario-skills-scalar", SKILLS + "scenarios:\n  x: {skills: 3}\n", where=(5, "3"), says="dictionary"),
    M("scenario-unknown-key", SKILLS + "scenarios:\n  x: {effciency: 2}\n", where=(5, "effciency"),
      says="did you mean 'efficiency'"),
    M("scenario-delete-curve", SKILLS + "scenarios:\n  x:\n    skills:\n      s: {curve: null}\n",
      where=(7, "curve"), says="missing required key 'curve'"),
    M("scenario-cycle", CHAIN + "  d: {requires: [c]}\nscenarios:\n  x:\n    capabilities:\n"
      "      c: {requires: [d]}\n", says="cycle"),
    M("scenario-deep", SKILLS + "scenarios:\n  x: {description: " + deep("[", "]", 300) + "}\n",
      says="nest more than 100"),
    M("scenario-threshold-two", SKILLS + "scenarios:\n  x: {threshold: 2}\n", where=(5, "2}"),
      says="strictly between"),
    M("scenarios-list", SKILLS + "scenarios: [a, b]\n", where=(4, "["), says="dictionary"),
    O("predict-scenario-unknown", ["predict", "{m.yaml}", "--scenario", "nope"], says="no scenario 'nope'"),
    O("predict-scenario-baseline", ["predict", "{m.yaml}", "--scenario", "baseline"], 0),
    O("compare-ok", ["compare", "{m.yaml}"], 0, text=CHAIN + "scenarios:\n  fast: {efficiency: 10}\n"),
    # --- data files ------------------------------------------------------------------------------------
    O("fit-dev-zero", ["fit", "/dev/zero", "--x", "n", "--y", "y"], 1, says="is a device"),
    O("fit-dev-urandom", ["fit", "/dev/urandom", "--x", "n", "--y", "y"], 1, says="is a device"),
    O("fit-empty-directory", ["fit", "{dir}", "--x", "n", "--y", "y"], 1, says="no *.json files"),
    O("fit-fifo", ["fit", "{fifo}", "--x", "n", "--y", "y"], 1, says="named pipe"),
    O("fit-missing", ["fit", "{nope.csv}", "--x", "n", "--y", "y"], 1, says="no such data file"),
    O("fit-empty", ["fit", "{d.csv}", "--x", "n", "--y", "y"], 1, says="empty data file", files={"d.csv": ""}),
    O("fit-utf16", ["fit", "{d.csv}", "--x", "n", "--y", "y"], 1, says="UTF-16",
      files={"d.csv": CSV.encode("utf-16")}),
    O("fit-invalid-utf8", ["fit", "{d.csv}", "--x", "n", "--y", "y"], 1, says="not UTF-8",
      files={"d.csv": CSV.encode() + b"1e9,\xff\n"}),
    O("fit-ragged-row", ["fit", "{d.csv}", "--x", "n", "--y", "y"], 1, says="d.csv:19:1: 2 fields",
      files={"d.csv": CSV + "1e9,0.5\n"}),
    O("fit-duplicate-header", ["fit", "{d.csv}", "--x", "n", "--y", "y"], 1, says="appears twice",
      files={"d.csv": "n,n\n1,2\n"}),
    O("fit-empty-header", ["fit", "{d.csv}", "--x", "n", "--y", "y"], 1, says="empty column name",
      files={"d.csv": "n,,y\n1,2,3\n"}),
    O("fit-huge-field", ["fit", "{d.csv}", "--x", "n", "--y", "y"], 1, says="CSV error",
      files={"d.csv": 'n,y\n"' + "x" * 200_000 + '",1\n'}),
    O("fit-jsonl-deep", ["fit", "{d.jsonl}", "--x", "n", "--y", "y"], 1, says="d.jsonl:2:",
      files={"d.jsonl": '{"n": 1, "y": 0.5}\n{"n": ' + deep("[", "]", 2000) + ', "y": 0.5}\n'}),
    O("fit-jsonl-not-object", ["fit", "{d.jsonl}", "--x", "n", "--y", "y"], 1, says="d.jsonl:2:1: each line",
      files={"d.jsonl": '{"n": 1, "y": 0.5}\n[1, 2]\n'}),
    O("fit-jsonl-invalid", ["fit", "{d.jsonl}", "--x", "n", "--y", "y"], 1, says="d.jsonl:2:",
      files={"d.jsonl": '{"n": 1, "y": 0.5}\n{"n": 1,, "y": 2}\n'}),
    O("fit-jsonl-nan-cells", ["fit", "{d.jsonl}", "--x", "n", "--y", "y", "--bootstrap", "0"], 0,
      says="1 skipped", files={"d.jsonl": JSONL + '{"n": NaN, "y": 0.5}\n'}),
    O("fit-score-above-one", ["fit", "{d.csv}", "--x", "n", "--y", "y"], 1, says="score in [0, 1]",
      files={"d.csv": CSV + "1e12,7,a\n"}),
    O("fit-too-few-rows", ["fit", "{d.csv}", "--x", "n", "--y", "y"], 1, says="usable row",
      files={"d.csv": "n,y\n1e9,0.1\n"}),
    O("fit-missing-column", ["fit", "{d.csv}", "--x", "n", "--y", "score"], 1, says="no column 'score'",
      files={"d.csv": CSV}),
    O("fit-size-limit", ["fit", "{d.csv}", "--x", "n", "--y", "y"], 1, says="CAPGRAPH_MAX_DATA_BYTES",
      files={"d.csv": CSV}),
    M("fit-map-missing-data", FIT_MAP, where=(2, "d.csv"), says="no such data file"),
    M("fit-map-dev-zero", "skills:\n  s: {curve: {fit: {data: /dev/zero, x: n, y: y}}}\n",
      where=(2, "/dev/zero"), says="is a device"),
    M("fit-map-loss-axis", LOSS_MAP + FIT_MAP, where=(3, "fit"), says="axis is loss"),
    O("fit-loss-same-column", ["fit-loss", "{r.csv}", "--params", "N", "--tokens", "N", "--loss", "L"],
      says="more than one", files={"r.csv": RUNS}),
    O("fit-loss-seed-negative", ["fit-loss", "{r.csv}", "--params", "N", "--tokens", "D", "--loss", "L",
                                 "--seed", "-1"], says="--seed", files={"r.csv": RUNS}),
    O("fit-loss-fifo", ["fit-loss", "{fifo}", "--params", "N", "--tokens", "D", "--loss", "L"], 1,
      says="named pipe"),
    O("fit-loss-huge-field", ["fit-loss", "{r.csv}", "--params", "N", "--tokens", "D", "--loss", "L"], 1,
      says="CSV error", files={"r.csv": 'N,D,L\n"' + "1" * 200_000 + '",1,1\n'}),
    O("fit-loss-nan-min-tokens", ["fit-loss", "{r.csv}", "--params", "N", "--tokens", "D", "--loss", "L",
                                  "--min-tokens-per-param", "nan"], says="--min-tokens-per-param", files={"r.csv": RUNS}),
    cache_case("cache-nan-slope", _set(["curve", "logistic", "slope"], float("nan"))),
    cache_case("cache-zero-midpoint", _set(["curve", "logistic", "midpoint"], 0)),
    cache_case("cache-negative-slope", _set(["curve", "logistic", "slope"], -1.5)),
    cache_case("cache-inf-midpoint", _set(["curve", "logistic", "midpoint"], float("inf"))),
    cache_case("cache-floor-at-ceiling", _set(["curve", "logistic", "floor"], 1.0)),
    cache_case("cache-fixed-floor-moved", _set(["curve", "logistic", "floor"], 0.3)),
    cache_case("cache-interval-reversed", _set(["intervals"], {"slope": [2.0, 1.0]})),
    cache_case("cache-unknown-curve", _set(["curve"], {"sigmoid": {"a": 1}})),
    cache_case("cache-negative-rows", _set(["n_used"], -3)),
    cache_case("cache-text-slope", _set(["curve", "logistic", "slope"], "steep")),
    cache_case("cache-not-json", lambda entry: "{not json"),
    cache_case("cache-wrong-key", lambda entry: {**entry, "key": "0" * 64}),
    cache_case("cache-deep", lambda entry: deep("[", "]", 5000, "")),
    # --- special files as maps ---------------------------------------------------------------------------
    O("map-dev-zero", ["check", "/dev/zero"], 1, says="is a device"),
    O("map-dev-null", ["check", "/dev/null"], 1, says="is a device"),
    O("map-directory", ["check", "{dir}"], 1, says="is a directory"),
    O("map-fifo", ["predict", "{fifo}"], 1, says="named pipe (FIFO)"),
    O("map-missing", ["show", "{nope.yaml}"], 1, says="no such file"),
    O("map-size-limit", ["check", "{m.yaml}"], 1, says="CAPGRAPH_MAX_FILE_BYTES"),
    O("map-symlink-ok", ["check", "{link.yaml}"], 0),
    O("check-many-one-bad", ["check", "{m.yaml}", "{dir}", "/dev/zero"], 1, says="is a directory"),
    # --- CLI options ---------------------------------------------------------------------------------
    O("samples-zero", ["predict", "{m.yaml}", "--samples", "0"], 0),  # no draws: the point estimate
    O("samples-negative", ["predict", "{m.yaml}", "--samples", "-5"]),
    O("samples-float", ["predict", "{m.yaml}", "--samples", "1e9"]),
    O("samples-billion", ["predict", "{m.yaml}", "--samples", "1000000000"], says="CAPGRAPH_MAX_MEMORY",
      text=RANGED),
    O("samples-23-digits", ["predict", "{m.yaml}", "--samples", "99999999999999999999999"],
      says="over the limit", text=RANGED),
    O("samples-at-billion", ["at", "{m.yaml}", "1e10", "--samples", "1000000000"], says="--samples",
      text=RANGED),
    O("seed-negative", ["predict", "{m.yaml}", "--seed", "-1"]),
    *[O(f"at-{tag}", ["at", "{m.yaml}", v], says=msg) for tag, v, msg in [
        ("nan", "nan", "not a number"), ("inf", "inf", "not a number"), ("negative", "-1", "-1"),
        ("1e300", "1e300", "largest scale"), ("1e400", "1e400", "finite"), ("text", "big", "not a number"),
        ("empty", "", "not a number")]],
    O("at-json-1e300", ["at", "--json", "{m.yaml}", "1e300"], says="largest scale"),
    O("at-unit-bogus", ["at", "{m.yaml}", "1e10", "--unit", "furlongs"], says="--unit"),
    O("at-loss-without-law", ["at", "{m.yaml}", "2.5", "--unit", "loss"], says="loss law"),
    O("by-nan", ["predict", "{m.yaml}", "--by", "nan"], says="--by"),
    O("by-1e300", ["predict", "{m.yaml}", "--by", "1e300"], says="largest scale"),
    O("data-limit-nan", ["predict", "{m.yaml}", "--data-limit", "nan"], says="--data-limit"),
    O("option-data-limit-negative", ["predict", "{m.yaml}", "--data-limit", "-1"], says="--data-limit"),
    O("render-at-1e154", ["render", "{m.yaml}", "-o", "{out.svg}", "--at", "1e154"], says="largest scale"),
    O("report-at-1e154", ["report", "{m.yaml}", "-o", "{out.html}", "--at", "1e154"], says="largest scale"),
    O("render-over-input", ["render", "{m.svg}", "-o", "{m.svg}"], says="the map being read",
      files={"m.svg": CHAIN}),
    O("render-over-input-relative", ["render", "{m.dot}", "-o", "{./m.dot}"], says="the map being read",
      files={"m.dot": CHAIN}),
    O("report-over-input", ["report", "{m.html}", "-o", "{m.html}"], says="the map being read",
      files={"m.html": CHAIN}),
    O("plot-over-input", ["plot", "{m.svg}", "-o", "{m.svg}"], says="the map being read", files={"m.svg": CHAIN}),
    O("render-unknown-format", ["render", "{m.yaml}", "-o", "{out.txt}"], says="cannot tell the format"),
    O("render-depth-negative", ["render", "{m.yaml}", "-o", "{out.dot}", "--focus", "c", "--depth", "-1"]),
    O("render-focus-unknown", ["render", "{m.yaml}", "-o", "{out.dot}", "--focus", "cc"], says="did you mean"),
    O("render-into-missing-dir", ["render", "{m.yaml}", "-o", "{nodir/out.dot}"], 1, says="cannot write"),
    *[O(f"plot-length-{tag}", ["plot", "{m.yaml}", "c", "-o", "{out.svg}", "--lenses", "--length", v],
        says="--length") for tag, v in [("nan", "nan"), ("inf", "inf"), ("negative", "-2"), ("zero", "0")]],
    O("plot-options-one", ["plot", "{m.yaml}", "c", "-o", "{out.svg}", "--lenses", "--options", "1"]),
    O("fit-floor-nan", ["fit", "{d.csv}", "--x", "n", "--y", "y", "--floor", "nan"], says="finite",
      files={"d.csv": CSV}),
    O("fit-ceiling-inf", ["fit", "{d.csv}", "--x", "n", "--y", "y", "--ceiling", "inf"], says="--ceiling",
      files={"d.csv": CSV}),
    O("fit-ceiling-nan", ["fit", "{d.csv}", "--x", "n", "--y", "y", "--ceiling", "nan"], says="--ceiling",
      files={"d.csv": CSV}),
    O("fit-bootstrap-negative", ["fit", "{d.csv}", "--x", "n", "--y", "y", "--bootstrap", "-1"],
      files={"d.csv": CSV}),
    O("fit-where-malformed", ["fit", "{d.csv}", "--x", "n", "--y", "y", "--where", "task"], says="COLUMN=VALUE",
      files={"d.csv": CSV}),
    O("backtest-cutoff-nan", ["backtest", "{d.csv}", "--x", "n", "--y", "y", "--cutoff", "nan"],
      says="--cutoff", files={"d.csv": CSV}),
    O("backtest-threshold-nan", ["backtest", "{d.csv}", "--x", "n", "--y", "y", "--cutoff", "1e10",
                                 "--threshold", "nan"], says="--threshold", files={"d.csv": CSV}),
    O("lens-length-nan", ["lens", "{d.csv}", "--x", "n", "--y", "y", "--length", "nan"], says="--length",
      files={"d.csv": CSV}),
    O("lens-length-inf", ["lens", "{d.csv}", "--x", "n", "--y", "y", "--length", "inf"], says="--length",
      files={"d.csv": CSV}),
    O("unknown-command", ["frobnicate", "{m.yaml}"]),
    O("unknown-option", ["check", "{m.yaml}", "--frobnicate"]),
]


def _expand(arg: str, folder: Path) -> str:
    """``{name}`` in an argument is a path in the case's folder (``{dir}``, ``{fifo}``: special files)."""
    return re.sub(r"\{([^}]*)\}", lambda m: str(folder / m.group(1)), arg)


def _prepare(case: Case, folder: Path, monkeypatch) -> None:
    for name, content in case.files.items():
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    (folder / "dir").mkdir()
    os.mkfifo(folder / "fifo")
    (folder / "link.yaml").symlink_to(folder / "m.yaml")
    for key, value in case.env.items():
        monkeypatch.setenv(key, value)
    if case.id.endswith("size-limit"):
        monkeypatch.setenv("CAPGRAPH_MAX_FILE_BYTES", "64")
        monkeypatch.setenv("CAPGRAPH_MAX_DATA_BYTES", "64")


def test_corpus_is_large():
    assert len(CASES) >= 150
    assert len({c.id for c in CASES}) == len(CASES), "case ids must be unique"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_hostile(case: Case, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _prepare(case, tmp_path, monkeypatch)
    args = [_expand(a, tmp_path) for a in case.args]
    if case.corrupt is not None:
        invoke(*args, code=0)  # a clean run fills the cache; then every entry is corrupted
        for entry_path in Path(os.environ["CAPGRAPH_CACHE_DIR"]).glob("*.json"):
            entry = case.corrupt(json.loads(entry_path.read_text()))
            entry_path.write_text(entry if isinstance(entry, str) else json.dumps(entry))
    result = invoke(*args, code=case.code)
    output = result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in output
    assert "\x1b" not in output, "a control character reached the terminal"
    if case.says is not None:
        assert case.says in result.flat or case.says in output, output
    if case.where is not None:
        line, token = case.where
        text = next(iter(case.files.values()))
        if isinstance(text, bytes):
            text = text.decode("latin-1")
        row = text.splitlines()[line - 1] if text else ""
        if isinstance(token, int):  # a column given outright
            col = token
        elif "|" in token:  # "slope: |0": the column of what follows the bar, found after its prefix
            before, _, after = token.partition("|")
            col = row.index(before + after) + len(before) + 1
        else:
            col = row.index(token) + 1 if token else 1
        name = next(iter(case.files))
        assert f"{name}:{line}:{col}:" in output, output


def test_limits_are_documented():
    """docs/format.md lists every limit with its variable and its default."""
    from capgraph.core import limits

    text = (Path(__file__).resolve().parent.parent / "docs" / "format.md").read_text(encoding="utf-8")
    for limit in (v for v in vars(limits).values() if isinstance(v, limits.Limit)):
        shown = limits.human_bytes(limit.default) if limit.in_bytes else f"{limit.default:,}"
        assert f"| `{limit.env}` | {shown} |" in text, limit.env


def test_wide_k_of_n_bottleneck_scores_match_a_parent_per_pair(monkeypatch):
    """The sums-based scores of a wide k-of-n parent are the nudged-parent scores they replace."""
    import numpy as np

    import capgraph
    from capgraph.engine import predict

    rng = np.random.default_rng(5)
    mids = 10 ** rng.uniform(9.5, 10.5, 1200)
    text = ("threshold: 0.5\nskills:\n" + "".join(
        f"  k{i}: {{curve: {{logistic: {{midpoint: {m:.6g}, slope: {s:.3f}}}}}}}\n"
        for i, (m, s) in enumerate(zip(mids, rng.uniform(0.5, 3, 1200), strict=True)))
        + "capabilities:\n  c: {requires: {" + ", ".join(f"k{i}: {1 + i % 3}" for i in range(1200))
        + "}, combine: k_of_n, k: 1200}\n")
    scores = []
    real = predict.bottleneck_scores

    def keep(*args):
        scores.append(real(*args))
        return scores[-1]

    monkeypatch.setattr(predict, "bottleneck_scores", keep)
    found = [p.bottleneck for p in capgraph.loads(text).predict()]  # 1,200 × 1,200 cells: by the sums
    monkeypatch.setattr(predict, "_PAIR_TABLE", 10**12)
    before = [p.bottleneck for p in capgraph.loads(text).predict()]  # a parent per pair, as before
    assert found == before
    (rows, kids, new, _), (rows2, kids2, old, _) = scores
    a, b = np.lexsort((kids, rows)), np.lexsort((kids2, rows2))
    assert np.array_equal(kids[a], kids2[b])
    np.testing.assert_allclose(new[a], old[b], rtol=1e-5, atol=1e-9 * np.abs(old).max())


@pytest.mark.parametrize("lens, param", [("pass_at", "k"), ("multiple_choice", "options")])
@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_a_whole_lens_parameter_beyond_2_to_the_53_is_a_located_error(tmp_path, lens, param, suffix):
    """A JSON or YAML integer too large for a float (10^400) was an OverflowError traceback."""
    value = 10**400
    text = ('{"skills": {"a": {"curve": {"logistic": {"midpoint": 1e9, "slope": 2}}, "threshold": 0.5, '
            f'"metric": {{"{lens}": {{"{param}": {value}}}}}}}}}}}')
    path = tmp_path / f"m{suffix}"
    path.write_text(text)
    for command in ("check", "predict"):
        result = invoke(command, path, code=1)
        assert f"{param}: must be less than or equal to 9007199254740992" in result.flat
        assert "Traceback" not in result.output
    path.write_text(text.replace(str(value), str(2**53)))  # the largest: held exactly
    invoke("predict", path)
