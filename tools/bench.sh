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
# missing (the file name carries a hash of the generator sources, so a changed mix is regenerated), drops each file
# from the page cache and reads it once in order (the same page-cache state for every run), then times every tool on
# the same files in the same run: the median wall time of N runs and the peak RSS (from /usr/bin/time -v). stats and
# analyze runs alternate; a "C read()+decode loop"
# row times the issue's yardstick (tools/bench-reference/readloop.c, one thread, built with cc -O2) and a "C mmap+decode
# loop" row the same header walk read the way stats reads (readloop-parts.c: one part per core, in place from a
# mapping), a "+ flow and sender tables" row that loop with the two per-packet lookups at the heart of analyze
# (-DFLOW_TABLES; the yardstick of analyze's ratio), each with its packet count checked; a "read floor" row times two dd processes reading one half of the
# file each (what read() alone costs). tshark runs on the 1M file only. Prints a markdown table. Installs tcpdump, tshark, gcc and GNU time with
# apt-get when missing (needs root).
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
    -h|--help) sed -n '2,/^[^#]/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench: unknown argument $1" >&2; exit 64 ;;
  esac
done
[[ $runs -ge 5 ]] || { echo "bench: --runs must be at least 5" >&2; exit 64; }

log() { echo "bench: $*" >&2; }

# Every timed command writes its output to /dev/null. Once it was found to be a regular file (something had deleted
# the device and the next `> /dev/null` created a file): tcpdump then wrote 5.5 GB into RAM per run, and the page cache
# lost the captures. Refuse to time anything on such a machine.
if [[ ! -c /dev/null ]]; then
  echo "bench: /dev/null is not the null device ($(stat -c %F /dev/null)); as root: rm /dev/null && mknod -m 666 /dev/null c 1 3" >&2
  exit 1
fi

# ---------------------------------------------------------------- tools
need=()
command -v tcpdump >/dev/null || need+=(tcpdump)
command -v cc >/dev/null || need+=(gcc libc6-dev)
command -v tshark >/dev/null || need+=(tshark)
[[ -x /usr/bin/time ]] || need+=(time)
if [[ ${#need[@]} -gt 0 ]]; then
  log "installing ${need[*]}"
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# The CLI is timed as it is shipped: `dotnet publish -r RID`, which the project makes self-contained, with the framework
# trimmed and one ReadyToRun composite image of the app and the framework (see src/UplinkProbe.Cli/UplinkProbe.Cli.csproj), so neither start-up
# nor the report JIT-compiles library code (the hot loops are marked AggressiveOptimization and are compiled fully
# optimized at first call either way).
log "publishing Release (self-contained, trimmed, ReadyToRun composite; about a minute)"
rid=linux-$(dotnet --info | sed -n 's/^ *Architecture: *//p' | head -1)
[[ $rid == linux- ]] && rid=linux-x64
publish=$root/artifacts/bench-publish
dotnet publish src/UplinkProbe.Cli -c Release -r "$rid" -o "$publish" -nologo -v q >/dev/null
dotnet build tools/UplinkProbe.TrafficGenerator -c Release -nologo -v q >/dev/null
# The issue's yardstick: a hand-written C read()+decode loop, one thread (tools/bench-reference/readloop.c).
refloop=$root/artifacts/bench-readloop
cc -O2 -o "$refloop" tools/bench-reference/readloop.c
# The same walk over a mapping, one part per core, as stats reads (tools/bench-reference/readloop-parts.c).
partsloop=$root/artifacts/bench-readloop-parts
cc -O2 -pthread -o "$partsloop" tools/bench-reference/readloop-parts.c
# The yardstick of analyze: the parts loop plus a flow table per Geneve packet and a sender table per frame.
tablesloop=$root/artifacts/bench-readloop-tables
cc -O2 -pthread -DFLOW_TABLES -o "$tablesloop" tools/bench-reference/readloop-parts.c
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

# How the page cache holds a file changes every mapped reader's time by a fifth or more: read in order, this kernel keeps
# it in 2 MiB folios, which map with one entry each; pages faulted in one at a time through a mapping, or left from
# writing it, sit in small folios, and mapping them costs the kernel about 0.2 CPU-s more per 10M run (docs/performance.md,
# session 20). So every run starts from the same state: each file is dropped from the page cache (dd iflag=nocache
# count=0: posix_fadvise DONTNEED, which leaves pages another process has mapped or locked) and read once in order.
log "warming the page cache (each file dropped from it, then read once in order)"
for f in "${files[@]}"; do
  dd if="$f" iflag=nocache count=0 status=none
  cat "$f" >/dev/null
done
folios=$(awk '/^FileHugePages/ {printf "%.0f", $2 / 1024}' /proc/meminfo)
filesmib=$(du -cm "${files[@]}" | tail -1 | cut -f1)
log "page cache: ${folios:-?} MiB of file pages in 2 MiB folios (the captures are $filesmib MiB)"

# ---------------------------------------------------------------- timing
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# run_once OUT_VAR CMD...: one timed run; appends the wall ns to the array named OUT_VAR and raises peak_<OUT_VAR>.
# Returns 1 (with a log line) when the command fails.
run_once() {
  local var=$1; shift
  local start end r
  start=$(date +%s%N)
  if ! /usr/bin/time -v -o "$tmp/time" "$@" >/dev/null 2>"$tmp/err"; then
    log "$var failed: $(head -3 "$tmp/err" | tr '\n' ' ')"
    return 1
  fi
  end=$(date +%s%N)
  eval "$var+=($(( end - start )))"
  r=$(sed -n 's/.*Maximum resident set size (kbytes): *//p' "$tmp/time")
  local peakvar="peak_$var"
  (( r > ${!peakvar:-0} )) && printf -v "$peakvar" '%s' "$r"
  return 0
}

# median_of VAR: the median of the ns values in the array named VAR, in seconds.
median_of() {
  local -n values=$1
  printf '%s\n' "${values[@]}" | sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.3f", m / 1e9}'
}

# measure NAME FILE CMD...: one warm-up run, then $runs timed runs; sets med (s, or "failed") and rss (KiB).
measure() {
  local name=$1 file=$2; shift 2
  local i
  t=(); peak_t=0
  log "$name on $(basename "$file"): warm-up + $runs runs"
  if ! "$@" >/dev/null 2>"$tmp/err"; then
    log "$name failed: $(head -3 "$tmp/err" | tr '\n' ' ')"
    med=failed; rss=""
    return
  fi
  for ((i = 0; i < runs; i++)); do
    run_once t "$@" || { med=failed; rss=""; return; }
  done
  med=$(median_of t)
  rss=$peak_t
}

# The analyze/stats ratio is the figure that matters most, and this machine's speed drifts from minute to minute
# (other tenants, page-cache eviction): stats and analyze runs alternate, so both medians come from the same minutes.
measure_uplinkprobe() {
  local file=$1 i
  s=(); a=(); peak_s=0; peak_a=0
  log "uplinkprobe stats and analyze on $(basename "$file"): warm-up + $runs alternating runs each"
  smed=failed; amed=failed
  "$cli" stats "$file" >/dev/null 2>"$tmp/err" || { log "stats failed: $(head -3 "$tmp/err" | tr '\n' ' ')"; return; }
  "$cli" analyze "$file" --format json >/dev/null 2>"$tmp/err" || { log "analyze failed: $(head -3 "$tmp/err" | tr '\n' ' ')"; return; }
  for ((i = 0; i < runs; i++)); do
    run_once s "$cli" stats "$file" || return
    run_once a "$cli" analyze "$file" --format json || return
  done
  smed=$(median_of s); amed=$(median_of a)
}

# The cost of only reading the file the way stats does (read() into 256 KiB buffers, one reader per core on its own
# half): the floor under any read()-based tool on this machine.
read_floor() {
  local file=$1 blocks half
  blocks=$(( ($(stat -c %s "$file") + 262143) / 262144 ))
  half=$(( blocks / 2 ))
  dd if="$file" of=/dev/null bs=256K count="$half" status=none &
  dd if="$file" of=/dev/null bs=256K skip="$half" status=none
  wait
}

# A C yardstick: timed like any tool, then run once more to check that it counted every packet of the file.
measure_c_loop() {
  local name=$1 row=$2 loop=$3 file=$4
  measure "$name" "$file" "$loop" "$file"
  if [[ $med != failed ]] && ! "$loop" "$file" | grep -q "^packets ${packets[$file]} "; then
    log "$name: packet count differs from ${packets[$file]}"; med=failed
  fi
  rows+=("$row|$file|$med|$rss")
}

rows=()
declare -A base
export -f read_floor
for f in "${files[@]}"; do
  measure_uplinkprobe "$f"
  base[$f]=$smed
  rows+=("uplinkprobe stats|$f|$smed|$peak_s")
  rows+=("uplinkprobe analyze --format json|$f|$amed|$peak_a")
  measure_c_loop "C read()+decode loop" "C read()+decode loop, 1 thread (tools/bench-reference)" "$refloop" "$f"
  measure_c_loop "C mmap+decode loop" "C mmap+decode loop, one part per core (tools/bench-reference)" "$partsloop" "$f"
  measure_c_loop "C mmap+decode loop + flow tables" "C mmap+decode loop + flow and sender tables (readloop-parts.c -DFLOW_TABLES)" "$tablesloop" "$f"
  measure "read floor" "$f" bash -c 'read_floor "$1"' _ "$f"
  rows+=("read floor: 2 × dd bs=256K, one half each|$f|$med|$rss")
  # -Z root: as root, Debian's tcpdump otherwise drops to its own user and chowns its output file, /dev/null included.
  measure "tcpdump" "$f" tcpdump -n -Z root -r "$f" -w /dev/null
  rows+=("tcpdump -r -w /dev/null|$f|$med|$rss")
  if [[ $withtshark -eq 1 && ${packets[$f]} -le 1000000 ]]; then
    measure "tshark" "$f" tshark -n -r "$f" -T fields -e frame.number
    rows+=("tshark -T fields -e frame.number|$f|$med|$rss")
  fi
done

# ---------------------------------------------------------------- report
echo
echo "Host: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo); load average $(cut -d' ' -f1-3 /proc/loadavg); $runs runs per cell after a warm-up, page cache warm (${folios:-?} MiB of file pages in 2 MiB folios; the captures $filesmib MiB)."
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
