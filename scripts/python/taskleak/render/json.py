# SPDX-License-Identifier: MIT
"""JSON: several reports merged into one document (itself a report)."""

import json

from . import Renderer
from ..contract import KINDS, SCHEMA, VERSION
from ..fields import number
from ..model import merged_suppressions


class JsonRenderer(Renderer):

    name = "json"

    def render(self, reports):
        return json.dumps(merged_document(reports), indent=2) + "\n"


REPORT_HEADER_KEYS = ("pid", "ppid", "argv", "python", "reason", "t", "time")


def merged_document(reports):
    doc = {"tool": "taskleak", "version": VERSION, "schema": SCHEMA,
           "merged": True,
           "reports": [report_header(r) for r in reports],
           "stats": merged_stats(reports),
           "leaks": [with_pid(leak, r.pid) for r in reports for leak in r.leaks]}
    live = [with_pid(task, r.pid) for r in reports for task in r.live_tasks]
    if live:
        doc["live_tasks"] = live
    suppressions = merged_suppressions(reports)
    if suppressions:
        doc["suppressions"] = suppressions
    return doc


def report_header(report):
    header = dict((key, report.doc.get(key)) for key in REPORT_HEADER_KEYS)
    header["file"] = report.path
    if report.doc.get("incomplete") is not None:
        header["incomplete"] = report.doc.get("incomplete")
    return header


def with_pid(entry, pid):
    merged = dict(entry)
    merged["pid"] = pid
    return merged


def merged_stats(reports):
    total = {}
    for report in reports:
        add_numbers(total, report.stats, depth=8)
    leaks = total.setdefault("leaks", {})
    if isinstance(leaks, dict):
        for kind in KINDS:
            leaks.setdefault(kind, 0)
    return total


def add_numbers(total, stats, depth):
    """Sum the numbers of STATS into TOTAL, key by key, nested dicts too."""
    for key, value in stats.items():
        if number(value) is not None and number(total.get(key, 0)) is not None:
            total[key] = total.get(key, 0) + value
        elif isinstance(value, dict) and depth > 0:
            if not isinstance(total.get(key), dict):
                total[key] = {}
            add_numbers(total[key], value, depth - 1)

