# SPDX-License-Identifier: MIT
"""stdout and stderr for the commands."""

import os
import sys


def current_dir():
    try:
        return os.getcwd()
    except OSError:
        return None   # a deleted working directory: show absolute paths


def eprint(message):
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def write_out(data):
    sys.stdout.write(data)
    sys.stdout.flush()


def configure_streams():
    """Never fail on a character the terminal's encoding lacks."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError):
            pass


def silence_stdout():
    """After a broken pipe: point stdout at /dev/null so the interpreter's
    final flush does not complain either."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
