#!/usr/bin/env python3
"""A growing component library (run by benchmarks/run.sh): the cost of a build
as the workspace's library grows, builtin provider, on tmpfs when there is one.

usage: library.py GROVE [--sizes 0,1000,5000,10000] [--new 50] [--big 1500]

One workspace grows through the sizes (plans of at most 2000 components, so
few process starts); at each size a build of NEW components is timed (wall,
user+system CPU, per component, peak RSS), then the repository's size and
loose objects are taken. At the first and last size a build of BIG new
components gives the peak RSS of a large build. prints one line of JSON.
"""
import json, os, subprocess, sys, tempfile, time

CHUNK = 2000


def arg(name, default):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


def build(grove, ws, names, tmp, tag):
    plan = os.path.join(tmp, f"plan-{tag}.json")
    json.dump({"session_id": tag, "request": "library", "components": [{"name": n} for n in names]}, open(plan, "w"))
    stats = os.path.join(tmp, f"time-{tag}")
    t0 = time.time()
    out = subprocess.run(["/usr/bin/time", "-f", "%U %S %M", "-o", stats, grove, "build", "--plan", plan, "--repo", ws,
                          "-q", "--json", "--parallel", "64"], capture_output=True, text=True)
    wall = time.time() - t0
    user, system, rss_kb = open(stats).read().split()[-3:]
    status = json.loads(out.stdout)["status"] if out.stdout.strip() else "error"
    return {"wall_s": round(wall, 3), "cpu_s": round(float(user) + float(system), 3),
            "rss_mb": int(rss_kb) // 1024, "status": status}


def measured(grove, ws, names, tmp, tag, size):
    r = build(grove, ws, names, tmp, tag)
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
            r = measured(grove, ws, [f"new{serial}x{i}" for i in range(new)], tmp, f"new{serial}", size)
            have += new
            print(f"library {size}: {new} new in {r['wall_s']} s ({r['cpu_s']} s CPU), {r['rss_mb']} MB, "
                  f"repo {r['repo_mb']} MB, {r['loose_objects']} loose", file=sys.stderr)
            rows.append(r)
            if big and size in (sizes[0], sizes[-1]):
                serial += 1
                b = measured(grove, ws, [f"big{serial}x{i}" for i in range(big)], tmp, f"big{serial}", size)
                have += big
                print(f"library {size}: {big} new in {b['wall_s']} s, {b['rss_mb']} MB peak", file=sys.stderr)
                rows.append(b)
    print(json.dumps({"rows": rows, "filesystem": root or "disk"}))


if __name__ == "__main__":
    main()
