#!/usr/bin/env bash
# Stops the cluster scripts/slurm-up.sh started (the daemons are not tied to any shell).
set -uo pipefail
for pidfile in /run/slurmd.pid /run/slurmctld.pid; do
  [ -s "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null
done
pkill -x slurmd 2>/dev/null; pkill -x slurmctld 2>/dev/null; pkill -x munged 2>/dev/null
exit 0
