#!/usr/bin/env bash
# boot.sh KERNEL_DIR OUT_DIR [--systemd] -- SCRIPT [ARGS...]
#
# Boots a Debian kernel unpacked by kernels.sh under qemu (TCG: a KVM guest
# hangs after decompression on this kind of machine) with the host's root
# shared read-only under a tmpfs overlay, so the guest runs the host's
# freshly built binaries at the same paths. The guest runs SCRIPT ARGS
# through tests/vm/guest.sh (or, with --systemd, boots systemd, which runs
# it from a unit) and writes its console log and exit status into OUT_DIR,
# shared read-write. Exits with the guest script's status; 3 when the guest
# never reported one (it did not boot, or died), which is a failure.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kdir=$(cd "${1:?usage: boot.sh KERNEL_DIR OUT_DIR [--systemd] -- SCRIPT [ARGS...]}" && pwd)
out=${2:?}
shift 2
init=guest
if [ "${1:-}" = --systemd ]; then
	init=systemd
	shift
fi
[ "${1:-}" = -- ] && shift
[ $# -ge 1 ] || { echo "boot.sh: no script to run" >&2; exit 2; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out/status" "$out/console.log"
busybox=$(command -v busybox) || { echo "boot.sh: busybox-static is not installed" >&2; exit 2; }
qemu=$(command -v qemu-system-x86_64) || { echo "boot.sh: qemu-system-x86 is not installed" >&2; exit 2; }

# The command the guest runs, as one file in the shared out directory.
{
	printf 'cd %q\n' "$PWD"
	printf 'exec'
	printf ' %q' "$@"
	printf '\n'
} >"$out/command"

# The initramfs: busybox, the modules (uncompressed: busybox's insmod reads
# plain .ko), and the first-stage init.
ird=$(mktemp -d /tmp/wbvm-initrd.XXXXXX)
trap 'rm -rf "$ird"' EXIT
mkdir -p "$ird"/{bin,dev,proc,sys,mod}
cp "$busybox" "$ird/bin/busybox"
cp "$here/initramfs-init" "$ird/init"
chmod 755 "$ird/init"
: >"$ird/modules.order"
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci \
	netfs fscache 9pnet 9pnet_virtio 9p overlay; do
	f=$(find "$kdir/modules" -name "$m.ko" -o -name "$m.ko.xz" -o -name "$m.ko.zst" | head -n 1)
	[ -n "$f" ] || continue   # built in on this kernel
	case "$f" in
	*.xz) xz -dc "$f" >"$ird/mod/$m.ko" ;;
	*.zst) zstd -qdc "$f" >"$ird/mod/$m.ko" ;;
	*) cp "$f" "$ird/mod/$m.ko" ;;
	esac
	echo "$m" >>"$ird/modules.order"
done
(cd "$ird" && find . | "$ird/bin/busybox" cpio -o -H newc 2>/dev/null | gzip -1) >"$ird.cpio.gz"
trap 'rm -rf "$ird" "$ird.cpio.gz"' EXIT

if [ "$init" = systemd ]; then
	stage2="/lib/systemd/systemd"
	# tests/vm/systemd: wbvm.target and wbvm-run.service, which runs the
	# command; initramfs-init installs them. Status lines only for errors.
	extra="wbvm.units=$here/systemd systemd.unit=wbvm.target systemd.show_status=error"
else
	stage2="$here/guest.sh"
	extra=""
fi
timeout_s=${WB_VM_TIMEOUT:-1800}
echo "boot.sh: $(cat "$kdir/version"), $init, ${WB_VM_CPUS:-2} CPUs, timeout ${timeout_s}s: $*"
set +e
timeout -k 10 "$timeout_s" "$qemu" -accel tcg,thread=multi -cpu max -smp "${WB_VM_CPUS:-2}" \
	-m "${WB_VM_MEMORY:-4096}" -nographic -no-reboot -nic none \
	-kernel "$kdir/vmlinuz" -initrd "$ird.cpio.gz" \
	-append "console=ttyS0 quiet loglevel=3 panic=-1 wbvm.stage2=$stage2 $extra" \
	-virtfs local,path=/,mount_tag=host,security_model=passthrough,readonly=on,multidevs=remap \
	-virtfs "local,path=$out,mount_tag=out,security_model=none,multidevs=remap" \
	</dev/null 2>&1 | tee "$out/console.log" | sed -u 's/\r$//'
set -e
if [ ! -s "$out/status" ]; then
	echo "boot.sh: the guest reported no status (it did not boot, hung or died): a failure; its console's end:" >&2
	tail -n 30 "$out/console.log" | sed 's/\r$//; s/^/boot.sh:   /' >&2
	exit 3
fi
exit "$(cat "$out/status")"
