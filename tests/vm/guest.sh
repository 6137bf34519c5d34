#!/bin/bash
# The VM's second stage, PID 1 in the switched root (see boot.sh): mounts
# what a Debian host has (proc, sysfs, devpts, /dev/shm and cgroup2 as
# systemd mounts it: nsdelegate, memory_recursiveprot; /tmp stays the
# host's under the overlay, since the tree under test may live there), enables
# cpu, memory and pids for the root's children, runs /wbvm-out/command, and
# writes its exit status to /wbvm-out/status before powering off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mkdir -p /dev/pts /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts /dev/pts
ln -sf pts/ptmx /dev/ptmx
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
mount -t tmpfs -o mode=755 tmpfs /run
mount -t cgroup2 -o nsdelegate,memory_recursiveprot cgroup2 /sys/fs/cgroup
echo "+cpu +memory +pids" >/sys/fs/cgroup/cgroup.subtree_control
hostname wbvm
ip link set lo up 2>/dev/null
echo "wbvm: $(uname -r), cgroup2 controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
bash /wbvm-out/command
status=$?
echo "$status" >/wbvm-out/status
sync
echo "wbvm: the guest's command exited $status"
echo o >/proc/sysrq-trigger
sleep 60
