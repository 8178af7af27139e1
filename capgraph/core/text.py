"""Text from a map shown on a terminal: names are data, never instructions to the terminal.

A name or message may hold control characters (ESC starts a terminal escape sequence that can move
the cursor, erase a line or repaint an error as "ok"). Before anything from a map or a data file
reaches a terminal, C0 and C1 control characters (and DEL) are shown as visible escapes; the data
itself (JSON output, files written) keeps them as they are.
"""

from __future__ import annotations

import re

# C0 (except tab and newline, which lay text out harmlessly), DEL, and C1 (0x80-0x9f: 0x9b is a
# one-byte CSI on some terminals); also the line and paragraph separators that reflow lines.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: str) -> str:
    r"""``text`` with each control character written as a visible escape.

    >>> printable("ok\x1b[2K\rfine")
    'ok\\x1b[2K\\rfine'
    >>> printable("tab\tand\nnewline stay")
    'tab\tand\nnewline stay'
    """
    if not _CONTROL.search(text):
        return text
    return _CONTROL.sub(_escape, text)


def one_line(text: str) -> str:
    r"""Like :func:`printable`, and newlines and tabs escaped too (a name in a one-line message).

    >>> one_line("two\nlines")
    'two\\nlines'
    """
    return printable(text).replace("\n", "\\n").replace("\t", "\\t")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char == "\r":
        return "\\r"
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis (for drawing; the data keeps it whole).

    >>> clip("abcdef", 4), clip("abc", 4)
    ('abc…', 'abc')
    """
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"
