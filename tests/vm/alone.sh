#!/bin/sh
# alone.sh PARENT CMD [ARGS...]: runs CMD alone in a new child cgroup of
# PARENT, the shape systemd's Delegate=yes gives a service (and user@.service
# gives a user's processes): makes PARENT/alone.PID, moves itself there and
# execs CMD, which keeps this pid. The empty cgroup is left for the caller
# to remove (guest-suite.sh does, after each shape).
parent=${1:?usage: alone.sh PARENT CMD [ARGS...]}
shift
mkdir "$parent/alone.$$" || exit 126
echo $$ >"$parent/alone.$$/cgroup.procs" || exit 126
exec "$@"
