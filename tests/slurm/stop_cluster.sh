#!/bin/bash
# Stop everything start_cluster.sh started, by pid file (same ROOT).
ROOT=${ROOT:-/tmp/slurmtest}
for p in slurmctld slurmd slurmdbd; do
  [ -f $ROOT/run/$p.pid ] && kill "$(cat $ROOT/run/$p.pid)" 2>/dev/null && echo "stopped $p"
done
sleep 1
[ -f /run/mysqld/mysqld.pid ] && kill "$(cat /run/mysqld/mysqld.pid)" 2>/dev/null && echo "stopped mariadbd"
[ -f /run/munge/munged.pid ] && kill "$(cat /run/munge/munged.pid)" 2>/dev/null && echo "stopped munged"
sleep 2
rm -f /etc/slurm/slurm.conf   # the symlink start_cluster.sh made
