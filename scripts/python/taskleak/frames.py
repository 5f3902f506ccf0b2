# SPDX-License-Identifier: MIT
"""Frames and stacks: where a frame is, and how a stack is shown."""

import linecache

from .fields import line_number, number, plural, text

NATIVE_FRAMES_SHOWN = 8


# ---------------------------------------------------------------------------
# Frames and paths

def is_asyncio_frame(frame):
    return "/asyncio/" in text(frame.get("file"))


def is_runtime_frame(frame):
    """True for asyncio's and the standard library's own frames.

    Checked by path shape, not against this interpreter's stdlib directory,
    because the report may come from another Python on another machine.
    """
    path = text(frame.get("file"))
    if path.startswith("<frozen "):
        return True
    if "site-packages" in path or "dist-packages" in path:
        return False
    return "/asyncio/" in path or "/lib/python3." in path


def source_hint(frame):
    """' (the source line)' of FRAME when its file can be read, else ''."""
    path, line = frame.get("file"), frame.get("line")
    if not isinstance(path, str) or not isinstance(line, int) or line <= 0:
        return ""
    source = linecache.getline(path, line).strip()
    return " (%s)" % source if source else ""


def site_frame(frames):
    """The frame that stands for a stack: its innermost user frame."""
    for frame in frames:
        if not is_runtime_frame(frame):
            return frame
    return frames[0] if frames else None


def show_path(path, root):
    """PATH relative to ROOT when it lies under it, else unchanged."""
    if root and path.startswith("/"):
        prefix = root.rstrip("/") + "/"
        if path.startswith(prefix) and len(path) > len(prefix):
            return path[len(prefix):]
    return path


def frame_place(frame, root):
    """'app.py:22' (or 'app.py' when the line is unknown)."""
    place = show_path(text(frame.get("file"), "<unknown>"), root)
    line = line_number(frame)
    return place if line is None else "%s:%d" % (place, line)


def frame_site(frame, root):
    """'app.py:22 in main'."""
    if frame is None:
        return "an unknown site"
    return "%s in %s" % (frame_place(frame, root),
                         text(frame.get("function"), "<unknown>"))


def fold_label(folded):
    asyncio_count = sum(1 for frame in folded if is_asyncio_frame(frame))
    if asyncio_count == len(folded):
        what = "asyncio"
    elif asyncio_count == 0:
        what = "standard library"
    else:
        what = "asyncio and standard library"
    return "(%d %s frame%s folded)" % (len(folded), what,
                                       "" if len(folded) == 1 else "s")


def stack_lines(frames, root, indent, fold=True):
    """A Python stack, innermost first, numbered by position in the report.

    The user's frames come first; asyncio's and the standard library's own
    frames collapse into one line, unless that would hide every frame.
    """
    numbered = list(enumerate(frames))
    shown = [(i, f) for i, f in numbered if not (fold and is_runtime_frame(f))]
    if not shown:
        shown = numbered
    lines = ["%s#%d %s" % (indent, i, frame_site(f, root)) for i, f in shown]
    if len(shown) < len(frames):
        shown_ids = set(i for i, _ in shown)
        folded = [f for i, f in numbered if i not in shown_ids]
        lines.append(indent + fold_label(folded))
    return lines


def native_lines(frames, indent):
    lines = [indent + "native stack:"]
    for i, frame in enumerate(frames[:NATIVE_FRAMES_SHOWN]):
        where = text(frame.get("ip"), "?")
        symbol = frame.get("symbol")
        if symbol is not None:
            where += " in " + text(symbol)
            offset = number(frame.get("offset"))
            if offset is not None:
                where += "+%d" % offset
        if frame.get("module") is not None:
            where += " (%s)" % text(frame.get("module"))
        lines.append("%s  #%d %s" % (indent, i, where))
    hidden = len(frames) - NATIVE_FRAMES_SHOWN
    if hidden > 0:
        lines.append("%s  (%s not shown)" % (indent,
                                              plural(hidden, "more native frame")))
    return lines

