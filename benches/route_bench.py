#!/usr/bin/env python3
"""Routing benchmark: what a rollout costs a request. `mirador serve` answering churn_v1 plainly (the
anchor) and through a route — a sticky canary at 50 % (each request a random one of a million
customers), blue/green, and a shadow copying every request — measured side by side in one run with
`wrk` on single-row requests at concurrency 8, the four servers taking turns over five rounds (the
median round counts), so the machine's slow spells fall on all alike. The challenger is churn_v1
again, so every arm does the same work.

    cargo build --release
    sudo apt-get install wrk
    python3 benches/route_bench.py                  # compare with benches/route_baseline.json
    python3 benches/route_bench.py --update-baseline

Targets (issue 13): a canary or blue/green route keeps >= 75 % of the plain server's requests/s
(a canary row is also scored by the champion for the agreement, so some cost is expected); a
shadow, which doubles the inference, keeps >= 50 %; no non-2xx answer. Also the plain server with
live drift on (issue 14: `--reference`, a 1,000-row window measured every 2 s): >= 75 %; and the
plain server without the memory of answers that late labels join (`--feedback-rows 0`), to show
what remembering them costs. Exits 1 when a target is
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
    "plain, no feedback memory": ["--model", f"churn={V1}", "--feedback-rows", "0"],
    "canary 50 % sticky": ["--route", "churn", "--champion", V1, "--challenger", V1, "--strategy", "canary:50@1h"],
    "blue-green": ["--route", "churn", "--champion", V1, "--challenger", V1, "--strategy", "blue-green"],
    "shadow 100 %": ["--route", "churn", "--champion", V1, "--challenger", V1, "--strategy", "shadow@1h"],
    "plain + live drift": ["--model", f"churn={V1}", "--reference", "sample-data/churn_reference.csv"],
}
TARGETS = {"canary 50 % sticky": 0.75, "blue-green": 0.75, "shadow 100 %": 0.50, "plain + live drift": 0.75}


def keyed_body() -> str:
    """One row with a request key (KEYKEY, replaced by a random customer per request), so the canary
    splits by sticky bucket."""
    body = json.loads(request_body(1))
    body["parameters"] = {"key": "cust-KEYKEY"}
    return json.dumps(body)


def wrk_keyed(url: str, body_file: Path, connections: int, duration: int) -> dict:
    """`wrk` as in serve_bench, each request for a random one of a million customers."""
    lua = WORK / "post_keyed.lua"
    lua.write_text(
        'local f = io.open("' + str(body_file) + '", "rb")\nlocal body = f:read("*a")\nf:close()\n'
        'local headers = {["Content-Type"] = "application/json"}\n'
        'request = function()\n'
        '  local b = body:gsub("KEYKEY", tostring(math.random(1, 1000000)))\n'
        '  return wrk.format("POST", nil, headers, b)\n'
        'end\n'
    )
    return wrk(url, body_file, connections, duration, lua)


def run(mirador: Path, duration: int, rounds: int) -> dict:
    """All four servers up at once (idle ones cost nothing); `rounds` rounds of `duration` seconds,
    the setups taking turns, so the machine's slow spells fall on all of them alike; the median
    round per setup."""
    WORK.mkdir(parents=True, exist_ok=True)
    body = WORK / "route_1.json"
    body.write_text(keyed_body())
    procs, urls = {}, {}
    try:
        for name, args in SETUPS.items():
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            cmd = [str(mirador), "serve", *args, "--port", str(port)]
            procs[name] = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wait_ready(f"{base}/v2/health/ready", procs[name])
            urls[name] = f"{base}/v2/models/churn/infer"
            wrk_keyed(urls[name], body, 8, 2)  # warm-up
        runs: dict[str, list[dict]] = {name: [] for name in SETUPS}
        for i in range(rounds):
            for name in SETUPS:
                r = wrk_keyed(urls[name], body, 8, duration)
                runs[name].append(r)
                print(f"  round {i + 1} {name:20} {r}", flush=True)
        results = {}
        for name, rs in runs.items():
            r = dict(sorted(rs, key=lambda x: x["rps"])[len(rs) // 2])
            r["rps_rounds"] = [x["rps"] for x in rs]
            r["non_2xx"] = sum(x["non_2xx"] for x in rs)
            r["rss_mib"], r["peak_rss_mib"] = memory_mib(procs[name].pid)
            results[name] = r
    finally:
        for proc in procs.values():
            proc.send_signal(signal.SIGTERM)
        for proc in procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
    plain = results["plain"]["rps"]
    for name in TARGETS:
        results[name]["share_of_plain"] = round(results[name]["rps"] / plain, 3)
    return {"duration_s": duration, "rounds": rounds, "setups": results}


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
    p.add_argument("--duration", type=int, default=5)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--mirador", type=Path, default=ROOT / "target" / "release" / "mirador")
    p.add_argument("--update-baseline", action="store_true")
    a = p.parse_args()
    baseline = json.loads(BASELINE.read_text()) if BASELINE.exists() else None
    r = run(a.mirador, a.duration, a.rounds)
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
