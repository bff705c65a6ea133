"""The service people write by hand, for `benches/serve_bench.py` to measure `mirador serve` against:
FastAPI + uvicorn + Python onnxruntime answering the same V2 JSON for `churn_v1`, in two styles.

    python3 -m uvicorn --app-dir benches serve_fastapi:app --workers 2 --port 8001       # the recipe
    python3 -m uvicorn --app-dir benches serve_fastapi:app_raw --workers 2 --port 8001   # tuned

`app` is the recipe of FastAPI's documentation and of the usual course material: the V2 request and
response as pydantic models (validated), one numpy array per input, the session run, the outputs
returned as lists. `app_raw` skips pydantic and reads the JSON by hand, the fastest Python version
we found. Both run one single-threaded ONNX Runtime session per worker process (two workers for the
two cores), the setting that served fastest on this machine.
"""

from pathlib import Path

import numpy as np
import onnxruntime as ort
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

MODEL = Path(__file__).resolve().parent.parent / "sample-models" / "churn_v1.onnx"
DTYPES = {"FP32": np.float32, "FP64": np.float64, "INT64": np.int64, "BYTES": object}

options = ort.SessionOptions()
options.intra_op_num_threads = 1
options.inter_op_num_threads = 1
session = ort.InferenceSession(str(MODEL), options, providers=["CPUExecutionProvider"])
app = FastAPI()
app_raw = FastAPI()


class InputTensor(BaseModel):
    name: str
    shape: list[int]
    datatype: str
    data: list


class InferRequest(BaseModel):
    id: str | None = None
    inputs: list[InputTensor]


class OutputTensor(BaseModel):
    name: str
    shape: list[int]
    datatype: str
    data: list


class InferResponse(BaseModel):
    model_name: str
    id: str | None = None
    outputs: list[OutputTensor]


@app.get("/v2/health/ready")
@app_raw.get("/v2/health/ready")
async def ready():
    return {"ready": True}


@app.post("/v2/models/churn_v1/infer", response_model=InferResponse)
async def infer(request: InferRequest) -> InferResponse:
    feeds = {t.name: np.array(t.data, dtype=DTYPES[t.datatype]).reshape(t.shape) for t in request.inputs}
    labels, probabilities = session.run(None, feeds)
    return InferResponse(
        model_name="churn_v1",
        id=request.id,
        outputs=[
            OutputTensor(name="label", datatype="INT64", shape=list(labels.shape), data=labels.tolist()),
            OutputTensor(name="probabilities", datatype="FP32", shape=list(probabilities.shape), data=probabilities.ravel().tolist()),
        ],
    )


@app_raw.post("/v2/models/churn_v1/infer")
async def infer_raw(request: Request):
    body = await request.json()
    feeds = {}
    for tensor in body["inputs"]:
        data = np.array(tensor["data"], dtype=DTYPES[tensor["datatype"]])
        feeds[tensor["name"]] = data.reshape(tensor["shape"])
    labels, probabilities = session.run(None, feeds)
    outputs = [
        {"name": "label", "datatype": "INT64", "shape": list(labels.shape), "data": labels.tolist()},
        {"name": "probabilities", "datatype": "FP32", "shape": list(probabilities.shape), "data": probabilities.ravel().tolist()},
    ]
    return JSONResponse({"model_name": "churn_v1", "outputs": outputs})
