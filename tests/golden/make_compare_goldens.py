#!/usr/bin/env python3
"""Golden values for `mirador compare`: agreement, Cohen's kappa (scikit-learn) and McNemar's test
(statsmodels) between churn_v1 and churn_v2 on sample-data/churn_current.csv, from the Python
onnxruntime predictions in tests/golden. See requirements-analytics.txt for the environment.

    .venv-analytics/bin/python tests/golden/make_compare_goldens.py   # writes tests/golden/compare.json
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.contingency_tables import mcnemar

ROOT = Path(__file__).resolve().parents[2]


def main():
    truth = pd.read_csv(ROOT / "sample-data" / "churn_current.csv")["churned"].to_numpy()
    out = {}
    for label, rows in [("all_rows", slice(None)), ("first_60_rows", slice(0, 60))]:
        preds = {}
        for model in ["churn_v1", "churn_v2"]:
            p1 = pd.read_csv(ROOT / "tests" / "golden" / f"predictions_{model}.csv")["p_1"].to_numpy(np.float64)[rows]
            preds[model] = (p1 >= 0.5).astype(int)
        a, b, y = preds["churn_v1"], preds["churn_v2"], truth[rows]
        ra, rb = a == y, b == y
        table = [[int(np.sum(ra & rb)), int(np.sum(ra & ~rb))], [int(np.sum(~ra & rb)), int(np.sum(~ra & ~rb))]]
        discordant = table[0][1] + table[1][0]
        test = mcnemar(table, exact=discordant < 25, correction=True)
        out[label] = {"rows": int(len(y)), "agreement_rate": float(np.mean(a == b)), "flips": int(np.sum(a != b)),
                      "cohen_kappa": float(cohen_kappa_score(a, b)), "champion_only": table[0][1],
                      "challenger_only": table[1][0], "mcnemar_statistic": float(test.statistic),
                      "mcnemar_p_value": float(test.pvalue), "exact": bool(discordant < 25)}
    (ROOT / "tests" / "golden" / "compare.json").write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
