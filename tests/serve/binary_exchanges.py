"""Record inference exchanges with a running `mirador serve` in Triton's binary tensor extension —
the bodies Triton's Python client makes by default — as KServe's payload logger would keep them:
the raw request and response bytes, with no header giving the JSON part's length.

usage: binary_exchanges.py HOST:PORT MODEL DATA.csv REQUESTS OUT.json

Request k carries rows k*(k+1)/2 … (k+1 rows each, V2 id "b<k>"), every input and every output
as binary data. OUT.json is a list of {"id", "request", "response"} with both bodies in base64.
"""

import base64
import json
import sys
import urllib.request
from pathlib import Path

import pandas as pd
import tritonclient.http as httpclient

sys.path.insert(0, str(Path(__file__).resolve().parent))
from triton_client import build_inputs  # noqa: E402


def main():
    url, model, data, count, out = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
    client = httpclient.InferenceServerClient(url=url)
    metadata = client.get_model_metadata(model)
    frame = pd.read_csv(data)
    outputs = [httpclient.InferRequestedOutput(o["name"], binary_data=True) for o in metadata["outputs"]]
    exchanges, start = [], 0
    for k in range(count):
        chunk = frame.iloc[start : start + k + 1]
        start += k + 1
        inputs = build_inputs(chunk, metadata, "tensor", True)
        body, json_size = httpclient.InferenceServerClient.generate_request_body(
            inputs, outputs=outputs, request_id=f"b{k}"
        )
        headers = {"Content-Type": "application/octet-stream"}
        if json_size is not None:
            headers["Inference-Header-Content-Length"] = str(json_size)
        request = urllib.request.Request(
            f"http://{url}/v2/models/{model}/infer", data=body, headers=headers, method="POST"
        )
        with urllib.request.urlopen(request, timeout=30) as reply:
            response = reply.read()
            assert reply.headers.get("Inference-Header-Content-Length"), "the outputs came back binary"
        exchanges.append(
            {
                "id": f"ce-b{k}",
                "request": base64.b64encode(body).decode(),
                "response": base64.b64encode(response).decode(),
            }
        )
    with open(out, "w") as f:
        json.dump(exchanges, f)


if __name__ == "__main__":
    main()
