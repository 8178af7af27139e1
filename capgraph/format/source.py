"""Reading map files safely, keeping the line and column of every key and value.

PyYAML's composer gives a node tree with marks; we build plain Python data from it ourselves instead
of letting a constructor run, so that no tag can ever build an object, duplicate keys are caught
(PyYAML keeps the last one silently), alias expansion is bounded before anything is expanded, and
every value can be traced back to where it was written. JSON files go through the same path: YAML
reads JSON, and the errors then carry JSON line and column numbers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from capgraph.core.errors import MapError, Problem

try:  # the C parser is several times faster; fall back quietly where libyaml is missing
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

Loc = tuple[str | int, ...]
Pos = tuple[int, int]

#: An expanded document may hold this many nodes more than it spells out (alias bombs).
ALIAS_EXPANSION_FACTOR = 10
ALIAS_EXPANSION_FLOOR = 100_000

_YAML = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_YAML + t for t in ("str", "int", "float", "bool", "null", "timestamp")}
_construct = yaml.constructor.SafeConstructor()


@dataclass
class Document:
    """Plain data read from a file, with the position of every key and value in it.

    A JSON file read by the fast path has no positions until one is asked for; then the text is
    parsed once more, slowly, to find them (only maps with problems pay for that).
    """

    path: str
    data: Any
    _keys: dict[Loc, Pos] | None = None
    _values: dict[Loc, Pos] | None = None
    #: Problems found while reading that do not stop validation (duplicate keys, stray tags).
    problems: list[Problem] = field(default_factory=list)
    text: str | None = None

    @property
    def keys(self) -> dict[Loc, Pos]:
        self._ensure_positions()
        return self._keys or {}

    @property
    def values(self) -> dict[Loc, Pos]:
        self._ensure_positions()
        return self._values or {}

    def _ensure_positions(self) -> None:
        if self._keys is None and self.text is not None:
            slow = parse_document(self.text, self.path)
            self._keys, self._values = slow._keys, slow._values

    def locate(self, loc: Loc, *, key: bool = False) -> Pos:
        """Position of the key (``key=True``) or value at ``loc``, else of its nearest ancestor.

        A missing key has no position of its own, so the error points at the mapping that lacks it.
        """
        loc = tuple(loc)
        table = self.keys if key else self.values
        if loc in table:
            return table[loc]
        while loc:
            loc = loc[:-1]
            if loc in self.keys:
                return self.keys[loc]
            if loc in self.values:
                return self.values[loc]
        return (1, 1)

    def problem(self, loc: Loc, message: str, *, key: bool = False, severity: str = "error") -> Problem:
        line, col = self.locate(loc, key=key)
        return Problem(self.path, line, col, message, severity)


def _pos(mark: yaml.Mark) -> Pos:
    return (mark.line + 1, mark.column + 1)


def read_bytes(path: str | Path, what: str = "map file") -> bytes:
    """A file's bytes, or a problem at 1:1 saying why not (``what`` names the kind of file)."""
    name = str(path)
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        missing = "no such file" if what == "map file" else f"no such {what} ({Path(path).resolve()})"
        raise MapError([Problem(name, 1, 1, missing)]) from None
    except IsADirectoryError:
        raise MapError([Problem(name, 1, 1, f"is a directory, not a {what}")]) from None
    except OSError as exc:
        raise MapError([Problem(name, 1, 1, f"cannot read: {exc.strerror}")]) from None


def read_text(path: str | Path) -> str:
    """The file's text, or a located problem: missing, unreadable, not UTF-8, or empty."""
    name = str(path)
    raw = read_bytes(path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise MapError(
            [Problem(name, line, col, f"not UTF-8: byte 0x{raw[exc.start]:02x} cannot be decoded")]
        ) from None
    return text


def load_document(path: str | Path) -> Document:
    """Read a YAML or JSON map file into a :class:`Document`, or raise :class:`MapError`.

    JSON (by extension) takes a fast path: the standard library's parser, with positions
    recovered only if something needs reporting. Generated maps of 100,000 nodes are JSON.
    """
    text = read_text(path)
    if str(path).lower().endswith(".json") and text.strip():
        fast = _parse_json(text, str(path))
        if fast is not None:
            return fast
    return parse_document(text, str(path))


class _Duplicate(Exception):
    pass


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise _Duplicate
    return out


def _parse_json(text: str, name: str) -> Document | None:
    """Parse JSON quickly; None sends the text down the YAML path (duplicate keys, to locate them)."""
    try:
        data = json.loads(text, object_pairs_hook=_unique_pairs)
    except _Duplicate:
        return None
    except json.JSONDecodeError as exc:
        raise MapError([Problem(name, exc.lineno, exc.colno, f"JSON syntax error: {exc.msg}")]) from None
    if data is None:
        raise MapError([Problem(name, 1, 1, "empty file: a map needs at least 'skills'")])
    return Document(name, data, text=text)


def parse_document(text: str, name: str = "<map>") -> Document:
    """Parse YAML (or JSON) text.

    Syntax errors and alias bombs raise :class:`MapError` at once; duplicate keys and disallowed
    tags are collected in ``Document.problems`` so that validation can report them with the rest.
    """
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = _pos(mark) if mark else (1, 1)
        message = " ".join(s for s in (exc.context, exc.problem) if s) or "invalid YAML"
        raise MapError([Problem(name, line, col, f"YAML syntax error: {message}")]) from None
    except yaml.YAMLError as exc:  # e.g. a reader error on a control character
        raise MapError([Problem(name, 1, 1, f"YAML error: {exc}")]) from None
    if root is None:
        raise MapError([Problem(name, 1, 1, "empty file: a map needs at least 'skills'")])
    builder = _Builder(name)
    if "&" in text:  # without an anchor there can be no alias, so nothing to bound
        builder.check_expansion(root)
    data = builder.build(root, ())
    return Document(name, data, builder.keys, builder.values, builder.problems)


class _Builder:
    """Turns a composed node tree into dicts, lists and scalars, recording positions."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.problems: list[Problem] = []
        self.keys: dict[Loc, Pos] = {}
        self.values: dict[Loc, Pos] = {}

    def _problem(self, node: yaml.Node, message: str) -> None:
        self.problems.append(Problem(self.name, *_pos(node.start_mark), message))

    def check_expansion(self, root: yaml.Node) -> None:
        """Refuse documents whose aliases would expand far beyond what is written (alias bombs).

        Sizes are counted with memoisation, so a billion-node bomb costs as little as its text.
        """
        sizes: dict[int, int] = {}
        active: set[int] = set()

        def size(node: yaml.Node) -> int:
            key = id(node)
            if key in sizes:
                return sizes[key]
            if key in active:
                raise _Recursive(node)
            active.add(key)
            total = 1 + sum(size(child) for child in _children(node))
            active.discard(key)
            sizes[key] = total
            return total

        try:
            expanded = size(root)
        except _Recursive as exc:
            self._problem(exc.node, "recursive alias: an anchor is used inside itself")
            raise MapError(self.problems) from None
        except RecursionError:
            self._problem(root, "the document nests too deeply")
            raise MapError(self.problems) from None
        limit = max(ALIAS_EXPANSION_FLOOR, ALIAS_EXPANSION_FACTOR * len(sizes))
        if expanded > limit:
            node = root  # walk down to the smallest node that is itself too large: the bomb's anchor
            while True:
                big = [c for c in _children(node) if sizes[id(c)] > limit]
                if not big:
                    break
                node = big[0]
            self._problem(
                node,
                f"aliases expand this document to {expanded:,} values (limit {limit:,}); "
                "is an anchor used recursively?",
            )
            raise MapError(self.problems)

    def build(self, node: yaml.Node, loc: Loc) -> Any:
        self.values.setdefault(loc, _pos(node.start_mark))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, loc)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _YAML + "seq":
                self._problem(node, f"tag {node.tag} is not allowed here")
            return [self.build(item, (*loc, i)) for i, item in enumerate(node.value)]
        return self._scalar(node)

    def _mapping(self, node: yaml.MappingNode, loc: Loc) -> dict[str, Any]:
        if node.tag != _YAML + "map":
            self._problem(node, f"tag {node.tag} is not allowed here")
        out: dict[str, Any] = {}
        seen: dict[str, yaml.Node] = {}
        merged: list[tuple[yaml.Node, yaml.Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag == _YAML + "merge":
                merged.extend(self._merge_sources(value_node))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self._problem(key_node, "a key must be a plain name, not a list or mapping")
                continue
            key = key_node.value  # keys stay text: 'yes' is a name here, not a boolean
            if key in seen:
                first = seen[key].start_mark.line + 1
                self._problem(key_node, f"duplicate key '{key}' (first defined on line {first})")
                continue
            seen[key] = key_node
            self.keys[(*loc, key)] = _pos(key_node.start_mark)
            out[key] = self.build(value_node, (*loc, key))
        for key_node, value_node in merged:  # '<<: *defaults': explicit keys win
            key = key_node.value
            if key not in out:
                self.keys[(*loc, key)] = _pos(key_node.start_mark)
                out[key] = self.build(value_node, (*loc, key))
        return out

    def _merge_sources(self, value: yaml.Node) -> Iterator[tuple[yaml.Node, yaml.Node]]:
        sources = value.value if isinstance(value, yaml.SequenceNode) else [value]
        for source in sources:
            if isinstance(source, yaml.MappingNode):
                yield from source.value
            else:
                self._problem(source, "'<<' merges only mappings")

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        tag = node.tag
        if tag not in _SCALAR_TAGS:
            self._problem(node, f"tag {tag} is not allowed: maps hold only plain values")
            return None
        if tag == _YAML + "str" or tag == _YAML + "timestamp":  # dates stay text; fields parse them
            return node.value
        try:
            return _construct.construct_object(node, deep=True)
        except (ValueError, yaml.YAMLError):
            return node.value


class _Recursive(Exception):
    def __init__(self, node: yaml.Node) -> None:
        self.node = node


def _children(node: yaml.Node) -> Iterator[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield key
            yield value
    elif isinstance(node, yaml.SequenceNode):
        yield from node.value
