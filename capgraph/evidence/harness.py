"""Evaluation-harness outputs as rows: lm-evaluation-harness results (both layouts), Every Eval Ever
records, a table of model facts joined on, and subtask groups averaged.

Forecasters start from the JSON files their harness wrote, one per model or checkpoint. Each file
becomes one row per (task, metric, filter) with the columns of :data:`COLUMNS`:

- the **older layout** (``results.<task>.<metric>`` beside ``<metric>_stderr``, the shots in
  ``config.num_fewshot``) leaves ``filter`` blank;
- the **current layout** (``results.<task>["<metric>,<filter>"]`` beside
  ``"<metric>_stderr,<filter>"``, the shots per task in ``n-shot``, ``model_name``) fills it;
- an **Every Eval Ever** record (``model_info`` and a list of ``evaluation_results``, each with a
  ``score_details.score`` and maybe ``uncertainty.standard_error.value``) gives one row a result,
  ``metric`` from its ``metric_config`` (``metric_name`` or ``metric_id``, else ``score``).

``model`` is the ``pretrained`` argument of ``config.model_args`` (a ``k=v,k=v`` string in any
order, or a dict), else ``model_name``; ``revision`` is its ``revision`` argument, blank if none.
A file that is none of these, or is broken, is a problem located at ``file:line:col``.
"""

from __future__ import annotations

import fnmatch
import glob
import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from capgraph.core.errors import MapError, Problem
from capgraph.core.records import RecordsMixin
from capgraph.core.suggest import did_you_mean
from capgraph.evidence.data import Table, read_table, to_float
from capgraph.format.source import Document, nesting_problem, read_bytes

#: The columns of every row, in order; joined model facts and ``n_tasks`` (groups) follow.
COLUMNS = ("model", "revision", "task", "metric", "filter", "n_shot", "value", "stderr", "source")


@dataclass(frozen=True)
class Results(RecordsMixin):
    """Rows read from harness files (and a models table): ``capgraph results``' answer.

    ``unmatched`` names the models that the models table does not have (their facts are blank).
    """

    rows: tuple[dict[str, Any], ...]
    columns: tuple[str, ...]
    files: tuple[str, ...]
    digest: str  # sha256 over every file's content, the models table and the groups: a cache key
    unmatched: tuple[str, ...] = ()
    label: str = "results"

    def __len__(self) -> int:
        return len(self.rows)

    def to_records(self) -> list[dict[str, Any]]:
        """One flat dict a row, with every column (blank cells are ``None``)."""
        return [{c: row.get(c) for c in self.columns} for row in self.rows]

    def to_json(self) -> dict[str, Any]:
        """``{"rows": [...], "n_files": N}`` (``capgraph results --json``)."""
        return {"rows": self.to_records(), "n_files": len(self.files)}

    def table(self) -> Table:
        """The rows as a :class:`~capgraph.evidence.data.Table`, ready for ``where`` and fitting."""
        return Table(self.label, self.columns, tuple(self.to_records()), (1,) * len(self.rows),
                     self.digest)


# --- finding files ---------------------------------------------------------------------------------


def find_files(paths: Iterable[str | Path], base: Path | None = None) -> list[Path]:
    """Result files named by ``paths``: files, folders (every ``*.json`` below) or glob patterns.

    Relative paths and patterns are taken from ``base`` (default: the working folder). Each path is
    listed once, in sorted order within each argument. A path matching nothing is a problem.
    """
    found: dict[Path, None] = {}
    problems = []
    for item in paths:
        text = str(item)
        path = Path(text) if base is None or Path(text).is_absolute() else base / text
        if glob.has_magic(text):
            matches = sorted(Path(p) for p in glob.glob(str(path), recursive=True) if Path(p).is_file())
            if not matches:
                problems.append(Problem(text, 1, 1, f"no file matches this pattern (looked in "
                                                    f"{path.parent.resolve()})"))
        elif path.is_dir():
            matches = sorted(p for p in path.rglob("*.json") if p.is_file())
            if not matches:
                problems.append(Problem(text, 1, 1, "no *.json files in this folder"))
        elif path.exists():
            matches = [path]
        else:
            problems.append(Problem(text, 1, 1, f"no such file ({path.resolve()})"))
            matches = []
        found.update(dict.fromkeys(matches))
    if problems:
        raise MapError(problems)
    return list(found)


# --- reading one file ------------------------------------------------------------------------------


def read_file(path: str | Path) -> tuple[list[dict[str, Any]], str]:
    """``(rows, sha256)`` of one harness result file or Every Eval Ever record."""
    name = str(path)
    if name.lower().endswith((".csv", ".tsv", ".jsonl", ".ndjson")):
        raise MapError([Problem(name, 1, 1, "a results table, not an evaluation-harness file: give "
                                            "one table on its own, or harness .json files (with a "
                                            "models table)")])
    raw = read_bytes(path, "results file")
    digest = hashlib.sha256(raw).hexdigest()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise MapError([Problem(name, line, 1, "not UTF-8 text")]) from None
    if not text.strip():
        raise MapError([Problem(name, 1, 1, "empty file: expected an evaluation-harness results file")])
    if (deep := nesting_problem(text, name, json_text=True)) is not None:
        raise MapError([deep])  # json.loads recurses once a level: bounded before it runs
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MapError([Problem(name, exc.lineno, exc.colno, f"invalid JSON: {exc.msg}")]) from None
    except RecursionError:
        raise MapError([Problem(name, 1, 1, "invalid JSON: nested too deeply")]) from None
    doc = Document(name, data, text=text)
    if isinstance(data, dict) and isinstance(data.get("evaluation_results"), list) \
            and isinstance(data.get("model_info"), dict):
        return _eee_rows(doc), digest
    if not isinstance(data, dict) or not isinstance(data.get("results"), dict):
        raise MapError([doc.problem((), _foreign(data))])
    return _harness_rows(doc), digest


def _foreign(data: Any) -> str:
    what = "a JSON object" if isinstance(data, dict) else f"a JSON {type(data).__name__}"
    keys = f" with keys {', '.join(sorted(map(str, data))[:5])}" if isinstance(data, dict) and data else ""
    return (f"not an evaluation-harness results file: {what}{keys}, but lm-evaluation-harness "
            "writes an object with 'results' (task → metrics) and 'config', and Every Eval Ever an "
            "object with 'model_info' and 'evaluation_results'")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def parse_model_args(args: Any) -> dict[str, str]:
    """``config.model_args`` as a dict: a ``k=v,k=v`` string (any order) or a dict already.

    >>> parse_model_args("use_accelerate=True,pretrained=EleutherAI/pythia-70m,revision=step3000")
    {'use_accelerate': 'True', 'pretrained': 'EleutherAI/pythia-70m', 'revision': 'step3000'}
    """
    if isinstance(args, dict):
        return {str(k): "" if v is None else str(v) for k, v in args.items()}
    out = {}
    for part in str(args or "").split(","):
        key, sep, value = part.partition("=")
        if sep and key.strip():
            out[key.strip()] = value.strip()
    return out


def _harness_rows(doc: Document) -> list[dict[str, Any]]:
    data, name = doc.data, doc.path
    config = data.get("config") if isinstance(data.get("config"), dict) else {}
    args = parse_model_args(config.get("model_args"))
    model = args.get("pretrained") or data.get("model_name") or args.get("model")
    if not model or not isinstance(model, str):
        raise MapError([doc.problem(("config",) if config else (),
                                    "no model name: config.model_args has no pretrained= and the "
                                    "file has no model_name")])
    shots = data.get("n-shot") if isinstance(data.get("n-shot"), dict) else {}
    default_shots = config.get("num_fewshot")
    rows = []
    problems = []
    for task, metrics in data["results"].items():
        if not isinstance(metrics, dict):
            problems.append(doc.problem(("results", task), f"results of task '{task}' must be an "
                                                          "object of metric: value"))
            continue
        n_shot = shots.get(task, default_shots)
        for key, value in metrics.items():
            metric, sep, filt = str(key).partition(",")
            if metric.endswith("_stderr") or not _is_number(value):
                continue  # aliases, names and "N/A" are not scores
            stderr = metrics.get(f"{metric}_stderr{sep}{filt}")
            rows.append({
                "model": model, "revision": args.get("revision", ""), "task": str(task),
                "metric": metric, "filter": filt, "n_shot": n_shot if _is_number(n_shot) else None,
                "value": float(value), "stderr": float(stderr) if _is_number(stderr) else None,
                "source": name,
            })
    if problems:
        raise MapError(problems)
    if not rows:
        raise MapError([doc.problem(("results",), "no scores: 'results' holds no task with a number")])
    return rows


def _eee_rows(doc: Document) -> list[dict[str, Any]]:
    data, name = doc.data, doc.path
    info = data["model_info"]
    model = info.get("id") or info.get("name")
    if not isinstance(model, str) or not model:
        raise MapError([doc.problem(("model_info",), "model_info has no 'id' (nor 'name')")])
    details = info.get("additional_details") if isinstance(info.get("additional_details"), dict) else {}
    rows, problems = [], []
    for i, result in enumerate(data["evaluation_results"]):
        score = _get(result, "score_details", "score")
        if not isinstance(_get(result, "evaluation_name"), str) or not _is_number(score):
            problems.append(doc.problem(("evaluation_results", i), "each evaluation result needs an "
                                        "'evaluation_name' and a numeric 'score_details.score'"))
            continue
        config = _get(result, "metric_config") if isinstance(_get(result, "metric_config"), dict) else {}
        stderr = _get(result, "score_details", "uncertainty", "standard_error", "value")
        rows.append({
            "model": model, "revision": str(details.get("revision", "")),
            "task": result["evaluation_name"],
            "metric": str(config.get("metric_name") or config.get("metric_id") or "score"),
            "filter": "", "n_shot": None, "value": float(score),
            "stderr": float(stderr) if _is_number(stderr) else None, "source": name,
        })
    if problems:
        raise MapError(problems)
    if not rows:
        raise MapError([doc.problem(("evaluation_results",), "no evaluation results in this record")])
    return rows


def _get(data: Any, *keys: str) -> Any:
    """``data[k1][k2]...``, or None where a level is missing or not an object."""
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


# --- models table and groups -----------------------------------------------------------------------


@dataclass(frozen=True)
class Models:
    """Facts about models by ``model`` (and ``revision`` where the table has that column)."""

    path: str
    columns: tuple[str, ...]  # fact columns, ``flops`` included
    facts: dict[tuple[str, str], dict[str, Any]]
    by_revision: bool
    digest: str
    names: tuple[str, ...] = field(default=())

    def lookup(self, model: str, revision: str) -> dict[str, Any] | None:
        return self.facts.get((model, revision if self.by_revision else ""))


def read_models(path: str | Path) -> Models:
    """A table of model facts (CSV or JSON Lines) with a ``model`` column.

    ``flops`` is 6 · params · tokens where the table gives no ``flops`` (or leaves it blank).
    Numbers stay numbers; a (model, revision) that appears twice is a problem at its second line.
    """
    table = read_table(path)
    table.require("model")
    by_revision = "revision" in table.columns
    columns = [c for c in table.columns if c not in ("model", "revision")]
    clash = [c for c in columns if c in COLUMNS]
    if clash:
        raise MapError([Problem(table.path, 1, 1, f"column '{clash[0]}' of the models table is also a "
                                                  "results column; rename it")])
    if "flops" not in columns:
        columns.append("flops")
    facts: dict[tuple[str, str], dict[str, Any]] = {}
    seen: dict[tuple[str, str], int] = {}
    for row, line in zip(table.rows, table.lines, strict=True):
        key = (_text(row.get("model")), _text(row.get("revision")) if by_revision else "")
        if key in seen:
            what = f"model '{key[0]}'" + (f" at revision '{key[1]}'" if by_revision else "")
            raise MapError([Problem(table.path, line, 1, f"{what} appears twice (first on line "
                                                         f"{seen[key]})")])
        seen[key] = line
        cells = {c: _cell(row.get(c)) for c in columns}
        if to_float(cells.get("flops")) is None:
            params, tokens = to_float(cells.get("params")), to_float(cells.get("tokens"))
            cells["flops"] = 6.0 * params * tokens if params is not None and tokens is not None else None
        facts[key] = cells
    names = tuple(sorted({k[0] for k in facts}))
    return Models(table.path, tuple(columns), facts, by_revision, table.digest, names)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _cell(value: Any) -> Any:
    """A table cell as a number where it is written as one (``70426624``), else its text."""
    if value is None or isinstance(value, bool | int | float):
        return value
    text = str(value).strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() and "." not in text and "e" not in text.lower() else number


def parse_groups(items: Iterable[str]) -> dict[str, list[str]]:
    """``["mmlu=hendrycksTest-*"]`` → ``{"mmlu": ["hendrycksTest-*"]}`` (patterns split on ``|``).

    >>> parse_groups(["mmlu=hendrycksTest-*", "arc=arc_easy|arc_challenge"])
    {'mmlu': ['hendrycksTest-*'], 'arc': ['arc_easy', 'arc_challenge']}
    """
    out = {}
    for item in items:
        name, sep, patterns = item.partition("=")
        if not sep or not name.strip() or not patterns.strip():
            raise ValueError(f"expected NAME=PATTERN, got {item!r}")
        out[name.strip()] = [p.strip() for p in patterns.split("|") if p.strip()]
    return out


def _patterns(value: Sequence[str] | str) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def average_groups(rows: Sequence[dict[str, Any]], groups: Mapping[str, Sequence[str] | str]
                   ) -> list[dict[str, Any]]:
    """One row per group and (model, revision, n_shot, metric, filter): the mean over its tasks.

    A group's tasks are those whose name matches one of its patterns (``fnmatch``: ``*``, ``?``).
    The mean's standard error is sqrt(Σ se²) / n when every task has one (independent subtasks),
    else blank; ``n_tasks`` says how many tasks each mean is over, ``source`` the file(s).
    """
    out = []
    for name, patterns in groups.items():
        patterns = _patterns(patterns)
        buckets: dict[tuple, list[dict[str, Any]]] = {}
        for row in rows:
            if any(fnmatch.fnmatchcase(row["task"], p) for p in patterns):
                key = (row["model"], row["revision"], row["n_shot"], row["metric"], row["filter"])
                buckets.setdefault(key, []).append(row)
        for (model, revision, n_shot, metric, filt), members in buckets.items():
            errors = [m["stderr"] for m in members]
            n = len(members)
            stderr = math.sqrt(sum(e * e for e in errors)) / n if None not in errors else None
            sources = sorted({m["source"] for m in members})
            out.append({
                "model": model, "revision": revision, "task": name, "metric": metric, "filter": filt,
                "n_shot": n_shot, "value": sum(m["value"] for m in members) / n, "stderr": stderr,
                "source": sources[0] if len(sources) == 1 else ";".join(sources), "n_tasks": n,
            })
    return out


# --- everything ------------------------------------------------------------------------------------


def read_results(paths: Iterable[str | Path], *, models: str | Path | None = None,
                 groups: Mapping[str, Sequence[str] | str] | None = None,
                 base: Path | None = None) -> Results:
    """Read every result file under ``paths``, add group means, join the models table.

    Every file's problems are gathered before raising :class:`MapError`, so one run shows them all.
    """
    paths = list(paths)
    files = find_files(paths, base)
    rows: list[dict[str, Any]] = []
    digests, problems = [], []
    for path in files:
        try:
            file_rows, digest = read_file(path)
        except MapError as exc:
            problems.extend(exc.problems)
            continue
        rows.extend(file_rows)
        digests.append(digest)
    if problems:
        raise MapError(problems)
    columns = list(COLUMNS)
    if groups:
        means = average_groups(rows, groups)
        empty = sorted(set(groups) - {r["task"] for r in means})
        if empty:
            tasks = sorted({r["task"] for r in rows})
            raise MapError([Problem(paths and str(paths[0]) or "results", 1, 1,
                                    f"group '{name}' matches no task ({', '.join(_patterns(groups[name]))})"
                                    f"{did_you_mean(_patterns(groups[name])[0], tasks)}")
                            for name in empty])
        rows.extend(means)
        columns.append("n_tasks")
    unmatched: dict[str, None] = {}
    table = None
    if models is not None:
        table = read_models(models if base is None or Path(models).is_absolute() else base / models)
        columns.extend(c for c in table.columns if c not in columns)
        for row in rows:
            facts = table.lookup(row["model"], row["revision"])
            if facts is None:
                unmatched[row["model"]] = None
                facts = dict.fromkeys(table.columns)
            row.update(facts)
    blob = json.dumps({"files": digests, "models": table.digest if table else None,
                       "groups": {k: sorted([v] if isinstance(v, str) else v)
                                  for k, v in sorted((groups or {}).items())}}, sort_keys=True)
    label = ", ".join(str(p) for p in paths) if len(paths) <= 3 else f"{paths[0]} and {len(paths) - 1} more"
    return Results(tuple(rows), tuple(columns), tuple(str(f) for f in files),
                   hashlib.sha256(blob.encode()).hexdigest(), tuple(unmatched), label)


def unmatched_message(results: Results) -> str | None:
    """One line naming the models the models table lacks (None when every model matched)."""
    if not results.unmatched:
        return None
    names = ", ".join(results.unmatched[:5]) + (" ..." if len(results.unmatched) > 5 else "")
    return (f"{len(results.unmatched)} model(s) not in the models table (their facts are left blank): "
            f"{names}")


def read_data(paths: Sequence[str | Path], *, models: str | Path | None = None,
              groups: Mapping[str, Sequence[str] | str] | None = None, base: Path | None = None) -> Table:
    """Rows to fit, from a results table or from harness files, as one :class:`Table`.

    One CSV or JSON Lines file (without ``models`` or ``groups``) is read as a table; folders,
    glob patterns, several paths and JSON documents that are harness results or Every Eval Ever
    records are read by :func:`read_results`.
    """
    if models is None and not groups and len(paths) == 1:
        text = str(paths[0])
        path = Path(text) if base is None or Path(text).is_absolute() else base / text
        if not glob.has_magic(text) and not path.is_dir() and not _is_results_document(path):
            return read_table(path)
    return read_results(paths, models=models, groups=groups, base=base).table()


def _is_results_document(path: Path) -> bool:
    """Whether ``path`` is one JSON document (not JSON Lines) holding harness results or a record."""
    if not path.name.lower().endswith(".json"):
        return False
    try:  # a regular file within the size limit only: a FIFO or /dev/zero named .json must not hang
        data = json.loads(read_bytes(path, "results file"))
    except (MapError, ValueError, RecursionError):
        return False  # missing, unreadable or JSON Lines: read_table says what is wrong
    return isinstance(data, dict) and ("results" in data or "evaluation_results" in data)
