#!/usr/bin/env python3
"""Timings of bench/rounds: rows in, medians and ratios out.

  report.py warden RESULT.json RUN VARIANT START_MS END_MS >> times.tsv
      one row per stage of warden's --json result ("stages"), per check of
      its ledger (baseline.build, round1.test, ...; none for a cached
      baseline), its wall time (START_MS, END_MS: epoch ms around the
      process), the time before its ledger's first event and after its last
      (start-up, clean-up), and what the stages leave unaccounted
  report.py summary times.tsv
      medians per variant and stage, and warden's total over the same work
      done by hand (cold: fresh clone and cache; warm: a built checkout and a
      cached baseline)

Rows are tab-separated: run, variant, stage, milliseconds.
"""
import datetime
import json
import statistics
import sys


def epoch_ms(ts):
    t = datetime.datetime.fromisoformat(ts.replace("Z", "+00:00"))
    return int(t.timestamp() * 1000)


def warden_rows(result_path, run, variant, start_ms, end_ms):
    start_ms, end_ms = int(start_ms), int(end_ms)
    with open(result_path) as f:
        res = json.loads(f.read() or "null")
    if not isinstance(res, dict):
        sys.exit("%s: no JSON result" % result_path)
    rows = []
    rounds = 0
    for st in res.get("stages") or []:
        name, ms = st.get("stage"), st.get("ms")
        if not isinstance(name, str) or not isinstance(ms, int):
            continue
        if name == "model":
            rounds += 1
        if name in ("model", "patch", "checks"):
            name = "round%d.%s" % (rounds, name)
        rows.append((name, ms))
    ledger = res.get("ledger")
    per_phase = {}
    events = []
    if isinstance(ledger, str):
        try:
            with open(ledger) as f:
                events = [json.loads(line) for line in f if line.strip()]
        except (OSError, ValueError):
            events = []
    cached = False
    for e in events:
        if e.get("type") != "check":
            continue
        phase = e.get("phase")
        if phase == "baseline" and e.get("cached"):
            cached = True  # its ms are those of the run that filled the cache
            continue
        if phase == "checks":
            per_phase[e.get("name")] = per_phase.get(e.get("name"), 0) + 1
            phase = "round%d" % per_phase[e.get("name")]
        rows.append(("%s.%s" % (phase, e.get("name")), int(e.get("ms") or 0)))
    if cached:
        rows.append(("baseline.cached", 1))
    stages = sum(ms for n, ms in rows
                 if n in ("prepare", "context", "baseline", "commit", "publish") or
                 n.endswith((".model", ".patch", ".checks")))
    rows.append(("total", end_ms - start_ms))
    rows.append(("unstaged", end_ms - start_ms - stages))
    stamps = [epoch_ms(e["ts"]) for e in events if isinstance(e.get("ts"), str)]
    if stamps:
        rows.append(("startup", max(0, stamps[0] - start_ms)))
        rows.append(("cleanup", max(0, end_ms - stamps[-1])))
    for name, ms in rows:
        print("%s\t%s\t%s\t%d" % (run, variant, name, ms))
    if res.get("status") != "proposed":
        sys.exit("%s: warden's status is %r, not 'proposed': %s"
                 % (result_path, res.get("status"), res.get("reason")))


def fmt(ms):
    return "%.2f s" % (ms / 1000.0)


def summary(tsv):
    data = {}
    order = {}
    with open(tsv) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 4:
                continue
            run, variant, stage, ms = parts
            data.setdefault(variant, {}).setdefault(stage, []).append(int(ms))
            order.setdefault(variant, [])
            if stage not in order[variant]:
                order[variant].append(stage)
    med = {v: {s: statistics.median(x) for s, x in st.items()} for v, st in data.items()}
    for variant in sorted(data):
        n = len(data[variant].get("total", []))
        print("\n%s (%d runs): median [min, max]" % (variant, n))
        for stage in order[variant]:
            xs = data[variant][stage]
            if stage == "baseline.cached":
                print("  %-16s in %d of %d runs" % (stage, len(xs), n))
                continue
            print("  %-16s %9s  [%s, %s]" % (stage, fmt(statistics.median(xs)),
                                           fmt(min(xs)), fmt(max(xs))))
    print()
    for kind in ("cold", "warm"):
        w, h = med.get("warden-" + kind, {}), med.get("hand-" + kind, {})
        if "total" in w and "total" in h and h["total"] > 0:
            print("%s: warden %s, by hand %s: ratio %.3f (goal <= 1.15)"
                  % (kind, fmt(w["total"]), fmt(h["total"]), w["total"] / h["total"]))
    for kind in ("cold", "warm"):
        w, h = med.get("warden-" + kind, {}), med.get("hand-" + kind, {})
        if "cpu" in w and "cpu" in h and h["cpu"] > 0:
            print("%s: CPU time (user + system, every waited-for process): warden %s, "
                  "by hand %s: ratio %.3f" % (kind, fmt(w["cpu"]), fmt(h["cpu"]),
                                             w["cpu"] / h["cpu"]))
    # the ratio run by run (each pair ran back to back), for the spread
    for kind in ("cold", "warm"):
        wt = data.get("warden-" + kind, {}).get("total", [])
        ht = data.get("hand-" + kind, {}).get("total", [])
        if wt and len(wt) == len(ht):
            rs = sorted(a / b for a, b in zip(wt, ht) if b > 0)
            print("%s: per-run ratios %s" % (kind, " ".join("%.3f" % r for r in rs)))


def main():
    if len(sys.argv) == 7 and sys.argv[1] == "warden":
        warden_rows(*sys.argv[2:7])
    elif len(sys.argv) == 3 and sys.argv[1] == "summary":
        summary(sys.argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
