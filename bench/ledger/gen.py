#!/usr/bin/env python3
"""Generate N run ledgers in CACHE/ledger from one real ledger (TEMPLATE).

Each copy gets its own run id, a start time spread over the last 60 days, one
of 20 repositories and 50 tickets, one of 3 models, a status (proposed 60%,
no_patch 25%, error 10%, no run.end 5%: killed), a cost and check times that
vary, and sometimes a decision. The events and their fields are the
template's, so the index reads what a real run writes. Blobs are not copied
(log and stats never read them).
"""
import json, os, random, socket, sys, time

def main():
    template, cache, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    rnd = random.Random(11)
    events = [json.loads(l) for l in open(template) if l.strip()]
    out = os.path.join(cache, "ledger")
    os.makedirs(out, exist_ok=True)
    now = time.time()
    models = ["openai:gpt-4o-mini", "anthropic:claude-sonnet", "replay:x.jsonl"]
    for i in range(n):
        rid = "%08x" % (0x10000000 + i)
        t0 = now - rnd.uniform(0, 60 * 86400)
        repo = "/src/repo-%02d" % rnd.randrange(20)
        ticket = "ticket-%02d" % rnd.randrange(50)
        model = models[rnd.randrange(3)]
        r = rnd.random()
        status = "proposed" if r < .6 else "no_patch" if r < .85 else "error" if r < .95 else None
        cost = round(rnd.lognormvariate(-4, .6), 6)
        lines = []
        for seq, ev in enumerate(events):
            ev = dict(ev)
            ev["seq"] = seq
            ev["run"] = rid
            t = t0 + seq * rnd.uniform(0.05, 3)
            ev["ts"] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".000Z"
            ty = ev.get("type")
            if ty == "run.start":
                ev["repo"] = repo
                ev["model"] = model
                # this machine, a pid that is gone: killed runs read as interrupted
                ev["process"] = {"pid": 4194301, "start": 1, "host": socket.gethostname()}
            elif ty == "ticket":
                ev["id"] = ticket
                ev["title"] = "Ticket %s" % ticket
            elif ty == "model.call":
                ev["spec"] = model
                ev["ms"] = int(rnd.lognormvariate(7.5, .5))
                ev["cost_usd"] = round(cost / 2, 6)
            elif ty == "check":
                ev["ms"] = int(rnd.lognormvariate(6.5, .4))
            elif ty == "run.end":
                if status is None:
                    break
                ev["status"] = status
                ev["cost_usd"] = cost
                ev["ms"] = int(rnd.uniform(2000, 120000))
            elif ty in ("proposal",) and status != "proposed":
                continue
            lines.append(json.dumps(ev, separators=(",", ":")))
        if status == "proposed" and rnd.random() < .5:
            d = "review.approve" if rnd.random() < .8 else "review.reject"
            lines.append(json.dumps({"seq": len(lines), "ts": lines and json.loads(lines[-1])["ts"],
                                     "run": rid, "type": d, "by": "bench", "reason": "bench"},
                                    separators=(",", ":")))
        with open(os.path.join(out, rid + ".jsonl"), "w") as f:
            f.write("\n".join(lines) + "\n")

main()
