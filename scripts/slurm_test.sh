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
chmod 755 "$work"
pids=()
cleanup() {
  status=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  if [ "$status" -ne 0 ]; then
    echo "test-slurm: FAILED; logs:" >&2
    for f in "$work"/*.log "$work"/runs/*/logs/*; do [ -s "$f" ] && { echo "== $f" >&2; tail -n 20 "$f" >&2; }; done
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
started=$(date +%s)

# munge: an own key, socket and state in the temporary folder.
mkdir -p "$work/munge"
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chown -R munge:munge "$work/munge"
chmod 700 "$work/munge"
chmod 400 "$work/munge/munge.key"
# setpriv execs munged itself (no wrapper process), so $! is the daemon's PID.
setpriv --reuid=munge --regid=munge --init-groups munged --foreground --force --key-file="$work/munge/munge.key" \
  --socket="$work/munge/munge.socket" --pid-file="$work/munge/munged.pid" \
  --seed-file="$work/munge/munged.seed" > "$work/munged.log" 2>&1 &
pids+=($!)

host="$(hostname -s)"
mkdir -p "$work/state" "$work/spool"
cat > "$work/slurm.conf" <<CONF
ClusterName=pixelrobust-test
SlurmctldHost=$host
AuthType=auth/munge
AuthInfo=socket=$work/munge/munge.socket
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
NodeName=$host CPUs=2 State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$work/slurm.conf"
for _ in $(seq 50); do [ -S "$work/munge/munge.socket" ] && break; sleep 0.1; done
slurmctld -D -f "$SLURM_CONF" > "$work/slurmctld.out.log" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" > "$work/slurmd.out.log" 2>&1 &
pids+=($!)
for _ in $(seq 120); do
  state="$(sinfo -h -n "$host" -o %t 2>/dev/null || true)"
  [ "$state" = "idle" ] && break
  sleep 0.5
done
[ "$state" = "idle" ] || { echo "test-slurm: the node did not come up (state '$state')" >&2; exit 1; }
echo "test-slurm: single-node cluster up ($host, 2 CPUs) in $(( $(date +%s) - started )) s"

cd "$work"
model="$work/model.safetensors"
"$bin" train --arch small-cnn --epochs 1 --limit 512 --test-limit 64 --batch-size 64 --output "$model" >/dev/null
data=(--data fashion-mnist --limit 60)

# Runs one job sharded through Slurm and once in this process, and compares the folders.
# $1: a name; $2: a comparison (exact or untimed); the rest: the pixelrobust command.
check() {
  local name="$1" mode="$2"; shift 2
  local t0; t0=$(date +%s)
  "$bin" "$@" --output "$work/single-$name" >/dev/null
  "$bin" slurm "$@" --shards 3 --run "$work/runs/$name" --submit
  local merge; merge="$(cut -d' ' -f2 "$work/runs/$name/slurm/jobs.txt")"
  for _ in $(seq 600); do
    [ -z "$(squeue -h -j "$merge" 2>/dev/null)" ] && break
    sleep 0.5
  done
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
