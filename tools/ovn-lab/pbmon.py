#!/usr/bin/env python3
"""Timestamped record of SB Port_Binding.chassis changes (part of the UplinkProbe OVN lab).

Runs two `ovsdb-client monitor` streams against the Southbound DB (Chassis: name;
Port_Binding: logical_port, chassis) and writes one JSON line per change, stamped
with the wall clock in nanoseconds when the update was read:

  {"ts_ns": 1700000000123456789, "logical_port": "cr-lr0-ext", "chassis": "hv2", "action": "modify"}

"chassis" is the Chassis.name (UUIDs are resolved through the Chassis stream; a chassis
that has been deleted keeps its last known name), or null when unbound.
Chassis row inserts/deletes go to a second file as {"ts_ns", "chassis", "action"}.
Usage: pbmon.py SB_REMOTE PB_OUT.jsonl CHASSIS_OUT.jsonl
"""
import json
import subprocess
import sys
import threading
import time

remote, pb_path, ch_path = sys.argv[1:4]
names = {}            # chassis uuid -> name
names_lock = threading.Condition()
last = {}             # logical_port -> last written chassis name


def stream(table, columns):
    p = subprocess.Popen(
        ["ovsdb-client", "--format=json", "monitor", remote, "OVN_Southbound", table, columns],
        stdout=subprocess.PIPE, text=True, bufsize=1)
    for line in p.stdout:
        ts = time.time_ns()
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            upd = json.loads(line)
        except ValueError:
            continue
        heads = upd.get("headings", [])
        for row in upd.get("data", []):
            yield ts, dict(zip(heads, row))


def uuid_of(cell):
    # OVSDB JSON: ["uuid", "..."] for a reference, ["set", []] when empty.
    if isinstance(cell, list) and len(cell) == 2 and cell[0] == "uuid":
        return cell[1]
    return None


def chassis_thread(out):
    for ts, row in stream("Chassis", "name,hostname"):
        action = row.get("action")
        with names_lock:
            if action != "old" and isinstance(row.get("name"), str):
                names[row["row"]] = row["name"]
            names_lock.notify_all()
        if action in ("initial", "insert", "delete"):
            out.write(json.dumps({"ts_ns": ts, "chassis": names.get(row["row"]), "action": action}) + "\n")
            out.flush()


def main():
    with open(pb_path, "a") as pb_out, open(ch_path, "a") as ch_out:
        t = threading.Thread(target=chassis_thread, args=(ch_out,), daemon=True)
        t.start()
        time.sleep(0.3)
        for ts, row in stream("Port_Binding", "logical_port,chassis"):
            action = row.get("action")
            if action == "old":
                continue  # a modify prints the old values first, then the "new" row
            port = row.get("logical_port")
            if not isinstance(port, str):
                continue
            if action == "delete":
                name = None
            else:
                uuid = uuid_of(row.get("chassis"))
                name = None
                if uuid is not None:
                    with names_lock:
                        names_lock.wait_for(lambda: uuid in names, timeout=1.0)
                        name = names.get(uuid, uuid)
            if action != "initial" and last.get(port, "<none>") == name:
                continue
            last[port] = name
            pb_out.write(json.dumps({"ts_ns": ts, "logical_port": port, "chassis": name,
                                     "action": "modify" if action == "new" else action}) + "\n")
            pb_out.flush()


if __name__ == "__main__":
    main()
