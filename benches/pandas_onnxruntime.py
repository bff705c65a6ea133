#!/usr/bin/env python3
"""The Python stack Mirador is measured against: pandas reads the CSV, onnxruntime scores it, pandas
writes label + p_<class> (or prediction) — the same output `mirador score --id-cols customer_id` writes.

    python3 benches/pandas_onnxruntime.py MODEL.onnx INPUT.csv OUTPUT.csv
"""

import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "sample-models"))
from make_samples import feeds  # noqa: E402  (the same column → input mapping as the goldens)


def main(model_path: str, input_path: str, output_path: str) -> None:
    model = onnx.load(model_path)
    options = ort.SessionOptions()  # onnxruntime uses all cores by default
    session = ort.InferenceSession(model_path, options, providers=["CPUExecutionProvider"])
    df = pd.read_csv(input_path)
    outputs = session.run(None, feeds(model, df))
    out = pd.DataFrame({"customer_id": df["customer_id"]})
    if len(outputs) == 2:
        out["label"] = np.asarray(outputs[0]).reshape(-1)
        probs = outputs[1]
        if isinstance(probs, list):  # ZipMap
            probs = pd.DataFrame(probs).to_numpy(np.float32)
        for j in range(probs.shape[1]):
            out[f"p_{j}"] = probs[:, j]
    else:
        out["prediction"] = outputs[0][:, 0]
    out.to_csv(output_path, index=False)


if __name__ == "__main__":
    main(*sys.argv[1:4])
