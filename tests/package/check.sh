#!/bin/sh
# SPDX-License-Identifier: MIT
# make package-test: what a new user does, offline.  A fresh venv (with the
# system's site-packages, for Debian's setuptools, wheel and pytest), then
#   pip install --no-build-isolation --no-deps --no-index .   (builds the library)
#   taskleak run -- python3 tests/demo/leaky_worker.py      (the packaged library)
#   python -m taskleak report --format json                  (the module entry)
#   pip wheel .                                              (a manylinux wheel: the library,
#                                                             its libunwind and jansson inside;
#                                                             tests/package/wheel_sid.sh runs it
#                                                             where neither is installed)
#   pytest --taskleak=fail on the plugin's sample suite      (the pytest11 entry point)
# Usage: tests/package/check.sh [PYTHON]   (default /usr/bin/python3)
set -eu
PYTHON=${1:-/usr/bin/python3}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d /tmp/taskleak-package.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL package-test: $*" >&2; exit 1; }
expect() {  # expect FILE TEXT: TEXT is a line of FILE
    grep -qxF -- "$2" "$1" || { cat "$1" >&2; fail "no line '$2' in $1"; }
}

"$PYTHON" -m venv --system-site-packages "$WORK/venv" || fail "cannot make a venv (python3-venv)"
VPY="$WORK/venv/bin/python3"
(cd "$REPO" && env -u TASKLEAK_LIB "$WORK/venv/bin/pip" install --no-build-isolation \
    --no-deps --no-index .) >"$WORK/pip-install.log" 2>&1 \
    || { cat "$WORK/pip-install.log" >&2; fail "pip install ."; }
LIB=$("$VPY" -c 'import os, taskleak; print(os.path.join(os.path.dirname(taskleak.__file__), "lib", "libtaskleak.so"))')
[ -f "$LIB" ] || fail "no library inside the installed package ($LIB)"
case "$LIB" in "$WORK"/*) ;; *) fail "taskleak imported from $LIB, not from the venv" ;; esac

# Outside the checkout, without TASKLEAK_LIB: only the packaged library can be found.
mkdir "$WORK/app"
cp "$REPO/tests/demo/leaky_worker.py" "$WORK/app/"
cd "$WORK/app"
status=0
env -u TASKLEAK_LIB -u TASKLEAK_OPTIONS -u LD_PRELOAD "$WORK/venv/bin/taskleak" run \
    --report-dir reports -- "$VPY" leaky_worker.py >run.out 2>run.err || status=$?
[ "$status" = 0 ] || { cat run.err >&2; fail "taskleak run exited $status"; }
expect run.out "1 swallowed_cancel leak of coroutine leaky_worker created at leaky_worker.py:14"
expect run.out "SUMMARY: taskleak: 1 leak (1 swallowed_cancel) in 1 process"

# One version: the installed command, the packaged library's reports and the
# VERSION file say the same.
want=$(cat "$REPO/VERSION")
got=$("$WORK/venv/bin/taskleak" --version) || fail "taskleak --version"
[ "$got" = "$want" ] || fail "taskleak --version says $got, VERSION says $want"
grep -q "\"version\": \"$want\"" reports/taskleak.*.json || fail "the report's version is not $want"

"$VPY" -m taskleak report --format json reports >report.json || fail "python -m taskleak report"
"$VPY" - <<'PY' || fail "python -m taskleak report --format json: not the merged report"
import json
doc = json.load(open("report.json"))
kinds = [leak["kind"] for leak in doc["leaks"]]
assert doc["merged"] is True and kinds == ["swallowed_cancel"], (doc.get("merged"), kinds)
assert doc["leaks"][0]["task"]["coro"] == "leaky_worker"
PY
echo "PASS package-test: pip install ., taskleak run, python -m taskleak report"

(cd "$REPO" && "$WORK/venv/bin/pip" wheel --no-build-isolation --no-deps --no-index \
    -w "$WORK/wheels" .) >"$WORK/pip-wheel.log" 2>&1 \
    || { cat "$WORK/pip-wheel.log" >&2; fail "pip wheel ."; }
"$VPY" - "$WORK/wheels" "$REPO" <<'PY' || fail "pip wheel: not a manylinux wheel with the library and its libraries inside"
import os, re, sys, tempfile, zipfile
wheels = [w for w in os.listdir(sys.argv[1]) if w.endswith(".whl")]
assert len(wheels) == 1, wheels
name = wheels[0]
version = open(os.path.join(sys.argv[2], "VERSION")).read().strip()
match = re.match(r"^taskleak-%s-py3-none-manylinux_(\d+)_(\d+)_(x86_64|aarch64)\.whl$"
                 % re.escape(version), name)
assert match, name
archive = zipfile.ZipFile(os.path.join(sys.argv[1], name))
files = archive.namelist()
assert "taskleak/lib/libtaskleak.so" in files, files
assert "taskleak/pytest_plugin.py" in files, files
assert "taskleak/render/html_assets.py" in files, files
bundled = sorted(f for f in files if f.startswith("taskleak/lib/") and f != "taskleak/lib/libtaskleak.so")
for soname in ("libunwind", "libjansson"):
    assert [f for f in bundled if re.match(r"taskleak/lib/%s-[0-9a-f]{8}\.so\.\d+$" % soname, f)], bundled
sys.path.insert(0, os.path.join(sys.argv[2], "scripts", "dev"))
import bundle_libs
tmp = tempfile.mkdtemp(dir=sys.argv[1])   # under $WORK: removed with it
archive.extractall(tmp, [f for f in files if f.startswith("taskleak/lib/")])
objects = [os.path.join(tmp, f) for f in files if f.startswith("taskleak/lib/")]
major, minor, arch = bundle_libs.glibc_needed(objects)
assert (str(major), str(minor), arch) == match.groups(), (name, major, minor, arch)
for path in objects:
    elf = bundle_libs.Elf(path)
    outside = [n for n in elf.needed if n not in bundle_libs.SYSTEM
               and not os.path.exists(os.path.join(os.path.dirname(path), n))]
    assert not outside, (path, outside)
print("PASS package-test: pip wheel . -> %s (%d KB; bundles %s; its objects need glibc %d.%d)"
      % (name, os.path.getsize(os.path.join(sys.argv[1], name)) // 1024,
         ", ".join(os.path.basename(b) for b in bundled), major, minor))
PY
# The wheel where neither libunwind nor jansson is installed (sid's 3.14).
PLAIN=""
[ -f "$REPO/build/libtaskleak.so" ] && PLAIN="$REPO/build/libtaskleak.so"
"$REPO/tests/package/wheel_sid.sh" "$WORK"/wheels/*.whl $PLAIN

if "$VPY" -c 'import pytest' 2>/dev/null; then
    cp "$REPO/tests/pytest_plugin/sample/test_sample_run.py" "$WORK/app/"
    status=0
    env -u TASKLEAK_LIB -u TASKLEAK_OPTIONS -u LD_PRELOAD -u PYTHONPATH "$VPY" -m pytest \
        -p no:cacheprovider --taskleak=fail test_sample_run.py >pytest.out 2>&1 || status=$?
    [ "$status" = 1 ] || { cat pytest.out >&2; fail "pytest --taskleak=fail exited $status, not 1"; }
    grep -q "2 failed, 2 passed" pytest.out || { cat pytest.out >&2; fail "pytest: not 2 failed, 2 passed"; }
    expect pytest.out "FAILED test_sample_run.py::test_swallows_cancel"
    expect pytest.out "FAILED test_sample_run.py::test_destroys_pending_task"
    [ -f .taskleak/session.json ] || fail "pytest: no .taskleak/session.json"
    echo "PASS package-test: pytest --taskleak=fail (installed plugin, packaged library)"
else
    echo "SKIP package-test pytest plugin: $PYTHON has no pytest (Debian: python3-pytest)"
fi
