#!/usr/bin/env python3
"""Golden values for Mirador's metrics, computed by scikit-learn (pinned in
sample-models/requirements.txt). Each case stores its inputs and scikit-learn's answers, so the Rust
tests (tests/metrics_golden.rs) feed the same arrays and compare.

    python3 tests/golden/make_metric_goldens.py      # writes tests/golden/metrics.json
"""

import json
import warnings
import math
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn import metrics as m
from sklearn.calibration import calibration_curve

ROOT = Path(__file__).resolve().parents[2]


def undefined(f):
    """scikit-learn raises or returns NaN where a metric is undefined; Mirador returns null."""
    try:
        v = float(f())
        return None if math.isnan(v) else v
    except ValueError:
        return None


def classification_case(name, y_true, proba, classes, positive, threshold=0.5):
    y_true = np.asarray(y_true)
    proba = np.asarray(proba, dtype=np.float64)
    k = len(classes)
    labels = list(range(k))
    if k == 2:
        y_pred = np.where(proba[:, positive] >= threshold, positive, 1 - positive)
    else:
        y_pred = proba.argmax(axis=1)
    score = proba[:, positive]
    expected = {
        "accuracy": m.accuracy_score(y_true, y_pred),
        "balanced_accuracy": m.balanced_accuracy_score(y_true, y_pred),
        "precision_macro": m.precision_score(y_true, y_pred, average="macro", zero_division=0),
        "recall_macro": m.recall_score(y_true, y_pred, average="macro", zero_division=0),
        "f1_macro": m.f1_score(y_true, y_pred, average="macro", zero_division=0),
        "precision_weighted": m.precision_score(y_true, y_pred, average="weighted", zero_division=0),
        "recall_weighted": m.recall_score(y_true, y_pred, average="weighted", zero_division=0),
        "f1_weighted": m.f1_score(y_true, y_pred, average="weighted", zero_division=0),
        "log_loss": m.log_loss(y_true, proba, labels=labels),
    }
    case = {"name": name, "classes": classes, "positive": positive, "threshold": threshold,
            "y_true": y_true.tolist(), "proba": proba.reshape(-1).tolist()}
    if k == 2:
        pos_true = (y_true == positive).astype(int)
        expected.update({
            "precision": m.precision_score(y_true, y_pred, pos_label=positive, zero_division=0),
            "recall": m.recall_score(y_true, y_pred, pos_label=positive, zero_division=0),
            "f1": m.f1_score(y_true, y_pred, pos_label=positive, zero_division=0),
            "roc_auc": undefined(lambda: m.roc_auc_score(pos_true, score)),
            "average_precision": undefined(lambda: m.average_precision_score(pos_true, score)),
            "brier": m.brier_score_loss(pos_true, score),
        })
        if 0 < pos_true.sum() < len(pos_true):
            fpr, tpr, thr = m.roc_curve(pos_true, score)
            prec, rec, pthr = m.precision_recall_curve(pos_true, score)
            prob_true, prob_pred = calibration_curve(pos_true, score, n_bins=10)
            case["curves"] = {"roc_fpr": fpr.tolist(), "roc_tpr": tpr.tolist(), "roc_thresholds": thr[1:].tolist(),
                              "pr_precision": prec.tolist(), "pr_recall": rec.tolist(), "pr_thresholds": pthr.tolist(),
                              "calibration_true": prob_true.tolist(), "calibration_pred": prob_pred.tolist()}
    else:
        expected.update({
            "precision": expected["precision_macro"], "recall": expected["recall_macro"], "f1": expected["f1_macro"],
            "roc_auc": undefined(lambda: m.roc_auc_score(y_true, proba, multi_class="ovr", average="macro", labels=labels)
                                 if len(np.unique(y_true)) == k else float("nan")),
            "brier": m.brier_score_loss(y_true, proba, labels=labels),
        })
    case["confusion_matrix"] = m.confusion_matrix(y_true, y_pred, labels=labels).tolist()
    case["expected"] = {k2: (None if v is None else float(v)) for k2, v in expected.items()}
    return case


def regression_case(name, y, pred):
    y, pred = np.asarray(y, dtype=np.float64), np.asarray(pred, dtype=np.float64)
    return {"name": name, "y": y.tolist(), "pred": pred.tolist(), "expected": {
        "mae": m.mean_absolute_error(y, pred), "mse": m.mean_squared_error(y, pred),
        "rmse": m.root_mean_squared_error(y, pred), "r2": m.r2_score(y, pred),
        "mape": m.mean_absolute_percentage_error(y, pred), "max_error": m.max_error(y, pred)}}


def main():
    warnings.simplefilter("ignore")  # scikit-learn warns on the edge cases, which is the point
    current = pd.read_csv(ROOT / "sample-data" / "churn_current.csv")
    cases = []
    for model in ["churn_v1", "churn_v2", "churn_numeric"]:
        pred = pd.read_csv(ROOT / "tests" / "golden" / f"predictions_{model}.csv")
        proba = pred[["p_0", "p_1"]].to_numpy(np.float64)
        cases.append(classification_case(f"{model}_current", current["churned"], proba, ["0", "1"], 1))
        if model == "churn_v1":
            cases.append(classification_case(f"{model}_current_t0.3", current["churned"], proba, ["0", "1"], 1, 0.3))
    base = pd.read_csv(ROOT / "tests" / "golden" / "predictions_churn_v1.csv")[["p_0", "p_1"]].to_numpy(np.float64)
    negatives = (current["churned"] == 0).to_numpy()
    cases.append(classification_case("one_class_only", current["churned"][negatives], base[negatives], ["0", "1"], 1))
    cases.append(classification_case("all_equal_scores", current["churned"], np.full((len(current), 2), 0.5), ["0", "1"], 1))
    cases.append(classification_case("positive_class_0", current["churned"], base, ["0", "1"], 0))
    rng = np.random.default_rng(3)
    y3 = rng.integers(0, 3, 500)
    p3 = rng.dirichlet([1.0, 1.0, 1.0], 500) * 0.75 + np.eye(3)[y3] * 0.25
    cases.append(classification_case("multiclass", y3, p3, ["a", "b", "c"], 0))
    y3b = np.where(y3 == 2, 1, y3)  # class "c" absent: ROC AUC undefined
    cases.append(classification_case("multiclass_absent_class", y3b, p3, ["a", "b", "c"], 0))

    spend = pd.read_csv(ROOT / "tests" / "golden" / "predictions_spend_regressor.csv")["prediction"]
    regressions = [
        regression_case("spend_current", current["next_month_spend"], spend),
        regression_case("constant_target", np.full(50, 3.0), np.linspace(2, 4, 50)),
        regression_case("constant_target_perfect", np.full(10, 3.0), np.full(10, 3.0)),
        regression_case("zeros_in_target", np.array([0.0, 1.0, -2.0, 0.0]), np.array([0.5, 1.0, -1.0, 0.0])),
    ]
    out = {"classification": cases, "regression": regressions}
    (ROOT / "tests" / "golden" / "metrics.json").write_text(json.dumps(out) + "\n")
    print(f"wrote {len(cases)} classification and {len(regressions)} regression cases")


if __name__ == "__main__":
    main()
