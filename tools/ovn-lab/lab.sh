#!/usr/bin/env bash
# UplinkProbe OVN lab: a real 3-chassis OVN cluster (OVS userspace datapath) in network
# namespaces on one Debian 12 machine, driven through HA gateway failover scenarios while
# every chassis's uplink and tunnel NIC is captured.
#
#   lab.sh run --out DIR [--quick|--long] [--scenarios LIST] [--dur LABEL=SECS ...] [--keep]
#              [--watch CMD [--watch-ready TEXT]]
#   lab.sh cleanup          remove namespaces, processes and the work dir of a previous run
#   lab.sh scenarios        list the scenario names
#
# Everything lives in namespaces named upl-* and in the work dir $UPL_LAB_WORK (default
# /tmp/upl-lab). Only documentation addresses are used (192.0.2.0/24 tunnel, 198.51.100.0/24
# instances, 203.0.113.0/24 uplink; MACs 00:00:5e:00:53:xx from RFC 7042 for the kernel
# interfaces, 00:16:3e:xx for OVN logical ports). See docs/ovn-lab.md.
# One lab per machine: the namespace names are fixed, so a run records its pid in /tmp/upl-lab.owner
# and another run (or cleanup) refuses to start while that lab.sh lives, instead of removing its lab.
set -Eeuo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
P=upl-                                  # prefix of every namespace this script creates
W=${UPL_LAB_WORK:-/tmp/upl-lab}         # DBs, sockets, daemon logs, pid list
case "$W" in /tmp/upl-lab*|/run/upl-lab*) ;; *) echo "UPL_LAB_WORK must start with /tmp/upl-lab or /run/upl-lab" >&2; exit 2;; esac

NODES=(hv1 hv2 hv3)
declare -A ENCAP=([hv1]=192.0.2.11 [hv2]=192.0.2.12 [hv3]=192.0.2.13)
declare -A UPMAC=([hv1]=00:00:5e:00:53:11 [hv2]=00:00:5e:00:53:12 [hv3]=00:00:5e:00:53:13)
declare -A TUNMAC=([hv1]=00:00:5e:00:53:21 [hv2]=00:00:5e:00:53:22 [hv3]=00:00:5e:00:53:23)
declare -A VM=([hv1]=vm1 [hv2]=vm2 [hv3]=vm3)
declare -A VMIP=([hv1]=198.51.100.11 [hv2]=198.51.100.12 [hv3]=198.51.100.13)
declare -A VMMAC=([hv1]=00:16:3e:00:00:11 [hv2]=00:16:3e:00:00:12 [hv3]=00:16:3e:00:00:13)
declare -A PRIO=([hv1]=30 [hv2]=20 [hv3]=10)   # gateway chassis priorities (changed by scenarios)
declare -A VSWITCHD_UP=([hv1]=0 [hv2]=0 [hv3]=0)
declare -A CONTROLLER_UP=([hv1]=0 [hv2]=0 [hv3]=0)
declare -A GW_MEMBER=([hv1]=1 [hv2]=1 [hv3]=1)
RTR_IP=203.0.113.1 RTR_MAC=00:00:5e:00:53:01
LR=lr0
LRP_INT=lr0-int LRP_INT_MAC=00:16:3e:aa:00:01 LRP_INT_CIDR=198.51.100.1/24
LRP_EXT=lr0-ext LRP_EXT_MAC=00:16:3e:aa:00:02 LRP_EXT_CIDR=203.0.113.10/24
CR_PORT=cr-lr0-ext
SNAT_IP=203.0.113.10
FIP_C_IP=203.0.113.21 FIP_C_NODE=hv1                                  # centralized floating IP
FIP_D_IP=203.0.113.23 FIP_D_NODE=hv3 FIP_D_MAC=00:16:3e:bb:00:03      # distributed floating IP
PHYSNET=physnet1

ALL_SCENARIOS=(steady prio-change vswitchd-kill node-crash graceful-exit geneve-drop)
# also: geneve-drop-only (the drop variant without the isolation phase before it)
# Phase lengths in seconds per profile. OVN 23.03 sends 5 GARPs per IP at about +1,+3,+7,+15,+31 s
# after a claim; quick phases show the first three, long ones the first four. The whole run
# (bring-up ~25 s + phases + teardown) stays under 3 minutes.
declare -A DUR_quick=([steady]=6 [prio-change]=12 [vswitchd-kill]=10 [vswitchd-restart]=12
    [node-crash]=10 [node-restart]=12 [graceful-exit]=12 [controller-restart]=12 [geneve-isolate]=10 [geneve-drop]=10)
declare -A DUR_long=([steady]=8 [prio-change]=17 [vswitchd-kill]=13 [vswitchd-restart]=17
    [node-crash]=13 [node-restart]=17 [graceful-exit]=17 [controller-restart]=17 [geneve-isolate]=12 [geneve-drop]=12)

log() { printf '%s %s\n' "$(date -u +%H:%M:%S.%3N)" "$*" | tee -a "${LOGFILE:-/dev/null}" >&2; }
die() { log "ERROR: $*"; exit 1; }
now_ns() { date +%s%N; }
nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
nbctl() { ovn-nbctl --db="unix:$W/central/nb.sock" --timeout=20 "$@"; }
sbctl() { ovn-sbctl --db="unix:$W/central/sb.sock" --timeout=20 "$@"; }
vsctl() { local n=$1; shift; ovs-vsctl --db="unix:$W/$n/db.sock" --timeout=20 "$@"; }
hv_env() { echo "OVS_RUNDIR=$W/$1 OVS_DBDIR=$W/$1 OVS_LOGDIR=$W/$1 OVN_RUNDIR=$W/$1 OVN_LOGDIR=$W/$1"; }
pid_add() { echo "$1 $2" >> "$W/pids"; }
pidfile_pid() { [[ -s $1 ]] && tr -d ' \n' < "$1"; }

# ---------------------------------------------------------------- install / cleanup
install_deps() {
    local missing=()
    for c in ovs-vswitchd ovsdb-server ovn-controller ovn-northd ovn-nbctl tcpdump ip nft python3 ping; do
        command -v "$c" >/dev/null 2>&1 || missing+=("$c")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    log "installing packages (missing: ${missing[*]})"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        openvswitch-switch ovn-central ovn-host tcpdump iproute2 nftables python3 iputils-ping \
        || log "apt-get returned non-zero (package service start fails without systemd; checking binaries)"
    for c in "${missing[@]}"; do command -v "$c" >/dev/null 2>&1 || die "$c still missing after apt-get"; done
}

# Signal one PID if it is still the process we started (same command name).
signal_pid() {
    local sig=$1 pid=$2 name=${3:-}
    [[ $pid =~ ^[0-9]+$ ]] && [[ -d /proc/$pid ]] || return 0
    if [[ -n $name ]]; then
        local comm; comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 0
        [[ $comm == "$name" ]] || return 0
    fi
    kill "-$sig" "$pid" 2>/dev/null || true
}

our_namespaces() { ip netns list 2>/dev/null | awk '{print $1}' | grep "^${P}" || true; }

OWNER_FILE=/tmp/upl-lab.owner   # pid of the lab.sh run that owns the upl-* namespaces

# The pid in OWNER_FILE when it is another lab.sh that is still running; nothing otherwise.
live_owner() {
    local pid; pid=$(cat "$OWNER_FILE" 2>/dev/null || true)
    [[ $pid =~ ^[0-9]+$ && $pid != "$$" && -r /proc/$pid/cmdline ]] || return 0
    if tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q 'lab\.sh'; then echo "$pid"; fi
}

# A second run would take the running lab's namespaces and daemons for leftovers and remove them under it.
claim_lab() {
    local fd owner
    exec {fd}>>/tmp/upl-lab.lock
    flock "$fd"
    owner=$(live_owner)
    if [[ -z $owner ]]; then echo $$ > "$OWNER_FILE"; fi
    flock -u "$fd"
    exec {fd}>&-
    [[ -z $owner ]] || die "another lab run (pid $owner) owns the ${P}* namespaces and $W; wait for it to end or stop it first"
}

cleanup() {
    set +e
    trap - EXIT INT TERM
    local pids=() pid name ns
    if [[ -f $W/pids ]]; then
        while read -r pid name; do pids+=("$pid:$name"); done < "$W/pids"
    fi
    for ns in $(our_namespaces); do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do pids+=("$pid:"); done
    done
    for e in "${pids[@]}"; do signal_pid TERM "${e%%:*}" "${e#*:}"; done
    local i
    for i in $(seq 1 30); do
        local alive=0
        for e in "${pids[@]}"; do [[ -d /proc/${e%%:*} ]] && alive=1; done
        [[ $alive -eq 0 ]] && break
        sleep 0.1
    done
    for e in "${pids[@]}"; do signal_pid KILL "${e%%:*}" "${e#*:}"; done
    for ns in $(our_namespaces); do ip netns delete "$ns"; done
    rm -rf "$W"
    if [[ $(cat "$OWNER_FILE" 2>/dev/null) == "$$" ]]; then rm -f "$OWNER_FILE"; fi
}

on_exit() {
    local rc=$?
    trap - ERR
    [[ -n ${SLEEP_PID:-} ]] && signal_pid TERM "$SLEEP_PID" sleep
    if [[ ${KEEP:-0} -eq 1 && $rc -eq 0 ]]; then
        log "--keep: lab left running; remove it with: $0 cleanup"
        return
    fi
    if [[ $rc -ne 0 ]]; then
        log "exiting with status $rc; cleaning up"
        [[ -s $W/logs/daemons.stderr ]] && grep -v "opened log file" "$W/logs/daemons.stderr" | tail -5 >&2
    fi
    cleanup
    [[ $rc -eq 0 ]] && log "cleanup done"
}

# ---------------------------------------------------------------- namespaces and wiring
quiet_ns() {
    # A namespace's own kernel must not add frames to the segments: no IPv6 (no RS/MLD/DAD),
    # answer ARP only for addresses on the receiving interface, strict reverse-path filter.
    nsx "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 \
        net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.default.arp_ignore=1 \
        net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.default.rp_filter=1 >/dev/null
    ip -n "$1" link set lo up
}

setup_netns() {
    local ns n vm
    for ns in sw rtr central "${NODES[@]}" "${VM[@]}"; do
        ip netns add "$P$ns"
        quiet_ns "$P$ns"
    done
    # "switch" namespace: one Linux bridge per segment
    for br in br-up br-tun; do
        ip -n "${P}sw" link add "$br" type bridge stp_state 0 mcast_snooping 0
        ip -n "${P}sw" link set "$br" up
    done
    for n in "${NODES[@]}"; do
        vm=${VM[$n]}
        ip -n "${P}sw" link add "$n-up" type veth peer name up0 netns "$P$n"
        ip -n "${P}sw" link add "$n-tun" type veth peer name tun0 netns "$P$n"
        ip -n "$P$n" link set up0 address "${UPMAC[$n]}"
        ip -n "$P$n" link set tun0 address "${TUNMAC[$n]}"
        ip -n "${P}sw" link set "$n-up" master br-up up
        ip -n "${P}sw" link set "$n-tun" master br-tun up
        ip -n "$P$n" link set up0 up
        ip -n "$P$n" link set tun0 up
        # instance: veth from the instance namespace into the chassis (plugged into br-int later)
        ip -n "$P$n" link add "$vm" type veth peer name eth0 netns "$P$vm"
        ip -n "$P$n" link set "$vm" up
        ip -n "$P$vm" link set eth0 address "${VMMAC[$n]}" mtu 1400
        ip -n "$P$vm" addr add "${VMIP[$n]}/24" dev eth0
        ip -n "$P$vm" link set eth0 up
        ip -n "$P$vm" route add default via 198.51.100.1
    done
    # upstream router on the uplink segment
    ip -n "${P}sw" link add rtr-up type veth peer name eth0 netns "${P}rtr"
    ip -n "${P}sw" link set rtr-up master br-up up
    ip -n "${P}rtr" link set eth0 address "$RTR_MAC"
    ip -n "${P}rtr" addr add "$RTR_IP/24" dev eth0
    ip -n "${P}rtr" link set eth0 up
}

# ---------------------------------------------------------------- captures
# Background processes are started with `ip netns exec` directly (not through nsx): it execs,
# so $! is the PID of tcpdump/ping itself; a shell function would leave a bash PID in $!.
start_captures() {
    local n
    for n in "${NODES[@]}"; do
        # -Z root: Debian's tcpdump drops to user tcpdump and could not write into our dirs.
        ip netns exec "$P$n" tcpdump -i up0 -Q out -U -s 256 -Z root -w "$OUT/$n-uplink-out.pcap" \
            >"$W/logs/tcpdump-$n-out.log" 2>&1 &
        pid_add $! tcpdump
        # libpcap 1.10 offers LINUX_SLL2 only on the "any" pseudo-device (a veth gives EN10MB
        # and DOCSIS only): capture "any" and keep the up0 packets with the ifindex primitive.
        local idx; idx=$(ip -n "$P$n" -o link show up0 | cut -d: -f1)
        ip netns exec "$P$n" tcpdump -i any -y LINUX_SLL2 -U -s 256 -Z root -w "$OUT/$n-uplink-sll2.pcap" \
            ifindex "$idx" >"$W/logs/tcpdump-$n-sll2.log" 2>&1 &
        pid_add $! tcpdump
        ip netns exec "$P$n" tcpdump -i tun0 -U -s 256 -Z root -w "$OUT/$n-tunnel.pcap" \
            >"$W/logs/tcpdump-$n-tun.log" 2>&1 &
        pid_add $! tcpdump
    done
    local f deadline=$(( $(date +%s) + 15 ))
    for f in "$W"/logs/tcpdump-*.log; do
        until grep -q "listening on" "$f"; do
            [[ $(date +%s) -lt $deadline ]] || die "tcpdump did not start: $(cat "$f")"
            sleep 0.1
        done
    done
}

stop_captures() {
    local pid name
    # watchers (--watch) stop at the same instant as the captures, so both cover the same packets
    for pid in "${WATCH_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    while read -r pid name; do
        [[ $name == tcpdump ]] && signal_pid INT "$pid" tcpdump
    done < "$W/pids"
    sleep 0.5
}

# ---------------------------------------------------------------- opt-in watcher (--watch)
# --watch CMD starts CMD inside every chassis namespace before the daemons, with {node}, {iface}
# (the uplink NIC, up0) and {out} (the output dir) replaced; its stdout goes to OUT/NODE-watch.out,
# its stderr to OUT/NODE-watch.err. `exec` keeps $! the command's own PID. With --watch-ready TEXT
# the run waits (60 s at most) until TEXT shows in each watcher's stderr. At the end the watchers
# get SIGTERM by PID together with the captures and are waited for (30 s, then SIGKILL). Not SIGINT:
# background jobs of a non-interactive shell start with SIGINT ignored (pitfall 6), and a .NET
# program does not get an ignored-at-entry SIGINT back.
WATCH_CMD="" WATCH_READY="" WATCH_PIDS=()
start_watchers() {
    [[ -n $WATCH_CMD ]] || return 0
    local n cmd pid
    for n in "${NODES[@]}"; do
        cmd=${WATCH_CMD//\{node\}/$n}; cmd=${cmd//\{iface\}/up0}; cmd=${cmd//\{out\}/$OUT}
        ip netns exec "$P$n" bash -c "exec $cmd" >"$OUT/$n-watch.out" 2>"$OUT/$n-watch.err" &
        pid=$!
        WATCH_PIDS+=("$pid")
        log "watcher on $n (pid $pid): $cmd"
    done
    [[ -n $WATCH_READY ]] || { sleep 1; watch_register; return 0; }
    local deadline=$(( $(date +%s) + 60 ))
    for n in "${NODES[@]}"; do
        until grep -qF -- "$WATCH_READY" "$OUT/$n-watch.err"; do
            [[ $(date +%s) -lt $deadline ]] || die "watcher on $n not ready: $(tail -3 "$OUT/$n-watch.err")"
            sleep 0.2
        done
    done
    watch_register
}
watch_register() {  # record the watchers under their own command name (they have exec'd by now) for cleanup
    local pid comm
    for pid in "${WATCH_PIDS[@]}"; do
        comm=$(cat "/proc/$pid/comm" 2>/dev/null) || die "watcher $pid exited early: $(cat "$OUT"/*-watch.err | tail -5)"
        pid_add "$pid" "$comm"
    done
}
stop_watchers() {
    [[ ${#WATCH_PIDS[@]} -gt 0 ]] || return 0
    local pid i
    for pid in "${WATCH_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for i in $(seq 1 300); do
        local alive=0
        for pid in "${WATCH_PIDS[@]}"; do [[ -d /proc/$pid ]] && alive=1; done
        [[ $alive -eq 0 ]] && break
        sleep 0.1
    done
    for pid in "${WATCH_PIDS[@]}"; do
        if [[ -d /proc/$pid ]]; then log "watcher $pid did not stop in 30 s: SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; fi
        local rc=0; wait "$pid" 2>/dev/null || rc=$?
        log "watcher $pid exited with $rc"
    done
    WATCH_PIDS=()
}

# ---------------------------------------------------------------- central: NB, SB, northd
start_central() {
    local c=$W/central
    mkdir -p "$c"
    ovsdb-tool create "$c/nb.db" /usr/share/ovn/ovn-nb.ovsschema
    ovsdb-tool create "$c/sb.db" /usr/share/ovn/ovn-sb.ovsschema
    local db
    for db in nb sb; do
        nsx "${P}central" ovsdb-server "$c/$db.db" --remote="punix:$c/$db.sock" \
            --pidfile="$c/$db.pid" --unixctl="$c/$db.ctl" --log-file="$c/$db.log" --detach --no-chdir -vconsole:off 2>>"$W/logs/daemons.stderr"
        pid_add "$(pidfile_pid "$c/$db.pid")" ovsdb-server
    done
    nsx "${P}central" env OVN_RUNDIR="$c" ovn-northd --ovnnb-db="unix:$c/nb.sock" --ovnsb-db="unix:$c/sb.sock" \
        --pidfile="$c/northd.pid" --unixctl="$c/northd.ctl" --log-file="$c/northd.log" --detach --no-chdir -vconsole:off 2>>"$W/logs/daemons.stderr"
    pid_add "$(pidfile_pid "$c/northd.pid")" ovn-northd
    nbctl init
}

# ---------------------------------------------------------------- chassis
start_chassis_db() {
    local n=$1 d=$W/$1
    mkdir -p "$d"
    ovsdb-tool create "$d/conf.db" /usr/share/openvswitch/vswitch.ovsschema
    nsx "$P$n" env $(hv_env "$n") ovsdb-server "$d/conf.db" --remote="punix:$d/db.sock" \
        --pidfile="$d/ovsdb-server.pid" --unixctl="$d/ovsdb-server.ctl" --log-file="$d/ovsdb-server.log" \
        --detach --no-chdir -vconsole:off 2>>"$W/logs/daemons.stderr"
    pid_add "$(pidfile_pid "$d/ovsdb-server.pid")" ovsdb-server
    vsctl "$n" --no-wait init
    vsctl "$n" --no-wait \
        -- add-br br-int -- set Bridge br-int datapath_type=netdev fail_mode=secure \
               other_config:disable-in-band=true \
        -- add-br br-ex -- set Bridge br-ex datapath_type=netdev other_config:hwaddr="${UPMAC[$n]}" \
        -- add-port br-ex up0 \
        -- add-br br-phy -- set Bridge br-phy datapath_type=netdev other_config:hwaddr="${TUNMAC[$n]}" \
        -- add-port br-phy tun0 \
        -- add-port br-int "${VM[$n]}" -- set Interface "${VM[$n]}" external_ids:iface-id="${VM[$n]}" \
        -- set Open_vSwitch . external_ids:system-id="$n" external_ids:hostname="$n" \
               external_ids:ovn-remote="unix:$W/central/sb.sock" external_ids:ovn-encap-type=geneve \
               external_ids:ovn-encap-ip="${ENCAP[$n]}" external_ids:ovn-bridge-mappings="$PHYSNET:br-ex" \
               external_ids:ovn-bridge-datapath-type=netdev
}

start_vswitchd() {
    local n=$1 d=$W/$1
    rm -f "$d/ovs-vswitchd.pid"
    nsx "$P$n" env $(hv_env "$n") ovs-vswitchd "unix:$d/db.sock" --pidfile="$d/ovs-vswitchd.pid" \
        --unixctl="$d/ovs-vswitchd.ctl" --log-file="$d/ovs-vswitchd.log" --detach --no-chdir -vconsole:off 2>>"$W/logs/daemons.stderr"
    pid_add "$(pidfile_pid "$d/ovs-vswitchd.pid")" ovs-vswitchd
    # The netdev datapath's internal ports are tap devices owned by ovs-vswitchd: they vanish
    # with the process, so the encap IP on br-phy has to be put back after every (re)start.
    local i
    for i in $(seq 1 100); do ip -n "$P$n" link show br-phy >/dev/null 2>&1 && break; sleep 0.1; done
    ip -n "$P$n" link show br-phy >/dev/null 2>&1 || die "$n: br-phy tap did not appear"
    ip -n "$P$n" addr replace "${ENCAP[$n]}/24" dev br-phy
    ip -n "$P$n" link set br-phy up
    VSWITCHD_UP[$n]=1
}

start_controller() {
    local n=$1 d=$W/$1
    rm -f "$d/ovn-controller.pid"
    nsx "$P$n" env $(hv_env "$n") ovn-controller "unix:$d/db.sock" --pidfile="$d/ovn-controller.pid" \
        --log-file="$d/ovn-controller.log" --detach --no-chdir -vconsole:off 2>>"$W/logs/daemons.stderr"
    pid_add "$(pidfile_pid "$d/ovn-controller.pid")" ovn-controller
    CONTROLLER_UP[$n]=1
}

controller_ctl() { echo "$W/$1/ovn-controller.$(pidfile_pid "$W/$1/ovn-controller.pid").ctl"; }

kill_daemon() {  # kill_daemon NODE NAME SIGNAL
    local pid; pid=$(pidfile_pid "$W/$1/$2.pid") || return 0
    signal_pid "$3" "$pid" "$2"
    local i; for i in $(seq 1 50); do [[ -d /proc/$pid ]] || break; sleep 0.1; done
}

# ---------------------------------------------------------------- logical topology
build_topology() {
    local n vm
    nbctl ls-add ls-inst
    for n in "${NODES[@]}"; do
        vm=${VM[$n]}
        nbctl lsp-add ls-inst "$vm" -- lsp-set-addresses "$vm" "${VMMAC[$n]} ${VMIP[$n]}"
    done
    nbctl lr-add "$LR"
    nbctl lrp-add "$LR" "$LRP_INT" "$LRP_INT_MAC" "$LRP_INT_CIDR"
    nbctl lsp-add ls-inst inst-lr0 -- lsp-set-type inst-lr0 router -- lsp-set-addresses inst-lr0 router \
        -- lsp-set-options inst-lr0 router-port="$LRP_INT"
    nbctl lrp-add "$LR" "$LRP_EXT" "$LRP_EXT_MAC" "$LRP_EXT_CIDR"
    for n in "${NODES[@]}"; do nbctl lrp-set-gateway-chassis "$LRP_EXT" "$n" "${PRIO[$n]}"; done
    nbctl ls-add ls-ext
    nbctl lsp-add ls-ext ln-ext -- lsp-set-type ln-ext localnet -- lsp-set-addresses ln-ext unknown \
        -- lsp-set-options ln-ext network_name="$PHYSNET"
    # nat-addresses=router belongs on the router-type port (not the localnet port): it makes the
    # gateway chassis send GARPs for the router IP and the NAT external IPs.
    nbctl lsp-add ls-ext ext-lr0 -- lsp-set-type ext-lr0 router -- lsp-set-addresses ext-lr0 router \
        -- lsp-set-options ext-lr0 router-port="$LRP_EXT" nat-addresses=router
    nbctl lr-route-add "$LR" 0.0.0.0/0 "$RTR_IP"
    nbctl lr-nat-add "$LR" snat "$SNAT_IP" 198.51.100.0/24
    nbctl lr-nat-add "$LR" dnat_and_snat "$FIP_C_IP" "${VMIP[$FIP_C_NODE]}"
    nbctl lr-nat-add "$LR" dnat_and_snat "$FIP_D_IP" "${VMIP[$FIP_D_NODE]}" "${VM[$FIP_D_NODE]}" "$FIP_D_MAC"
}

cr_chassis() {  # name of the chassis the cr- port is bound to ("" if none)
    local uuid; uuid=$(sbctl --bare --columns=chassis find Port_Binding logical_port="$CR_PORT" 2>/dev/null) || true
    [[ -n $uuid ]] || { echo ""; return; }
    sbctl --bare --columns=name list Chassis "$uuid" 2>/dev/null || echo "$uuid"
}

expected_active() {  # highest priority gateway chassis whose vswitchd and controller run
    local n best="" bp=-1
    for n in "${NODES[@]}"; do
        [[ ${GW_MEMBER[$n]} -eq 1 && ${VSWITCHD_UP[$n]} -eq 1 && ${CONTROLLER_UP[$n]} -eq 1 ]] || continue
        if (( PRIO[$n] > bp )); then bp=${PRIO[$n]}; best=$n; fi
    done
    echo "$best"
}

wait_ready() {
    local deadline=$(( $(date +%s) + 60 )) n
    for n in "${NODES[@]}"; do nbctl --timeout=60 wait-until Logical_Switch_Port "${VM[$n]}" up=true; done
    until [[ $(cr_chassis) == "$(expected_active)" ]]; do
        [[ $(date +%s) -lt $deadline ]] || die "$CR_PORT not bound to $(expected_active) (is: '$(cr_chassis)')"
        sleep 0.2
    done
    for n in "${NODES[@]}"; do
        until nsx "$P${VM[$n]}" ping -q -c 1 -W 1 "$RTR_IP" >/dev/null 2>&1; do
            [[ $(date +%s) -lt $deadline ]] || die "${VM[$n]} cannot reach $RTR_IP"
        done
    done
}

# ---------------------------------------------------------------- control-plane dumps
dump_cp() {
    local d=$1 t n
    mkdir -p "$d"
    for t in Logical_Router_Port Gateway_Chassis NAT Logical_Switch_Port Logical_Router HA_Chassis_Group; do
        nbctl --format=json list "$t" > "$d/nb-$t.json" 2>/dev/null || true
    done
    for t in Port_Binding Chassis Encap Datapath_Binding HA_Chassis_Group Chassis_Private; do
        sbctl --format=json list "$t" > "$d/sb-$t.json" 2>/dev/null || true
    done
    for n in "${NODES[@]}"; do
        [[ ${VSWITCHD_UP[$n]} -eq 1 ]] || continue
        timeout 3 ovs-appctl -t "$W/$n/ovs-vswitchd.ctl" bfd/show > "$d/$n-bfd.txt" 2>&1 || true
    done
}

# ---------------------------------------------------------------- scenarios
PHASE_IDX=0
phase() {  # phase LABEL EXPECTED-OR-"auto" NOTE ACTION...
    local label=$1 expect=$2 note=$3; shift 3
    local dur=${DUR[$label]:?no duration for $label}
    PHASE_IDX=$((PHASE_IDX + 1))
    local start; start=$(now_ns)
    log "phase $PHASE_IDX $label (${dur}s): $note"
    ACTION_NS="" ACTION_TARGET="" EXTRA_EMITTERS=""
    [[ $# -gt 0 ]] && "$@"
    [[ $expect == auto ]] && expect=$(expected_active)
    local emitters="\"$expect\""
    [[ -n $EXTRA_EMITTERS && $EXTRA_EMITTERS != "$expect" ]] && emitters+=",\"$EXTRA_EMITTERS\""
    [[ -z $expect ]] && emitters=""
    local end_target=$(( start + dur * 1000000000 )) now
    now=$(now_ns)
    # sleep in the background and `wait`: a trapped INT/TERM interrupts `wait` at once, while
    # bash would only act on it after a foreground sleep has finished
    if (( end_target > now )); then
        sleep "$(awk -v d=$(( end_target - now )) 'BEGIN{printf "%.3f", d/1e9}')" &
        SLEEP_PID=$!
        wait "$SLEEP_PID"
    fi
    local end; end=$(now_ns)
    local observed; observed=$(cr_chassis)
    log "phase $label done: expected active '$expect', SB binding '$observed'"
    printf '{"index":%d,"label":"%s","start_ns":%s,"end_ns":%s,"action_ns":%s,"action_target":"%s","expected_active":"%s","expected_gateway_mac_emitters":[%s],"sb_binding_at_end":"%s","note":"%s"}\n' \
        "$PHASE_IDX" "$label" "$start" "$end" "${ACTION_NS:-null}" "$ACTION_TARGET" "$expect" "$emitters" "$observed" "$note" >> "$OUT/phases.jsonl"
    dump_cp "$OUT/cp/$(printf %02d "$PHASE_IDX")-$label" &
    CP_PIDS+=($!)
}

act_prio_change() {
    local top n new="" max=0; top=$(expected_active)
    for n in "${NODES[@]}"; do (( PRIO[$n] > max )) && max=${PRIO[$n]}; done
    # the next chassis (in node order) after the current top that is a running gateway member
    local i k=0; for i in "${!NODES[@]}"; do [[ ${NODES[$i]} == "$top" ]] && k=$i; done
    for i in 1 2; do n=${NODES[$(( (k + i) % ${#NODES[@]} ))]}; [[ ${GW_MEMBER[$n]} -eq 1 ]] && { new=$n; break; }; done
    PRIO[$new]=$(( max + 10 ))
    ACTION_TARGET=$new ACTION_NS=$(now_ns)
    log "priority of $new -> ${PRIO[$new]} (was top: $top)"
    nbctl lrp-set-gateway-chassis "$LRP_EXT" "$new" "${PRIO[$new]}"
}
VICTIM=""
act_kill_vswitchd() {
    VICTIM=$(cr_chassis); [[ -n $VICTIM ]] || VICTIM=$(expected_active)
    log "SIGKILL ovs-vswitchd on $VICTIM"
    ACTION_TARGET=$VICTIM ACTION_NS=$(now_ns)
    kill_daemon "$VICTIM" ovs-vswitchd KILL; VSWITCHD_UP[$VICTIM]=0
}
act_restart_vswitchd() {
    log "restart ovs-vswitchd on $VICTIM"; ACTION_TARGET=$VICTIM ACTION_NS=$(now_ns); start_vswitchd "$VICTIM"
}
act_node_crash() {
    VICTIM=$(cr_chassis); [[ -n $VICTIM ]] || VICTIM=$(expected_active)
    log "SIGKILL ovs-vswitchd + ovn-controller on $VICTIM"
    ACTION_TARGET=$VICTIM ACTION_NS=$(now_ns)
    local p1 p2
    p1=$(pidfile_pid "$W/$VICTIM/ovs-vswitchd.pid"); p2=$(pidfile_pid "$W/$VICTIM/ovn-controller.pid")
    signal_pid KILL "$p1" ovs-vswitchd; signal_pid KILL "$p2" ovn-controller
    local i; for i in $(seq 1 50); do [[ -d /proc/$p1 || -d /proc/$p2 ]] || break; sleep 0.1; done
    VSWITCHD_UP[$VICTIM]=0; CONTROLLER_UP[$VICTIM]=0
}
act_node_restart() {
    log "restart ovs-vswitchd + ovn-controller on $VICTIM"; ACTION_TARGET=$VICTIM ACTION_NS=$(now_ns)
    start_vswitchd "$VICTIM"; start_controller "$VICTIM"
}
act_graceful_exit() {
    VICTIM=$(cr_chassis); [[ -n $VICTIM ]] || VICTIM=$(expected_active)
    log "ovn-appctl exit on $VICTIM's ovn-controller"
    # ovs-vswitchd keeps the flows of the exited controller: its local instances' traffic
    # still leaves through its own uplink with the gateway MAC (split brain, seen in 23.03).
    ACTION_TARGET=$VICTIM ACTION_NS=$(now_ns) EXTRA_EMITTERS=$VICTIM
    local pid; pid=$(pidfile_pid "$W/$VICTIM/ovn-controller.pid")
    ovn-appctl -t "$(controller_ctl "$VICTIM")" exit || log "ovn-appctl exit returned non-zero"
    local i; for i in $(seq 1 50); do [[ -d /proc/$pid ]] || break; sleep 0.1; done
    CONTROLLER_UP[$VICTIM]=0
}
act_restart_controller() {
    log "restart ovn-controller on $VICTIM"; ACTION_TARGET=$VICTIM ACTION_NS=$(now_ns); start_controller "$VICTIM"
}
DROP_NODE=""
pick_drop_node() {  # a chassis that is not the active gateway and hosts no distributed FIP
    local active n; active=$(cr_chassis)
    for n in "${NODES[@]}"; do
        [[ $n != "$active" && $n != "$FIP_D_NODE" ]] && { DROP_NODE=$n; return; }
    done
    die "no chassis to drop Geneve on"
}
drop_geneve() {
    # OVS's userspace datapath sends from a packet socket, past the chassis namespace's IP
    # hooks: filter on the Linux bridge in the switch namespace instead (family bridge).
    nsx "${P}sw" nft -f - <<EOF
table bridge upl_lab {
    chain forward {
        type filter hook forward priority 0; policy accept;
        iifname "$1-tun" udp dport 6081 counter drop
        oifname "$1-tun" udp dport 6081 counter drop
    }
}
EOF
}
act_geneve_isolate() {
    # A standby gateway chassis loses its tunnels. Its BFD sessions time out one by one: while
    # the one to the active chassis is down and another is still up it believes itself next in
    # line and claims the cr- port (seen: for ~20 ms, the active chassis claims it back); once
    # all are down it counts itself isolated and stays passive. Its instance is cut off.
    pick_drop_node
    log "drop Geneve of gateway chassis $DROP_NODE on the tunnel switch (it stays in the gateway set)"
    ACTION_TARGET=$DROP_NODE ACTION_NS=$(now_ns)
    drop_geneve "$DROP_NODE"
}
act_geneve_drop() {
    local fresh=0
    [[ -n $DROP_NODE ]] || { pick_drop_node; fresh=1; }
    # Out of the gateway set, the chassis stops claiming; its instance then has no way out.
    log "remove $DROP_NODE from the gateway chassis$([[ $fresh -eq 1 ]] && echo ", then drop its Geneve on the switch")"
    ACTION_TARGET=$DROP_NODE ACTION_NS=$(now_ns)
    nbctl lrp-del-gateway-chassis "$LRP_EXT" "$DROP_NODE"; GW_MEMBER[$DROP_NODE]=0
    [[ $fresh -eq 1 ]] && drop_geneve "$DROP_NODE"
    return 0
}

run_scenarios() {
    local s
    for s in "${SCENARIOS[@]}"; do
        case $s in
        steady) phase steady auto "no change" ;;
        prio-change) phase prio-change auto "highest gateway priority moved to another chassis" act_prio_change ;;
        vswitchd-kill)
            phase vswitchd-kill auto "SIGKILL of the active chassis's ovs-vswitchd" act_kill_vswitchd
            phase vswitchd-restart auto "ovs-vswitchd restarted (encap IP re-added); preemption" act_restart_vswitchd ;;
        node-crash)
            phase node-crash auto "SIGKILL of ovs-vswitchd and ovn-controller of the active chassis" act_node_crash
            phase node-restart auto "both daemons restarted; highest priority node preempts" act_node_restart ;;
        graceful-exit)
            phase graceful-exit auto "ovn-appctl exit of the active chassis's ovn-controller (ovs-vswitchd keeps its flows: split brain?)" act_graceful_exit
            phase controller-restart auto "ovn-controller restarted on the node that exited" act_restart_controller ;;
        geneve-drop)
            phase geneve-isolate auto "Geneve of a standby gateway chassis dropped on the tunnel switch: its BFD sessions time out (brief claim), its instance is cut off" act_geneve_isolate
            phase geneve-drop auto "that chassis removed from the gateway set, Geneve still dropped: its instance cannot reach the internet" act_geneve_drop ;;
        geneve-drop-only) phase geneve-drop auto "Geneve of a non-gateway chassis dropped on the tunnel switch: its instance cannot reach the internet" act_geneve_drop ;;
        *) die "unknown scenario $s" ;;
        esac
    done
}

# ---------------------------------------------------------------- manifest
write_manifest() {
    local n up_macs="" nodes=""
    for n in "${NODES[@]}"; do
        local mac idx; mac=$(ip -n "$P$n" -br link show up0 | awk '{print $3}')
        idx=$(ip -n "$P$n" -o link show up0 | cut -d: -f1)
        nodes+="$n,$P$n,$mac,$idx,${ENCAP[$n]},${TUNMAC[$n]},${VM[$n]},${VMIP[$n]},${VMMAC[$n]},${PRIO_INIT[$n]},${DROP_NODE}"$'\n'
    done
    NODES_CSV=$nodes OUT=$OUT PROFILE=$PROFILE SCENARIOS="${SCENARIOS[*]}" python3 - <<'EOF'
import json, os, glob
out = os.environ["OUT"]
def table(path):
    try:
        with open(path) as f:
            t = json.load(f)
    except (OSError, ValueError):
        return []
    return [dict(zip(t["headings"], r)) for r in t["data"]]
def val(v):  # OVSDB JSON cell -> plain python
    if isinstance(v, list) and v and v[0] == "set":
        return [val(x) for x in v[1]]
    if isinstance(v, list) and v and v[0] == "map":
        return {k: val(x) for k, x in v[1]}
    if isinstance(v, list) and v and v[0] == "uuid":
        return v[1]
    return v
cps = sorted(glob.glob(os.path.join(out, "cp", "*")))
first, last = cps[0], cps[-1]
nodes = []
for line in os.environ["NODES_CSV"].strip().splitlines():
    name, ns, mac, idx, encap, tunmac, vm, vmip, vmmac, prio, drop = line.split(",")
    # uplink_ifindex: the SLL2 files carry up0's ifindex in its own namespace; `tcpdump -r`
    # prints whatever interface has that index in the reader's namespace: use the index
    nodes.append({"name": name, "namespace": ns, "uplink_interface": "up0", "uplink_mac": mac,
                  "uplink_ifindex": int(idx),
                  "tunnel_interface": "tun0", "tunnel_mac": tunmac, "encap_ip": encap, "encap_type": "geneve",
                  "initial_gateway_priority": int(prio),
                  "instance": {"name": vm, "namespace": "upl-" + vm, "ip": vmip, "mac": vmmac},
                  "captures": {"uplink_out": name + "-uplink-out.pcap", "uplink_sll2": name + "-uplink-sll2.pcap",
                               "tunnel": name + "-tunnel.pcap"},
                  "geneve_dropped_in_variant": name == drop})
lrps = []
for r in table(os.path.join(first, "nb-Logical_Router_Port.json")):
    nets = val(r["networks"])
    lrps.append({"name": r["name"], "mac": r["mac"], "networks": nets if isinstance(nets, list) else [nets]})
nats = []
for r in table(os.path.join(first, "nb-NAT.json")):
    lp, em = val(r["logical_port"]), val(r["external_mac"])
    nats.append({"type": r["type"], "external_ip": r["external_ip"], "logical_ip": r["logical_ip"],
                 "logical_port": lp or None, "external_mac": em or None,
                 "distributed": bool(lp) and bool(em)})
phases = [json.loads(l) for l in open(os.path.join(out, "phases.jsonl"))]
files = sorted(os.path.relpath(p, out) for p in glob.glob(os.path.join(out, "**"), recursive=True)
               if os.path.isfile(p) and not p.endswith("lab.json"))
m = {
    "lab": "UplinkProbe OVN lab (tools/ovn-lab/lab.sh)",
    "profile": os.environ["PROFILE"], "scenarios": os.environ["SCENARIOS"].split(),
    "versions": {"ovs": os.popen("ovs-vswitchd --version | head -1").read().strip(),
                 "ovn": os.popen("ovn-controller --version | head -1").read().strip()},
    "datapath": "netdev (OVS userspace)",
    "segments": {"uplink": {"cidr": "203.0.113.0/24", "switch_ns": "upl-sw", "bridge": "br-up"},
                 "tunnel": {"cidr": "192.0.2.0/24", "switch_ns": "upl-sw", "bridge": "br-tun"},
                 "instances": {"cidr": "198.51.100.0/24", "gateway": "198.51.100.1"}},
    "upstream_router": {"namespace": "upl-rtr", "ip": "203.0.113.1", "mac": "00:00:5e:00:53:01"},
    "nodes": nodes,
    "router": {"name": "lr0", "chassisredirect_port": "cr-lr0-ext", "ports": lrps,
               "gateway_port": next((p for p in lrps if p["name"] == "lr0-ext"), None)},
    "nat": nats,
    "fip_macs": {n["external_ip"]: n["external_mac"] for n in nats if n["external_mac"]},
    "phases": phases,
    "control_plane": {"dumps": [os.path.relpath(p, out) for p in cps],
                      "port_binding_record": "pb-chassis.jsonl", "chassis_record": "sb-chassis-events.jsonl"},
    "files": files,
}
with open(os.path.join(out, "lab.json"), "w") as f:
    json.dump(m, f, indent=2)
    f.write("\n")
EOF
}

# ---------------------------------------------------------------- run
cmd_run() {
    OUT="" PROFILE=quick KEEP=0
    local scen="" overrides=()
    while [[ $# -gt 0 ]]; do
        case $1 in
        --out) OUT=$2; shift 2 ;;
        --profile) PROFILE=$2; shift 2 ;;
        --quick) PROFILE=quick; shift ;;
        --long) PROFILE=long; shift ;;
        --scenarios) scen=$2; shift 2 ;;
        --dur) overrides+=("$2"); shift 2 ;;
        --keep) KEEP=1; shift ;;
        --watch) WATCH_CMD=$2; shift 2 ;;
        --watch-ready) WATCH_READY=$2; shift 2 ;;
        *) die "unknown option $1" ;;
        esac
    done
    [[ -n $OUT ]] || die "--out DIR is required"
    [[ $PROFILE == quick || $PROFILE == long ]] || die "profile must be quick or long"
    declare -gA DUR
    local k; eval "for k in \"\${!DUR_$PROFILE[@]}\"; do DUR[\$k]=\${DUR_$PROFILE[\$k]}; done"
    for k in "${overrides[@]}"; do DUR[${k%%=*}]=${k#*=}; done
    if [[ -n $scen ]]; then IFS=, read -r -a SCENARIOS <<< "$scen"; else SCENARIOS=("${ALL_SCENARIOS[@]}"); fi
    [[ $(id -u) -eq 0 ]] || die "must run as root"
    claim_lab

    if [[ -n $(our_namespaces) || -e $W ]]; then
        log "leftovers of a previous run found; cleaning them up first"
        cleanup
    fi
    install_deps
    mkdir -p "$OUT" "$W/logs"
    OUT=$(cd "$OUT" && pwd)
    rm -rf "$OUT"/cp "$OUT"/*.pcap "$OUT"/*-watch.out "$OUT"/*-watch.err "$OUT"/*.jsonl "$OUT"/lab.json "$OUT"/ping-*.log "$OUT"/logs
    LOGFILE=$OUT/run.log; : > "$LOGFILE"
    trap on_exit EXIT
    trap 'log "failed at line $LINENO: $BASH_COMMAND"' ERR
    trap 'exit 130' INT TERM
    CP_PIDS=()
    declare -gA PRIO_INIT; for k in "${NODES[@]}"; do PRIO_INIT[$k]=${PRIO[$k]}; done
    local t0; t0=$(date +%s)
    log "run: profile $PROFILE, scenarios ${SCENARIOS[*]}, out $OUT, work $W"

    setup_netns
    start_captures
    start_watchers
    local bring_start; bring_start=$(now_ns)
    start_central
    ip netns exec "${P}central" python3 "$HERE/pbmon.py" "unix:$W/central/sb.sock" "$OUT/pb-chassis.jsonl" \
        "$OUT/sb-chassis-events.jsonl" >"$W/logs/pbmon.log" 2>&1 &
    pid_add $! python3
    build_topology
    local n
    for n in "${NODES[@]}"; do start_chassis_db "$n"; done
    for n in "${NODES[@]}"; do start_vswitchd "$n"; done
    for n in "${NODES[@]}"; do start_controller "$n"; done
    wait_ready
    local bring_end; bring_end=$(now_ns)
    printf '{"index":0,"label":"bring-up","start_ns":%s,"end_ns":%s,"action_ns":null,"action_target":"","expected_active":"%s","expected_gateway_mac_emitters":["%s"],"sb_binding_at_end":"%s","note":"daemons started, topology built, first claim"}\n' \
        "$bring_start" "$bring_end" "$(expected_active)" "$(expected_active)" "$(cr_chassis)" > "$OUT/phases.jsonl"
    dump_cp "$OUT/cp/00-start"
    log "lab up after $(( $(date +%s) - t0 ))s; active gateway $(cr_chassis)"

    # bounded pings from every instance to the upstream router for the whole scenario run
    local total=0 s
    for s in "${!DUR[@]}"; do total=$(( total + DUR[$s] )); done
    local count=$(( (total + 10) * 5 ))
    for n in "${NODES[@]}"; do
        ip netns exec "$P${VM[$n]}" ping -D -O -n -i 0.2 -W 1 -c "$count" "$RTR_IP" > "$OUT/ping-${VM[$n]}.log" 2>&1 &
        pid_add $! ping
    done

    run_scenarios

    local pid name
    while read -r pid name; do [[ $name == ping ]] && signal_pid INT "$pid" ping; done < "$W/pids"
    wait "${CP_PIDS[@]}" 2>/dev/null || true
    dump_cp "$OUT/cp/99-end"
    sleep 0.3
    stop_captures
    stop_watchers
    mkdir -p "$OUT/logs"
    for n in "${NODES[@]}"; do
        cp "$W/$n/ovn-controller.log" "$OUT/logs/$n-ovn-controller.log" 2>/dev/null || true
        cp "$W/$n/ovs-vswitchd.log" "$OUT/logs/$n-ovs-vswitchd.log" 2>/dev/null || true
    done
    cp "$W/central/northd.log" "$OUT/logs/northd.log" 2>/dev/null || true
    [[ -n $DROP_NODE ]] && nsx "${P}sw" nft list table bridge upl_lab > "$OUT/logs/nft-geneve-drop.txt" 2>&1 || true
    write_manifest
    log "run finished in $(( $(date +%s) - t0 ))s (before teardown)"
}

case ${1:-} in
run) shift; cmd_run "$@" ;;
cleanup) LOGFILE=""; owner=$(live_owner); [[ -z $owner ]] || die "lab run pid $owner is still running; stop it first"; cleanup; rm -f "$OWNER_FILE"; left=$(our_namespaces); [[ -z $left ]] || { echo "namespaces left: $left" >&2; exit 1; } ;;
scenarios) printf "%s\n" "${ALL_SCENARIOS[@]}" geneve-drop-only ;;
*) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
