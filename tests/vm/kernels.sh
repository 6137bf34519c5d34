#!/usr/bin/env bash
# kernels.sh DIR: fetches the Debian kernels the VM suite boots and unpacks
# each into DIR/NAME/ (vmlinuz, modules/, version). Nothing is installed on
# the host: `apt-get download` and `dpkg-deb -x` only. The backports list is
# read into a private directory, leaving the host's apt configuration alone.
#   bookworm   Debian 12's own kernel (6.1): memory.peak cannot be reset
#   backports  bookworm-backports' kernel (6.12+): memory.peak reset per fd
# Already unpacked kernels are kept; `version` records which one it is.
set -euo pipefail
dir=${1:?usage: kernels.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
mirror=${WB_VM_MIRROR:-http://deb.debian.org/debian}

# unpack NAME APT_OPTS...: the linux-image-amd64 package that apt resolves
# with APT_OPTS, downloaded and unpacked into $dir/NAME.
unpack() {
	local name=$1 pkg deb work
	shift
	[ -s "$dir/$name/vmlinuz" ] && [ -s "$dir/$name/version" ] && return 0
	pkg=$(apt-cache "$@" depends linux-image-amd64 | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -n 1)
	[ -n "$pkg" ] || { echo "kernels.sh: cannot resolve linux-image-amd64 for $name" >&2; return 1; }
	work=$(mktemp -d "$dir/.fetch.XXXXXX")
	# As root into a directory _apt cannot write: no sandbox user then.
	(cd "$work" && apt-get -o APT::Sandbox::User=root "$@" download "$pkg" >/dev/null)
	deb=$(ls "$work"/*.deb)
	dpkg-deb -x "$deb" "$work/root"
	rm -rf "${dir:?}/$name"
	mkdir -p "$dir/$name"
	mv "$work"/root/boot/vmlinuz-* "$dir/$name/vmlinuz"
	mv "$work"/root/lib/modules/* "$dir/$name/modules"
	basename "$deb" .deb >"$dir/$name/version"
	rm -rf "$work"
	echo "kernels.sh: $name = $(cat "$dir/$name/version")"
}

unpack bookworm

# bookworm-backports, through a private sources list and package lists.
bp=$dir/.apt-backports
mkdir -p "$bp/lists/partial" "$bp/archives/partial"
echo "deb $mirror bookworm-backports main" >"$bp/sources.list"
opts=(-o "Dir::Etc::sourcelist=$bp/sources.list" -o "Dir::Etc::sourceparts=-"
	-o "Dir::State::Lists=$bp/lists" -o "Dir::Cache::archives=$bp/archives"
	-o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache=" -o "APT::Get::List-Cleanup=0")
if [ ! -s "$dir/backports/vmlinuz" ]; then
	apt-get "${opts[@]}" update >/dev/null
fi
unpack backports "${opts[@]}"
