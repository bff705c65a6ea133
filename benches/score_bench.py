#!/usr/bin/env python3
"""Scoring benchmark: `mirador score` on a 1,000,000-row churn CSV against pandas + onnxruntime and
against the floors (parse alone, inference alone, write alone), plus peak memory versus file size.

    python3 -m pip install -r sample-models/requirements.txt
    cargo build --release && cargo bench --no-run --bench floors
    python3 benches/score_bench.py                 # compare with benches/baseline.json
    python3 benches/score_bench.py --update-baseline

Targets (issue 2): end to end >= 3x faster than pandas+onnxruntime for churn_v1, and no slower than
parse + inference + write floors for every sample model; peak RSS flat as the file grows. Exits 1
when a target is missed or a time regresses more than 25 % against the committed baseline.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "target" / "bench"
BASELINE = ROOT / "benches" / "baseline.json"
MIRADOR = ROOT / "target" / "release" / "mirador"
MODELS = ["churn_v1", "churn_v2", "churn_numeric", "spend_regressor"]
REGRESSION = 1.25

sys.path.insert(0, str(ROOT / "sample-models"))


def make_csv(rows: int) -> Path:
    path = WORK / f"churn_{rows}.csv"
    if not path.exists():
        import numpy as np
        from make_samples import make_customers

        WORK.mkdir(parents=True, exist_ok=True)
        df = make_customers(np.random.default_rng(7), rows, 1, 0.5)
        df.to_csv(path, index=False, lineterminator="\n", float_format="%.2f")
    return path


def timed(cmd: list[str]) -> float:
    """Wall seconds of one run."""
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def peak_rss_kib(cmd: list[str]) -> int:
    """Peak RSS of one command, via GNU time (each call is a fresh measurement)."""
    out = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], check=True, capture_output=True, text=True)
    return int(out.stderr.strip().splitlines()[-1])


def floors_binary() -> Path:
    found = sorted((ROOT / "target" / "release" / "deps").glob("floors-*"), key=lambda p: p.stat().st_mtime)
    found = [p for p in found if p.suffix == "" and p.is_file()]
    if not found:
        sys.exit("build the floors first: cargo bench --no-run --bench floors")
    return found[-1]


def best_of(n: int, cmd: list[str]) -> float:
    return min(timed(cmd) for _ in range(n))


def run(rows: int, repeat: int) -> dict:
    csv = make_csv(rows)
    out = WORK / "out.csv"
    results: dict = {"rows": rows, "models": {}}
    floors = floors_binary()
    for model in MODELS:
        onnx = ROOT / "sample-models" / f"{model}.onnx"
        # mirador and the floors take turns, so a slow spell of this (shared) machine falls on both.
        score_cmd = [str(MIRADOR), "score", "--model", str(onnx), "--input", str(csv), "--output", str(out), "--id-cols", "customer_id"]
        mirador_runs, floor_runs = [], []
        for _ in range(repeat):
            mirador_runs.append(timed(score_cmd))
            floor_runs.append(json.loads(subprocess.run([str(floors), str(csv), str(onnx)], check=True, capture_output=True, text=True).stdout))
        mirador = min(mirador_runs)
        floor = {key: min(r[key] for r in floor_runs) for key in floor_runs[0]}
        pandas = best_of(1, [sys.executable, str(ROOT / "benches" / "pandas_onnxruntime.py"), str(onnx), str(csv), str(out)])
        results["models"][model] = {
            "mirador_s": round(mirador, 3),
            "pandas_onnxruntime_s": round(pandas, 3),
            "parse_floor_s": floor["parse_s"],
            "inference_floor_s": floor["inference_s"],
            "write_floor_s": floor["write_s"],
        }
        print(f"{model}: mirador {mirador:.2f}s, pandas+onnxruntime {pandas:.2f}s, floors {floor}", file=sys.stderr)
    # Memory: the same batch size on files 10x and 100x larger than it.
    batch = 10_000
    onnx = ROOT / "sample-models" / "churn_v1.onnx"
    results["peak_rss_mib"] = {}
    for n in (10 * batch, 100 * batch):
        src = make_csv(n)
        kib = peak_rss_kib([str(MIRADOR), "score", "--model", str(onnx), "--input", str(src), "--output", str(out), "--batch-size", str(batch)])
        results["peak_rss_mib"][f"{n}_rows_batch_{batch}"] = round(kib / 1024, 1)
    return results


def verdicts(results: dict, baseline: dict | None) -> list[str]:
    failures = []
    for model, r in results["models"].items():
        floor_sum = r["parse_floor_s"] + r["inference_floor_s"] + r["write_floor_s"]
        if r["mirador_s"] > floor_sum:
            failures.append(f"{model}: end to end {r['mirador_s']}s is slower than the floors' sum {floor_sum:.3f}s")
        if model == "churn_v1" and r["pandas_onnxruntime_s"] / r["mirador_s"] < 3:
            failures.append(f"churn_v1: only {r['pandas_onnxruntime_s'] / r['mirador_s']:.1f}x faster than pandas+onnxruntime")
        if baseline and model in baseline.get("models", {}):
            was = baseline["models"][model]["mirador_s"]
            if r["mirador_s"] > was * REGRESSION:
                failures.append(f"{model}: {r['mirador_s']}s regressed from the baseline's {was}s")
    rss = list(results["peak_rss_mib"].values())
    if max(rss) > 1.5 * min(rss):
        failures.append(f"peak memory grows with the file: {results['peak_rss_mib']}")
    return failures


def table(results: dict) -> str:
    lines = [
        f"| model ({results['rows']:,} rows) | mirador score | pandas + onnxruntime | speed-up | parse floor | inference floor | write floor | sum of floors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for model, r in results["models"].items():
        s = r["parse_floor_s"] + r["inference_floor_s"] + r["write_floor_s"]
        lines.append(
            f"| {model} | {r['mirador_s']:.2f} s | {r['pandas_onnxruntime_s']:.2f} s | {r['pandas_onnxruntime_s'] / r['mirador_s']:.1f}x "
            f"| {r['parse_floor_s']:.2f} s | {r['inference_floor_s']:.2f} s | {r['write_floor_s']:.2f} s | {s:.2f} s |"
        )
    mem = ", ".join(f"{k.replace('_', ' ')}: {v} MiB" for k, v in results["peak_rss_mib"].items())
    lines.append(f"\nPeak RSS of `mirador score` (churn_v1): {mem}.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--update-baseline", action="store_true")
    args = parser.parse_args()
    if not MIRADOR.exists():
        sys.exit("build first: cargo build --release")
    results = run(args.rows, args.repeat)
    (WORK / "results.json").write_text(json.dumps(results, indent=2))
    baseline = json.loads(BASELINE.read_text()) if BASELINE.exists() else None
    print(table(results))
    failures = verdicts(results, baseline)
    if args.update_baseline:
        BASELINE.write_text(json.dumps(results, indent=2) + "\n")
        print(f"baseline written to {BASELINE}")
    for f in failures:
        print(f"MISSED: {f}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
