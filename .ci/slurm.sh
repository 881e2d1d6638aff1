#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for the tests that submit through Slurm.
#
#   bash .ci/slurm.sh start   install slurm-wlm + munge (Debian) if missing, write a slurm.conf for
#                             this host, start munged, slurmctld and slurmd; wait until the node is idle
#   bash .ci/slurm.sh stop    stop exactly the daemons `start` started (by the pids it recorded)
#
# Needs root (the daemons run as root, munged as user munge). Where something cannot be done it
# says so and exits 1; the tests that need Slurm then skip, naming the reason.
set -uo pipefail
STATE=${NTKBENCH_SLURM_STATE:-/tmp/ntkbench-slurm}
CONF=/etc/slurm/slurm.conf

start() {
  if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    command -v apt-get >/dev/null || { echo "slurm: no slurmctld/munged and no apt-get" >&2; return 1; }
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge) >/dev/null \
      || { echo "slurm: could not install slurm-wlm and munge" >&2; return 1; }
  fi
  mkdir -p "$STATE" /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge
  local host cpus mem
  host=$(hostname -s)
  cpus=$(nproc)
  mem=$(($(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024))
  if [ -e "$CONF" ] && ! grep -q "written by ntkbench" "$CONF"; then
    echo "slurm: $CONF exists and is not ours; leaving it (and this cluster) alone" >&2
    return 1
  fi
  # proctrack/linuxproc and task/none: no cgroups needed (containers); KillWait short so that a
  # cancelled job ends promptly.
  cat >"$CONF" <<EOF
# written by ntkbench .ci/slurm.sh: a one-node cluster for the tests
ClusterName=ntkbench
SlurmctldHost=$host
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmUser=root
KillWait=5
MinJobAge=600
SchedulerParameters=sched_interval=1
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
DefMemPerCPU=$((mem / cpus))
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  chown munge:munge /run/munge
  if [ ! -s /etc/munge/munge.key ]; then
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 2>/dev/null
    chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
  fi
  if ! pgrep -x munged >/dev/null; then
    su -s /bin/sh munge -c munged || { echo "slurm: munged did not start" >&2; return 1; }
    sleep 0.5
    pgrep -x -u munge munged | head -1 >"$STATE/munged.pid"
  fi
  slurmctld || { echo "slurm: slurmctld did not start (see /var/log/slurm/slurmctld.log)" >&2; return 1; }
  slurmd || { echo "slurm: slurmd did not start (see /var/log/slurm/slurmd.log)" >&2; return 1; }
  for _ in $(seq 60); do
    if sinfo -h -o %T 2>/dev/null | grep -qx idle; then
      echo "slurm: one-node cluster up ($host, $cpus CPUs)"
      return 0
    fi
    sleep 0.5
  done
  echo "slurm: the node did not become idle: $(sinfo -h -o '%T %E' 2>&1)" >&2
  return 1
}

stop() {
  for d in slurmd slurmctld munged; do
    if [ -s "$STATE/$d.pid" ]; then
      kill "$(cat "$STATE/$d.pid")" 2>/dev/null && echo "slurm: stopped $d"
      rm -f "$STATE/$d.pid"
    fi
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
