#!/usr/bin/env bash
# Live-capture benchmark (not a test): offers a rising packet rate on a veth pair inside a private network namespace
# and records, in the same run, the highest rate at which `uplinkprobe capture -w` and `tcpdump -w` each capture every
# packet with zero kernel drops, and the CPU each spends per packet.
#
#   sudo tools/capture-bench.sh                       # default rates
#   RATES="50000 100000" SECONDS_PER_RUN=2 sudo tools/capture-bench.sh
#
# Needs root (namespace, veth), tcpdump, trafgen (Debian netsniff-ng, installed when missing) and the .NET SDK.
# Traffic: 64-byte IPv4/UDP frames to port 6081 (Geneve's port), 198.51.100.1 -> 198.51.100.2, locally administered
# MACs, sent by trafgen on one end of the veth and captured on the other; both capturers get the same filter
# ("udp port 6081") and the same kernel buffer (-B). CPU is the capturer's user+system time while the traffic runs
# (read from /proc/PID/stat before and after), divided by the packets it captured.
set -euo pipefail
cd "$(dirname "$0")/.."

RATES=${RATES:-"25000 50000 100000 200000 300000 400000 600000"}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-3}
BUF_MIB=${BUF_MIB:-8}
FILTER="udp port 6081"

[[ $(id -u) -eq 0 ]] || { echo "capture-bench: needs root (network namespace, veth)" >&2; exit 1; }
if ! command -v trafgen >/dev/null; then
  echo "capture-bench: installing netsniff-ng (trafgen)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends netsniff-ng >/dev/null
fi
command -v tcpdump >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends tcpdump >/dev/null

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build src/UplinkProbe.Cli -c Release -nologo -v q >/dev/null
DLL=$PWD/src/UplinkProbe.Cli/bin/Release/net10.0/uplinkprobe.dll

NS="uplbench-$$"
WORK=$(mktemp -d)
CAPTURE_PID=""
cleanup() {
  if [[ -n "$CAPTURE_PID" ]] && kill -0 "$CAPTURE_PID" 2>/dev/null; then kill -KILL "$CAPTURE_PID" 2>/dev/null || true; fi
  ip netns del "$NS" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

ip netns add "$NS"
ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip -n "$NS" link add va address 02:00:5e:00:53:0a type veth peer name vb address 02:00:5e:00:53:0b
ip -n "$NS" link set va up
ip -n "$NS" link set vb up

# One 64-byte frame (without FCS) for trafgen: Ethernet, IPv4 (checksum filled by trafgen), UDP 49152 -> 6081, zeros.
cat >"$WORK/frame.cfg" <<'EOF'
{
  0x02, 0x00, 0x5e, 0x00, 0x53, 0x0a,  0x02, 0x00, 0x5e, 0x00, 0x53, 0x0b,  0x08, 0x00,
  0x45, 0x00, 0x00, 0x32, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, csumip(14, 33),
  198, 51, 100, 1,  198, 51, 100, 2,
  0xc0, 0x00, 0x17, 0xc1, 0x00, 0x1e, 0x00, 0x00,
  fill(0x00, 22)
}
EOF

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
clk_tck=$(getconf CLK_TCK)

# run_one TOOL RATE -> sets R_CAPTURED R_DROPS R_TICKS R_SENT R_ELAPSED (no subshell: it owns the capture process)
run_one() {
  local tool=$1 rate=$2 out="$WORK/$1.pcapng" err="$WORK/$1.err" ready
  local n=$((rate * SECONDS_PER_RUN))
  rm -f "$out"
  if [[ $tool == uplinkprobe ]]; then
    ip netns exec "$NS" dotnet "$DLL" capture -i va -f "$FILTER" -B "$BUF_MIB" -w "$out" 2>"$err" &
    ready="capturing on"
  else
    ip netns exec "$NS" tcpdump -i va -n -B $((BUF_MIB * 1024)) -w "$out" "$FILTER" 2>"$err" &
    ready="listening on"
  fi
  CAPTURE_PID=$!
  for _ in $(seq 300); do grep -q "$ready" "$err" && break; sleep 0.1; done
  grep -q "$ready" "$err" || { echo "capture-bench: $tool did not start: $(cat "$err")" >&2; exit 1; }
  sleep 0.3
  local c0 c1 t0 t1
  c0=$(cpu_ticks "$CAPTURE_PID")
  t0=$(date +%s.%N)
  ip netns exec "$NS" trafgen -o vb -i "$WORK/frame.cfg" -n "$n" -b "${rate}pps" -P 1 -q >/dev/null 2>&1
  t1=$(date +%s.%N)
  sleep 0.5
  c1=$(cpu_ticks "$CAPTURE_PID")
  kill -TERM "$CAPTURE_PID" # (a background job of a script has SIGINT ignored; both stop cleanly on SIGTERM)
  wait "$CAPTURE_PID" || true
  CAPTURE_PID=""
  local captured drops
  if [[ $tool == uplinkprobe ]]; then
    captured=$(sed -n 's/.*capture stopped ([^)]*): \([0-9]*\) packets captured.*/\1/p' "$err")
    drops=$(sed -n 's/.*DROPPED \([0-9]*\) packets.*/\1/p' "$err" | tail -1)
    drops=${drops:-0}
  else
    captured=$(sed -n 's/^\([0-9]*\) packets captured.*/\1/p' "$err")
    drops=$(sed -n 's/^\([0-9]*\) packets dropped by kernel.*/\1/p' "$err")
  fi
  R_CAPTURED=${captured:-0} R_DROPS=${drops:-0} R_TICKS=$((c1 - c0)) R_SENT=$n R_ELAPSED=$(echo "$t1 - $t0" | bc -l)
}

echo "capture-bench: $(nproc) CPUs, $(uname -r), $(ip netns exec "$NS" tcpdump --version 2>&1 | head -1), libpcap buffer ${BUF_MIB} MiB, ${SECONDS_PER_RUN} s per rate"
printf '%-11s %10s %10s %10s %10s %9s %12s %10s\n' tool offered_pps achieved sent captured kdrops cpu_ns/pkt cpu_%core
declare -A best=([uplinkprobe]=0 [tcpdump]=0) nodrop=([uplinkprobe]=0 [tcpdump]=0)
declare -A cost=() nodropcost=()
for rate in $RATES; do
  for tool in uplinkprobe tcpdump; do
    run_one "$tool" "$rate"
    captured=$R_CAPTURED drops=$R_DROPS ticks=$R_TICKS sent=$R_SENT elapsed=$R_ELAPSED
    achieved=$(printf '%.0f' "$(echo "$sent / $elapsed" | bc -l)")
    cpu_s=$(echo "$ticks / $clk_tck" | bc -l)
    per_pkt=$( [[ $captured -gt 0 ]] && printf '%.0f' "$(echo "$cpu_s * 1000000000 / $captured" | bc -l)" || echo -)
    pct=$(printf '%.0f' "$(echo "100 * $cpu_s / $elapsed" | bc -l)")
    printf '%-11s %10s %10s %10s %10s %9s %12s %10s\n' "$tool" "$rate" "$achieved" "$sent" "$captured" "$drops" "$per_pkt" "$pct"
    if [[ $drops -eq 0 ]]; then
      nodrop[$tool]=$achieved
      nodropcost[$tool]=$per_pkt
      if [[ $captured -eq $sent ]]; then
        best[$tool]=$achieved
        cost[$tool]=$per_pkt
      fi
    fi
  done
done
echo
for tool in uplinkprobe tcpdump; do
  echo "capture-bench: $tool: highest rate with zero kernel drops: ${nodrop[$tool]} pps (cpu ${nodropcost[$tool]:--} ns/packet there);" \
    "with every sent packet also in the file: ${best[$tool]} pps (cpu ${cost[$tool]:--} ns/packet)"
done
echo "capture-bench: 'achieved' below 'offered' means the sender (trafgen on this machine) could not go faster;" \
  "CPU is counted in clock ticks (10 ms), so figures at low rates are coarse."
