# SPDX-License-Identifier: MIT
"""TASKLEAK_OPTIONS and LD_PRELOAD strings, and the dump_signal value read the
way the library reads it (shim/core/options.c)."""

import ctypes
import re
import signal

from .contract import DEFAULT_DUMP_SIGNAL_NAME


def parse_options(value):
    """'a=1:b=2' as an ordered dict; later keys win, like the library.

    A piece without '=' continues the previous value, so a value that
    contains ':' survives a round trip through merge_options.
    """
    options = {}
    last = None
    for piece in value.split(":"):
        if "=" in piece:
            last, _, val = piece.partition("=")
            last = last.strip()
            options.pop(last, None)
            options[last] = val
        elif last is not None and piece:
            options[last] += ":" + piece
    return options


def format_options(options):
    return ":".join("%s=%s" % item for item in options.items())


def merge_options(existing, overrides):
    options = parse_options(existing)
    for key, value in overrides.items():
        options.pop(key, None)
        options[key] = value
    return format_options(options)


def prepend_preload(existing, library):
    """LD_PRELOAD with LIBRARY first; ld.so separates entries by ':' or ' '."""
    others = [entry for entry in re.split(r"[:\s]+", existing or "")
              if entry and entry != library]
    return ":".join([library] + others)



# strtol's idea of a whole decimal number: leading white space, a sign.
_STRTOL_NUMBER = re.compile(r"[ \t\n\v\f\r]*[+-]?[0-9]+\Z")


def _signal_abbreviations():
    """{number: 'USR1'...}: glibc's sigabbrev_np, which the library matches
    names against; Python's own canonical names where libc lacks it."""
    names = {}
    try:
        abbrev = ctypes.CDLL(None).sigabbrev_np
        abbrev.restype = ctypes.c_char_p
        abbrev.argtypes = [ctypes.c_int]
    except (AttributeError, OSError):
        abbrev = None
    for signum in range(1, signal.NSIG):
        name = abbrev(signum) if abbrev else None
        if name:
            names[signum] = name.decode("ascii", "replace")
        elif abbrev is None:
            try:
                names[signum] = signal.Signals(signum).name[3:]
            except ValueError:
                pass
    return names


_ABBREVIATIONS = None


def _library_signal(value):
    """The signal number the library takes VALUE for; 0 = off, None = not a
    valid value (the library then uses its default)."""
    global _ABBREVIATIONS
    if value.lower() == "none" or value == "0":
        return 0
    if _STRTOL_NUMBER.match(value):
        signum = int(value)
        if signum <= 0 or signum >= signal.NSIG or signum in (signal.SIGKILL, signal.SIGSTOP):
            return None
        return signum
    name = value[3:] if value[:3].lower() == "sig" else value
    if _ABBREVIATIONS is None:
        _ABBREVIATIONS = _signal_abbreviations()
    for signum in sorted(_ABBREVIATIONS):
        if (_ABBREVIATIONS[signum].lower() == name.lower()
                and signum not in (signal.SIGKILL, signal.SIGSTOP)):
            return signum
    return None


def parse_signal(value):
    """The dump_signal number of an option value, exactly as the library reads
    it: 'none' (any case) or '0' is off (None here); a number in 1..NSIG-1,
    or a name with or without 'SIG' in any case, is that signal; anything
    else (SIGKILL and SIGSTOP too) falls back to the default, SIGUSR2.
    """
    signum = _library_signal(value if value is not None else DEFAULT_DUMP_SIGNAL_NAME)
    if signum is None:
        signum = _library_signal(DEFAULT_DUMP_SIGNAL_NAME)
    return signum or None


def signal_name(signum):
    try:
        return signal.Signals(signum).name
    except ValueError:
        return "signal %d" % signum
