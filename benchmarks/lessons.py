#!/usr/bin/env python3
"""The memory of past mistakes (run by benchmarks/run.sh as P9): JOBS builds of
COMPONENTS new form components each, against a model that leaves an input
without a label unless its prompt names that mistake (bench_tools
forgetful-model), once with the lessons memory and once without, each in a
fresh workspace; one grove process per job (the memory survives restarts).

usage: lessons.py GROVE BENCH_TOOLS [--jobs 10] [--components 5]

prints one line of JSON: per scenario the first-attempt pass rate of job 1 and
of jobs 2..JOBS, and model tokens per landed component for both.
"""
import json, os, subprocess, sys, tempfile


def arg(name, default):
    return int(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else default


def scenario(grove, port, tmp, memory, jobs, components):
    ws = os.path.join(tmp, f"ws-{memory}")
    config = os.path.join(tmp, f"grove-{memory}.json")
    json.dump({"providers": {"m": {"type": "openai", "model": "forgetful", "base_url": f"http://127.0.0.1:{port}/v1"}},
               "routes": {"default": ["m"]}, "lessons": memory}, open(config, "w"))
    rows = []
    for job in range(jobs):
        plan = os.path.join(tmp, f"plan-{memory}-{job}.json")
        names = [f"form_j{job}_c{i}" for i in range(components)]
        json.dump({"session_id": f"p9{job}", "request": "lessons",
                   "components": [{"name": n, "description": f"A form {n}"} for n in names]}, open(plan, "w"))
        out = subprocess.run([grove, "build", "--plan", plan, "--repo", ws, "--config", config, "-q", "--json"],
                             capture_output=True, text=True)
        r = json.loads(out.stdout) if out.stdout.strip() else {"components": [], "usage": {}}
        landed = [c for c in r["components"] if c["status"] == "landed"]
        first = sum(1 for c in landed if c["attempts"] == 1)
        tokens = r.get("usage", {}).get("tokens_in", 0) + r.get("usage", {}).get("tokens_out", 0)
        rows.append({"landed": len(landed), "first": first, "tokens": tokens})

    def rate(rs):
        landed = sum(x["landed"] for x in rs)
        return round(100.0 * sum(x["first"] for x in rs) / landed, 1) if landed else 0.0

    def per_landed(rs):
        landed = sum(x["landed"] for x in rs)
        return round(sum(x["tokens"] for x in rs) / landed) if landed else 0

    return {"job1_first_pct": rate(rows[:1]), "later_first_pct": rate(rows[1:]),
            "job1_tokens": per_landed(rows[:1]), "later_tokens": per_landed(rows[1:]),
            "landed": sum(x["landed"] for x in rows), "planned": jobs * components}


def main():
    grove, tools = sys.argv[1], sys.argv[2]
    jobs, components = arg("--jobs", 10), arg("--components", 5)
    model = subprocess.Popen([tools, "forgetful-model"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        port = int(model.stdout.readline())
        with tempfile.TemporaryDirectory(prefix="grove-p9-") as tmp:
            out = {"jobs": jobs, "components": components,
                   "with": scenario(grove, port, tmp, True, jobs, components),
                   "without": scenario(grove, port, tmp, False, jobs, components)}
    finally:
        model.stdin.close()
        model.wait(timeout=10)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
