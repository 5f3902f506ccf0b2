#!/bin/sh
# SPDX-License-Identifier: MIT
# make analyze: gcc -fanalyzer and cppcheck over the library's sources.  Every
# finding is printed; those scripts/dev/analyze.supp explains are marked
# "known", any other one is "NEW" and makes the exit status 1.
#   scripts/dev/analyze.sh [CC]      (CC: a gcc with -fanalyzer, default gcc)
set -eu
cd "$(dirname "$0")/../.."
CC=${1:-gcc}
SUPP=scripts/dev/analyze.supp
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
SRC=$(ls shim/*/*.c collector/*.c)
DEFS="-D_GNU_SOURCE -DTL_VERSION=\"analyze\" -Iinclude -Ishim -I."

# Findings as lines "TOOL FILE CHECK MESSAGE".
for f in $SRC; do
    $CC -fanalyzer -std=c11 -pthread $DEFS -O0 -c -o /dev/null "$f" 2>&1 |
        sed -n 's/^\([^:]*\):[0-9]*:[0-9]*: warning: \(.*\) \[\(-Wanalyzer[^]]*\)\]$/gcc \1 \3 \2/p'
done >"$out/findings"
if command -v cppcheck >/dev/null 2>&1; then
    cppcheck --quiet --enable=warning,performance,portability --std=c11 $DEFS \
        --template='cppcheck {file} {id} {message}' shim collector include 2>>"$out/findings" ||
        { echo "analyze: cppcheck failed"; exit 1; }
else
    echo "analyze: cppcheck is absent (apt-get install cppcheck): gcc only"
fi

new=0 known=0
while IFS= read -r finding; do
    [ -n "$finding" ] || continue
    matched=no
    while IFS= read -r rule; do
        case "$rule" in ''|'#'*) continue ;; esac
        set -- $rule
        tool=$1 file=$2 id=$3
        shift 3
        case "$finding" in
            "$tool $file $id "*"$*"*) matched=yes; break ;;
        esac
    done <"$SUPP"
    if [ $matched = yes ]; then
        known=$((known + 1)); echo "known: $finding"
    else
        new=$((new + 1)); echo "NEW:   $finding"
    fi
done <"$out/findings"
echo "analyze: $(echo $SRC | wc -w) files; $new new finding(s), $known known ($SUPP)"
[ $new = 0 ]
