# SPDX-License-Identifier: MIT
"""The names the Python package shares with the C library cannot drift.

taskleak.contract holds kind names, states, options and the version as
constants (an installed taskleak has no C sources to read); these tests
parse the library's tables and fail naming the difference:

  shim/core/kinds.inc     X(constant, "name"): the leak kinds
  shim/core/kinds.c       tl_state_names
  shim/core/waits.inc     X(constant, "name"): what a pending task waits for
  shim/core/options.inc   X(key, KIND, field, "default", min, max, "help")
  shim/core/core.c        tl_hook_names (stats.hooks)
  collector/report.c TL_VERSION and the "schema" it writes

and docs/report.schema.json is held to the same tables.  The dump_signal
rules of the package are compared with the library's own parser
(shim/core/options.c compiled into a small program; skipped without a C compiler).
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "scripts", "python"))
from taskleak import contract  # noqa: E402
from taskleak.options import parse_signal  # noqa: E402

SCHEMA_PATH = os.path.join(REPO, "docs", "report.schema.json")


def source(*parts):
    with open(os.path.join(REPO, *parts), encoding="utf-8") as stream:
        return stream.read()


def c_string_array(text, name, path):
    match = re.search(r"\b%s\s*\[[^\]]*\]\s*=\s*\{([^}]*)\}" % re.escape(name), text)
    if not match:
        raise AssertionError("%s: no %s = {...} table (the test's parser needs updating)"
                             % (path, name))
    return tuple(re.findall(r'"([^"]*)"', match.group(1)))


def options_table():
    path = os.path.join("shim", "core", "options.inc")
    rows = re.findall(r'^X\(\s*(\w+)\s*,\s*(\w+)\s*,\s*\w+\s*,\s*"([^"]*)"\s*,\s*(-?\d+)\s*,\s*(-?\d+)\s*,',
                      source(path), re.M)
    if not rows:
        raise AssertionError("%s: no X(...) rows" % path)
    return tuple((key, kind, default, int(low), int(high)) for key, kind, default, low, high in rows)


def schema():
    with open(SCHEMA_PATH, encoding="utf-8") as stream:
        return json.load(stream)


class SameAsTheLibrary(unittest.TestCase):

    def assertSameTable(self, python, c, what):
        if tuple(python) != tuple(c):
            self.fail("%s drifted apart:\n  the library: %r\n  the package: %r\n"
                      "update scripts/python/taskleak/contract.py (and "
                      "docs/report.schema.json) to the library's table"
                      % (what, tuple(c), tuple(python)))

    def test_kinds(self):
        c = tuple(re.findall(r'^X\(\s*\w+\s*,\s*"([^"]*)"\s*\)', source("shim", "core", "kinds.inc"), re.M))
        self.assertTrue(c, "shim/core/kinds.inc: no X(constant, \"name\") rows")
        self.assertSameTable(contract.KINDS, c, "kind names (shim/core/kinds.inc)")

    def test_wait_kinds(self):
        c = tuple(re.findall(r'^X\(\s*\w+\s*,\s*"([^"]*)"\s*\)', source("shim", "core", "waits.inc"), re.M))
        self.assertTrue(c, "shim/core/waits.inc: no X(constant, \"name\") rows")
        self.assertSameTable(contract.WAIT_KINDS, c, "wait kinds (shim/core/waits.inc)")
        self.assertSameTable(contract.WAIT_KINDS, schema()["$defs"]["waitKind"]["enum"],
                             "wait kinds (docs/report.schema.json $defs.waitKind)")

    def test_states(self):
        c = c_string_array(source("shim", "core", "kinds.c"), "tl_state_names", "shim/core/kinds.c")
        self.assertSameTable(contract.STATES, c, "task states (shim/core/kinds.c tl_state_names)")

    def test_thread_whys_and_shutdown_causes(self):
        c = c_string_array(source("shim", "core", "threads.c"), "tl_exit_wait_names",
                           "shim/core/threads.c")
        self.assertSameTable(contract.THREAD_WHYS, c, "why the exit waits (shim/core/threads.c)")
        c = c_string_array(source("shim", "core", "shutdown.c"), "tl_shutdown_cause_names",
                           "shim/core/shutdown.c")
        self.assertSameTable(contract.SHUTDOWN_CAUSES, c, "shutdown causes (shim/core/shutdown.c)")

    def test_options(self):
        self.assertSameTable(contract.OPTIONS, options_table(),
                             "options (shim/core/options.inc X(key, KIND, field, default, min, max))")

    def test_option_help(self):
        """options.inc's help column is what `taskleak --help` shows."""
        text = re.sub(r',\s*\n\s+', ', ', source("shim", "core", "options.inc"))
        c = re.findall(r'^X\((\w+),.*"([^"]*)"\)\s*$', text, re.M)
        self.assertSameTable(sorted(contract.OPTION_HELP.items()), sorted(c),
                             "options' help (shim/core/options.inc's last column)")
        self.assertEqual(list(contract.OPTION_HELP), [o[0] for o in contract.OPTIONS])

    def test_version_and_schema(self):
        """One version: the VERSION file, which the package reads and make
        passes to collector/report.c as TL_VERSION; the built library has it."""
        report_c = source("collector", "report.c")
        schema_number = re.search(r'"schema",\s*(\d+)', report_c)
        self.assertTrue(schema_number, "collector/report.c: no schema")
        self.assertNotRegex(report_c, r'#define\s+TL_VERSION\s+"',
                            "collector/report.c defines its own TL_VERSION")
        self.assertEqual(contract.VERSION, source("VERSION").strip())
        self.assertRegex(contract.VERSION, r"^\d+\.\d+\.\d+")
        lib = os.path.join(REPO, "build", "libtaskleak.so")
        if os.path.exists(lib):
            with open(lib, "rb") as stream:
                self.assertIn(b"\0" + contract.VERSION.encode() + b"\0", stream.read(),
                              "build/libtaskleak.so does not carry VERSION (make again?)")
        self.assertNotRegex(source("collector", "metrics.c"), r'#define\s+TL_\w*VERSION\s+"',
                            "collector/metrics.c defines its own version")
        self.assertEqual(contract.SCHEMA, int(schema_number.group(1)),
                         "SCHEMA: the library writes %s" % schema_number.group(1))

    def test_pyproject_version(self):
        pyproject = source("pyproject.toml")
        self.assertNotRegex(pyproject, r'(?m)^version\s*=\s*"', "pyproject.toml writes a version")
        self.assertRegex(pyproject, r'(?m)^version = \{file = "VERSION"\}$')

    def test_fixes_and_descriptions_cover_every_kind(self):
        self.assertEqual(set(contract.FIXES), set(contract.KINDS))
        self.assertEqual(set(contract.DESCRIPTIONS), set(contract.KINDS))

    def test_readme_documents_every_kind(self):
        """The README's "What it finds" table has a row for each kind."""
        rows = re.findall(r"^\| `(\w+)` \|", source("README.md"), re.M)
        missing = [k for k in contract.KINDS if k not in rows]
        self.assertEqual(missing, [], "README.md: no row in the kinds table for %s" % missing)


class SchemaSameAsTheLibrary(unittest.TestCase):

    def setUp(self):
        self.schema = schema()
        self.defs = self.schema["$defs"]

    def test_kinds_and_states(self):
        self.assertEqual(tuple(self.defs["kind"]["enum"]), contract.KINDS)
        self.assertEqual(tuple(self.defs["state"]["enum"]), contract.STATES)
        self.assertEqual(tuple(self.defs["stats"]["properties"]["leaks"]["properties"]),
                         contract.KINDS)

    def test_options(self):
        properties = self.defs["options"]["properties"]
        self.assertEqual(sorted(properties), sorted(key for key, _, _, _, _ in contract.OPTIONS))
        for key, kind, _, low, high in contract.OPTIONS:
            if kind == "INT":
                self.assertEqual((properties[key]["minimum"], properties[key]["maximum"]),
                                 (low, high), key)

    def test_threads_and_shutdown(self):
        why = self.defs["thread"]["properties"]["why"]["enum"]
        self.assertEqual(tuple(w for w in why if w is not None), contract.THREAD_WHYS)
        self.assertEqual(tuple(self.defs["shutdown"]["properties"]["cause"]["enum"]),
                         contract.SHUTDOWN_CAUSES)
        self.assertIn("shutdown", self.schema["properties"]["reason"]["enum"])

    def test_hooks(self):
        hooks = c_string_array(source("shim", "core", "core.c"), "tl_hook_names", "shim/core/core.c")
        listed = self.defs["stats"]["properties"]["hooks"]["properties"]
        self.assertEqual(tuple(listed), hooks + ("total",))

    def test_every_field_the_writer_names_is_described(self):
        """Every key-like string of collector/report.c (the only writer) is a
        property somewhere in the schema, or a value one of its enums lists."""
        writer = re.sub(r"/\*.*?\*/", "", source("collector", "report.c"), flags=re.S)
        literals = set(re.findall(r'"([a-z_]+)"', writer))
        described = set()
        stack = [self.schema]
        while stack:
            value = stack.pop()
            if isinstance(value, dict):
                if isinstance(value.get("properties"), dict):
                    described.update(value["properties"])
                if isinstance(value.get("enum"), list):
                    described.update(v for v in value["enum"] if isinstance(v, str))
                stack.extend(value.values())
            elif isinstance(value, list):
                stack.extend(value)
        values = {"taskleak"} | set(self.schema["properties"]["reason"]["enum"])
        missing = sorted(literals - described - values)
        self.assertEqual(missing, [], "collector/report.c writes fields docs/report.schema.json "
                                      "does not describe: %s" % ", ".join(missing))

    def test_schema_number(self):
        self.assertEqual(self.schema["properties"]["schema"]["const"], contract.SCHEMA)


HARNESS = r"""
#include <stdio.h>
#include "core/options.h"
int main(int argc, char **argv)
{
    char text[512];
    for (int i = 1; i < argc; i++) {
        struct tl_options o;
        snprintf(text, sizeof text, "dump_signal=%s", argv[i]);
        tl_options_parse(&o, text, NULL);
        printf("%d\n", o.dump_signal);
    }
    return 0;
}
"""

SIGNAL_VALUES = ["0", "none", "NONE", "None", "SIGUSR1", "usr1", "sigusr1", "SigUsr1", "USR2",
                 "12", " 12", "+12", "12 ", "00", "-0", "-1", "9", "19", "KILL", "SIGSTOP",
                 "64", "65", "99999999999999999999", "", "bogus", "SIG", "HUP", "sigchld",
                 "IOT", "CLD", "POLL", "IO", "RTMIN", "1", "31", "34"]


class DumpSignalLikeTheLibrary(unittest.TestCase):

    def library_values(self, values):
        compiler = shutil.which("cc") or shutil.which("gcc")
        if compiler is None:
            self.skipTest("no C compiler to build shim/core/options.c")
        tmp = tempfile.mkdtemp(prefix="taskleak-options-")
        self.addCleanup(shutil.rmtree, tmp, True)
        harness = os.path.join(tmp, "harness.c")
        with open(harness, "w") as stream:
            stream.write(HARNESS)
        program = os.path.join(tmp, "harness")
        built = subprocess.run([compiler, "-std=c11", "-D_GNU_SOURCE", "-I", os.path.join(REPO, "shim"),
                                "-o", program, harness, os.path.join(REPO, "shim", "core", "options.c"), "-lm"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               universal_newlines=True)
        self.assertEqual(built.returncode, 0, built.stdout)
        out = subprocess.run([program] + values, stdout=subprocess.PIPE, check=True,
                             universal_newlines=True).stdout.split()
        return [int(n) for n in out]

    def test_same_signal_as_the_library(self):
        for value, library in zip(SIGNAL_VALUES, self.library_values(SIGNAL_VALUES)):
            ours = parse_signal(value) or 0
            self.assertEqual(ours, library, "dump_signal=%r: the library reads %d, the "
                                            "package %d" % (value, library, ours))

    def test_zero_and_none_are_off(self):
        self.assertIsNone(parse_signal("0"))
        self.assertIsNone(parse_signal("none"))
        self.assertEqual(parse_signal("bogus"), signal.SIGUSR2)
        self.assertEqual(parse_signal("usr1"), signal.SIGUSR1)


if __name__ == "__main__":
    unittest.main()
