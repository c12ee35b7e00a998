#!/usr/bin/env python3
"""Per-phase summary of an OVN lab run (tools/ovn-lab/lab.sh), as Markdown on stdout.

Reads lab.json, pb-chassis.jsonl, ping-*.log and the hvN-uplink-out.pcap files (through
`tcpdump -r`, the reference decoder) of one run directory. For every phase it shows the SB
Port_Binding changes of the cr- port, which chassis transmitted frames with the gateway
router port's MAC (and how many), when each chassis sent gateway GARPs (relative to the phase
start), the seconds in which more than one chassis sent the gateway MAC (split brain), and
the ping loss of every instance. This is the "ground truth" view the probe's analysis is
meant to reproduce from packets alone.
Usage: summarize.py RUN_DIR
"""
import json
import os
import re
import subprocess
import sys

run = sys.argv[1]
lab = json.load(open(os.path.join(run, "lab.json")))
gw_mac = lab["router"]["gateway_port"]["mac"]
fip_macs = set(lab["fip_macs"].values())
phases = lab["phases"]
nodes = [n["name"] for n in lab["nodes"]]

LINE = re.compile(r"^(\d+\.\d+) (\S+) > (\S+), .*?length \d+: (.*)$")
GARP = re.compile(r"Request who-has (\S+) tell (\S+),")


def frames(path):
    out = subprocess.run(["tcpdump", "-tt", "-nn", "-e", "-r", path], capture_output=True, text=True).stdout
    for line in out.splitlines():
        m = LINE.match(line)
        if m:
            yield float(m.group(1)), m.group(2), m.group(3), m.group(4)


tx = {n: list(frames(os.path.join(run, f"{n}-uplink-out.pcap"))) for n in nodes}

pb = []
with open(os.path.join(run, "pb-chassis.jsonl")) as f:
    for line in f:
        r = json.loads(line)
        if r["logical_port"] == lab["router"]["chassisredirect_port"]:
            pb.append((r["ts_ns"] / 1e9, r["chassis"]))


def ping_results(path):
    """seq -> (time, answered)"""
    res = {}
    rx = re.compile(r"^\[(\d+\.\d+)\] (?:64 bytes from .*icmp_seq=(\d+)|no answer yet for icmp_seq=(\d+))")
    for line in open(path):
        m = rx.match(line)
        if not m:
            continue
        t = float(m.group(1))
        if m.group(2):
            res[int(m.group(2))] = (res.get(int(m.group(2)), (t, True))[0], True)
        else:
            res.setdefault(int(m.group(3)), (t, False))
    return res


pings = {}
for n in lab["nodes"]:
    p = os.path.join(run, f"ping-{n['instance']['name']}.log")
    if os.path.exists(p):
        pings[n["instance"]["name"]] = ping_results(p)

t0 = phases[0]["start_ns"] / 1e9
print(f"Run: profile {lab['profile']}, gateway MAC {gw_mac}, distributed FIP MACs {', '.join(sorted(fip_macs))}")
print(f"Times are seconds from the start of the bring-up phase; GARP times are relative to the phase start.\n")
for ph in phases:
    a, b = ph["start_ns"] / 1e9, ph["end_ns"] / 1e9
    print(f"### {ph['index']}. {ph['label']}  [{a - t0:.1f}s .. {b - t0:.1f}s]  expected active: {ph['expected_active'] or '-'}")
    if ph.get("note"):
        print(f"_{ph['note']}_\n")
    ch = [f"+{t - a:.2f}s → {c or 'unbound'}" for t, c in pb if a <= t < b]
    print(f"- SB `cr` binding changes: {', '.join(ch) if ch else 'none'} (at end: {ph['sb_binding_at_end'] or 'unbound'})")
    seconds = {}
    for n in nodes:
        fr = [x for x in tx[n] if a <= x[0] < b and x[1] == gw_mac]
        garps = []
        for t, _, _, info in fr:
            m = GARP.search(info)
            if m and m.group(1) == m.group(2):
                if garps and t - garps[-1][0] < 0.05:
                    garps[-1][1].append(m.group(1))
                else:
                    garps.append((t, [m.group(1)]))
        for t, *_ in fr:
            seconds.setdefault(int(t), set()).add(n)
        span = f"{fr[0][0] - a:+.1f}s..{fr[-1][0] - a:+.1f}s" if fr else ""
        g = ", ".join(f"+{t - a:.1f}s ({' '.join(ips)})" for t, ips in garps)
        fip = sum(1 for x in tx[n] if a <= x[0] < b and x[1] in fip_macs)
        print(f"- {n}: {len(fr)} frames from the gateway MAC {span}; GARPs: {g or 'none'}; "
              f"{fip} frames from a distributed FIP MAC")
    multi = sorted(s for s, ns in seconds.items() if len(ns) > 1)
    if multi:
        print(f"- **more than one chassis sent the gateway MAC** in {len(multi)} one-second bins "
              f"({multi[0] - t0:.0f}s..{multi[-1] - t0 + 1:.0f}s): "
              f"{', '.join(sorted(set().union(*(seconds[s] for s in multi))))}")
    losses = []
    for vm, res in pings.items():
        seqs = [ok for t, ok in res.values() if a <= t < b]
        if seqs:
            lost = sum(1 for ok in seqs if not ok)
            losses.append(f"{vm} {lost}/{len(seqs)} lost")
    print(f"- ping to the upstream router: {'; '.join(losses) if losses else 'not running'}\n")
