#!/usr/bin/env bash
# Images per second of the Spark job at 1 and 2 executor cores in local mode, against the CLI on the same requests:
# one `conditio generate` process per request, and one process generating them in a loop (`conditio bench`, which
# reports the median time of one whole generation with the model and plugins already open). Run after `mvn -B -q package -DskipTests`:
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

# one process per image is slow: time it on at most 16 of the requests
cli_n=$(( n < 16 ? n : 16 ))
t0=$(date +%s.%N)
i=0
head -n "$cli_n" "$work/requests.jsonl" | while IFS= read -r line; do
  prompt=$(printf '%s' "$line" | sed 's/.*"prompt": "\([^"]*\)".*/\1/')
  seed=$(printf '%s' "$line" | sed 's/.*"seed": \([0-9]*\).*/\1/')
  sched=$(printf '%s' "$line" | sed 's/.*"scheduler": "\([^"]*\)".*/\1/')
  "$cli" generate --prompt "$prompt" --seed "$seed" --steps "$steps" --scheduler "$sched" \
    --out "$work/cli/r$(printf %03d $i).png" > /dev/null
  i=$((i + 1))
done
t1=$(date +%s.%N)
awk -v n="$cli_n" -v t="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" \
  'BEGIN { printf "cli loop (one process per image): %6.2f images/s  (%.1f s wall)\n", n / t, t }'

# one process, model open once, generations back to back (median of n runs after 3 warm-up runs)
gen_ms=$("$cli" bench --steps "$steps" --scheduler euler-a --warmup 3 --runs "$n" --no-alloc --json \
  | sed -n 's/.*"generation_ms":\([0-9.]*\).*/\1/p')
awk -v ms="$gen_ms" 'BEGIN { printf "cli, one process, model open once: %6.2f images/s  (%.1f ms per image)\n", 1000 / ms, ms }'

for cores in 1 2; do
  t0=$(date +%s.%N)
  line=$("$here/conditio-spark" --master "local[$cores]" --requests "$work/requests.jsonl" \
    --out "$work/spark-$cores" | tail -1)
  t1=$(date +%s.%N)
  rate=$(printf '%s' "$line" | sed 's/.* \([0-9.]*\) images\/s.*/\1/')
  awk -v n="$n" -v t="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" -v r="$rate" -v c="$cores" \
    'BEGIN { printf "spark local[%d]: job %6.2f images/s, end to end %6.2f images/s  (%.1f s wall)\n", c, r, n / t, t }'
done
