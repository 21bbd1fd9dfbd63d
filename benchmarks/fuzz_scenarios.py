"""Fuzz the scenario loader at scale (issue 12): N mutated scenario files, each loaded, built
and run for a short horizon in a worker process with a deadline, and every outcome counted.

    python benchmarks/fuzz_scenarios.py                    # 10,000 files, seed 0, all cores
    python benchmarks/fuzz_scenarios.py -n 2000 --seed 7 --jobs 2 --timeout 20

Each file is one preset (``scenarios/*.yaml``, ``extends`` resolved, horizon 12 h) with one
mutation: a key deleted, misspelt or retyped; a value negative, zero, huge, infinite, NaN, in
the wrong unit, a bad distribution, a string for a number, a list for a mapping; the text
truncated, binary, UTF-16, with a stray tab or null byte, nested thousands deep; an odd
``extends``; a grids CSV that is generated, empty, binary, UTF-16 or with a huge field.

Outcomes: ``ran``; ``clear`` (a ``ScenarioError`` naming the file); ``unclear`` (a
``ScenarioError`` that names another file or no field); ``traceback`` (any other exception:
its type, message and a reproducer path are kept); ``hang`` (no outcome within the timeout);
``memory`` (resident memory grew past ``--memory-mib``); ``crash`` (the worker died).
Reproducers are copied to ``benchmarks/results/fuzz_reproducers/``; the table is printed and
the counts written to ``benchmarks/results/fuzz_scenarios.json``.
"""

from __future__ import annotations

import argparse
import copy
import csv
import io
import json
import math
import multiprocessing
import os
import random
import shutil
import sys
import tempfile
import time
import traceback
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import govsim  # noqa: E402
from govsim.scenario.loader import load_document  # noqa: E402

SCENARIOS = ROOT / "scenarios"
RESULTS = ROOT / "benchmarks" / "results"
CHEAP = {"horizon": "12h", "warmup": 0}
SHRINK = {"dongcheng.yaml": {"rows": 8, "cols": 8}}

UNITS = ["s", "min", "h", "d", "w", "ms", "y", "", " h", "H", "hours", "parsecs", "km", "%"]
NUMBERS = [-1, 0, -0.0, 0.5, 1e-320, 1e40, -1e40, 1e308, 1e300, 2**63, 10**30, 100_000, 10**9,
           math.inf, -math.inf, math.nan]
STRINGS = ["", " ", "abc", "nan", "inf", "null", "1e9w", "1e300h", "-3h", "0h", "nanh", "infmin", "２h",
           "３０min", "1h 30", "5 parsecs", "8:00", "25:00", "24:00", "99:99", "\x00", "\u202e3h", "1e40",
           "1,5", "0x10", "True", "x" * 10_000]
DISTS = [
    {"dist": "nope", "mean": "1h"}, {"dist": "lognormal", "mean": "1h", "sd": "1e300h"},
    {"dist": "lognormal", "mean": "1e300h", "sd": "1h"}, {"dist": "lognormal", "mean": "1h", "sd": "0h"},
    {"dist": "lognormal", "mean": "0h", "sd": "1h"}, {"dist": "exponential", "mean": "-1h"},
    {"dist": "exponential", "mean": 1e40}, {"dist": "exponential"}, {"dist": "uniform", "low": 5, "high": 1},
    {"dist": "uniform", "low": -1e308, "high": 1e308}, {"dist": "normal", "mean": 1e40, "sd": 1},
    {"dist": "gamma", "shape": 0, "scale": 1}, {"dist": ["lognormal"], "mean": "1h"}, {"mean": "1h", "sd": "1h"},
]
CONTAINERS = [None, True, False, [], {}, [1, 2, 3], {"a": 1}, [[]], [{}], [None]]
ODD_EXTENDS = ["", ".", "..", "/", "/dev/null", "/dev/urandom", "/etc/passwd", "a\x00b.yaml", "nope.yaml",
               "x" * 5000, "~/p.yaml", "http://example.com/x.yaml", "sub", "self.yaml", "utf16.yaml",
               "binary.yaml", "list.yaml", "pa\nrent.yaml", 1, 1.5, True, [], {}, [None], [""],
               ["parent.yaml", 1], {"a": "parent.yaml"}, ["parent.yaml"] * 50, ["parent.yaml", "self.yaml"]]
GRID_COLUMNS = ["x_m", "y_m", "households", "area_type", "community", "street", "points", "edge_m", "name"]
CELLS = ["", "0", "-1", "1e40", "1e308", "inf", "-inf", "nan", ".inf", "abc", "１２", "1,5", " 12 ", "nowhere",
         "100000", "\u00a0", '"']


# --------------------------------------------------------------------------- generating files


def _presets() -> dict[str, dict[str, Any]]:
    out = {}
    for path in sorted(SCENARIOS.glob("*.yaml")):
        data, _ = load_document(path)
        data = copy.deepcopy(data)
        data.update(CHEAP)
        data.setdefault("territory", {}).update(SHRINK.get(path.name, {}))
        out[path.name] = data
    return out


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else ()
    for k, v in items:
        out.append(prefix + (k,))
        out.extend(_paths(v, prefix + (k,)))
    return out


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1 << 20)


def _nasty(rng: random.Random) -> Any:
    kind = rng.randrange(7)
    if kind == 0:
        return rng.choice(NUMBERS)
    if kind == 1:
        return rng.choice(STRINGS)
    if kind == 2:
        return copy.deepcopy(rng.choice(DISTS))
    if kind == 3:
        return copy.deepcopy(rng.choice(CONTAINERS))
    if kind == 4:
        number = rng.choice([rng.uniform(-10, 10), 10 ** rng.uniform(-10, 300), rng.choice(NUMBERS)])
        return f"{number}{rng.choice(UNITS)}"
    if kind == 5:
        return rng.choice([rng.randint(-10**12, 10**12), rng.uniform(-1e6, 1e6), 10 ** rng.uniform(0, 308)])
    return "".join(chr(rng.randrange(32, 0x3000)) for _ in range(rng.randrange(1, 12)))


def _misspell(key: Any, rng: random.Random) -> str:
    key = str(key) or "x"
    i = rng.randrange(len(key))
    how = rng.randrange(6)
    if how == 0 and len(key) > 1:
        return key[:i] + key[i + 1:]
    if how == 1:
        return key[:i] + key[i] + key[i:]
    if how == 2 and i < len(key) - 1 and key[i] != key[i + 1]:
        return key[:i] + key[i + 1] + key[i] + key[i + 2:]
    if how == 3 and key.upper() != key:
        return key.upper()
    if how == 4 and key[i].isascii() and key[i].isalnum():
        return key[:i] + chr(ord(key[i]) + 0xFEE0) + key[i + 1:]
    return key + "s"


def _structural(doc: dict[str, Any], rng: random.Random) -> tuple[str, dict[str, Any]]:
    doc = copy.deepcopy(doc)
    path = rng.choice(_paths(doc))
    parent: Any = doc
    for seg in path[:-1]:
        parent = parent[seg]
    last = path[-1]
    ops = ["delete", "set", "set", "set", "swap", "wrap"] + ([] if isinstance(last, int) else ["rename"])
    op = rng.choice(ops)
    where = ".".join(map(str, path))
    if op == "delete":
        del parent[last]
        return f"delete {where}", doc
    if op == "rename":
        new = _misspell(last, rng)
        parent[new] = parent.pop(last)
        return f"rename {where} -> {new!r}", doc
    if op == "set":
        value = _nasty(rng)
        parent[last] = value
        return f"set {where} = {str(value)[:80]!r}", doc
    old = parent[last]
    if op == "swap":
        parent[last] = ({str(i): v for i, v in enumerate(old)} if isinstance(old, list)
                        else [[k, v] for k, v in old.items()] if isinstance(old, dict) else [old])
        return f"swap {where}", doc
    parent[last] = {"value": old}
    return f"wrap {where}", doc


def _textual(doc: dict[str, Any], rng: random.Random) -> tuple[str, bytes]:
    text = _dump(doc)
    raw = text.encode()
    pos = rng.randrange(len(raw))
    op = rng.choice(["truncate", "bytes", "utf16", "bom", "tab", "null", "deep", "flip", "empty", "binary",
                     "dup_line", "crlf", "bomb"])
    if op == "truncate":
        return f"truncate at {pos}", raw[:pos]
    if op == "bytes":
        return f"bytes at {pos}", raw[:pos] + os.urandom(rng.randrange(1, 8)) + raw[pos:]
    if op == "utf16":
        return "utf-16", text.encode("utf-16")
    if op == "bom":
        return "bom", b"\xef\xbb\xbf" + raw
    if op == "tab":
        return f"tab at {pos}", raw[:pos] + b"\t" + raw[pos:]
    if op == "null":
        return f"null byte at {pos}", raw[:pos] + b"\x00" + raw[pos:]
    if op == "deep":
        depth = rng.choice([50, 150, 400, 1000, 3000])
        kind = rng.choice(["list", "map", "block"])
        body = ("[" * depth + "]" * depth if kind == "list" else "{a: " * depth + "1" + "}" * depth
                if kind == "map" else "\n" + "".join("  " * i + "a:\n" for i in range(depth)) + "  " * depth + "1")
        return f"deep {kind} {depth}", (text + f"\ndeep: {body}\n").encode()
    if op == "flip":
        return f"flip at {pos}", raw[:pos] + bytes([raw[pos] ^ (1 << rng.randrange(8))]) + raw[pos + 1:]
    if op == "empty":
        return "empty", rng.choice([b"", b"\n", b"---\n", b"~\n", b"[]\n", b"- a\n", b"42\n"])
    if op == "binary":
        return "binary", os.urandom(rng.randrange(1, 256))
    if op == "dup_line":
        lines = raw.splitlines(keepends=True)
        i = rng.randrange(len(lines))
        return f"duplicate line {i + 1}", b"".join(lines[:i + 1] + [lines[i]] + lines[i + 1:])
    if op == "crlf":
        return "crlf", raw.replace(b"\n", b"\r\n")
    return "alias bomb", raw + (b"\nba: &a [x, x, x, x, x, x, x, x, x]\nbb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n"
                                b"bc: &c [*b, *b, *b, *b, *b, *b, *b, *b]\nbd: [*c, *c, *c, *c, *c, *c, *c, *c]\n")


def _grids_csv(rng: random.Random) -> tuple[str, bytes]:
    kind = rng.choice(["table"] * 6 + ["empty", "header", "binary", "utf16", "long_field", "bom", "ragged"])
    n = rng.randrange(1, 7)
    rows = [[300.0 * (i % 3), 300.0 * (i // 3), 300, "ordinary", f"c{i // 2}", "s0", 4, 300, f"g{i}"]
            for i in range(n)]
    header = list(GRID_COLUMNS)
    for _ in range(rng.randrange(4)):
        rows[rng.randrange(n)][rng.randrange(len(header))] = rng.choice(CELLS + [repr(_nasty(rng))])
    if rng.random() < 0.3:
        j = rng.randrange(len(header))
        header[j] = _misspell(header[j], rng)
    if rng.random() < 0.2:
        j = rng.randrange(len(header))
        del header[j]
        for row in rows:
            del row[j]
    buf = io.StringIO()
    csv.writer(buf).writerows([header, *rows])
    text = buf.getvalue()
    data = {"table": text.encode(), "empty": b"", "header": (",".join(header) + "\n").encode(),
            "binary": os.urandom(rng.randrange(1, 200)), "utf16": text.encode("utf-16"),
            "long_field": (text + "1,2," + "9" * 200_000 + "\n").encode(), "bom": b"\xef\xbb\xbf" + text.encode(),
            "ragged": (text + "1,2,3,4,5,6,7,8,9,10,11\n1\n").encode()}[kind]
    return f"grids csv {kind}: {text[:300]!r}", data


def _side_file(rng: random.Random, names: list[str]) -> tuple[str, str, str, bytes]:
    """A mutated points CSV, rate-multiplier CSV or map of a district whose grids are ``names``:
    (scenario key, file name, what, bytes)."""
    kind = rng.choice(["points", "rates", "map"])
    value = lambda: rng.choice(CELLS + [repr(_nasty(rng)), "0", "1", "-5", "1e300", "1e40", ""])  # noqa: E731
    if kind == "points":
        rows = [["grid", "x_m", "y_m"]] + [[n, str(10.0 * k), str(10.0 * k)] for n in names for k in range(3)]
        if rng.random() < 0.1:
            rows += [[names[0], str(k), "0"] for k in range(rng.choice([10_001, 20_000]))]
        key, fname = "points_csv", "points.csv"
    elif kind == "rates":
        rows = [["grid", "garbage", "fire_lane"]] + [[n, "1.5", "0.5"] for n in names]
        key, fname = "rate_multipliers_csv", "rates.csv"
    else:
        square = [[0, 0], [100, 0], [100, 100], [0, 100], [0, 0]]
        feats: list[Any] = [{"type": "Feature", "properties": {"name": n},
                             "geometry": {"type": "Polygon", "coordinates": [copy.deepcopy(square)]}}
                            for n in names]
        for _ in range(rng.randrange(1, 4)):
            f = rng.choice(feats)
            op = rng.choice(["vertex", "name", "type", "drop", "nan"])
            try:
                if op == "vertex":
                    ring = f["geometry"]["coordinates"][0]
                    ring[rng.randrange(len(ring))][rng.randrange(2)] = _nasty(rng)
                elif op == "name":
                    f["properties"]["name"] = _nasty(rng)
                elif op == "type":
                    f["geometry"]["type"] = rng.choice(["Point", "LineString", "polygon", None])
                elif op == "drop":
                    del f[rng.choice(["properties", "geometry"])]
                else:
                    f["geometry"]["coordinates"][0][1][0] = float("nan")
            except (KeyError, TypeError, IndexError):
                pass  # an earlier mutation removed what this one changes
        try:
            text = json.dumps({"type": "FeatureCollection", "features": feats})
        except (TypeError, ValueError):
            text = "{"
        data = rng.choice([text.encode()] * 6 + [b"", b"[" * 50_000, os.urandom(64), text.encode("utf-16")])
        return "map_geojson", "map.json", f"map {text[:200]!r}", data
    for _ in range(rng.randrange(1, 4)):
        r = rng.randrange(1, len(rows))
        rows[r][rng.randrange(len(rows[r]))] = value()
    if rng.random() < 0.2:
        rows[0][rng.randrange(len(rows[0]))] = _misspell(rows[0][0], rng)
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    text = buf.getvalue()
    data = rng.choice([text.encode()] * 6 + [b"", os.urandom(64), text.encode("utf-16")])
    return key, fname, f"{kind} csv: {text[:200]!r}", data


def generate(i: int, rng: random.Random, presets: dict[str, dict[str, Any]], folder: Path) -> dict[str, Any]:
    """Write case ``i`` into ``folder`` (its own sub-folder); the job to run."""
    name = rng.choice(sorted(presets))
    doc = presets[name]
    case = folder / f"{i:06d}"
    case.mkdir(parents=True)
    path = case / name
    family = rng.choices(["structural", "textual", "extends", "grids", "files"], weights=[66, 14, 7, 7, 6])[0]
    if family == "structural":
        what, mutated = _structural(doc, rng)
        path.write_text(_dump(mutated), encoding="utf-8")
    elif family == "textual":
        what, data = _textual(doc, rng)
        path.write_bytes(data)
    elif family == "extends":
        extends = copy.deepcopy(rng.choice(ODD_EXTENDS))
        (case / "sub").mkdir()
        (case / "parent.yaml").write_text(_dump(doc), encoding="utf-8")
        (case / "utf16.yaml").write_bytes(_dump(doc).encode("utf-16"))
        (case / "binary.yaml").write_bytes(bytes(range(256)))
        (case / "list.yaml").write_text("- a\n- b\n")
        path = case / "self.yaml"
        path.write_text(_dump({"extends": extends, "name": "child"}), encoding="utf-8")
        what = f"extends: {str(extends)[:80]!r}"
    elif family == "files":
        names = [f"g{k}" for k in range(rng.randrange(1, 6))]
        key, fname, what, data = _side_file(rng, names)
        (case / fname).write_bytes(data)
        grids = [{"name": n, "x_m": 300.0 * k, "y_m": 0.0, "households": 300} for k, n in enumerate(names)]
        territory = {k: v for k, v in presets["district.yaml"]["territory"].items()
                     if k not in ("rows", "cols", "community_size", "street_size", "households")}
        mutated = {**copy.deepcopy(presets["district.yaml"]),
                   "territory": {**territory, "grids": grids, key: fname}}
        path = case / "district.yaml"
        path.write_text(_dump(mutated), encoding="utf-8")
    else:
        what, data = _grids_csv(rng)
        (case / "grids.csv").write_bytes(data)
        territory = {k: v for k, v in presets["district.yaml"]["territory"].items()
                     if k not in ("rows", "cols", "community_size", "street_size", "households")}
        mutated = {**copy.deepcopy(presets["district.yaml"]), "territory": {**territory, "grids_csv": "grids.csv"}}
        path = case / "district.yaml"
        path.write_text(_dump(mutated), encoding="utf-8")
    return {"i": i, "family": family, "preset": name, "what": what, "path": str(path), "folder": str(case)}


# --------------------------------------------------------------------------- running


def _work(conn: Any, path: str) -> None:
    try:
        scenario = govsim.load_scenario(path)
        sim = govsim.Simulation(scenario, 0)
        if scenario.territory.map_geojson:  # as `govsim validate` does
            from govsim.plots.maps import read_map_geojson

            read_map_geojson(scenario, sim.territory.grid_names)
        sim.run()
    except govsim.ScenarioError as err:
        named = err.source is not None and str(err).startswith(str(err.source))
        fields = any(p.path for p in err.problems)
        folder = os.path.dirname(path)
        ours = err.source is not None and (err.source == path or os.path.dirname(err.source) == folder)
        kind = "clear" if named and ours else "unclear"
        conn.send({"outcome": kind, "type": "ScenarioError", "fields": fields, "message": str(err)[:500]})
    except BaseException as err:  # noqa: BLE001
        tb = traceback.extract_tb(err.__traceback__)
        where = next((f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(tb)
                      if "/govsim/" in f.filename), "")
        conn.send({"outcome": "traceback", "type": type(err).__name__, "message": str(err)[:300],
                   "where": where, "traceback": "".join(traceback.format_exception(err))[-4000:]})
    else:
        conn.send({"outcome": "ran"})
    conn.close()


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def run_all(jobs: list[dict[str, Any]], n_jobs: int, timeout: float, memory: int) -> list[dict[str, Any]]:
    ctx = multiprocessing.get_context("fork")
    pending = list(reversed(jobs))
    running: dict[int, tuple[Any, Any, dict[str, Any], float]] = {}
    results: list[dict[str, Any]] = []
    base = _rss(os.getpid())
    done, start = 0, time.monotonic()
    while pending or running:
        while pending and len(running) < n_jobs:
            job = pending.pop()
            recv, send = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_work, args=(send, job["path"]), daemon=True)
            proc.start()
            send.close()
            running[proc.pid] = (proc, recv, job, time.monotonic())
        for pid, (proc, recv, job, t0) in list(running.items()):
            out = None
            if recv.poll(0):
                try:
                    out = recv.recv()
                except EOFError:
                    out = {"outcome": "crash", "type": f"exit {proc.exitcode}"}
            elif time.monotonic() - t0 > timeout:
                out = {"outcome": "hang", "type": f"> {timeout:g} s"}
            elif _rss(pid) - base > memory:
                out = {"outcome": "memory", "type": f"> {memory >> 20} MiB"}
            elif not proc.is_alive() and not recv.poll(0.01):
                out = {"outcome": "crash", "type": f"exit {proc.exitcode}"}
            if out is None:
                continue
            if proc.is_alive():
                proc.kill()
            proc.join(5)
            recv.close()
            del running[pid]
            out["seconds"] = round(time.monotonic() - t0, 3)
            results.append({**job, **out})
            done += 1
            if done % 500 == 0:
                print(f"  {done:,} / {len(jobs):,} ({time.monotonic() - start:.0f} s)", file=sys.stderr, flush=True)
        time.sleep(0.002)
    return sorted(results, key=lambda r: r["i"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=10_000, help="mutated files (default 10,000)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds per file before it counts as a hang")
    ap.add_argument("--memory-mib", type=int, default=2048, help="resident memory per file before it is killed")
    ap.add_argument("--out", default=str(RESULTS / "fuzz_scenarios.json"))
    ap.add_argument("--keep", action="store_true", help="keep the generated files (in a temporary folder)")
    args = ap.parse_args(argv)

    presets = _presets()
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="govsim-fuzz-"))
    t0 = time.monotonic()
    jobs = [generate(i, rng, presets, work) for i in range(args.n)]
    print(f"generated {len(jobs):,} files in {work} ({time.monotonic() - t0:.1f} s); running on "
          f"{args.jobs} workers", file=sys.stderr)
    t1 = time.monotonic()
    results = run_all(jobs, args.jobs, args.timeout, args.memory_mib << 20)
    wall = time.monotonic() - t1

    repro = RESULTS / "fuzz_reproducers"
    shutil.rmtree(repro, ignore_errors=True)  # this run's reproducers only
    counts = Counter(r["outcome"] for r in results)
    by_family: dict[str, Counter[str]] = defaultdict(Counter)
    for r in results:
        by_family[r["family"]][r["outcome"]] += 1
    failures: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in results:
        if r["outcome"] in ("traceback", "hang", "memory", "crash", "unclear"):
            key = (f"{r['outcome']}: {r['type']}" + (f" at {r['where']}" if r.get("where") else "")
                   + ("" if r["outcome"] == "traceback" else f" ({r['family']})"))
            failures[key].append(r)
    classes = []
    for key, rs in sorted(failures.items(), key=lambda kv: -len(kv[1])):
        first = min(rs, key=lambda r: len(Path(r["path"]).read_bytes()) if Path(r["path"]).exists() else 0)
        label = first["type"] if first["outcome"] == "traceback" else first["family"]
        dest = repro / f"{len(classes):02d}_{first['outcome']}_{label}"
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(first["folder"], dest)
        classes.append({"class": key, "count": len(rs), "reproducer": str(dest.relative_to(ROOT) / Path(first["path"]).name),
                        "mutation": f"{first['preset']}: {first['what']}", "message": first.get("message", ""),
                        "examples": [f"{r['preset']}: {r['what']}" for r in rs[:8]]})

    print(f"\n{args.n:,} mutated scenario files, seed {args.seed}, {args.jobs} workers, {wall:.0f} s")
    print(f"{'outcome':<12}{'count':>8}{'share':>9}")
    for kind in ("ran", "clear", "unclear", "traceback", "hang", "memory", "crash"):
        print(f"{kind:<12}{counts.get(kind, 0):>8,}{counts.get(kind, 0) / max(1, args.n):>9.2%}")
    print("\nby family: " + "; ".join(f"{fam} {dict(c)}" for fam, c in sorted(by_family.items())))
    if classes:
        print("\nfailure classes (count, first reproducer, mutation):")
        for c in classes:
            print(f"  {c['count']:>5}  {c['class']}\n         {c['reproducer']}\n         {c['mutation'][:200]}"
                  f"\n         {c['message'][:200]}")
    report = {"n": args.n, "seed": args.seed, "jobs": args.jobs, "timeout_s": args.timeout, "wall_s": round(wall, 1),
              "counts": {k: counts.get(k, 0) for k in ("ran", "clear", "unclear", "traceback", "hang", "memory",
                                                         "crash")},
              "by_family": {f: dict(c) for f, c in by_family.items()}, "failure_classes": classes,
              "govsim": _version()}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"\nwrote {args.out}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def _version() -> str:
    try:
        sys.path.insert(0, str(Path(__file__).parent))
        from _common import code_version

        return code_version()
    except Exception:  # noqa: BLE001
        return "unknown"


if __name__ == "__main__":
    sys.exit(main())
