#!/usr/bin/env bash
# End-to-end throughput of `uplinkprobe stats` (and of the whole analysis, `analyze`) against tcpdump and tshark on
# generated OVN-uplink captures.
#
#   tools/bench.sh [--runs N] [--dir DIR] [--no-10m] [--no-tshark] [--regen]
#
#   --runs N   timed runs per measurement after one warm-up run (default 5, minimum 5 for a median)
#   --dir DIR  cache directory for the generated captures (default $BENCH_DIR or /var/tmp/uplinkprobe-bench)
#   --no-10m   skip the 10M-packet file (about 5.5 GB)
#   --no-tshark skip tshark (about 2 minutes per run on the 1M file)
#   --regen    regenerate the captures even when cached
#
# Builds Release, generates uplink-1M and uplink-10M (seed 1) with tools/UplinkProbe.TrafficGenerator when
# missing (the file name carries a hash of the generator sources, so a changed mix is regenerated), reads each
# file once to warm the page cache, then times every tool on the same files in the same run: the median wall
# time of N runs and the peak RSS (from /usr/bin/time -v). tshark runs on the 1M file only. Prints a markdown
# table. Installs tcpdump, tshark and GNU time with apt-get when missing (needs root).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

runs=5
dir=${BENCH_DIR:-/var/tmp/uplinkprobe-bench}
with10m=1
withtshark=1
regen=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --no-10m) with10m=0; shift ;;
    --no-tshark) withtshark=0; shift ;;
    --regen) regen=1; shift ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench: unknown argument $1" >&2; exit 64 ;;
  esac
done
[[ $runs -ge 5 ]] || { echo "bench: --runs must be at least 5" >&2; exit 64; }

log() { echo "bench: $*" >&2; }

# ---------------------------------------------------------------- tools
need=()
command -v tcpdump >/dev/null || need+=(tcpdump)
command -v tshark >/dev/null || need+=(tshark)
[[ -x /usr/bin/time ]] || need+=(time)
if [[ ${#need[@]} -gt 0 ]]; then
  log "installing ${need[*]}"
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# The CLI is timed as it is shipped: published Release with ReadyToRun code, so start-up does not JIT the command line
# library (the hot loops are marked AggressiveOptimization and are compiled fully optimized at first call either way).
log "publishing Release (ReadyToRun)"
rid=linux-$(dotnet --info | sed -n 's/^ *Architecture: *//p' | head -1)
[[ $rid == linux- ]] && rid=linux-x64
publish=$root/artifacts/bench-publish
dotnet publish src/UplinkProbe.Cli -c Release -r "$rid" --self-contained false -p:PublishReadyToRun=true -o "$publish" -nologo -v q >/dev/null
dotnet build tools/UplinkProbe.TrafficGenerator -c Release -nologo -v q >/dev/null
cli=$publish/uplinkprobe
gen=$root/tools/UplinkProbe.TrafficGenerator/bin/Release/net10.0/UplinkProbe.TrafficGenerator
[[ -x $cli && -x $gen ]] || { log "Release binaries not found ($cli, $gen)"; exit 1; }

# ---------------------------------------------------------------- captures
mkdir -p "$dir"
mix=$(cat src/UplinkProbe/Crafting/*.cs src/UplinkProbe/Capture/PcapWriter.cs | sha256sum | cut -c1-10)
declare -A packets
files=()
sizes=(1000000)
[[ $with10m -eq 1 ]] && sizes+=(10000000)
for n in "${sizes[@]}"; do
  f="$dir/uplink-$((n / 1000000))M-seed1-$mix.pcap"
  if [[ $regen -eq 1 || ! -s $f ]]; then
    log "generating $f"
    "$gen" --packets "$n" --seed 1 --out "$f"
  fi
  packets[$f]=$n
  files+=("$f")
done

log "warming the page cache"
for f in "${files[@]}"; do cat "$f" >/dev/null; done

# ---------------------------------------------------------------- timing
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# measure NAME FILE CMD...: one warm-up run, then $runs timed runs; sets med (s, or "failed") and rss (KiB).
measure() {
  local name=$1 file=$2; shift 2
  local times=() peak=0 i start end r
  log "$name on $(basename "$file"): warm-up + $runs runs"
  if ! "$@" >/dev/null 2>"$tmp/err"; then
    log "$name failed: $(head -3 "$tmp/err" | tr '\n' ' ')"
    med=failed; rss=""
    return
  fi
  for ((i = 0; i < runs; i++)); do
    start=$(date +%s%N)
    if ! /usr/bin/time -v -o "$tmp/time" "$@" >/dev/null 2>"$tmp/err"; then
      log "$name failed: $(head -3 "$tmp/err" | tr '\n' ' ')"
      med=failed; rss=""
      return
    fi
    end=$(date +%s%N)
    times+=("$(( end - start ))")
    r=$(sed -n 's/.*Maximum resident set size (kbytes): *//p' "$tmp/time")
    (( r > peak )) && peak=$r
  done
  med=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.3f", m / 1e9}')
  rss=$peak
}

rows=()
declare -A base
for f in "${files[@]}"; do
  measure "uplinkprobe stats" "$f" "$cli" stats "$f"
  base[$f]=$med
  rows+=("uplinkprobe stats|$f|$med|$rss")
  measure "uplinkprobe analyze" "$f" "$cli" analyze "$f" --format json
  rows+=("uplinkprobe analyze --format json|$f|$med|$rss")
  measure "tcpdump" "$f" tcpdump -n -r "$f" -w /dev/null
  rows+=("tcpdump -r -w /dev/null|$f|$med|$rss")
  if [[ $withtshark -eq 1 && ${packets[$f]} -le 1000000 ]]; then
    measure "tshark" "$f" tshark -n -r "$f" -T fields -e frame.number
    rows+=("tshark -T fields -e frame.number|$f|$med|$rss")
  fi
done

# ---------------------------------------------------------------- report
echo
echo "Host: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo); load average $(cut -d' ' -f1-3 /proc/loadavg); $runs runs per cell after a warm-up, page cache warm."
echo
echo "| tool | file | packets | median s | ns/packet | ratio vs uplinkprobe | peak RSS |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
for row in "${rows[@]}"; do
  IFS='|' read -r tool f m r <<<"$row"
  n=${packets[$f]}
  if [[ $m == failed ]]; then
    echo "| $tool | $(basename "$f") | $n | failed | | | |"
    continue
  fi
  nsp=$(awk -v m="$m" -v n="$n" 'BEGIN {printf "%.0f", m * 1e9 / n}')
  b=${base[$f]}
  ratio=$([[ $b == failed ]] && echo "n/a" || awk -v m="$m" -v b="$b" 'BEGIN {printf "%.2fx", m / b}')
  mib=$(awk -v r="$r" 'BEGIN {printf "%.0f MiB", r / 1024}')
  echo "| $tool | $(basename "$f") | $n | $m | $nsp | $ratio | $mib |"
done
