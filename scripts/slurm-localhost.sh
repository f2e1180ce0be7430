#!/usr/bin/env bash
# A real one-node Slurm on this machine, for the Slurm backend's integration test.
#
# Installs Debian's slurm-wlm and munge (needs root), writes a slurm.conf for localhost
# (process tracking by process group, no cgroups, CPUs allocated one by one), starts munged,
# slurmctld and slurmd by hand (no systemd), and waits until `sinfo` shows the node idle.
# Idempotent: daemons already running are left alone, and a second run only checks.
#
# Usage: sudo bash scripts/slurm-localhost.sh     (CI: .ci/run calls it)
set -euo pipefail

node=$(hostname -s)
cpus=$(nproc)
# Slurm refuses a node with less memory than configured; claim a modest share.
memory_mb=$(awk '/MemTotal/ { printf "%d", $2 / 1024 / 2 }' /proc/meminfo)

if [ "$(id -u)" -ne 0 ]; then
    echo "slurm-localhost.sh: needs root (apt-get install and the daemons)" >&2
    exit 1
fi

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null \
    || ! command -v pgrep >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends slurm-wlm munge procps >/dev/null
fi

# munge: a key, owned by munge, and its runtime directories.
if [ ! -s /etc/munge/munge.key ]; then
    if command -v mungekey >/dev/null; then
        mungekey --create --keyfile=/etc/munge/munge.key --force
    else
        dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
    fi
fi
install -d -o munge -g munge -m 0700 /var/lib/munge /var/log/munge /etc/munge
install -d -o munge -g munge -m 0755 /run/munge
chown munge:munge /etc/munge/munge.key
chmod 0400 /etc/munge/munge.key

conf=/etc/slurm/slurm.conf
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
want=$(cat <<EOF
# Written by scripts/slurm-localhost.sh: one node, this machine.
ClusterName=localhost
SlurmctldHost=$node
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
MpiDefault=none
ProctrackType=proctrack/pgid
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
ReturnToService=2
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
MinJobAge=300
NodeName=$node CPUs=$cpus RealMemory=$memory_mb State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
)
changed=0
if [ ! -f "$conf" ] || [ "$(cat "$conf")" != "$want" ]; then
    printf '%s\n' "$want" > "$conf"
    changed=1
fi

running() { pgrep -x "$1" >/dev/null; }

if ! running munged; then
    runuser -u munge -- /usr/sbin/munged
fi
for _ in $(seq 50); do
    munge -n </dev/null | unmunge >/dev/null 2>&1 && break
    sleep 0.2
done
munge -n </dev/null | unmunge >/dev/null

if [ "$changed" = 1 ] && running slurmctld; then
    scontrol reconfigure
fi
running slurmctld || slurmctld
running slurmd || slurmd

# The node registers a few seconds after slurmd starts.
for _ in $(seq 120); do
    state=$(sinfo --noheader --nodes="$node" --format=%T 2>/dev/null || true)
    case "$state" in
    idle* | mixed* | allocated*) break ;;
    down* | drain*) scontrol update nodename="$node" state=resume 2>/dev/null || true ;;
    esac
    sleep 0.5
done
state=$(sinfo --noheader --nodes="$node" --format=%T 2>/dev/null || true)
case "$state" in
idle* | mixed* | allocated*) echo "slurm-localhost: node $node is $state ($cpus CPUs)" ;;
*)
    echo "slurm-localhost: node $node did not come up (state: '${state}')" >&2
    tail -n 20 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log >&2 || true
    exit 1
    ;;
esac
