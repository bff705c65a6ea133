"""Drive a running `mirador serve` with Triton's own Python client (tritonclient[http]) and write
the predictions as a CSV the Rust tests compare with Python onnxruntime's goldens.

    python3 tests/serve/triton_client.py --url 127.0.0.1:8080 --model churn_v2 \
        --data sample-data/churn_current.csv --mode binary --form tensor --out preds.csv

--mode json|binary: tensors as JSON (missing floats as bare NaN, as the client writes them) or in
  Triton's binary extension (the client's default), outputs likewise.
--form tensor|columns: the model's own inputs (packed ones as [N,k]) or one [N,1] input per data
  column (MLServer's pandas codec).
Rows go in requests of --rows rows. The model's inputs, their datatypes and the columns behind
each come from the server's model metadata, as any client would learn them.
"""

import argparse
import csv

import numpy as np
import pandas as pd
import tritonclient.http as httpclient

NUMPY = {"FP32": np.float32, "FP64": np.float64, "INT64": np.int64, "INT32": np.int32, "BOOL": np.bool_, "BYTES": np.object_}


def column_array(frame, column, datatype):
    values = frame[column]
    if datatype == "BYTES":
        return np.array([None if pd.isna(v) else str(v) for v in values], dtype=np.object_)
    return values.to_numpy(dtype=NUMPY[datatype])


def build_inputs(frame, metadata, form, binary):
    params = metadata.get("parameters", {})
    packed = params.get("input_columns", {})
    inputs = []
    for spec in metadata["inputs"]:
        name, datatype = spec["name"], spec["datatype"]
        columns = packed.get(name, [name])
        if form == "tensor":
            data = np.stack([column_array(frame, c, datatype) for c in columns], axis=1)
            tensors = [(name, data)]
        else:
            tensors = [(c, column_array(frame, c, datatype).reshape(-1, 1)) for c in columns]
        for tensor_name, data in tensors:
            tensor = httpclient.InferInput(tensor_name, list(data.shape), datatype)
            tensor.set_data_from_numpy(data, binary_data=binary)
            inputs.append(tensor)
    return inputs


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--mode", choices=["json", "binary"], default="binary")
    parser.add_argument("--form", choices=["tensor", "columns"], default="tensor")
    parser.add_argument("--rows", type=int, default=250)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    binary = args.mode == "binary"

    client = httpclient.InferenceServerClient(url=args.url)
    assert client.is_server_live() and client.is_server_ready() and client.is_model_ready(args.model)
    metadata = client.get_model_metadata(args.model)
    frame = pd.read_csv(args.data, keep_default_na=False, na_values=[""])
    classes = metadata.get("parameters", {}).get("classes")
    outputs = [httpclient.InferRequestedOutput(o["name"], binary_data=binary) for o in metadata["outputs"]]

    rows = []
    for start in range(0, len(frame), args.rows):
        chunk = frame.iloc[start : start + args.rows]
        inputs = build_inputs(chunk, metadata, args.form, binary)
        result = client.infer(args.model, inputs, outputs=outputs, request_id=f"chunk-{start}")
        assert result.get_response()["id"] == f"chunk-{start}", "the id is echoed"
        ids = chunk["customer_id"].tolist()
        if classes is not None:
            label_name, proba_name = metadata["outputs"][0]["name"], metadata["outputs"][1]["name"]
            labels = result.as_numpy(label_name)
            proba = result.as_numpy(proba_name)
            assert proba.shape == (len(chunk), len(classes)), proba.shape
            for i, cid in enumerate(ids):
                label = labels[i].decode() if isinstance(labels[i], bytes) else labels[i]
                rows.append([cid, label] + [repr(float(p)) for p in proba[i]])
        else:
            values = result.as_numpy(metadata["outputs"][0]["name"]).reshape(len(chunk), -1)
            for i, cid in enumerate(ids):
                rows.append([cid] + [repr(float(v)) for v in values[i]])

    with open(args.out, "w", newline="") as f:
        writer = csv.writer(f)
        if classes is not None:
            writer.writerow(["customer_id", "label"] + [f"p_{c}" for c in classes])
        else:
            writer.writerow(["customer_id", "prediction"])
        writer.writerows(rows)


if __name__ == "__main__":
    main()
