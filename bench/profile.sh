#!/bin/bash
# SPDX-License-Identifier: MIT
# Where does the hook time go?  Profiles deep churn (bench/workloads.py churn
# deep: create_task 20 Python frames deep) without and with libtaskleak.so
# and prints the top symbols of the library.
#
#   bench/profile.sh [--lib build/libtaskleak.so] [--python /usr/bin/python3]
#                    [--tasks N] [--top N] [--native 0|1] [--tool perf|callgrind]
#
# Tool: `perf record` when perf can count instructions on this machine
# (`perf stat -e instructions true` counts them), else valgrind's callgrind
# (exact instruction counts, about 50x slower, so a small run).  --tool forces
# one.  Library runs set only report_path (to a temp dir) and, with
# --native 0, native=0.  Output: totals without and with the library and the
# difference per task, the library's top symbols by self cost and by
# inclusive cost (hook entry points, with what they call in libunwind and
# libc), and the symbols anywhere in the process whose cost grew most.
set -euo pipefail
cd "$(dirname "$0")/.."
LIB=build/libtaskleak.so
PY=/usr/bin/python3
TASKS=
TOP=15
NATIVE=1
TOOL=
while [ $# -gt 0 ]; do
    case $1 in
        --lib) LIB=$2; shift 2 ;;
        --python) PY=$2; shift 2 ;;
        --tasks) TASKS=$2; shift 2 ;;
        --top) TOP=$2; shift 2 ;;
        --native) NATIVE=$2; shift 2 ;;
        --tool) TOOL=$2; shift 2 ;;
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
        *) echo "profile.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
[ -f "$LIB" ] || { echo "profile.sh: no library at $LIB (run make)" >&2; exit 2; }
LIB=$(readlink -f "$LIB")
WL=$(readlink -f bench/workloads.py)

if [ -z "$TOOL" ]; then
    if command -v perf >/dev/null 2>&1 \
        && perf stat -x, -e instructions true 2>&1 >/dev/null | grep -q '^[0-9]'; then
        TOOL=perf
    else
        TOOL=callgrind
        echo "profile.sh: perf cannot count instructions here (\`perf stat -e instructions true\`:" \
             "not supported), using valgrind --tool=callgrind" >&2
    fi
fi
if [ "$TOOL" = callgrind ] && ! command -v valgrind >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null \
            || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null; }
    else
        echo "profile.sh: needs valgrind: sudo apt-get install -y valgrind" >&2; exit 2
    fi
fi
if [ -z "$TASKS" ]; then
    if [ "$TOOL" = perf ]; then TASKS=300000; else TASKS=20000; fi
fi
WARM=$(( TASKS / 20 > 1000 ? TASKS / 20 : 1000 ))

TMP=$(mktemp -d /tmp/taskleak-profile.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
OPTS="report_path=$TMP/tl.%p.json"
[ "$NATIVE" = 0 ] && OPTS="$OPTS:native=0"
CMD=("$PY" "$WL" churn deep --tasks "$TASKS")
echo "profile.sh: $TOOL, deep churn, $TASKS tasks (+$WARM warm-up), $("$PY" -V 2>&1)," \
     "library $LIB$( [ "$NATIVE" = 0 ] && echo ' (native=0)' || true)"

run() {  # run NAME [env assignments...]
    local name=$1; shift
    if [ "$TOOL" = perf ]; then
        (cd "$TMP" && env -u LD_PRELOAD -u TASKLEAK_OPTIONS -u PYTHONASYNCIODEBUG "$@" \
            perf record -q -F 4999 -o "$TMP/$name.data" -- "${CMD[@]}" >"$TMP/$name.json" \
            2>"$TMP/$name.err") || { cat "$TMP/$name.err" >&2; exit 1; }
    else
        (cd "$TMP" && env -u LD_PRELOAD -u TASKLEAK_OPTIONS -u PYTHONASYNCIODEBUG "$@" \
            valgrind --tool=callgrind --callgrind-out-file="$TMP/$name.cg" "${CMD[@]}" \
            >"$TMP/$name.json" 2>"$TMP/$name.err") || { cat "$TMP/$name.err" >&2; exit 1; }
    fi
}
run none
run lib LD_PRELOAD="$LIB" TASKLEAK_OPTIONS="$OPTS"
ls "$TMP"/tl.*.json >/dev/null 2>&1 || { echo "profile.sh: the library wrote no report: inactive?" >&2; exit 1; }

if [ "$TOOL" = callgrind ]; then
    for n in none lib; do
        callgrind_annotate --threshold=100 "$TMP/$n.cg" >"$TMP/$n.self" 2>/dev/null
        callgrind_annotate --threshold=100 --inclusive=yes "$TMP/$n.cg" >"$TMP/$n.incl" 2>/dev/null
    done
else
    for n in none lib; do
        perf report -i "$TMP/$n.data" --stdio -n --no-children --sort dso,sym -g none \
            >"$TMP/$n.self" 2>/dev/null
    done
fi

"$PY" - "$TOOL" "$TMP" "$TASKS" "$WARM" "$TOP" <<'EOF'
import json, re, sys
tool, tmp, tasks, warm, top = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
n = tasks + warm
res = {k: json.load(open("%s/%s.json" % (tmp, k))) for k in ("none", "lib")}
print("wall time per task (under the profiler): %.0f ns without, %.0f ns with the library"
      % (res["none"]["ns_per_task"], res["lib"]["ns_per_task"]))

def parse_cg(path):
    total, rows = None, {}
    for line in open(path):
        m = re.match(r"\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.*?)\s*$", line)
        if not m:
            continue
        v = int(m.group(1).replace(",", ""))
        what = m.group(2)
        if what == "PROGRAM TOTALS":
            total = v
            continue
        m2 = re.match(r"(.*?):(.*) \[(.*)\]$", what)
        if not m2:
            continue
        fn = re.sub(r"'\d+$", "", m2.group(2))
        key = (fn, m2.group(3).rsplit("/", 1)[-1])
        rows[key] = rows.get(key, 0) + v
    return total, rows

def parse_perf(path):
    # perf report --stdio -n --sort dso,sym: "  12.34%   123  dso  [.] sym"
    rows = {}
    for line in open(path):
        m = re.match(r"\s*[\d.]+%\s+(\d+)\s+(\S+)\s+\[.\]\s+(.*?)\s*$", line)
        if m:
            key = (m.group(3), m.group(2).rsplit("/", 1)[-1])
            rows[key] = rows.get(key, 0) + int(m.group(1))
    return sum(rows.values()), rows

is_lib = lambda k: k[1].startswith("libtaskleak")
if tool == "callgrind":
    (t0, self0), (t1, self1) = parse_cg(tmp + "/none.self"), parse_cg(tmp + "/lib.self")
    _, incl1 = parse_cg(tmp + "/lib.incl")
    print("instructions (Ir): %s without, %s with the library: +%.1f%%, +%.0f per task"
          % ("{:,}".format(t0), "{:,}".format(t1), 100.0 * (t1 - t0) / t0, (t1 - t0) / n))
    def show(title, rows, only_lib):
        print("\n" + title)
        print("  %14s %7s %9s  %s" % ("Ir", "%", "Ir/task", "symbol [object]"))
        items = sorted(((v, k) for k, v in rows.items() if (is_lib(k) if only_lib else True)),
                       reverse=True)[:top]
        for v, k in items:
            print("  %14s %6.2f%% %9.0f  %s [%s]" % ("{:,}".format(v), 100.0 * v / t1, v / n, k[0], k[1]))
    print("(CPython's own code counts far more Ir under valgrind than its native speed allows,\n"
          " so read the library's rows against each other and the +Ir per task, not the %.)")
    lib_self = sum(v for k, v in self1.items() if is_lib(k))
    print("libtaskleak.so self cost: %.0f Ir per task (%.1f%% of the run)" % (lib_self / n, 100.0 * lib_self / t1))
    show("top libtaskleak.so symbols, self cost:", self1, True)
    show("top libtaskleak.so symbols, inclusive (what they call included; a hook_* entry also\n"
         "includes the CPython function it wraps, which runs without the library too):", incl1, True)
    grew = {k: self1.get(k, 0) - self0.get(k, 0) for k in self1}
    print("\nsymbols whose self cost grew most with the library (any object):")
    print("  %14s %9s  %s" % ("+Ir", "+Ir/task", "symbol [object]"))
    for v, k in sorted(((v, k) for k, v in grew.items()), reverse=True)[:top]:
        print("  %14s %9.0f  %s [%s]" % ("{:+,}".format(v), v / n, k[0], k[1]))
else:
    (s0, self0), (s1, self1) = parse_perf(tmp + "/none.self"), parse_perf(tmp + "/lib.self")
    print("samples (perf, default event): %d without, %d with the library: +%.1f%%"
          % (s0, s1, 100.0 * (s1 - s0) / max(s0, 1)))
    lib = sum(v for k, v in self1.items() if is_lib(k))
    print("libtaskleak.so self: %d samples, %.1f%% of the run" % (lib, 100.0 * lib / max(s1, 1)))
    print("\ntop libtaskleak.so symbols, self (perf has no reliable call graphs through CPython "
          "without frame pointers; use --tool callgrind for inclusive costs):")
    for v, k in sorted(((v, k) for k, v in self1.items() if is_lib(k)), reverse=True)[:top]:
        print("  %7d %6.2f%%  %s" % (v, 100.0 * v / max(s1, 1), k[0]))
    grew = {k: self1.get(k, 0) - self0.get(k, 0) for k in self1}
    print("\nsymbols whose samples grew most with the library (any object):")
    for v, k in sorted(((v, k) for k, v in grew.items()), reverse=True)[:top]:
        print("  %+7d  %s [%s]" % (v, k[0], k[1]))
EOF
