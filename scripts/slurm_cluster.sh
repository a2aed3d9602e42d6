# A single-node Slurm cluster on this machine, for tests and notebooks; source this file.
#   slurm_cluster_start WORK   starts munged (as the munge user), slurmctld and slurmd (as root)
#                              with config, state, spool and logs in WORK, and exports SLURM_CONF
#   slurm_cluster_stop         stops every daemon it started, by its PID
#   slurm_cluster_logs WORK    prints the tail of every log (after a failure)
# Configuration: ProctrackType=proctrack/linuxproc, TaskPlugin=task/none, SelectType=select/cons_tres,
# the node named by `hostname -s` with 2 CPUs. Needs root and the slurm-wlm and munge packages.

slurm_cluster_pids=()

slurm_cluster_start() {
  local work="$1" host
  host="$(hostname -s)"
  chmod 755 "$work"
  # munge: an own key, socket and seed in WORK; setpriv execs munged itself, so $! is its PID.
  mkdir -p "$work/munge"
  dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
  chown -R munge:munge "$work/munge"
  chmod 700 "$work/munge"
  chmod 400 "$work/munge/munge.key"
  setpriv --reuid=munge --regid=munge --init-groups munged --foreground --force --key-file="$work/munge/munge.key" \
    --socket="$work/munge/munge.socket" --pid-file="$work/munge/munged.pid" \
    --seed-file="$work/munge/munged.seed" > "$work/munged.log" 2>&1 &
  slurm_cluster_pids+=($!)
  mkdir -p "$work/state" "$work/spool"
  cat > "$work/slurm.conf" <<CONF
ClusterName=pixelrobust-local
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
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF="$work/slurm.conf"
  for _ in $(seq 50); do [ -S "$work/munge/munge.socket" ] && break; sleep 0.1; done
  slurmctld -D -f "$SLURM_CONF" > "$work/slurmctld.out.log" 2>&1 &
  slurm_cluster_pids+=($!)
  slurmd -D -f "$SLURM_CONF" > "$work/slurmd.out.log" 2>&1 &
  slurm_cluster_pids+=($!)
  local state=""
  for _ in $(seq 120); do
    state="$(sinfo -h -n "$host" -o %t 2>/dev/null || true)"
    [ "$state" = "idle" ] && return 0
    sleep 0.5
  done
  echo "slurm_cluster: the node did not come up (state '$state')" >&2
  return 1
}

slurm_cluster_stop() {
  local pid
  for pid in "${slurm_cluster_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${slurm_cluster_pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  slurm_cluster_pids=()
}

slurm_cluster_logs() {
  local f
  for f in "$1"/*.log "$1"/runs/*/logs/*; do
    [ -s "$f" ] && { echo "== $f" >&2; tail -n 20 "$f" >&2; }
  done
}

# Waits (up to $2 seconds, default 600) until job $1 has left the queue.
slurm_wait() {
  local job="$1" limit="${2:-600}" t=0
  while [ -n "$(squeue -h -j "$job" 2>/dev/null)" ]; do
    sleep 0.5
    t=$((t + 1))
    if [ "$t" -ge $((limit * 2)) ]; then echo "slurm_wait: job $job still queued after $limit s" >&2; return 1; fi
  done
  return 0
}
