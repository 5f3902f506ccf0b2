#!/usr/bin/env python3
"""The CPython interpreters every test runner and the benchmarks use: one list.

    sys.path.insert(0, "<checkout>/tests"); import pythons
    interps, notes = pythons.discover(include_debug=False, explicit=None)

`interps` is a list of Interpreter (path, version, label, flags system / pyenv
/ sid / debug, can_import(module)); `notes` are lines "SKIP WHAT: why" for
what was found but is not used, or was looked for and is absent.  Sources, in
this order:

  1. /usr/bin/python3, Debian's (libpython linked into the executable), which
     must exist and run; label debian-3.11;
  2. every pyenv CPython, $(pyenv root)/versions/*/bin/python3 (else
     $PYENV_ROOT, else ~/.pyenv), oldest first; labels pyenv-3.12 (the full
     version, pyenv-3.12.1, when two share a minor);
  3. the interpreters of the Debian sid chroot, the wrappers that
     `scripts/dev/sid-pythons --list` prints; labels sid-3.14, and sid-3.14d
     for a CPython debug build.

The supported versions are 3.TL_PY_MINOR_MIN to 3.TL_PY_MINOR_MAX, read from
shim/cpython/versions.h (the only place that says so); others are skip notes,
as are interpreters that do not run, debug builds unless include_debug, the
minors of the range that no source provides, and an absent sid chroot.
`explicit` (a runner's --python PATH...) replaces discovery: those
interpreters in that order, debug builds too; one that does not run raises
PythonsError, as does a missing /usr/bin/python3 in discovery.

A sid wrapper runs its interpreter inside the chroot, in the caller's working
directory: the checkout and /tmp are bind-mounted at the same paths there, and
nothing else is.  Give these interpreters files under the checkout or /tmp
(mkdtemp() makes a directory under /tmp) and a working directory there too.

As a program: `python3 tests/pythons.py [--debug]` lists the interpreters and
notes; `--path LABEL` prints the path of the one labelled LABEL, or says why
there is none and exits 1.  Standard library only, Python 3.8+.
"""

import concurrent.futures
import glob
import os
import re
import subprocess
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.realpath(__file__))
ROOT = os.path.dirname(HERE)
VERSIONS_H = os.path.join(ROOT, "shim", "cpython", "versions.h")
SID_PYTHONS = os.path.join(ROOT, "scripts", "dev", "sid-pythons")
SYSTEM_PYTHON = "/usr/bin/python3"
# The one directory outside the checkout that every interpreter (the sid
# chroot's too) sees at the same path.
SHARED_TMP = "/tmp"
PROBE_TIMEOUT = 60
PROBE = ("import sys; i = getattr(sys, 'implementation', None); "
         "sys.stdout.write('%d %d %d %d %s\\n%s\\n%s\\n' % (tuple(sys.version_info[:3]) + "
         "(hasattr(sys, 'gettotalrefcount'), i.name if i else 'cpython', "
         "sys.version.split()[0], sys.executable)))")


class PythonsError(Exception):
    """An interpreter that must run does not (the message says which, why)."""


def supported_minors():
    """(MIN, MAX): the 3.x minors shim/cpython/versions.h declares supported."""
    with open(VERSIONS_H, encoding="utf-8") as f:
        text = f.read()
    found = dict(re.findall(r"^#define\s+TL_PY_MINOR_(MIN|MAX)\s+(\d+)\s*$", text, re.M))
    if set(found) != {"MIN", "MAX"}:
        raise PythonsError("%s: no TL_PY_MINOR_MIN/TL_PY_MINOR_MAX lines" % VERSIONS_H)
    return int(found["MIN"]), int(found["MAX"])


MINOR_MIN, MINOR_MAX = supported_minors()
SUPPORTED = "3.%d to 3.%d" % (MINOR_MIN, MINOR_MAX)


def supported(version):
    return version[0] == 3 and MINOR_MIN <= version[1] <= MINOR_MAX


def clean_env():
    """This process's environment without what would steer or preload an
    interpreter."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("PYTHON", "LD_", "TASKLEAK"))}


def mkdtemp(prefix):
    """A new directory under /tmp, which the sid interpreters see too."""
    return tempfile.mkdtemp(prefix=prefix, dir=SHARED_TMP)


def visible_in_sid(path):
    """Whether PATH is the same file inside the sid chroot (under the checkout
    or /tmp, which are bind-mounted there)."""
    real = os.path.realpath(path)
    return any(real == d or real.startswith(d + os.sep)
               for d in (os.path.realpath(ROOT), os.path.realpath(SHARED_TMP)))


class Interpreter:
    """One interpreter: path, version (a 3-tuple), label, and the flags system
    (/usr/bin/python3), pyenv, sid (a chroot wrapper), debug (a debug build)."""

    def __init__(self, path, version, debug, source, version_str=None, executable=None):
        self.path = path
        self.version = version
        self.version_str = version_str or "%d.%d.%d" % version   # "3.15.0a1+"
        # argv[0] as the interpreter itself sees it: a sid wrapper runs the
        # chroot's /usr/bin/python3.X
        self.argv0 = executable if source == "sid" and executable else path
        self.debug = debug
        self.source = source                 # system, pyenv, sid or other
        self.system = source == "system"
        self.pyenv = source == "pyenv"
        self.sid = source == "sid"
        self.label = self.base_label()
        self._modules = {}
        self._lock = threading.Lock()

    @property
    def minor(self):
        return self.version[:2]

    def base_label(self, full=False):
        prefix = {"system": "debian", "other": "python"}.get(self.source, self.source)
        v = self.version_str if full else "%d.%d" % self.minor
        return "%s-%s%s" % (prefix, v, "d" if self.debug else "")

    def can_import(self, module):
        """Whether `import MODULE` works in this interpreter (asked once)."""
        with self._lock:
            if module not in self._modules:
                try:
                    r = subprocess.run([self.path, "-c", "import " + module],
                                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL, env=clean_env(), cwd="/",
                                       timeout=PROBE_TIMEOUT)
                    self._modules[module] = r.returncode == 0
                except (OSError, subprocess.SubprocessError):
                    self._modules[module] = False
            return self._modules[module]

    def __repr__(self):
        return "Interpreter(%r, %s, %s)" % (self.path, self.version_str, self.label)


def probe(path):
    """{"version": 3-tuple, "debug": bool, "version_str": "3.14.0", "executable":
    sys.executable}, or the reason why PATH does not run (a str)."""
    try:
        r = subprocess.run([path, "-c", PROBE], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env(),
                           cwd="/", timeout=PROBE_TIMEOUT, universal_newlines=True)
    except subprocess.TimeoutExpired:
        return "no answer in %ds" % PROBE_TIMEOUT
    except OSError as e:
        return str(e)
    lines = r.stdout.split("\n")
    m = re.match(r"^(\d+) (\d+) (\d+) ([01]) (\S+)$", lines[0])
    if r.returncode != 0 or not m or len(lines) < 3:
        return (r.stderr.strip().splitlines() or ["exit status %d" % r.returncode])[-1]
    if m.group(5) != "cpython":
        return "%s, not CPython" % m.group(5)
    return {"version": tuple(int(x) for x in m.groups()[:3]), "debug": m.group(4) == "1",
            "version_str": lines[1], "executable": lines[2]}


def interpreter(path):
    """The Interpreter at PATH, whatever its version; PythonsError if it does
    not run."""
    found = probe(path)
    if isinstance(found, str):
        raise PythonsError("%s does not run: %s" % (path, found))
    return Interpreter(path, source=source_of(path), **found)


def pyenv_root():
    try:
        r = subprocess.run(["pyenv", "root"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, timeout=30, universal_newlines=True)
        if r.returncode == 0 and r.stdout.strip():
            return r.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")


def pyenv_pythons():
    found = []
    for d in sorted(glob.glob(os.path.join(pyenv_root(), "versions", "*"))):
        for name in ("python3", "python"):     # 2.7 has no python3
            exe = os.path.join(d, "bin", name)
            if os.access(exe, os.X_OK):
                found.append(exe)
                break
    return found


def sid_pythons():
    """The sid chroot's wrappers, when the chroot is ready and mounted."""
    try:
        r = subprocess.run([SID_PYTHONS, "--list"], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           timeout=60, universal_newlines=True)
    except (OSError, subprocess.SubprocessError):
        return []
    return [l.strip() for l in r.stdout.splitlines() if l.strip()]


def sid_bin_dir():
    return (os.environ.get("TASKLEAK_SID_ROOT") or "/var/cache/taskleak/sid") + ".bin"


def source_of(path):
    real = os.path.realpath(path)
    if os.path.exists(SYSTEM_PYTHON) and real == os.path.realpath(SYSTEM_PYTHON):
        return "system"
    if os.path.dirname(real) == os.path.realpath(sid_bin_dir()):
        return "sid"
    if real.startswith(os.path.realpath(os.path.join(pyenv_root(), "versions")) + os.sep):
        return "pyenv"
    return "other"


def discover(include_debug=False, explicit=None):
    """(interpreters, skip notes); see the module's docstring."""
    notes = []
    if explicit:
        candidates = [(os.path.abspath(p) if os.sep in p else p, source_of(p)) for p in explicit]
    else:
        if not os.path.exists(SYSTEM_PYTHON):
            raise PythonsError("%s is absent" % SYSTEM_PYTHON)
        candidates = [(SYSTEM_PYTHON, "system")]
        candidates += [(p, "pyenv") for p in pyenv_pythons()]
        sid = sid_pythons()
        candidates += [(p, "sid") for p in sid]
    seen, unique = set(), []
    for path, source in candidates:
        real = os.path.realpath(path)
        if real not in seen:
            seen.add(real)
            unique.append((path, source))
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as ex:
        probed = list(ex.map(lambda c: probe(c[0]), unique))
    interps = []
    for (path, source), found in zip(unique, probed):
        if isinstance(found, str):
            if explicit or source == "system":
                raise PythonsError("%s does not run: %s" % (path, found))
            notes.append("SKIP %s: does not run: %s" % (path, found))
            continue
        it = Interpreter(path, source=source, **found)
        if not supported(it.version):
            notes.append("SKIP %s: unsupported (%s)" % (it.version_str, SUPPORTED))
        elif it.debug and not include_debug and not explicit:
            notes.append("SKIP %s: debug build, left out (slow)" % it.label)
        else:
            interps.append(it)
    if not explicit:
        interps.sort(key=lambda i: (["system", "pyenv", "sid"].index(i.source), i.debug,
                                    i.version))
        if not sid:
            notes.append("SKIP sid: the Debian sid chroot's interpreters are absent "
                         "(scripts/dev/sid-pythons creates them: root and debootstrap)")
        minors = {i.minor for i in interps}
        for minor in range(MINOR_MIN, MINOR_MAX + 1):
            if (3, minor) not in minors:
                notes.append("SKIP python3.%d: absent" % minor)
    for i in interps:
        if [j.label for j in interps].count(i.label) > 1:
            i.label = i.base_label(full=True)
    for i in interps:
        if [j.label for j in interps].count(i.label) > 1:
            i.label = "%s (%s)" % (i.label, i.path)
    return interps, notes


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--debug", action="store_true", help="include debug builds")
    ap.add_argument("--path", metavar="LABEL", help="print the path of this interpreter only")
    args = ap.parse_args(argv)
    try:
        interps, notes = discover(include_debug=args.debug or bool(args.path))
    except PythonsError as e:
        print("pythons: %s" % e, file=sys.stderr)
        return 1
    if args.path:
        for it in interps:
            if it.label == args.path:
                print(it.path)
                return 0
        print("pythons: no interpreter labelled %s; %s" % (
            args.path, "; ".join(notes) or "none found"), file=sys.stderr)
        return 1
    for it in interps:
        flags = [f for f in ("system", "pyenv", "sid", "debug") if getattr(it, f)]
        print("%-14s %-8s %-12s %s" % (it.label, it.version_str, ",".join(flags), it.path))
    for note in notes:
        print(note)
    print("supported: %s (%s)" % (SUPPORTED, os.path.relpath(VERSIONS_H, ROOT)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
