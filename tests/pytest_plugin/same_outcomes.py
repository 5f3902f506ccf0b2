#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Nothing changes for a test that leaks nothing: run a pytest suite twice,
without taskleak and with `-p taskleak.pytest_plugin --taskleak=fail`, and
compare each test's outcome and the output.

    python3 tests/pytest_plugin/same_outcomes.py --python PATH [--lib LIB]
        [--cwd DIR] [--pythonpath DIR]... [--label NAME] -- PYTEST-ARGS...

A test the plugin found something in (a leak, a task that outlived it, a
timeout explained: the session report says) may fail with the plugin; every
other test must have the same outcome in both runs, and the output must be
the same once what legitimately differs is taken out: durations, the
junit file's path, the plugin's own "taskleak" summary section, and the
failure blocks and summary lines of the tests with findings.  Prints the
counts, every finding, every difference; exit status 1 when a test without
findings changed.  Not part of `make test` (the real suites are fetched,
not shipped): docs/pytest.md says how the project's own and real suites
were checked.  Standard library only.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def outcomes(path):
    """{test id: outcome} from a JUnit XML file (classname + name)."""
    result = {}
    for case in ElementTree.parse(path).iter("testcase"):
        outcome = "passed"
        for tag in ("failure", "error", "skipped"):
            if case.find(tag) is not None:
                outcome = tag
        result["%s::%s" % (case.get("classname"), case.get("name"))] = outcome
    return result


def findings(session):
    """The node ids (and fixture owners) the plugin found something in."""
    pytest_part = session.get("pytest") or {}
    found = set()
    for nodeid, entries in (pytest_part.get("tests") or {}).items():
        if any(e.get("verdict") in ("fail", "late", "outlived") for e in entries):
            found.add(nodeid)
    for owner, entries in (pytest_part.get("outlived") or {}).items():
        for entry in entries:
            if entry.get("verdict") != "allowed":     # a fixture's: the test it failed
                found.update(n for n in (owner, entry.get("reported_in")) if n)
    found.update(pytest_part.get("timeouts") or {})
    return found


def junit_id(nodeid):
    """A node id as the JUnit file names it: path.to.module.Class::name."""
    path, _, rest = nodeid.partition("::")
    module = path[:-3] if path.endswith(".py") else path
    parts = rest.split("::")
    return "%s::%s" % (".".join([module.replace("/", ".")] + parts[:-1]), parts[-1])


DURATION = re.compile(r"\b\d+\.\d+s\b|\(\d+:\d\d:\d\d\)|pytest-of-[^/]+/pytest-\d+")
PROGRESS = re.compile(r"^(\S+\.py )?[.sxXFEfp]+\s*\[\s*\d+%\]$")
FINAL = re.compile(r"^(\d+ (passed|failed|errors?|skipped|deselected|xfailed|xpassed|warnings?)"
                   r"\b|no tests ran)")


def normalized(output, junit, skip_tests):
    """The output's lines without what legitimately differs."""
    lines, skipping, section = [], False, None
    for line in output.splitlines():
        if re.match(r"^=+ taskleak =+$", line):
            section = "taskleak"
            continue
        if section == "taskleak" and not re.match(r"^=+ ", line) and not FINAL.match(line):
            continue
        section = None
        header = re.match(r"^_{3,} (?:ERROR at \w+ of )?(\S+) _{3,}$", line)
        if header:     # "Class.test[param]" for tests/x.py::Class::test[param]
            name = header.group(1).replace(".", "::")
            skipping = any(t == name or t.endswith("::" + name) for t in skip_tests)
        elif re.match(r"^=+ ", line):
            skipping = False
        if skipping or any(t in line for t in skip_tests if "::" in t):
            continue
        if junit in line or PROGRESS.match(line) or FINAL.match(line.strip("= ")) \
                or re.match(r"^=+ (FAILURES|ERRORS) =+$", line):
            continue     # each test's outcome is compared above
        lines.append(DURATION.sub("<t>", line))
    return lines


def run(args, cwd, env, label, output):
    start = time.monotonic()
    result = subprocess.run(args, cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, universal_newlines=True)
    with open(output, "w") as stream:
        stream.write(result.stdout)
    sys.stdout.write("%s: exit %d in %.1f s (output: %s)\n" % (
        label, result.returncode, time.monotonic() - start, output))
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--python", required=True)
    ap.add_argument("--lib", default=os.path.join(REPO, "build", "libtaskleak.so"))
    ap.add_argument("--cwd", default=os.getcwd())
    ap.add_argument("--pythonpath", action="append", default=[])
    ap.add_argument("--label", default="suite")
    ap.add_argument("pytest_args", nargs="*")
    opts = ap.parse_args()
    work = tempfile.mkdtemp(prefix="taskleak-same-", dir="/tmp")
    env = dict((k, v) for k, v in os.environ.items()
               if not k.startswith(("TASKLEAK", "LD_", "PYTEST_ADDOPTS")))
    env["PYTHONPATH"] = ":".join(opts.pythonpath + [os.path.join(REPO, "scripts", "python")])
    env["TASKLEAK_LIB"] = os.path.abspath(opts.lib)
    base = [opts.python, "-m", "pytest", "-p", "no:cacheprovider"]
    plain_xml, gated_xml = os.path.join(work, "plain.xml"), os.path.join(work, "gated.xml")
    session_path = os.path.join(work, "session.json")
    plain = run(base + ["--junitxml=" + plain_xml] + opts.pytest_args, opts.cwd, env,
                "%s without taskleak" % opts.label, os.path.join(work, "plain.out"))
    gated = run(base + ["-p", "taskleak.pytest_plugin", "--taskleak=fail",
                        "--taskleak-report=" + session_path, "--junitxml=" + gated_xml]
                + opts.pytest_args, opts.cwd, env, "%s with --taskleak=fail" % opts.label,
                os.path.join(work, "gated.out"))
    with open(session_path) as stream:
        session = json.load(stream)
    found = findings(session)
    before, after = outcomes(plain_xml), outcomes(gated_xml)
    found_ids = set(junit_id(n) for n in found if not n.endswith("-scoped fixture)"))
    changed = sorted(t for t in set(before) | set(after)
                     if before.get(t) != after.get(t) and t not in found_ids)
    with_findings = found_ids & set(before)
    sys.stdout.write("%s: %d tests, %d without findings (%d of them changed), %d with findings\n"
                     % (opts.label, len(before), len(before) - len(with_findings), len(changed),
                        len(with_findings)))
    for nodeid in sorted(found):
        sys.stdout.write("  finding: %s (%s without taskleak, %s with)\n" % (
            nodeid, before.get(junit_id(nodeid), "-"), after.get(junit_id(nodeid), "-")))
    for test in changed:
        sys.stdout.write("  CHANGED: %s: %s -> %s\n" % (test, before.get(test), after.get(test)))
    skip = sorted(found)
    a = normalized(plain.stdout, plain_xml, skip)
    b = normalized(gated.stdout, gated_xml, skip)
    if a != b:
        import difflib
        diff = list(difflib.unified_diff(a, b, "without", "with", lineterm="", n=1))
        sys.stdout.write("  output differs (%d diff lines):\n" % len(diff))
        for line in diff[:80]:
            sys.stdout.write("    %s\n" % line)
    else:
        sys.stdout.write("  output: the same (durations, junit path, findings aside)\n")
    if session["pytest"].get("problem"):
        sys.stdout.write("  plugin problem: %s\n" % session["pytest"]["problem"])
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
