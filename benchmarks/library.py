#!/usr/bin/env python3
"""A growing component library (run by benchmarks/run.sh): the cost of a build
as the workspace's library grows, builtin provider, on tmpfs when there is one.

usage: library.py GROVE [--sizes 0,1000,5000,10000] [--new 50] [--big 1500] [--rounds 3]

One workspace grows through the sizes (plans of at most 2000 components, so
few process starts); at each size ROUNDS builds of NEW components each are timed (median wall,
median user+system CPU from getrusage, per component, highest peak RSS), then the repository's size and
loose objects are taken. At the first and last size a build of BIG new
components gives the peak RSS of a large build. prints one line of JSON.
"""
import json, os, statistics, subprocess, sys, tempfile, time

CHUNK = 2000


def arg(name, default):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


def build(grove, ws, names, tmp, tag):
    plan = os.path.join(tmp, f"plan-{tag}.json")
    json.dump({"session_id": tag, "request": "library", "components": [{"name": n} for n in names]}, open(plan, "w"))
    out_file = os.path.join(tmp, f"out-{tag}.json")
    with open(out_file, "w") as out:
        t0 = time.perf_counter()
        p = subprocess.Popen([grove, "build", "--plan", plan, "--repo", ws, "-q", "--json", "--parallel", "64"],
                             stdout=out, stderr=subprocess.DEVNULL)
        _, _, ru = os.wait4(p.pid, 0)  # the child's own user + system time (microseconds) and peak RSS
        wall = time.perf_counter() - t0
        p.returncode = 0
    text = open(out_file).read()
    status = json.loads(text)["status"] if text.strip() else "error"
    return {"wall_s": round(wall, 4), "cpu_s": round(ru.ru_utime + ru.ru_stime, 4),
            "rss_mb": ru.ru_maxrss // 1024, "status": status}


def measured(grove, ws, batches, tmp, tag, size):
    """Builds each batch of names in turn; wall and CPU are the medians, RSS the highest."""
    runs = [build(grove, ws, names, tmp, f"{tag}r{i}") for i, names in enumerate(batches)]
    names = batches[0]
    r = {"wall_s": statistics.median(x["wall_s"] for x in runs), "cpu_s": statistics.median(x["cpu_s"] for x in runs),
         "rss_mb": max(x["rss_mb"] for x in runs),
         "status": "done" if all(x["status"] == "done" for x in runs) else "failed",
         "rounds": len(runs), "wall_all": [x["wall_s"] for x in runs], "cpu_all": [x["cpu_s"] for x in runs]}
    r.update(repo_figures(ws))
    r["library"] = size
    r["new"] = len(names)
    r["per_component_ms"] = round(1000 * r["wall_s"] / len(names), 2)
    r["cpu_per_component_ms"] = round(1000 * r["cpu_s"] / len(names), 2)
    return r


def repo_figures(ws):
    gitdir = os.path.join(ws, ".git")
    size = 0
    for root, _, files in os.walk(gitdir):
        for f in files:
            try:
                size += os.lstat(os.path.join(root, f)).st_size
            except FileNotFoundError:
                pass
    loose = 0
    objects = os.path.join(gitdir, "objects")
    for d in os.listdir(objects):
        if len(d) == 2:
            loose += len(os.listdir(os.path.join(objects, d)))
    gc = subprocess.run(["git", "-C", ws, "count-objects", "-v"], capture_output=True, text=True).stdout
    packs = int([l.split()[1] for l in gc.splitlines() if l.startswith("packs:")][0])
    return {"repo_mb": round(size / 1e6, 1), "loose_objects": loose, "packs": packs}


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    grove = sys.argv[1]
    sizes = [int(x) for x in arg("--sizes", "0,1000,5000,10000").split(",")]
    new = int(arg("--new", "50"))
    big = int(arg("--big", "1500"))
    rounds = int(arg("--rounds", "3"))
    root = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    rows = []
    with tempfile.TemporaryDirectory(prefix="grove-library", dir=root) as tmp:
        ws = os.path.join(tmp, "ws")
        have = 0
        serial = 0
        for size in sizes:
            while have < size:
                n = min(CHUNK, size - have)
                print(f"library: growing to {have + n} components ...", file=sys.stderr)
                r = build(grove, ws, [f"lib{have + i}" for i in range(n)], tmp, f"grow{have}")
                if r["status"] != "done":
                    raise RuntimeError(f"growing the library failed: {r}")
                have += n
            serial += 1
            r = measured(grove, ws, [[f"new{serial}r{k}x{i}" for i in range(new)] for k in range(rounds)], tmp,
                         f"new{serial}", size)
            have += new * rounds
            print(f"library {size}: {new} new in {r['wall_s']} s ({r['cpu_s']} s CPU; median of {rounds}), {r['rss_mb']} MB, "
                  f"repo {r['repo_mb']} MB, {r['loose_objects']} loose", file=sys.stderr)
            rows.append(r)
            if big and size in (sizes[0], sizes[-1]):
                serial += 1
                b = measured(grove, ws, [[f"big{serial}x{i}" for i in range(big)]], tmp, f"big{serial}", size)
                have += big
                print(f"library {size}: {big} new in {b['wall_s']} s, {b['rss_mb']} MB peak", file=sys.stderr)
                rows.append(b)
    print(json.dumps({"rows": rows, "filesystem": root or "disk"}))


if __name__ == "__main__":
    main()
