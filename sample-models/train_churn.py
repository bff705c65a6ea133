"""Train the churn model on a labelled CSV and write it as ONNX: the training command `mirador
retrain` runs (it fills {data} and {output}).

    python3 sample-models/train_churn.py --data sample-data/churn_production_log.csv --out model.onnx

The model is the same pipeline as the sample churn_v1 (imputation, scaling, one-hot encoding,
logistic regression; per-column inputs), so its contract matches the registered versions.
Needs sample-models/requirements.txt.
"""

import argparse
import sys
from pathlib import Path

import onnx
import pandas as pd
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_samples import FEATURES, TARGET, train_churn  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="labelled training data (CSV)")
    parser.add_argument("--out", required=True, help="where to write the model (.onnx)")
    parser.add_argument("--model", choices=["logistic", "boosting"], default="logistic")
    args = parser.parse_args()
    df = pd.read_csv(args.data).dropna(subset=[TARGET])
    print(f"training on {len(df)} rows of {args.data} ({', '.join(FEATURES)} -> {TARGET})", flush=True)
    classifier = (
        LogisticRegression(max_iter=1000)
        if args.model == "logistic"
        else GradientBoostingClassifier(n_estimators=120, max_depth=3, random_state=7)
    )
    model = train_churn(df, classifier, "churn", zipmap=False, version=1)
    onnx.save(model, args.out)
    print(f"wrote {args.out}", flush=True)


main()
