#!/bin/sh
# Install every Debian package the build, the tests and the benchmarks need.
# Idempotent and fast when everything is present: dpkg-query first, apt only for what is missing.
set -eu
PKGS="build-essential pkg-config clang llvm bpftool libbpf-dev libseccomp-dev libfuse3-dev fuse3
libreadline-dev libvterm-dev libyaml-dev libjansson-dev libsqlite3-dev sqlite3 liboath-dev oathtool
libelf-dev zlib1g-dev libncurses-dev libfido2-dev libcbor-dev fido2-tools libssl-dev libcmocka-dev libqrencode-dev libcap-dev libclang-rt-14-dev
linux-libc-dev tmux vim-tiny less procps psmisc busybox python3 python3-jsonschema strace valgrind hyperfine faketime
openssh-server openssh-client rsync iproute2 git util-linux file zsh fish"
missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in *"install ok installed"*) ;; *) missing="$missing $p" ;; esac
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "make deps: missing Debian packages:$missing" >&2
	echo "make deps: run as root (or: sudo apt-get install$missing)" >&2
	exit 1
fi
echo "make deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
