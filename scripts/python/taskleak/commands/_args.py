# SPDX-License-Identifier: MIT
"""What the command modules share to declare their arguments."""

import argparse
import textwrap


def nonnegative_seconds(value):
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not a number of seconds" % value)
    if not seconds >= 0 or seconds == float("inf"):
        raise argparse.ArgumentTypeError("%r is not a number of seconds >= 0" % value)
    return seconds


def wrap(paragraph):
    """Help text filled to the terminal-friendly width (the formatter keeps
    the epilogs' own line breaks, so descriptions are filled here)."""
    return textwrap.fill(paragraph, width=78)

