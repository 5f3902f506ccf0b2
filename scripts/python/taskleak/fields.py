# SPDX-License-Identifier: MIT
"""Tolerant access: reports come from another program (and from users), so a
missing or mistyped optional field degrades the output, never crashes it."""


def dict_of(value):
    return value if isinstance(value, dict) else {}


def list_of(value):
    return value if isinstance(value, list) else []


def dicts_in(value):
    return [item for item in list_of(value) if isinstance(item, dict)]


def number(value):
    """VALUE if it is a JSON number (bool is not), else None."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return None


def count(value):
    """A non-negative integer count, 0 for anything else."""
    value = number(value)
    if value is None or value != value or value < 0 or value == float("inf"):
        return 0
    return int(value)


def line_number(frame):
    """The frame's line as a positive int, or None."""
    line = number(frame.get("line"))
    if line is None or line != line or line < 1 or line == float("inf"):
        return None
    return int(line)


def text(value, default=""):
    if value is None:
        return default
    return value if isinstance(value, str) else str(value)


def one_line(value):
    """Free text from the report (a repr, an exception message) kept to one
    line, so that it cannot break the layout."""
    return value.replace("\n", "\\n").replace("\r", "\\r")


def plural(n, word, many=None):
    return "%d %s" % (n, word if n == 1 else (many or word + "s"))


def fmt_t(value):
    """Seconds as the report gives them, rounded to milliseconds: 't=9.0s'."""
    value = number(value)
    try:
        return "t=%rs" % round(float(value), 3)
    except (TypeError, OverflowError):   # absent, or an integer beyond float
        return "t=?"

