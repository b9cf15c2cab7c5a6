#!/usr/bin/env bash
# Whole-process time of the README's main command, median of N runs per launcher, launchers interleaved run by run so
# that all of them see the same machine load. Each run gets its own empty java.io.tmpdir, checked afterwards: a file or
# folder left there is reported (and makes the exit status 1).
#
#   tools/startup/measure.sh [-n RUNS] [LAUNCHER...]      (default: 10 runs of samples/cli/target/conditio)
#
# A launcher is a conditio launcher script; a copy of an older build (cp -r samples/cli/target/{conditio,conditio.jar,
# lib,plugins,models} /tmp/before) compares before and after. CONDITIO_JAVA_OPTS is passed on as it is, with
# -Djava.io.tmpdir added; the libraries' log (CONDITIO_LOG) goes to the script's own folder. Wall time is what the
# user waits; CPU time (user + sys, all threads) moves less with other processes' load. Needs GNU time (/usr/bin/time). The load average is printed before and after, since it changes what the figures mean.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=10
if [ "${1:-}" = "-n" ]; then runs=$2; shift 2; fi
[ "$#" -gt 0 ] || set -- samples/cli/target/conditio
for l in "$@"; do
    [ -x "$l" ] || { echo "measure.sh: launcher $l not found or not executable (build with: mvn -B -q install -DskipTests)" >&2; exit 2; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "before: $(uptime)"
left=0
for ((i = 1; i <= runs; i++)); do
    for ((k = 1; k <= $#; k++)); do
        l=${!k}
        tmp="$work/tmp-$i-$k"
        mkdir "$tmp"
        CONDITIO_LOG="$work/conditio.log" CONDITIO_JAVA_OPTS="${CONDITIO_JAVA_OPTS:-} -Djava.io.tmpdir=$tmp" \
            /usr/bin/time -f "%e %U %S" -o "$work/time" \
            "$l" generate --prompt "a red circle at the top left" --out "$work/out-$k.png" >/dev/null 2>"$work/err" \
            || { echo "run $i of $l failed:" >&2; cat "$work/err" >&2; exit 1; }
        awk '{ printf "%d %d\n", $1 * 1000, ($2 + $3) * 1000 }' "$work/time" >> "$work/times-$k"
        if [ -n "$(ls -A "$tmp")" ]; then
            echo "run $i of $l left in java.io.tmpdir: $(ls -A "$tmp" | tr '\n' ' ')" >&2
            left=1
        fi
    done
done
echo "after:  $(uptime)"
for ((k = 1; k <= $#; k++)); do
    for col in 1 2; do cut -d' ' -f$col "$work/times-$k" | sort -n > "$work/col-$col"; done
    paste -d' ' "$work/col-1" "$work/col-2" | awk -v name="${!k}" '{ w[NR] = $1; c[NR] = $2 } END {
        mw = NR % 2 ? w[(NR + 1) / 2] : (w[NR / 2] + w[NR / 2 + 1]) / 2
        mc = NR % 2 ? c[(NR + 1) / 2] : (c[NR / 2] + c[NR / 2 + 1]) / 2
        printf "%s: wall median %.0f ms (min %d, max %d), CPU (user+sys) median %.0f ms, %d runs\n",
            name, mw, w[1], w[NR], mc, NR }'
done
exit $left
