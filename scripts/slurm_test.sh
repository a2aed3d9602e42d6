#!/usr/bin/env bash
# make test-slurm: a real single-node Slurm cluster on this machine runs a 3-shard gradient map,
# attack and certification through `pixelrobust slurm --submit`; each merged result must equal a
# single-process run (certification: all but the timing). Every daemon it starts is stopped by
# its PID on exit. Needs root (munged runs as the munge user, slurmctld and slurmd as root).
#
#   bash scripts/slurm_test.sh BIN     (BIN: the pixelrobust executable)
set -euo pipefail
bin="$(realpath "${1:?usage: slurm_test.sh PIXELROBUST}")"
bash "$(dirname "$0")/setup.sh" slurm-wlm munge >/dev/null

work="$(mktemp -d /tmp/pixelrobust-slurm.XXXXXX)"
source "$(dirname "$0")/slurm_cluster.sh"
trap 'status=$?; [ "$status" -ne 0 ] && slurm_cluster_logs "$work"; slurm_cluster_stop; rm -rf "$work"; exit "$status"' EXIT
started=$(date +%s)
slurm_cluster_start "$work"
echo "test-slurm: single-node cluster up ($(hostname -s), 2 CPUs) in $(( $(date +%s) - started )) s"

cd "$work"
model="$work/model.safetensors"
"$bin" train --arch small-cnn --epochs 1 --limit 512 --test-limit 64 --batch-size 64 --output "$model" >/dev/null
data=(--data fashion-mnist --limit 60)

# Runs one job sharded through Slurm and once in this process, and compares the folders.
# $1: a name; $2: a comparison (exact or untimed); the rest: the pixelrobust command.
check() {
  local name="$1" mode="$2"; shift 2
  local t0; t0=$(date +%s)
  PIXELROBUST_THREADS=2 "$bin" "$@" --output "$work/single-$name" >/dev/null
  # The tasks get 2 CPUs (the default --cpus-per-task), so both sides use 2 engine threads: the same
  # GEMM blocking, the same bits.
  "$bin" slurm "$@" --shards 3 --cpus-per-task 2 --run "$work/runs/$name" --submit
  slurm_wait "$(cut -d' ' -f2 "$work/runs/$name/slurm/jobs.txt")" 300
  [ -f "$work/runs/$name/merged/manifest.json" ] || { echo "test-slurm: $name: the merge job left no result" >&2; exit 1; }
  local a="$work/single-$name" b="$work/runs/$name/merged"
  local files; files="$(cd "$b" && ls)"
  [ "$files" = "$(cd "$a" && ls | grep -v '^journal.json$')" ] || { echo "test-slurm: $name: other files: $files" >&2; exit 1; }
  for f in $files; do
    case "$mode:$f" in
      untimed:*.csv) diff <(cut -d, -f1-6 "$a/$f") <(cut -d, -f1-6 "$b/$f") ;;
      untimed:summary.json) diff <(grep -v secondsPerImage "$a/$f") <(grep -v secondsPerImage "$b/$f") ;;
      untimed:summary.md) diff <(sed 's/[^|]*|$//' "$a/$f") <(sed 's/[^|]*|$//' "$b/$f") ;;
      untimed:manifest.json) diff <(grep -v '"bytes"\|"fnv1a64"' "$a/$f") <(grep -v '"bytes"\|"fnv1a64"' "$b/$f") ;;
      *) cmp "$a/$f" "$b/$f" ;;
    esac
  done
  echo "test-slurm: $name: 3 shards + merge through Slurm equal the single run ($mode; $(( $(date +%s) - t0 )) s)"
}

check gradient-map exact gradient-map --model "$model" "${data[@]}" --batch-size 16
check attack exact attack --model "$model" "${data[@]}" --attack pgd --epsilon 0,0.05,0.1 --steps 5 --random-start --batch-size 16 --seed 3
check certify untimed smooth certify --model "$model" --data fashion-mnist --limit 24 --sigma 0.25 --samples 100 \
  --selection-samples 20 --batch-size 4 --seed 5
echo "test-slurm: passed in $(( $(date +%s) - started )) s"
