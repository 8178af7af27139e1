"""Reading map files safely, keeping the line and column of every key and value.

PyYAML's composer gives a node tree with marks; we build plain Python data from it ourselves instead
of letting a constructor run, so that no tag can ever build an object, duplicate keys are caught
(PyYAML keeps the last one silently), alias expansion is bounded before anything is expanded, and
every value can be traced back to where it was written. JSON files go through the same path: YAML
reads JSON, and the errors then carry JSON line and column numbers.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from capgraph.core.errors import MapError, Problem
from capgraph.core.limits import FILE_BYTES, NESTING, Limit

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
    #: Each node's level, found by the structural pass of validation (``format.problems``); the
    #: plan reuses it rather than sort the hierarchy again (None until then, or with a cycle).
    depth: dict[str, int] | None = None

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


def open_regular(path: str | Path, what: str = "map file", limit: Limit = FILE_BYTES) -> int:
    """A file descriptor open for reading on a regular file no larger than ``limit``, else a problem.

    Only regular files are read: a directory, a named pipe (which would block forever) or a device
    (``/dev/zero`` never ends) is refused by name before a byte is read. The caller closes the fd.
    """
    name = str(path)
    try:
        # O_NONBLOCK: should the path name a FIFO, opening it must not wait for a writer
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        missing = "no such file" if what == "map file" else f"no such {what} ({Path(path).resolve()})"
        raise MapError([Problem(name, 1, 1, missing)]) from None
    except IsADirectoryError:
        raise MapError([Problem(name, 1, 1, f"is a directory, not a {what}")]) from None
    except OSError as exc:
        raise MapError([Problem(name, 1, 1, f"cannot read: {exc.strerror}")]) from None
    try:
        info = os.fstat(fd)
        kind = _special_kind(info.st_mode)
        if kind:
            raise MapError([Problem(name, 1, 1, f"is {kind}, not a {what}: only regular files are read")])
        if limit.exceeded(info.st_size):
            raise MapError([Problem(name, 1, 1, limit.refusal(info.st_size, f"the {what}"))])
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_chunks(path: str | Path, what: str = "map file", limit: Limit = FILE_BYTES) -> Iterator[bytes]:
    """A regular file's bytes in chunks of 1 MiB (see :func:`open_regular`), at most ``limit`` in all.

    A file that grows past ``limit`` while it is read is refused too.
    """
    fd = open_regular(path, what, limit)
    try:
        size = 0
        while chunk := os.read(fd, 1 << 20):
            size += len(chunk)
            if limit.exceeded(size):
                raise MapError([Problem(str(path), 1, 1, limit.refusal(size, f"the {what}"))])
            yield chunk
    except OSError as exc:
        raise MapError([Problem(str(path), 1, 1, f"cannot read: {exc.strerror}")]) from None
    finally:
        os.close(fd)


def read_bytes(path: str | Path, what: str = "map file", limit: Limit = FILE_BYTES) -> bytes:
    """A regular file's bytes, or a problem at 1:1 saying why not (``what`` names the kind of file)."""
    return b"".join(read_chunks(path, what, limit))


def _special_kind(mode: int) -> str | None:
    """What a file is when it is not a regular file: a directory, a named pipe, a device, a socket."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def read_text(path: str | Path) -> str:
    """The file's text, or a located problem: missing, unreadable, not UTF-8, or empty."""
    name = str(path)
    raw = read_bytes(path)
    return decode(raw, name)


def decode(raw: bytes, name: str) -> str:
    """UTF-8 text (a BOM is dropped), or a located problem naming the first byte that is not UTF-8.

    UTF-16 and UTF-32 files (which start with their own byte-order mark) are named as such.
    """
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        wide = "UTF-32" if raw.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")) else "UTF-16"
        raise MapError([Problem(name, 1, 1, f"the file is {wide} text; save it as UTF-8")])
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise MapError(
            [Problem(name, line, col, f"not UTF-8: byte 0x{raw[exc.start]:02x} cannot be decoded")]
        ) from None


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


# --- nesting: bounded before any parser recurses ------------------------------------------------------

_OPENERS = np.frombuffer(b"[{", dtype=np.uint8)
_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def nesting_problem(text: str, name: str, *, json_text: bool = False) -> Problem | None:
    """A problem at the first list or mapping nested deeper than :data:`~capgraph.core.limits.NESTING`.

    Every parser (PyYAML's composer, ``json.loads``, our builder, pydantic) recurses once a level,
    so depth is bounded before any of them runs. A cheap upper bound clears ordinary files in a few
    milliseconds (the running balance of brackets, and for YAML a block indentation that could
    hide the rest); only a file it cannot clear pays for an exact scan, which also finds the place.
    """
    limit = NESTING.value
    if _within_bound(text, json_text, limit):
        return None
    at = _json_too_deep(text, limit) if json_text else _yaml_too_deep(text, limit)
    if at is None:
        return None
    return Problem(name, *at, f"lists and mappings nest more than {limit} deep here (limit: "
                   f"{NESTING.what}; raise it with the environment variable {NESTING.env})")


_NOT_BRACKETS = bytes(range(256)).translate(None, b"[]{}")


def _within_bound(text: str, json_text: bool, limit: int) -> bool:
    brackets = text.encode("utf-8", "surrogatepass").translate(None, _NOT_BRACKETS)
    steps = np.where(np.isin(np.frombuffer(brackets, dtype=np.uint8), _OPENERS), 1, -1)
    running = np.cumsum(steps)
    if running.size and (running.min() < 0 or running[-1] != 0):
        # a bracket inside a string unbalances the count and could hide depth: count every opener
        flow = int((steps > 0).sum())
    else:
        flow = int(running.max(initial=0))
    if json_text or flow > limit:
        return flow <= limit
    # A block collection is indented past its parent, or shares its column once (a list under a
    # key): depth <= flow + 2 * indent + 2. Look only for an indent that could break the bound.
    room = (limit - flow - 2) // 2
    if room <= 0:
        return False
    return _deep_indent(room).search("\n" + text) is None


def _deep_indent(width: int) -> re.Pattern[str]:
    """A line that starts with ``width`` characters of block indentation (spaces, ``- ``, ``? ``)."""
    return re.compile(rf"\n[ ?:\-]{{{width}}}")


def _json_too_deep(text: str, limit: int) -> Pos | None:
    depth = 0
    for match in _JSON_TOKENS.finditer(text):
        char = match.group()[0]
        if char in "[{":
            depth += 1
            if depth > limit:
                return _offset_pos(text, match.start())
        elif char in "]}":
            depth -= 1
    return None


def _yaml_too_deep(text: str, limit: int) -> Pos | None:
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):  # libyaml's event stream does not recurse
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > limit:
                    return _pos(event.start_mark)
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.MarkedYAMLError as exc:  # libyaml's own bound, or a syntax error found on the way
        mark = exc.problem_mark or exc.context_mark
        return _pos(mark) if mark and "nesting" in str(exc.problem) else None
    except yaml.YAMLError:
        return None  # reported with its position when the text is composed
    return None


def _offset_pos(text: str, offset: int) -> Pos:
    return (text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1)


class _Duplicate(Exception):
    pass


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise _Duplicate
    return out


def _count_keys(root: Any) -> int:
    """How many keys the mappings in ``root`` hold, all levels down."""
    total, stack = 0, [root]
    pop, push = stack.pop, stack.extend
    while stack:
        value = pop()
        kind = type(value)
        if kind is dict:
            total += len(value)
            push(value.values())
        elif kind is list:
            push(value)
    return total


def _parse_json(text: str, name: str) -> Document | None:
    """Parse JSON quickly; None sends the text down the YAML path (duplicate keys, to locate them)."""
    deep = nesting_problem(text, name, json_text=True)
    if deep is not None:
        raise MapError([deep])
    try:
        data = json.loads(text, parse_constant=_no_constant)  # dicts made in C: no call per object
        # Every colon outside a string ends a key, so as many keys as colons means no key was
        # written twice (and no string holds a colon); otherwise parse again, checking each object.
        if _count_keys(data) != text.count(":"):
            data = json.loads(text, object_pairs_hook=_unique_pairs, parse_constant=_no_constant)
    except _Duplicate:
        return None
    except _Constant:  # NaN and Infinity are not JSON: the YAML path locates them
        return None
    except json.JSONDecodeError as exc:
        raise MapError([Problem(name, exc.lineno, exc.colno, f"JSON syntax error: {exc.msg}")]) from None
    except RecursionError:  # the bound above holds this off; a raised limit may not
        raise MapError([Problem(name, 1, 1, "the document nests too deeply for the JSON parser; "
                                f"lower {NESTING.env}")]) from None
    if data is None:
        raise MapError([Problem(name, 1, 1, "empty file: a map needs at least 'skills'")])
    return Document(name, data, text=text)


class _Constant(Exception):
    pass


def _no_constant(token: str) -> Any:
    raise _Constant(token)


def parse_document(text: str, name: str = "<map>") -> Document:
    """Parse YAML (or JSON) text.

    Syntax errors, documents nested too deeply and alias bombs raise :class:`MapError` at once;
    duplicate keys and disallowed tags are collected in ``Document.problems`` so that validation
    can report them with the rest.
    """
    deep = nesting_problem(text, name)
    if deep is not None:
        raise MapError([deep])
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = _pos(mark) if mark else (1, 1)
        message = " ".join(s for s in (exc.context, exc.problem) if s) or "invalid YAML"
        raise MapError([Problem(name, line, col, _syntax_message(text, line, message))]) from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow, e.g. a NUL byte
        line, col = _offset_pos(text, exc.position)
        what = f"control character 0x{exc.character:02x}" if isinstance(exc.character, int) else \
            f"character {exc.character!r}"
        raise MapError([Problem(name, line, col, f"{what} is not allowed in YAML text (write it as an "
                                "escape such as \\x07 inside double quotes)")]) from None
    except yaml.YAMLError as exc:
        raise MapError([Problem(name, 1, 1, f"YAML error: {exc}")]) from None
    except RecursionError:  # the nesting bound holds this off; a raised limit may not
        raise MapError([Problem(name, 1, 1, "the document nests too deeply for the YAML parser; "
                                f"lower {NESTING.env}")]) from None
    if root is None:
        raise MapError([Problem(name, 1, 1, "empty file: a map needs at least 'skills'")])
    builder = _Builder(name)
    if "&" in text:  # without an anchor there can be no alias, so nothing to bound
        builder.check_expansion(root)
    try:
        data = builder.build(root, ())
    except RecursionError:
        raise MapError([Problem(name, 1, 1, "the document nests too deeply; "
                                f"lower {NESTING.env}")]) from None
    return Document(name, data, builder.keys, builder.values, builder.problems)


#: PyYAML reads a plain (implicit) key of at most this many characters.
_YAML_KEY_LIMIT = 1024


def _syntax_message(text: str, line: int, message: str) -> str:
    """PyYAML's words, or ours where they mislead (a key over 1,024 characters)."""
    lines = text.splitlines()
    row = lines[line - 1] if 0 < line <= len(lines) else ""
    key = row.split(":", 1)[0].strip().lstrip("- ").strip()
    if ":" in row and len(key) > _YAML_KEY_LIMIT:
        return (f"a key of {len(key):,} characters: YAML reads at most {_YAML_KEY_LIMIT:,} "
                "in a plain key; use a shorter name")
    return f"YAML syntax error: {message}"


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
        """Refuse documents whose aliases would expand far beyond what is written (alias bombs),
        or nest deeper than :data:`~capgraph.core.limits.NESTING` once expanded (chained anchors).

        Sizes and depths are counted with memoisation and an explicit stack (no recursion), so a
        billion-node bomb costs as little as its text.
        """
        sizes: dict[int, int] = {}
        depths: dict[int, int] = {}
        active: set[int] = set()
        stack: list[tuple[yaml.Node, bool]] = [(root, False)]
        while stack:
            node, done = stack.pop()
            key = id(node)
            if done:
                kids = list(_children(node))
                sizes[key] = 1 + sum(sizes[id(c)] for c in kids)
                depths[key] = (not isinstance(node, yaml.ScalarNode)) + max(
                    (depths[id(c)] for c in kids), default=0)
                active.discard(key)
                continue
            if key in sizes:
                continue
            if key in active:
                self._problem(node, "recursive alias: an anchor is used inside itself")
                raise MapError(self.problems)
            active.add(key)
            stack.append((node, True))
            stack.extend((child, False) for child in _children(node) if id(child) not in sizes)
        limit = NESTING.value
        if depths[id(root)] > limit:
            node, level = root, 1
            while level <= limit:  # walk down the deepest branch to the first level over the limit
                node = max(_children(node), key=lambda c: depths[id(c)])
                level += not isinstance(node, yaml.ScalarNode)
            self._problem(node, f"aliases nest lists and mappings more than {limit} deep here "
                          f"(limit: {NESTING.what}; raise it with the environment variable {NESTING.env})")
            raise MapError(self.problems)
        expanded = sizes[id(root)]
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


def _children(node: yaml.Node) -> Iterator[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield key
            yield value
    elif isinstance(node, yaml.SequenceNode):
        yield from node.value
