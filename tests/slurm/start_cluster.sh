#!/bin/bash
# Start a single-node SLURM (Debian bookworm slurm-wlm 22.05.8) by hand, no systemd, for the
# tests (docs/slurm_single_node.md explains every setting and pitfall).
# Usage: ROOT=/tmp/some/dir [WITH_DBD=1] bash start_cluster.sh; stop with stop_cluster.sh.
# WITH_DBD=1 (default) also runs mariadb + slurmdbd, so that sacct (the executor plugin's
# default status check) works.
set -euo pipefail
ROOT=${ROOT:-/tmp/slurmtest}
WITH_DBD=${WITH_DBD:-1}
HOST=$(hostname -s)
mkdir -p $ROOT/{etc,state,spool,log,run}
if [ "$WITH_DBD" = 1 ]; then
  ACCT="AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=6819"
else
  ACCT="AccountingStorageType=accounting_storage/none"
fi
cat > $ROOT/etc/slurm.conf <<CONF
ClusterName=localcluster
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$ROOT/state
SlurmdSpoolDir=$ROOT/spool
SlurmctldPidFile=$ROOT/run/slurmctld.pid
SlurmdPidFile=$ROOT/run/slurmd.pid
SlurmctldLogFile=$ROOT/log/slurmctld.log
SlurmdLogFile=$ROOT/log/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
$ACCT
JobCompType=jobcomp/filetxt
JobCompLoc=$ROOT/log/jobcomp.txt
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1000
MinJobAge=300
ReturnToService=2
SchedulerType=sched/backfill
MpiDefault=none
SlurmctldDebug=info
SlurmdDebug=info
NodeName=$HOST CPUs=2 RealMemory=20000 State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF
# The jobstep plugin strips SLURM_* (incl. SLURM_CONF) before the in-job srun,
# so the config MUST also be reachable at the compiled-in default path.
mkdir -p /etc/slurm
ln -sfn $ROOT/etc/slurm.conf /etc/slurm/slurm.conf
export SLURM_CONF=$ROOT/etc/slurm.conf

# munge (key created by the Debian package postinst at /etc/munge/munge.key)
[ -s /etc/munge/munge.key ] || { mungekey --create --force; chown munge:munge /etc/munge/munge.key; chmod 600 /etc/munge/munge.key; }
mkdir -p /run/munge && chown munge:munge /run/munge && chmod 755 /run/munge
runuser -u munge -- /usr/sbin/munged
munge -n | unmunge >/dev/null

if [ "$WITH_DBD" = 1 ]; then
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
  nohup /usr/sbin/mariadbd --user=mysql --pid-file=/run/mysqld/mysqld.pid \
      --socket=/run/mysqld/mysqld.sock --bind-address=127.0.0.1 > $ROOT/log/mariadb.out 2>&1 &
  for i in $(seq 1 120); do mariadb-admin ping >/dev/null 2>&1 && break; sleep 0.5; done
  mariadb -e "CREATE DATABASE IF NOT EXISTS slurm_acct_db;
    CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'slurmpw';
    GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost'; FLUSH PRIVILEGES;"
  cat > $ROOT/etc/slurmdbd.conf <<CONF
AuthType=auth/munge
DbdHost=localhost
DbdPort=6819
SlurmUser=root
DebugLevel=info
LogFile=$ROOT/log/slurmdbd.log
PidFile=$ROOT/run/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=localhost
StoragePort=3306
StorageUser=slurm
StoragePass=slurmpw
StorageLoc=slurm_acct_db
CONF
  chmod 600 $ROOT/etc/slurmdbd.conf      # slurmdbd refuses a world-readable file
  slurmdbd                                # reads dirname($SLURM_CONF)/slurmdbd.conf
  for i in $(seq 1 60); do sacctmgr -n list cluster >/dev/null 2>&1 && break; sleep 0.5; done
  sacctmgr -n list cluster format=cluster%30 | grep -qw localcluster || sacctmgr -i add cluster localcluster
fi

slurmctld -c    # -c: clear previous job state
slurmd
for i in $(seq 1 60); do sinfo -h -o %T 2>/dev/null | grep -qx idle && break; sleep 0.5; done
sinfo
