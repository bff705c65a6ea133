#!/usr/bin/env python3
"""Golden values for Mirador's drift engine from Evidently 0.7 (DataDriftPreset, default settings)
and scipy, on the sample data and on edge cases. Inputs are stored with the answers so the Rust tests
(tests/drift_golden.rs) feed the same data. See requirements-analytics.txt for the environment.

    .venv-analytics/bin/python tests/golden/make_drift_goldens.py     # writes tests/golden/drift.json
"""

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from evidently import Dataset, Report
from evidently.legacy.calculations.stattests import (
    hellinger_stat_test, jensenshannon_stat_test, psi_stat_test, wasserstein_stat_test)
from evidently.legacy.core import ColumnType
from evidently.presets import DataDriftPreset
from scipy import stats

ROOT = Path(__file__).resolve().parents[2]
METHODS = {"K-S p_value": "ks", "chi-square p_value": "chisquare", "Z-test p_value": "z",
           "Wasserstein distance (normed)": "wasserstein", "Jensen-Shannon distance": "jensenshannon"}


def preset(name, reference, current):
    snapshot = Report([DataDriftPreset()]).run(Dataset.from_pandas(current), Dataset.from_pandas(reference))
    columns, share = {}, None
    for metric in snapshot.dict()["metrics"]:
        found = re.match(r"ValueDrift\(column=(.+),method=(.+),threshold=(.+)\)", metric["metric_name"])
        if found:
            col, method, threshold = found.groups()
            score = float(metric["value"])
            test = METHODS[method]
            t = float(threshold)
            drift = score <= t if test == "ks" else (score < t if test in ("chisquare", "z") else score >= t)
            columns[col] = {"test": test, "score": score, "threshold": t, "drift": bool(drift)}
        elif metric["metric_name"].startswith("DriftedColumnsCount"):
            share = metric["value"]["share"]
    return {"name": name, "reference_csv": reference.to_csv(index=False), "current_csv": current.to_csv(index=False),
            "columns": columns, "share_drifted": share}


def numeric_stats(reference, current, column):
    r, c = reference[column].dropna(), current[column].dropna()
    ks = stats.ks_2samp(r, c)
    num = ColumnType.Numerical
    return {"column": column,
            "ks_statistic": float(ks.statistic), "ks_p_value": float(ks.pvalue),
            "wasserstein_normed": float(wasserstein_stat_test.func(r, c, num, 0.1)[0]),
            "jensenshannon": float(jensenshannon_stat_test.func(r, c, num, 0.1)[0]),
            "psi": float(psi_stat_test.func(r, c, num, 0.1)[0]),
            "hellinger": float(hellinger_stat_test.func(r.copy(), c.copy(), num, 0.1)[0])}


def main():
    warnings.simplefilter("ignore")
    ref = pd.read_csv(ROOT / "sample-data" / "churn_reference.csv").drop(columns=["customer_id"])
    cur = pd.read_csv(ROOT / "sample-data" / "churn_current.csv").drop(columns=["customer_id"])
    cases = [preset("reference_vs_current", ref, cur)]
    cases.append(preset("small_reference", ref.head(800), cur.head(2500)))
    rng = np.random.default_rng(11)
    edge_ref = pd.DataFrame({"constant": np.full(600, 7.5), "mostly_missing": [np.nan] * 590 + list(rng.normal(size=10)),
                             "city": rng.choice(["Lima", "Quito", "Bogotá"], 600), "flag": rng.choice(["y", "n"], 600),
                             "amount": rng.gamma(2.0, 10.0, 600)})
    edge_cur = pd.DataFrame({"constant": np.full(400, 7.5), "mostly_missing": [np.nan] * 380 + list(rng.normal(size=20)),
                             "city": rng.choice(["Lima", "Quito", "Bogotá", "Cali"], 400), "flag": rng.choice(["y", "n"], 400, p=[0.7, 0.3]),
                             "amount": rng.gamma(2.2, 10.0, 400)})
    cases.append(preset("edge_cases", edge_ref, edge_cur))
    statistics = [numeric_stats(ref, cur, c) for c in ["tenure_months", "monthly_charges", "total_charges", "next_month_spend"]]
    statistics.append(numeric_stats(ref.head(700), cur.head(700), "monthly_charges"))  # equal sizes: the other exact KS path
    # scipy's finite-n two-sided KS distribution, across its branches (used by ks_2samp past 10,000 rows).
    kstwo = []
    for n in [20, 100, 140, 141, 1000, 5000, 47619, 150000]:
        for z in [0.3, 0.6, 0.9, 1.2, 1.36, 1.6, 2.0, 3.0, 5.0]:
            d = min(z / np.sqrt(n), 0.99)
            kstwo.append({"n": n, "d": float(d), "sf": float(stats.kstwo.sf(d, n))})
        for d in [0.6, 0.8, 0.5 / n + 1e-9, 0.8 / n, (n - 0.5) / n]:
            if 0 < d < 1:
                kstwo.append({"n": n, "d": float(d), "sf": float(stats.kstwo.sf(d, n))})
    big = []
    rng2 = np.random.default_rng(5)
    for n1, n2, shift in [(12000, 11000, 0.03), (800, 20000, 0.08), (120, 15000, 0.2)]:
        a = np.round(rng2.normal(0, 1, n1), 4)
        b = np.round(rng2.normal(shift, 1, n2), 4)
        res = stats.ks_2samp(a, b)
        big.append({"a": a.tolist(), "b": b.tolist(), "statistic": float(res.statistic), "p_value": float(res.pvalue)})
    out = {"presets": cases, "statistics": statistics, "kstwo": kstwo, "ks_large": big}
    (ROOT / "tests" / "golden" / "drift.json").write_text(json.dumps(out) + "\n")
    for c in cases:
        print(c["name"], c["share_drifted"], {k: (v["test"], round(v["score"], 5), v["drift"]) for k, v in c["columns"].items()})


if __name__ == "__main__":
    main()
