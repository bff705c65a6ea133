#!/usr/bin/env python3
"""Serving benchmark: `mirador serve` against the service people write by hand (FastAPI + uvicorn with
2 workers + Python onnxruntime, `benches/serve_fastapi.py`: the documented recipe with pydantic
models, and a tuned version that reads the JSON by hand), all answering the same V2 JSON for
`churn_v1`, driven by `wrk` in one run on this machine.

    python3 -m pip install -r sample-models/requirements.txt fastapi "uvicorn[standard]"
    sudo apt-get install wrk
    cargo build --release
    python3 benches/serve_bench.py                  # compare with benches/serve_baseline.json
    python3 benches/serve_bench.py --update-baseline

Scenarios: single-row requests at concurrency 1, 8 and 64, and 1,000-row requests at concurrency 8
(wrk -t1, --duration seconds each, after a warm-up). Records requests/s, p50, p99, the servers'
resident memory after the load (and peak), and the time from start to ready. Also `mirador score`'s
rows/s on a 1,000,000-row CSV of the same model, for the 1,000-row target.

Targets (issue 12): >= 10x FastAPI's requests/s (the recipe) on single rows at concurrency 8 and 64,
with a lower p99; rows/s on 1,000-row requests >= half of `mirador score`'s; ready in < 0.5 s; < 100 MiB RSS
serving the four sample models. Exits 1 when a target is missed or mirador's requests/s regress more
than 25 % against the committed baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "target" / "bench"
BASELINE = ROOT / "benches" / "serve_baseline.json"
MIRADOR = ROOT / "target" / "release" / "mirador"
MODELS = ["churn_v1", "churn_v2", "churn_numeric", "spend_regressor"]
REGRESSION = 1.25
SCENARIOS = [("1 row, c=1", 1, 1), ("1 row, c=8", 1, 8), ("1 row, c=64", 1, 64), ("1000 rows, c=8", 1000, 8)]

sys.path.insert(0, str(ROOT / "benches"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request_body(rows: int) -> str:
    """A V2 request for churn_v1 with the first `rows` rows of the current sample data (column form)."""
    import pandas as pd

    frame = pd.read_csv(ROOT / "sample-data" / "churn_current.csv", keep_default_na=False, na_values=[""]).fillna(0)
    frame = pd.concat([frame] * (1 + rows // len(frame))).iloc[:rows]
    types = {"tenure_months": "INT64", "monthly_charges": "FP32", "total_charges": "FP32", "senior_citizen": "INT64",
             "support_calls": "INT64", "contract": "BYTES", "internet_service": "BYTES", "payment_method": "BYTES",
             "paperless_billing": "BYTES"}
    inputs = []
    for name, datatype in types.items():
        values = frame[name].tolist()
        data = [str(v) for v in values] if datatype == "BYTES" else [int(v) if datatype == "INT64" else float(v) for v in values]
        inputs.append({"name": name, "datatype": datatype, "shape": [rows, 1], "data": data})
    return json.dumps({"inputs": inputs})


def wait_ready(url: str, proc: subprocess.Popen, limit: float = 60.0) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < limit:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited while starting ({proc.returncode})")
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return time.perf_counter() - start
        except OSError:
            time.sleep(0.002)
    raise SystemExit(f"{url} was not ready within {limit} s")


def tree_pids(pid: int) -> list[int]:
    """`pid` and every descendant (uvicorn's workers)."""
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True, check=True).stdout
    children: dict[int, list[int]] = {}
    for line in out.splitlines():
        p, pp = map(int, line.split())
        children.setdefault(pp, []).append(p)
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        todo.extend(children.get(p, []))
    return pids


def memory_mib(pid: int) -> tuple[float, float]:
    """(current RSS, peak RSS) summed over the process tree, MiB."""
    rss = hwm = 0
    for p in tree_pids(pid):
        try:
            status = Path(f"/proc/{p}/status").read_text()
        except OSError:
            continue
        rss += int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
        hwm += int(re.search(r"VmHWM:\s+(\d+)", status).group(1))
    return round(rss / 1024, 1), round(hwm / 1024, 1)


def wrk(url: str, body_file: Path, connections: int, duration: int, lua: Path | None = None) -> dict:
    """`wrk -t1` posting `body_file` (or running the `lua` script given) for `duration` seconds."""
    if lua is None:
        lua = WORK / "post.lua"
        lua.write_text(
            'wrk.method = "POST"\n'
            'wrk.headers["Content-Type"] = "application/json"\n'
            f'local f = io.open("{body_file}", "rb")\nwrk.body = f:read("*a")\nf:close()\n'
        )
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(lua), url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    def latency(q: str) -> float:
        m = re.search(rf"^\s+{q}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(m.group(1)), m.group(2)
        return round(value * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit], 3)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": round(float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), 1),
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        "non_2xx": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1) if socket_errors else "",
    }


def run_server(name: str, cmd: list[str], ready_url: str, infer_url: str, bodies: dict, duration: int, env=None) -> dict:
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    try:
        ready_s = wait_ready(ready_url, proc)
        idle_mib, _ = memory_mib(proc.pid)
        results = {}
        for label, rows, connections in SCENARIOS:
            wrk(infer_url, bodies[rows], connections, 2)  # warm-up
            results[label] = wrk(infer_url, bodies[rows], connections, duration)
            print(f"  {name:8} {label:15} {results[label]}", flush=True)
        rss, peak = memory_mib(proc.pid)
        return {"ready_s": round(ready_s, 3), "idle_rss_mib": idle_mib, "rss_mib": rss, "peak_rss_mib": peak, "scenarios": results}
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def score_rows_per_s(repeat: int) -> float:
    from score_bench import make_csv

    csv = make_csv(1_000_000)
    best = None
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([str(MIRADOR), "score", "--model", "sample-models/churn_v1.onnx", "--input", str(csv),
                        "--output", str(WORK / "serve_score.parquet")], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        took = time.perf_counter() - start
        best = took if best is None else min(best, took)
    return round(1_000_000 / best, 0)


def run(duration: int, repeat: int) -> dict:
    WORK.mkdir(parents=True, exist_ok=True)
    bodies = {}
    for rows in {r for _, r, _ in SCENARIOS}:
        bodies[rows] = WORK / f"v2_churn_v1_{rows}.json"
        bodies[rows].write_text(request_body(rows))
    port = free_port()
    models = [a for m in MODELS for a in ("--model", f"sample-models/{m}.onnx")]
    base = f"http://127.0.0.1:{port}"
    print("mirador serve (4 models):", flush=True)
    mirador = run_server("mirador", [str(MIRADOR), "serve", *models, "--port", str(port)], f"{base}/v2/health/ready",
                         f"{base}/v2/models/churn_v1/infer", bodies, duration)
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    fastapi = {}
    for style, app in [("recipe", "app"), ("tuned", "app_raw")]:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        print(f"FastAPI ({style}) + uvicorn (2 workers) + onnxruntime:", flush=True)
        fastapi[style] = run_server(f"fastapi-{style}", [sys.executable, "-m", "uvicorn", "--app-dir", "benches", f"serve_fastapi:{app}",
                                                          "--workers", "2", "--port", str(port), "--log-level", "warning", "--no-access-log"],
                                    f"{base}/v2/health/ready", f"{base}/v2/models/churn_v1/infer", bodies, duration, env)
    print("mirador score (1,000,000 rows):", flush=True)
    score = score_rows_per_s(repeat)
    return {"duration_s": duration, "mirador": mirador, "fastapi": fastapi, "score_rows_per_s": score}


def verdicts(r: dict, baseline: dict | None) -> list[str]:
    failures = []
    m, f = r["mirador"]["scenarios"], r["fastapi"]["recipe"]["scenarios"]
    for label in ["1 row, c=8", "1 row, c=64"]:
        if m[label]["rps"] < 10 * f[label]["rps"]:
            failures.append(f"{label}: {m[label]['rps']} rps is under 10x FastAPI's {f[label]['rps']}")
        if m[label]["p99_ms"] >= f[label]["p99_ms"]:
            failures.append(f"{label}: p99 {m[label]['p99_ms']} ms is not under FastAPI's {f[label]['p99_ms']} ms")
    rows_per_s = m["1000 rows, c=8"]["rps"] * 1000
    if rows_per_s < r["score_rows_per_s"] / 2:
        failures.append(f"1000-row requests: {rows_per_s:.0f} rows/s is under half of mirador score's {r['score_rows_per_s']:.0f}")
    if r["mirador"]["ready_s"] >= 0.5:
        failures.append(f"ready in {r['mirador']['ready_s']} s, not under 0.5 s")
    if r["mirador"]["peak_rss_mib"] >= 100:
        failures.append(f"peak RSS {r['mirador']['peak_rss_mib']} MiB serving four models, not under 100 MiB")
    for label, s in m.items():
        if s["non_2xx"] or s["socket_errors"]:
            failures.append(f"{label}: mirador answered {s['non_2xx']} non-2xx, socket errors {s['socket_errors']}")
        if baseline:
            was = baseline["mirador"]["scenarios"].get(label, {}).get("rps")
            if was and s["rps"] * REGRESSION < was:
                failures.append(f"{label}: {s['rps']} rps regressed from the baseline's {was}")
    return failures


def table(r: dict) -> str:
    m, f, t = r["mirador"], r["fastapi"]["recipe"], r["fastapi"]["tuned"]
    lines = ["| churn_v1, V2 JSON | mirador serve: rps, p50, p99 | FastAPI recipe: rps, p50, p99 | ×recipe | FastAPI tuned: rps, p50, p99 | ×tuned |",
             "|---|---:|---:|---:|---:|---:|"]
    cell = lambda s: f"{s['rps']:,.0f} / {s['p50_ms']} / {s['p99_ms']} ms"
    for label, _, _ in SCENARIOS:
        a, b, c = m["scenarios"][label], f["scenarios"][label], t["scenarios"][label]
        lines.append(f"| {label} | {cell(a)} | {cell(b)} | {a['rps'] / b['rps']:.1f}x | {cell(c)} | {a['rps'] / c['rps']:.1f}x |")
    lines.append("")
    lines.append(f"Ready: mirador {m['ready_s']} s (four models), FastAPI {f['ready_s']} s (one). "
                 f"RSS after the load: mirador {m['rss_mib']} MiB (peak {m['peak_rss_mib']} MiB, four models), "
                 f"FastAPI {f['rss_mib']} MiB (peak {f['peak_rss_mib']} MiB, two workers and their parent, one model). "
                 f"1000-row requests: {m['scenarios']['1000 rows, c=8']['rps'] * 1000:,.0f} rows/s served; "
                 f"mirador score: {r['score_rows_per_s']:,.0f} rows/s.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--repeat", type=int, default=3, help="mirador score runs (best taken)")
    parser.add_argument("--update-baseline", action="store_true")
    args = parser.parse_args()
    if not MIRADOR.exists():
        raise SystemExit("build first: cargo build --release")
    baseline = json.loads(BASELINE.read_text()) if BASELINE.exists() else None
    results = run(args.duration, args.repeat)
    print(table(results))
    failures = verdicts(results, baseline)
    if args.update_baseline:
        BASELINE.write_text(json.dumps(results, indent=2) + "\n")
        print(f"baseline written to {BASELINE}")
    for f in failures:
        print("MISSED:", f)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
