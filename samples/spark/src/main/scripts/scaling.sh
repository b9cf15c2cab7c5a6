#!/usr/bin/env bash
# Images per second of the Spark job at 1 and 2 executor cores in local mode, against the single-process CLI loop
# (one `conditio generate` per request) on the same requests. Run after `mvn -B -q package -DskipTests`:
#   samples/spark/target/scaling.sh [N_REQUESTS] [STEPS]
# Prints one line per configuration; the Spark lines give the job's own rate (after Spark and the pipeline start)
# and the end-to-end wall time of the whole command.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cli="$here/../../cli/target/conditio"
n=${1:-32}
steps=${2:-20}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prompts=("a red circle at the top left" "a large blue triangle" "a green square at the bottom right" "a yellow cross")
schedulers=(euler-a ddim)
for i in $(seq 0 $((n - 1))); do
  printf '{"id": "r%03d", "prompt": "%s", "seed": %d, "steps": %d, "scheduler": "%s"}\n' "$i" \
    "${prompts[$((i % 4))]}" "$((1000 + i))" "$steps" "${schedulers[$((i % 2))]}"
done > "$work/requests.jsonl"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $n requests, $steps steps, 64x64, shapes model"

t0=$(date +%s.%N)
i=0
while IFS= read -r line; do
  prompt=$(printf '%s' "$line" | sed 's/.*"prompt": "\([^"]*\)".*/\1/')
  seed=$(printf '%s' "$line" | sed 's/.*"seed": \([0-9]*\).*/\1/')
  sched=$(printf '%s' "$line" | sed 's/.*"scheduler": "\([^"]*\)".*/\1/')
  "$cli" generate --prompt "$prompt" --seed "$seed" --steps "$steps" --scheduler "$sched" \
    --out "$work/cli/r$(printf %03d $i).png" > /dev/null
  i=$((i + 1))
done < "$work/requests.jsonl"
t1=$(date +%s.%N)
awk -v n="$n" -v t="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" \
  'BEGIN { printf "cli loop (one process per image): %6.2f images/s  (%.1f s wall)\n", n / t, t }'

for cores in 1 2; do
  t0=$(date +%s.%N)
  line=$("$here/conditio-spark" --master "local[$cores]" --requests "$work/requests.jsonl" \
    --out "$work/spark-$cores" | tail -1)
  t1=$(date +%s.%N)
  rate=$(printf '%s' "$line" | sed 's/.* \([0-9.]*\) images\/s.*/\1/')
  awk -v n="$n" -v t="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" -v r="$rate" -v c="$cores" \
    'BEGIN { printf "spark local[%d]: job %6.2f images/s, end to end %6.2f images/s  (%.1f s wall)\n", c, r, n / t, t }'
done
