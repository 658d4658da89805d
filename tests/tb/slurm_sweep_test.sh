#!/usr/bin/env bash
# A one-node Slurm cluster on localhost, in a temporary folder: munged with its own key, then
# slurmctld and slurmd with a slurm.conf naming this host. A 4-point sweep runs through it
# (--backend slurm) and its merged sweep.csv must equal the local backend's byte for byte.
# Stops exactly the daemons it started (their pid files), whatever happens.
# Usage: slurm_sweep_test.sh GCA_SIM SWEEP.json. Exit 0 pass, 1 fail, 77 skipped (with the reason).
set -uo pipefail
gca_sim=$1
sweep=$2
skip() { echo "SKIP: $*"; exit 77; }

[ "$(id -u)" -eq 0 ] || skip "needs root to start munged, slurmctld and slurmd"
for d in munged slurmctld slurmd sbatch scontrol; do
  command -v "$d" > /dev/null 2>&1 || [ -x "/usr/sbin/$d" ] ||
    skip "$d not installed (Debian: apt-get install munge slurmctld slurmd slurm-client)"
done
export PATH="$PATH:/usr/sbin"

tmp=$(mktemp -d /tmp/gca_slurm.XXXXXX)
chmod 755 "$tmp"
cleanup() {
  for pidfile in "$tmp/slurmd.pid" "$tmp/slurmctld.pid" "$tmp/munged.pid"; do
    [ -s "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    kill "$pid" 2> /dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2> /dev/null
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

host=$(hostname -s)
cpus=$(nproc)
# Ports of our own, away from a real cluster's 6817/6818.
base=$(( 20000 + ($$ % 20000) ))
ctld_port=$base
d_port=$(( base + 1 ))

# The Slurm output folder's name holds a space and a quote: every path must reach the batch
# script quoted (a space in an #SBATCH line made sbatch reject the job).
out_slurm="$tmp/out slurm'q"
mkdir -p "$tmp/munge" "$tmp/state" "$tmp/spool" "$tmp/out_local"
chmod 700 "$tmp/munge"
dd if=/dev/urandom of="$tmp/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$tmp/munge/munge.key"
munged --key-file="$tmp/munge/munge.key" --socket="$tmp/munge/munge.socket" \
  --pid-file="$tmp/munged.pid" --log-file="$tmp/munged.log" --seed-file="$tmp/munge/seed" \
  --force || { cat "$tmp/munged.log" 2> /dev/null; skip "munged does not start here"; }

cat > "$tmp/slurm.conf" << CONF
ClusterName=gcatest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$d_port
AuthType=auth/munge
AuthInfo=socket=$tmp/munge/munge.socket
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=gca Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$tmp/slurm.conf"
slurmctld -i || { tail -5 "$tmp/slurmctld.log"; skip "slurmctld does not start here"; }
slurmd || { tail -5 "$tmp/slurmd.log"; skip "slurmd does not start here"; }
# Wait for the node to be idle (at most ~30 s).
for _ in $(seq 60); do
  state=$(sinfo -h -N -o '%T' 2> /dev/null | head -1)
  [ "$state" = "idle" ] && break
  sleep 0.5
done
[ "$state" = "idle" ] || { tail -5 "$tmp/slurmctld.log" "$tmp/slurmd.log"; skip "the node did not come up (state '$state')"; }

"$gca_sim" sweep "$sweep" --jobs 2 --out "$tmp/out_local" --quiet
local_rc=$?
# Well inside ctest's TIMEOUT (180 s), so that the cleanup trap always runs.
timeout 120 "$gca_sim" sweep "$sweep" --backend slurm --out "$out_slurm"
slurm_rc=$?
status=0
if [ $local_rc -ne 0 ] || [ $slurm_rc -ne 0 ]; then
  echo "FAIL: exit codes local $local_rc, slurm $slurm_rc"
  cat "$out_slurm"/slurm/*.log 2> /dev/null | tail -20
  status=1
elif ! cmp "$tmp/out_local/sweep.csv" "$out_slurm/sweep.csv"; then
  echo "FAIL: sweep.csv differs between the local and the Slurm backend"
  diff "$tmp/out_local/sweep.csv" "$out_slurm/sweep.csv"
  status=1
else
  rows=$(( $(wc -l < "$out_slurm/sweep.csv") - 1 ))
  tasks=$(ls "$out_slurm/slurm/" | grep -c '^task_')
  if [ "$rows" -ne 4 ] || [ "$tasks" -ne 4 ]; then
    echo "FAIL: expected 4 rows and 4 array tasks, got $rows rows and $tasks task logs"
    status=1
  else
    echo "PASS: 4 points through a one-node Slurm cluster ($tasks array tasks), sweep.csv equal to the local backend's"
    cat "$out_slurm/sweep.csv"
  fi
fi
exit $status
