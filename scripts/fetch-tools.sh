#!/usr/bin/env bash
# Unpacks ifupdown (ifup/ifdown) and NetworkManager's nmcli into .tools/ for
# the persistence tests, WITHOUT installing them: installing network-manager
# starts a daemon that takes over the machine's interfaces (and pulls in udev),
# and installing ifupdown writes /etc/network/interfaces. The tests only need
# the programs: ifup/ifdown run inside lab namespaces, nmcli --offline, and the
# NetworkManager daemon itself only inside a lab namespace with a private
# mount namespace and D-Bus bus (test/e2e/nm-daemon.e2e.test.ts).
# Wrappers in .tools/bin set the library path for the unpacked libraries.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=.tools
[ -x "$dest/bin/nmcli" ] && [ -x "$dest/bin/ifup" ] && [ -x "$dest/bin/NetworkManager" ] && exit 0
work=$(mktemp -d)
chmod 777 "$work" # apt-get download drops to the _apt user, which must write here
trap 'rm -rf "$work"' EXIT
# nmcli's own libraries that a minimal Debian 12 lacks (the rest — glib,
# readline, udev, polkit clients — come with the base system or with docker.io).
pkgs=(ifupdown network-manager libnm0 libmm-glib0 libndp0 libteamdctl0 libnewt0.52 libbluetooth3)
(cd "$work" && apt-get download "${pkgs[@]}" >/dev/null)
rm -rf "$dest" && mkdir -p "$dest/root" "$dest/bin"
for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$dest/root"; done
abs=$(cd "$dest" && pwd)
libs="$abs/root/usr/lib/x86_64-linux-gnu:$abs/root/lib/x86_64-linux-gnu"
wrap() { # name, real path
  printf '#!/bin/sh\nLD_LIBRARY_PATH="%s${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" exec "%s" "$@"\n' "$libs" "$2" >"$dest/bin/$1"
  chmod 755 "$dest/bin/$1"
}
wrap nmcli "$abs/root/usr/bin/nmcli"
wrap NetworkManager "$abs/root/usr/sbin/NetworkManager"
wrap ifup "$abs/root/sbin/ifup"
wrap ifdown "$abs/root/sbin/ifdown"
wrap ifquery "$abs/root/sbin/ifquery"
"$dest/bin/nmcli" --version >/dev/null
"$dest/bin/NetworkManager" --version >/dev/null
"$dest/bin/ifup" --version >/dev/null
echo "fetch-tools: nmcli, NetworkManager and ifup/ifdown unpacked into $dest/bin"
