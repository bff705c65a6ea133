#!/usr/bin/env python3
"""Routing benchmark: what a rollout costs a request. `mirador serve` answering churn_v1 plainly (the
anchor) and through a route — a sticky canary at 50 % (keyed per request), blue/green, and a shadow
copying every request — measured side by side in one run with `wrk` on single-row requests at
concurrency 8 (the challenger is churn_v1 again, so every arm does the same work).

    cargo build --release
    sudo apt-get install wrk
    python3 benches/route_bench.py                  # compare with benches/route_baseline.json
    python3 benches/route_bench.py --update-baseline

Targets (issue 13): a canary or blue/green route keeps >= 75 % of the plain server's requests/s
(a canary row is also scored by the champion for the agreement, so some cost is expected); a
shadow, which doubles the inference, keeps >= 50 %; no non-2xx answer. Exits 1 when a target is
missed or a route's share of the plain requests/s falls more than 15 points below the baseline's.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benches"))

from serve_bench import WORK, free_port, memory_mib, request_body, wait_ready, wrk  # noqa: E402

BASELINE = ROOT / "benches" / "route_baseline.json"
V1 = "sample-models/churn_v1.onnx"
SETUPS = {
    "plain": ["--model", f"churn={V1}"],
    "canary 50 % sticky": ["--route", "churn", "--champion", V1, "--challenger", V1, "--strategy", "canary:50@1h"],
    "blue-green": ["--route", "churn", "--champion", V1, "--challenger", V1, "--strategy", "blue-green"],
    "shadow 100 %": ["--route", "churn", "--champion", V1, "--challenger", V1, "--strategy", "shadow@1h"],
}
TARGETS = {"canary 50 % sticky": 0.75, "blue-green": 0.75, "shadow 100 %": 0.50}


def keyed_body() -> str:
    """One row with a request key, so the canary splits by sticky bucket."""
    body = json.loads(request_body(1))
    body["parameters"] = {"key": "cust-17"}
    return json.dumps(body)


def run(mirador: Path, duration: int) -> dict:
    WORK.mkdir(parents=True, exist_ok=True)
    body = WORK / "route_1.json"
    body.write_text(keyed_body())
    results = {}
    for name, args in SETUPS.items():
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        cmd = [str(mirador), "serve", *args, "--port", str(port)]
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_ready(f"{base}/v2/health/ready", proc)
            url = f"{base}/v2/models/churn/infer"
            wrk(url, body, 8, 2)  # warm-up
            r = wrk(url, body, 8, duration)
            r["rss_mib"], r["peak_rss_mib"] = memory_mib(proc.pid)
            results[name] = r
            print(f"  {name:20} {r}", flush=True)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
    plain = results["plain"]["rps"]
    for name in TARGETS:
        results[name]["share_of_plain"] = round(results[name]["rps"] / plain, 3)
    return {"duration_s": duration, "setups": results}


def verdicts(r: dict, baseline: dict | None) -> list[str]:
    failures = []
    for name, setup in r["setups"].items():
        if setup["non_2xx"]:
            failures.append(f"{name}: {setup['non_2xx']} non-2xx answers")
    for name, floor in TARGETS.items():
        share = r["setups"][name]["share_of_plain"]
        if share < floor:
            failures.append(f"{name}: {share:.0%} of the plain server's requests/s (target >= {floor:.0%})")
        if baseline and name in baseline["setups"]:
            was = baseline["setups"][name]["share_of_plain"]
            if share < was - 0.15:
                failures.append(f"{name}: {share:.0%} of plain, was {was:.0%} in the baseline")
    return failures


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--duration", type=int, default=10)
    p.add_argument("--mirador", type=Path, default=ROOT / "target" / "release" / "mirador")
    p.add_argument("--update-baseline", action="store_true")
    a = p.parse_args()
    baseline = json.loads(BASELINE.read_text()) if BASELINE.exists() else None
    r = run(a.mirador, a.duration)
    print(json.dumps(r, indent=2))
    failures = verdicts(r, None if a.update_baseline else baseline)
    if a.update_baseline:
        BASELINE.write_text(json.dumps(r, indent=2) + "\n")
        print(f"baseline written to {BASELINE}")
    for f in failures:
        print(f"MISSED: {f}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
