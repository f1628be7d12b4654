#!/usr/bin/env python3
"""Cluster benchmarks with real processes on 127.0.0.1 (run by benchmarks/run.sh).

usage: cluster.py GROVE BENCH_TOOLS [--components N] [--rounds R] [--trials T]

P6 model-bound throughput: a serving node that takes no generations itself
(--local-capacity 0) and 1, 2, 3 worker nodes capped at 8 concurrent
generations each, against a fake model answering after 500 ms; N components
(default 96) per build, each build on a fresh workspace; wall time from
submit to report, median of R rounds (default 3).

P7 re-placement after SIGSTOP: 2 workers, a 2 s model; a worker frozen while
it generates; the time from SIGSTOP to the first generation of one of its
components starting on the other node (telemetry timestamps). T trials
(default 10); the worker is thawed and rejoins between trials.

prints one line of JSON.
"""
import json, os, re, signal, statistics, subprocess, sys, tempfile, time


def wait_for(path, pattern, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            m = re.search(pattern, open(path).read())
            if m:
                return m
        except FileNotFoundError:
            pass
        time.sleep(0.01)
    raise RuntimeError(f"{path}: no {pattern!r} within {timeout} s")


def events(ws):
    out = []
    try:
        for line in open(os.path.join(ws, ".grove", "telemetry.jsonl")):
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    except FileNotFoundError:
        pass
    return out


class Model:
    def __init__(self, tools, latency_ms, tmp):
        self.port_file = os.path.join(tmp, f"model{latency_ms}.port")
        self.proc = subprocess.Popen([tools, "fake-model", str(latency_ms)], stdin=subprocess.PIPE,
                                     stdout=open(self.port_file, "w"))
        self.port = wait_for(self.port_file, r"(\d+)").group(1)

    def stop(self):
        self.proc.stdin.close()
        self.proc.wait()


class Cluster:
    def __init__(self, grove, tmp, tag, model_port, workers, capacity=8):
        self.grove, self.tmp = grove, tmp
        self.ws = os.path.join(tmp, f"ws-{tag}")
        self.procs = {}
        cfg = os.path.join(tmp, f"model-{tag}.json")
        json.dump({"providers": {"m": {"type": "openai", "model": "bench", "max_concurrency": capacity,
                                       "base_url": f"http://127.0.0.1:{model_port}/v1", "timeout_ms": 120000}},
                   "routes": {"default": ["m"]}}, open(cfg, "w"))
        self.log = lambda who: os.path.join(tmp, f"{tag}-{who}.log")
        self.procs["serve"] = subprocess.Popen(
            [grove, "serve", "--repo", self.ws, "--port", "0", "--cluster-port", "0", "--local-capacity", "0",
             "--name", "srv", "--parallel", "1000"], stderr=open(self.log("serve"), "w"))
        self.cluster_port = wait_for(self.log("serve"), r"worker nodes on 127\.0\.0\.1:(\d+)").group(1)
        self.http_port = wait_for(self.log("serve"), r"http://127\.0\.0\.1:(\d+)").group(1)
        for i in range(1, workers + 1):
            self.worker(f"w{i}", cfg, capacity)
        for i in range(1, workers + 1):
            wait_for(self.log(f"w{i}"), "joined")

    def worker(self, name, cfg, capacity):
        self.procs[name] = subprocess.Popen(
            [self.grove, "node", "--join", f"127.0.0.1:{self.cluster_port}", "--name", name, "--config", cfg,
             "--capacity", str(capacity)], stderr=open(self.log(name), "w"))

    def submit(self, plan):
        return subprocess.Popen([self.grove, "submit", "--url", f"ws://127.0.0.1:{self.http_port}", "--plan", plan,
                                 "--json", "-q"], stdout=subprocess.PIPE)

    def stop(self):
        for p in self.procs.values():
            try:
                p.send_signal(signal.SIGCONT)
                p.terminate()
            except ProcessLookupError:
                pass
        for p in self.procs.values():
            p.wait()


def plan(tmp, tag, names):
    path = os.path.join(tmp, f"plan-{tag}.json")
    json.dump({"session_id": tag, "request": "benchmark", "components": [{"name": n} for n in names]}, open(path, "w"))
    return path


def throughput(grove, tools, tmp, n, rounds):
    model = Model(tools, 500, tmp)
    out = {}
    try:
        for workers in (1, 2, 3):
            walls, status, nodes = [], "done", set()
            for r in range(rounds):
                tag = f"p6w{workers}r{r}"
                c = Cluster(grove, tmp, tag, model.port, workers)
                try:
                    p = plan(tmp, tag, [f"{tag}x{i}" for i in range(n)])
                    t0 = time.time()
                    report = json.loads(c.submit(p).communicate()[0])
                    wall = time.time() - t0
                    walls.append(wall)
                    if report["status"] != "done":
                        status = report["status"]
                    nodes |= {x for comp in report["components"] for x in comp["nodes"]}
                    print(f"P6 round {r + 1}/{rounds}: {workers} worker(s): {n} components in {wall:.2f} s "
                          f"({report['status']})", file=sys.stderr)
                finally:
                    c.stop()
            wall = statistics.median(walls)
            out[workers] = {"wall_s": round(wall, 3), "components_per_s": round(n / wall, 2), "status": status,
                            "nodes": sorted(nodes), "all_s": [round(w, 2) for w in walls]}
    finally:
        model.stop()
    out["speedup_3"] = round(out[1]["wall_s"] / out[3]["wall_s"], 2)
    out["speedup_2"] = round(out[1]["wall_s"] / out[2]["wall_s"], 2)
    return out


def replacement(grove, tools, tmp, trials):
    model = Model(tools, 2000, tmp)
    c = Cluster(grove, tmp, "p7", model.port, 2, capacity=4)
    times = []
    try:
        for t in range(trials):
            seen = len(events(c.ws))
            job = c.submit(plan(tmp, f"p7t{t}", [f"t{t}x{i}" for i in range(6)]))
            # w1 generating for this job (its events come after `seen`)
            deadline = time.time() + 30
            on_w1 = set()
            while time.time() < deadline and not on_w1:
                on_w1 = {e["component"] for e in events(c.ws)[seen:] if e.get("stage") == "generating"
                         and e.get("node") == "w1"}
                time.sleep(0.005)
            if not on_w1:
                raise RuntimeError("w1 got no work")
            stopped_ms = time.time() * 1000
            c.procs["w1"].send_signal(signal.SIGSTOP)
            replaced = None
            deadline = time.time() + 30
            while time.time() < deadline and replaced is None:
                for e in events(c.ws)[seen:]:
                    if (e.get("stage") == "generating" and e.get("component") in on_w1 and e.get("node") != "w1"
                            and e["ts_ms"] >= stopped_ms):
                        replaced = e["ts_ms"] - stopped_ms
                        break
                time.sleep(0.005)
            report = json.loads(job.communicate()[0])
            if replaced is None or report["status"] != "done":
                raise RuntimeError(f"trial {t}: replaced={replaced} status={report['status']}")
            times.append(replaced)
            print(f"P7 trial {t + 1}/{trials}: re-placed after {replaced:.0f} ms", file=sys.stderr)
            rejoined = open(c.log("w1")).read().count("rejoined")
            c.procs["w1"].send_signal(signal.SIGCONT)
            deadline = time.time() + 30
            while open(c.log("w1")).read().count("rejoined") <= rejoined:
                if time.time() > deadline:
                    raise RuntimeError("w1 did not rejoin")
                time.sleep(0.01)
    finally:
        c.stop()
        model.stop()
    return {"trials": len(times), "p50_ms": round(statistics.median(times)), "max_ms": round(max(times)),
            "all_ms": [round(x) for x in times]}


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    grove, tools = args[0], args[1]
    n = int(args[args.index("--components") + 1]) if "--components" in args else 96
    trials = int(args[args.index("--trials") + 1]) if "--trials" in args else 10
    rounds = int(args[args.index("--rounds") + 1]) if "--rounds" in args else 3
    with tempfile.TemporaryDirectory(prefix="grove-cluster-bench") as tmp:
        p6 = throughput(grove, tools, tmp, n, rounds)
        p7 = replacement(grove, tools, tmp, trials)
    print(json.dumps({"p6": p6, "p7": p7}))


if __name__ == "__main__":
    main()
