#!/bin/sh
# SPDX-License-Identifier: MIT
# The wheel on a machine without the build machine's libraries: the Debian
# sid chroot's python3.14 with libunwind8 and libjansson4 removed, in an
# overlay of the shared chroot (its own upper layer on a tmpfs: the chroot
# itself is never changed), unmounted and removed at the end.
#   1. control: the checkout's plain libtaskleak.so cannot load there;
#   2. the wheel pip-installed into a venv of that python3.14 with sid's own
#      pip (the chroot has none: python3-pip and python3-wheel are installed
#      into the overlay from .debs downloaded once by apt-get inside it and
#      kept in $SID.debs), then `taskleak run -- python3.14 leaky_worker.py`
#      reports the leak;
#   3. the glibc the wheel's objects need (scripts/dev/bundle_libs.py) is
#      its tag's, and at most the chroot's.
# Usage: tests/package/wheel_sid.sh WHEEL [PLAIN_LIB]   (root; SKIP without
# the sid chroot, overlayfs, or sid's pip when it cannot be downloaded)
set -eu
WHEEL=$1
PLAIN=${2:-}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
SID=${TASKLEAK_SID_ROOT:-/var/cache/taskleak/sid}
DEBS=$SID.debs
fail() { echo "FAIL package-test wheel: $*" >&2; exit 1; }
skip() { echo "SKIP package-test wheel without libunwind/jansson: $*"; exit 0; }
[ "$(id -u)" = 0 ] || skip "not root (an overlay mount is needed)"
[ -f "$SID/.taskleak-complete" ] || skip "no sid chroot at $SID (scripts/dev/sid-pythons)"
[ -x "$SID/usr/bin/python3.14" ] || skip "no python3.14 in $SID"
grep -qw overlay /proc/filesystems || skip "no overlayfs in this kernel"

T=$(mktemp -d /tmp/taskleak-wheel-sid.XXXXXX)
M=$T/merged
cleanup() {
    for m in "$M/dev" "$M/proc" "$M" "$T"; do
        if grep -q " $m " /proc/self/mounts; then umount "$m" 2>/dev/null || umount -l "$m"; fi
    done
    rm -rf "$T"
}
trap cleanup EXIT INT TERM
mount -t tmpfs -o size=768m tmpfs "$T"
mkdir "$T/upper" "$T/work" "$M"
mount -t overlay overlay -o "lowerdir=$SID,upperdir=$T/upper,workdir=$T/work" "$M" \
    || skip "cannot mount an overlay of $SID"
mount -t proc proc "$M/proc"
mount --bind /dev "$M/dev"
in_sid() { timeout 180 chroot "$M" env -i PATH=/opt/venv/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }

# Without libunwind8 and libjansson4 (in the overlay's upper layer only).
in_sid dpkg --purge --force-depends libunwind8 libjansson4 >"$T/dpkg.log" 2>&1 \
    || { cat "$T/dpkg.log" >&2; fail "dpkg --purge libunwind8 libjansson4 in the overlay"; }
left=$(find "$M/usr/lib" "$M/lib" -name 'libunwind.so*' -o -name 'libjansson.so*' 2>/dev/null | head -3)
[ -z "$left" ] || fail "still there after the purge: $left"
[ -e "$SID/usr/lib/x86_64-linux-gnu/libjansson.so.4" ] || fail "the shared chroot itself lost libjansson"

if [ -n "$PLAIN" ]; then   # the control: a library linked to the system's copies
    cp "$PLAIN" "$M/root/plain-libtaskleak.so"
    out=$(in_sid sh -c 'LD_PRELOAD=/root/plain-libtaskleak.so python3.14 -c pass' 2>&1 || true)
    case $out in *"libunwind.so.8: cannot open shared object file"*|*"libjansson.so.4: cannot open shared object file"*) ;;
        *) fail "control: the plain library was not refused for a missing libunwind/jansson: $out" ;; esac
    echo "PASS package-test wheel: control: the plain library cannot load there ($(echo "$out" | head -1 | cut -c1-110))"
fi

cp "$WHEEL" "$M/root/"
cp "$REPO/tests/demo/leaky_worker.py" "$M/root/"
name=$(basename "$WHEEL")
# sid's pip, from the kept .debs (downloaded inside the overlay the first time).
if ! ls "$DEBS"/python3-pip_*.deb "$DEBS"/python3-wheel_*.deb >/dev/null 2>&1; then
    mkdir -p "$M/tmp/debs"
    in_sid sh -c 'cd /tmp/debs && apt-get download python3-pip python3-wheel' >"$T/apt.log" 2>&1 \
        || { tail -3 "$T/apt.log"; skip "sid's python3-pip could not be downloaded (and $DEBS has none)"; }
    mkdir -p "$DEBS.$$" && cp "$M"/tmp/debs/*.deb "$DEBS.$$/" && rm -rf "$DEBS" && mv -T "$DEBS.$$" "$DEBS"
fi
mkdir -p "$M/tmp/debs" && cp "$DEBS"/*.deb "$M/tmp/debs/"
in_sid sh -c 'dpkg -i --force-depends /tmp/debs/*.deb' >"$T/dpkg-pip.log" 2>&1 \
    || { cat "$T/dpkg-pip.log" >&2; fail "dpkg -i sid's python3-pip in the overlay"; }
in_sid python3.14 -m venv --system-site-packages --without-pip /opt/venv >"$T/venv.log" 2>&1 \
    || { cat "$T/venv.log" >&2; fail "python3.14 -m venv"; }
in_sid /opt/venv/bin/python -m pip install --no-index --no-deps --disable-pip-version-check \
    "/root/$name" >"$T/pip.log" 2>&1 \
    || { cat "$T/pip.log" >&2; fail "pip install $name into sid's python3.14"; }
pipv=$(in_sid /opt/venv/bin/python -m pip --version | cut -d' ' -f1-2)
LIBDIR=$(in_sid /opt/venv/bin/python -c 'import os, taskleak; print(os.path.join(os.path.dirname(taskleak.__file__), "lib"))')
case $LIBDIR in /opt/venv/*) ;; *) fail "taskleak imported from $LIBDIR, not the venv" ;; esac
in_sid ldd "$LIBDIR/libtaskleak.so" >"$T/ldd.txt" 2>&1 || true
if grep -q "not found" "$T/ldd.txt"; then cat "$T/ldd.txt" >&2; fail "the installed library misses a dependency"; fi

status=0
in_sid sh -c 'cd /root && taskleak run --report-dir reports -- python3.14 leaky_worker.py' \
    >"$T/run.out" 2>"$T/run.err" || status=$?
[ "$status" = 0 ] || { cat "$T/run.err" >&2; fail "taskleak run exited $status"; }
grep -qxF "1 swallowed_cancel leak of coroutine leaky_worker created at /root/leaky_worker.py:14" "$T/run.out" \
    || grep -qxF "1 swallowed_cancel leak of coroutine leaky_worker created at leaky_worker.py:14" "$T/run.out" \
    || { cat "$T/run.out" "$T/run.err" >&2; fail "no leak line in taskleak run's output"; }
grep -qxF "SUMMARY: taskleak: 1 leak (1 swallowed_cancel) in 1 process" "$T/run.out" \
    || { cat "$T/run.out" >&2; fail "no summary line"; }

needs=$(/usr/bin/python3 "$REPO/scripts/dev/bundle_libs.py" glibc "$M$LIBDIR"/*.so*)
tag=$(echo "$name" | sed -n 's/^taskleak-[^-]*-py3-none-\(.*\)\.whl$/\1/p')
case $needs in *": $tag") ;; *) fail "the wheel is tagged $tag but its objects say: $needs" ;; esac
sid_glibc=$(in_sid ldd --version 2>&1 | head -1 | sed 's/.* //')
echo "PASS package-test wheel: $name ($pipv into sid's python3.14, without libunwind8 and libjansson4): taskleak run reports the leak; the objects need $needs; sid has glibc $sid_glibc"
