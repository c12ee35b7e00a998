#!/usr/bin/env bash
# Installs the Debian packages the test suite uses, when they are missing.
#   tools/install-deps.sh            tshark, tcpdump, libpcap0.8 (decoder oracle, capture library), gcc (the benchmark's
#                                    C yardsticks, checked against the decoder)
#   tools/install-deps.sh --lab      also Open vSwitch, OVN, iproute2, nftables (the real OVN lab)
# Needs root (or passwordless sudo) only when something is missing. Safe to run repeatedly.
set -euo pipefail

pkgs=(tshark tcpdump libpcap0.8 iproute2 gcc libc6-dev)
if [[ "${1:-}" == "--lab" ]]; then
  pkgs+=(openvswitch-switch ovn-central ovn-host nftables iputils-ping python3)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=""
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo -n"; else
    echo "install-deps: missing Debian packages (${missing[*]}); run as root: apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi
echo "install-deps: installing ${missing[*]}" >&2
# tshark asks whether non-root users may capture; answer "no" without a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $sudo debconf-set-selections 2>/dev/null || true
$sudo apt-get update -qq >/dev/null
# Package scripts that start services fail without systemd; the binaries are what the tests need.
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || echo "install-deps: apt-get reported errors (service start without systemd?); continuing" >&2
