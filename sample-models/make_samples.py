#!/usr/bin/env python3
"""Regenerate Mirador's sample data, sample ONNX models and the prediction goldens used by the tests.

Everything is deterministic (fixed seeds, fixed dates), so running this twice gives the same files:

    python3 -m pip install -r sample-models/requirements.txt
    python3 sample-models/make_samples.py

Outputs
  sample-data/churn_reference.csv     5,000 labelled customers (training-like)
  sample-data/churn_reference_missing.csv  the same with empty fields in its first rows
  sample-data/churn_current.csv       3,000 customers with drift in a few known features and a
                                      shifted label relationship
  sample-data/churn_current.parquet   the same rows as Parquet
  sample-data/churn_production_log.csv  8 weeks of timestamped scoring traffic in which drift grows
  sample-models/churn_v1.onnx         ColumnTransformer + LogisticRegression, per-column inputs,
                                      probabilities as a tensor
  sample-models/churn_v2.onnx         same preprocessing + GradientBoostingClassifier, per-column
                                      inputs, probabilities in ZipMap form (skl2onnx's default)
  sample-models/churn_numeric.onnx    one packed [N,5] float tensor input, feature names in metadata
  sample-models/spend_regressor.onnx  expected next-month spend; a mixed layout: a packed [N,4]
                                      double tensor next to per-column string inputs
  tests/golden/predictions_<model>.csv  Python onnxruntime outputs on churn_current.csv
  tests/fixtures/numeric_unnamed.onnx churn_numeric without feature names (columns in file order)
  tests/fixtures/image_input.onnx     a model whose only input is an image (for error tests)
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pandas as pd
from onnx import TensorProto, helper, numpy_helper
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType, Int64TensorType, StringTensorType
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "sample-models"
DATA = ROOT / "sample-data"
GOLDEN = ROOT / "tests" / "golden"
TRAINING_DATE = "2026-11-01"

CONTRACTS = ["Month-to-month", "One year", "Two year"]
INTERNET = ["DSL", "Fiber optic", "No"]
PAYMENTS = ["Electronic check", "Mailed check", "Bank transfer", "Credit card"]
FLOAT_COLS = ["monthly_charges", "total_charges"]
INT_COLS = ["tenure_months", "senior_citizen", "support_calls"]
NUMERIC_COLS = ["tenure_months", "monthly_charges", "total_charges", "senior_citizen", "support_calls"]
STRING_COLS = ["contract", "internet_service", "payment_method", "paperless_billing"]
FEATURES = NUMERIC_COLS + STRING_COLS
TARGET = "churned"
SPEND_TARGET = "next_month_spend"


def make_customers(rng: np.random.Generator, n: int, first_id: int, drift: float) -> pd.DataFrame:
    """Synthetic telecom customers. `drift` in [0, 1] moves charges, contracts, support calls and the
    churn relationship away from the reference; 0 is the reference population."""
    mtm = 0.55 + 0.15 * drift
    contract = rng.choice(CONTRACTS, size=n, p=[mtm, (1 - mtm) * 0.55, (1 - mtm) * 0.45])
    internet = rng.choice(INTERNET, size=n, p=[0.35, 0.45, 0.20])
    payment = rng.choice(PAYMENTS, size=n, p=[0.34, 0.23, 0.22, 0.21])
    paperless = rng.choice(["Yes", "No"], size=n, p=[0.6, 0.4])
    senior = (rng.random(n) < 0.16).astype(np.int64)
    tenure = rng.integers(0, 73, size=n)
    support = rng.poisson(1.5 + 1.0 * drift, size=n)
    base = np.select([internet == "Fiber optic", internet == "DSL"], [70.0, 50.0], 20.0)
    monthly = np.round(base + rng.normal(0, 8, n) + 12.0 * drift, 2).clip(18.0, None)
    total = np.round(tenure * monthly * (1 + rng.normal(0, 0.03, n)), 2)
    total_charges = np.where(tenure == 0, np.nan, total)

    logit = (
        -1.2
        + 1.3 * (contract == "Month-to-month")
        - 0.5 * (contract == "Two year")
        - (0.04 - 0.02 * drift) * tenure
        + 0.015 * (monthly - 65)
        + 0.35 * support
        + (0.5 + 0.7 * drift) * (payment == "Electronic check")
        + 0.3 * senior
    )
    churned = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    spend = np.round(
        monthly * (1 + 0.02 * support) + 4.0 * (contract == "Month-to-month") + rng.normal(0, 3, n), 2
    )
    return pd.DataFrame(
        {
            "customer_id": [f"C{first_id + i:06d}" for i in range(n)],
            "tenure_months": tenure,
            "monthly_charges": monthly,
            "total_charges": total_charges,
            "contract": contract,
            "internet_service": internet,
            "payment_method": payment,
            "paperless_billing": paperless,
            "senior_citizen": senior,
            "support_calls": support,
            TARGET: churned,
            SPEND_TARGET: spend,
        }
    )


def make_data() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(20261101)
    reference = make_customers(rng, 5000, 1, 0.0)
    current = make_customers(rng, 3000, 100001, 1.0)
    weeks = []
    start = np.datetime64("2026-09-07T00:00:00")
    for week in range(8):
        chunk = make_customers(rng, 600, 200001 + 600 * week, week / 7)
        seconds = rng.integers(0, 7 * 24 * 3600, size=len(chunk))
        chunk.insert(0, "timestamp", start + np.timedelta64(7 * week, "D") + seconds.astype("timedelta64[s]"))
        weeks.append(chunk)
    log = pd.concat(weeks).sort_values("timestamp", kind="stable").reset_index(drop=True)
    log["timestamp"] = log["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%S")
    return {"reference": reference, "current": current, "production_log": log}


def metadata(model: onnx.ModelProto, props: dict[str, str], doc: str) -> onnx.ModelProto:
    # skl2onnx collects opsets in a set, so their order follows string hashing: sort for stable bytes.
    opsets = sorted(model.opset_import, key=lambda o: o.domain)
    del model.opset_import[:]
    model.opset_import.extend(opsets)
    model.doc_string = doc
    model.model_version = 1
    model.domain = "ai.mirador.samples"
    del model.metadata_props[:]
    for key, value in props.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    return model


def per_column_types() -> list:
    types = []
    for col in FEATURES:
        if col in FLOAT_COLS:
            types.append((col, FloatTensorType([None, 1])))
        elif col in INT_COLS:
            types.append((col, Int64TensorType([None, 1])))
        else:
            types.append((col, StringTensorType([None, 1])))
    return types


def preprocessing() -> ColumnTransformer:
    floats = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
    return ColumnTransformer(
        [
            ("float", floats, FLOAT_COLS),
            ("int", StandardScaler(), INT_COLS),
            ("cat", OneHotEncoder(handle_unknown="ignore"), STRING_COLS),
        ]
    )


def categories_prop(df: pd.DataFrame) -> str:
    return json.dumps({c: sorted(df[c].unique().tolist()) for c in STRING_COLS})


def train_churn(reference: pd.DataFrame, classifier, name: str, zipmap: bool, version: int) -> onnx.ModelProto:
    pipe = Pipeline([("prep", preprocessing()), ("model", classifier)])
    pipe.fit(reference[FEATURES], reference[TARGET])
    options = {id(pipe): {"zipmap": zipmap}} if not zipmap else None
    onx = convert_sklearn(pipe, name, initial_types=per_column_types(), target_opset={"": 17, "ai.onnx.ml": 3}, options=options)
    onx.model_version = version
    return metadata(
        onx,
        {
            "description": f"Churn probability per customer ({type(classifier).__name__}).",
            "training_date": TRAINING_DATE,
            "feature_names": ",".join(FEATURES),
            "target": TARGET,
            "class_names": "0,1",
            "positive_class": "1",
            "categories": categories_prop(reference),
            "training_data": "sample-data/churn_reference.csv",
        },
        f"{name}: predicts whether a telecom customer churns next month.",
    )


def train_numeric(reference: pd.DataFrame) -> onnx.ModelProto:
    pipe = Pipeline(
        [("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler()), ("model", LogisticRegression(max_iter=1000))]
    )
    pipe.fit(reference[NUMERIC_COLS].to_numpy(np.float32), reference[TARGET])
    onx = convert_sklearn(
        pipe,
        "churn_numeric",
        initial_types=[("features", FloatTensorType([None, len(NUMERIC_COLS)]))],
        target_opset={"": 17, "ai.onnx.ml": 3},
        options={id(pipe): {"zipmap": False}},
    )
    return metadata(
        onx,
        {
            "description": "Churn probability from numeric features only, packed in one tensor.",
            "training_date": TRAINING_DATE,
            "feature_names": ",".join(NUMERIC_COLS),
            "target": TARGET,
            "class_names": "0,1",
            "positive_class": "1",
            "training_data": "sample-data/churn_reference.csv",
        },
        "churn_numeric: one [N,5] float input whose columns are named by the feature_names metadata.",
    )


SPEND_NUMERIC = ["tenure_months", "monthly_charges", "total_charges", "support_calls"]
SPEND_CATS = ["contract", "internet_service"]


def train_spend(reference: pd.DataFrame) -> onnx.ModelProto:
    """A regressor in the mixed layout (packed double tensor + per-column strings). skl2onnx cannot
    express that layout, so the trained scikit-learn parameters are written as ai.onnx.ml operators."""
    imputer = SimpleImputer(strategy="mean").fit(reference[SPEND_NUMERIC])
    scaler = StandardScaler().fit(imputer.transform(reference[SPEND_NUMERIC]))
    encoder = OneHotEncoder(handle_unknown="ignore").fit(reference[SPEND_CATS])
    features = np.hstack(
        [scaler.transform(imputer.transform(reference[SPEND_NUMERIC])), encoder.transform(reference[SPEND_CATS]).toarray()]
    )
    ridge = Ridge(alpha=1.0).fit(features, reference[SPEND_TARGET])

    ml = "ai.onnx.ml"
    nodes = [
        helper.make_node("Cast", ["numeric"], ["numeric_f"], to=TensorProto.FLOAT),
        helper.make_node("Imputer", ["numeric_f"], ["imputed"], domain=ml,
                         imputed_value_floats=imputer.statistics_.astype(np.float32).tolist(), replaced_value_float=float("nan")),
        helper.make_node("Scaler", ["imputed"], ["scaled"], domain=ml,
                         offset=scaler.mean_.astype(np.float32).tolist(), scale=(1 / scaler.scale_).astype(np.float32).tolist()),
    ]
    onehots = []
    for col, cats in zip(SPEND_CATS, encoder.categories_):
        nodes.append(helper.make_node("OneHotEncoder", [col], [f"{col}_3d"], domain=ml, cats_strings=[str(c) for c in cats], zeros=1))
        nodes.append(helper.make_node("Flatten", [f"{col}_3d"], [f"{col}_oh"], axis=1))
        onehots.append(f"{col}_oh")
    nodes += [
        helper.make_node("Concat", ["scaled", *onehots], ["features"], axis=1),
        helper.make_node("LinearRegressor", ["features"], ["variable"], domain=ml,
                         coefficients=ridge.coef_.astype(np.float32).tolist(), intercepts=[float(ridge.intercept_)]),
    ]
    inputs = [helper.make_tensor_value_info("numeric", TensorProto.DOUBLE, [None, len(SPEND_NUMERIC)])]
    inputs += [helper.make_tensor_value_info(c, TensorProto.STRING, [None, 1]) for c in SPEND_CATS]
    outputs = [helper.make_tensor_value_info("variable", TensorProto.FLOAT, [None, 1])]
    graph = helper.make_graph(nodes, "spend_regressor", inputs, outputs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid(ml, 3)],
                              producer_name="mirador-samples", producer_version="1.0")
    model.ir_version = 8
    onnx.checker.check_model(model)

    sk_pred = ridge.predict(features)
    model = metadata(
        model,
        {
            "description": "Expected spend next month (currency units) per customer.",
            "training_date": TRAINING_DATE,
            "feature_names.numeric": ",".join(SPEND_NUMERIC),
            "feature_names": ",".join(SPEND_NUMERIC + SPEND_CATS),
            "target": SPEND_TARGET,
            "training_data": "sample-data/churn_reference.csv",
        },
        "spend_regressor: Ridge regression; numeric features packed in `numeric`, categoricals per column.",
    )
    onnx_pred = run_model(model, reference)["variable"][:, 0]
    assert np.max(np.abs(onnx_pred - sk_pred)) < 1e-2, "ONNX graph disagrees with scikit-learn"
    return model


def feeds(model: onnx.ModelProto, df: pd.DataFrame) -> dict[str, np.ndarray]:
    """Build onnxruntime inputs from a frame the way Mirador maps columns onto inputs."""
    props = {p.key: p.value for p in model.metadata_props}
    out = {}
    for inp in model.graph.input:
        elem = inp.type.tensor_type.elem_type
        width = inp.type.tensor_type.shape.dim[1].dim_value
        cols = props.get(f"feature_names.{inp.name}", props["feature_names"]).split(",") if width > 1 else [inp.name]
        values = df[cols]
        if elem == TensorProto.STRING:
            out[inp.name] = values.to_numpy().astype(object)
        elif elem == TensorProto.INT64:
            out[inp.name] = values.to_numpy(np.int64)
        elif elem == TensorProto.DOUBLE:
            out[inp.name] = values.to_numpy(np.float64)
        else:
            out[inp.name] = values.to_numpy(np.float32)
    return out


def run_model(model: onnx.ModelProto, df: pd.DataFrame) -> dict[str, object]:
    # One thread, as Mirador runs each of its sessions: a tree ensemble then adds its trees in model
    # order, so the goldens are the same bits whatever the core count of the machine making them.
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, feeds(model, df))))


def golden(model: onnx.ModelProto, df: pd.DataFrame) -> pd.DataFrame:
    """Predictions in Mirador's output layout: label + p_<class> for classifiers, prediction for regressors."""
    outputs = list(run_model(model, df).values())
    frame = pd.DataFrame({"customer_id": df["customer_id"]})
    if len(outputs) == 2:  # classifier: label, then probabilities
        frame["label"] = np.asarray(outputs[0]).reshape(-1)
        probs = outputs[1]
        if isinstance(probs, list):  # ZipMap: one {class: probability} per row
            probs = np.array([[row[k] for k in sorted(row)] for row in probs], dtype=np.float32)
        for j in range(probs.shape[1]):
            frame[f"p_{j}"] = probs[:, j]
    else:
        frame["prediction"] = outputs[0][:, 0]
    return frame


def write_csv(df: pd.DataFrame, path: Path) -> None:
    # float32 values are written with repr() of the float32, which round-trips exactly.
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == np.float32:
            out[col] = [repr(float(np.float32(v))) if not np.isnan(v) else "" for v in out[col]]
    out.to_csv(path, index=False, lineterminator="\n")


def make_fixtures() -> None:
    """Models for the contract and error-path tests, made from the sample models on disk:
    - numeric_unnamed: the numeric model without column names in its metadata;
    - image_input: a [1,3,8,8] input no table can feed;
    - churn_v2_cycle: churn_v2 with one flipped link (tree 0's node 2 sends its "true" rows back to
      node 1, its parent), a loop ONNX Runtime runs for ever;
    - labels_only: churn_v1 without its probability output (a classifier that gives labels only);
    - wrong_width: a classifier whose metadata names three classes but whose probability tensor has two.
    """
    fixtures = ROOT / "tests" / "fixtures"
    fixtures.mkdir(exist_ok=True)
    numeric = onnx.load(MODELS / "churn_numeric.onnx")
    unnamed = onnx.ModelProto()
    unnamed.CopyFrom(numeric)
    keep = [p for p in unnamed.metadata_props if p.key != "feature_names"]
    del unnamed.metadata_props[:]
    unnamed.metadata_props.extend(keep)
    onnx.save(unnamed, fixtures / "numeric_unnamed.onnx")

    graph = helper.make_graph(
        [helper.make_node("ReduceMean", ["image"], ["mean"], keepdims=0)],
        "image_mean",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("mean", TensorProto.FLOAT, [])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="mirador-samples")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, fixtures / "image_input.onnx")

    cycle = onnx.load(MODELS / "churn_v2.onnx")
    tree = next(n for n in cycle.graph.node if n.op_type == "TreeEnsembleClassifier")
    attrs = {a.name: a for a in tree.attribute}
    trees, ids = list(attrs["nodes_treeids"].ints), list(attrs["nodes_nodeids"].ints)
    node2 = next(i for i in range(len(ids)) if trees[i] == 0 and ids[i] == 2)
    attrs["nodes_truenodeids"].ints[node2] = 1
    onnx.save(cycle, fixtures / "churn_v2_cycle.onnx")

    labels_only = onnx.load(MODELS / "churn_v1.onnx")
    keep = [o for o in labels_only.graph.output if o.name == "label"]
    del labels_only.graph.output[:]
    labels_only.graph.output.extend(keep)
    onnx.save(labels_only, fixtures / "labels_only.onnx")

    graph = helper.make_graph(
        [
            helper.make_node("Softmax", ["x"], ["probabilities"], axis=1),
            helper.make_node("ArgMax", ["x"], ["label"], axis=1, keepdims=0),
        ],
        "two_wide",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 2])],
        [
            helper.make_tensor_value_info("label", TensorProto.INT64, [None]),
            helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, 2]),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="mirador-samples")
    model.ir_version = 8
    entry = model.metadata_props.add()
    entry.key, entry.value = "class_names", "a,b,c"
    onnx.checker.check_model(model)
    onnx.save(model, fixtures / "wrong_width.onnx")


SLOW_PRODUCTS = 40


def make_rollout_fixtures() -> None:
    """Challengers for the deployment-strategy tests, made from churn_v1 (same inputs, classes and
    outputs, so each can roll out over it):
    - constant_class: every coefficient zeroed, intercepts (3, -3): always class 0 with P(1) = 0.0474,
      a bad model whose agreement with a champion that rarely predicts churn still looks high;
    - slow_v1: churn_v1's exact answers plus a heavy side computation (each row widened to [64, 512], then 40
      products by [512, 512], multiplied by zero and added): a slow challenger;
    - failing_v1: churn_v1 plus a Gather at index 5 of its 2-wide probabilities: every run fails.
    """
    fixtures = ROOT / "tests" / "fixtures"
    fixtures.mkdir(exist_ok=True)
    base = onnx.load(MODELS / "churn_v1.onnx")

    constant = onnx.ModelProto()
    constant.CopyFrom(base)
    linear = next(n for n in constant.graph.node if n.op_type == "LinearClassifier")
    for a in linear.attribute:
        if a.name == "coefficients":
            a.floats[:] = [0.0] * len(a.floats)
        if a.name == "intercepts":
            a.floats[:] = [3.0, -3.0]
    onnx.save(constant, fixtures / "constant_class.onnx")

    def rewire(model: onnx.ModelProto, extra_nodes, extra_inits) -> None:
        linear = next(n for n in model.graph.node if n.op_type == "LinearClassifier")
        linear.output[1] = "probabilities_raw"
        model.graph.node.extend(extra_nodes)
        model.graph.initializer.extend(extra_inits)

    slow = onnx.ModelProto()
    slow.CopyFrom(base)
    rng = np.random.default_rng(0)
    weight = numpy_helper.from_array((rng.standard_normal((512, 512)) / 512).astype(np.float32), "slow_w")
    # Each row becomes 64 rows of 512 values, pushed through SLOW_PRODUCTS products, folded back.
    nodes = [
        helper.make_node("MatMul", ["probabilities_raw", "slow_in"], ["slow_wide"]),
        helper.make_node("Reshape", ["slow_wide", "slow_rows"], ["slow_0"]),
    ]
    inits = [
        weight,
        numpy_helper.from_array(np.ones((2, 64 * 512), np.float32), "slow_in"),
        numpy_helper.from_array(np.array([-1, 512], np.int64), "slow_rows"),
    ]
    for i in range(SLOW_PRODUCTS):
        nodes.append(helper.make_node("MatMul", [f"slow_{i}", "slow_w"], [f"slow_{i + 1}"]))
    nodes += [
        helper.make_node("MatMul", [f"slow_{SLOW_PRODUCTS}", "slow_out"], ["slow_back"]),
        helper.make_node("Reshape", ["slow_back", "slow_per_row"], ["slow_folded"]),
        helper.make_node("ReduceSum", ["slow_folded"], ["slow_sum"], axes=[1], keepdims=1),
        helper.make_node("Mul", ["slow_sum", "slow_zero"], ["slow_nothing"]),
        helper.make_node("Add", ["probabilities_raw", "slow_nothing"], ["probabilities"]),
    ]
    inits += [
        numpy_helper.from_array(np.ones((512, 2), np.float32), "slow_out"),
        numpy_helper.from_array(np.array([-1, 128], np.int64), "slow_per_row"),
        numpy_helper.from_array(np.zeros((1,), np.float32), "slow_zero"),
    ]
    rewire(slow, nodes, inits)
    onnx.checker.check_model(slow)
    onnx.save(slow, fixtures / "slow_v1.onnx")

    failing = onnx.ModelProto()
    failing.CopyFrom(base)
    nodes = [
        helper.make_node("Gather", ["probabilities_raw", "bad_index"], ["bad_column"], axis=1),
        helper.make_node("Mul", ["bad_column", "fail_zero"], ["bad_nothing"]),
        helper.make_node("Add", ["probabilities_raw", "bad_nothing"], ["probabilities"]),
    ]
    inits = [
        numpy_helper.from_array(np.array([5], np.int64), "bad_index"),
        numpy_helper.from_array(np.zeros((1,), np.float32), "fail_zero"),
    ]
    rewire(failing, nodes, inits)
    onnx.checker.check_model(failing)
    onnx.save(failing, fixtures / "failing_v1.onnx")


def with_early_missing(reference: pd.DataFrame) -> pd.DataFrame:
    """The reference with missing values in its first rows (empty CSV fields): float columns the
    models take as NaN, so golden rows and profiles must carry missing values through."""
    out = reference.copy()
    out.loc[[0, 2], "total_charges"] = np.nan
    out.loc[[1], "monthly_charges"] = np.nan
    return out


def main() -> None:
    data = make_data()
    data["reference_missing"] = with_early_missing(data["reference"])
    for name, df in data.items():
        df.to_csv(DATA / f"churn_{name}.csv", index=False, lineterminator="\n", float_format="%.2f")
    current = pd.read_csv(DATA / "churn_current.csv")
    current.to_parquet(DATA / "churn_current.parquet", index=False, engine="pyarrow", compression="zstd")
    reference = pd.read_csv(DATA / "churn_reference.csv")

    models = {
        "churn_v1": train_churn(reference, LogisticRegression(max_iter=1000), "churn_v1", zipmap=False, version=1),
        "churn_v2": train_churn(
            reference, GradientBoostingClassifier(n_estimators=120, max_depth=3, random_state=7), "churn_v2", zipmap=True, version=2
        ),
        "churn_numeric": train_numeric(reference),
        "spend_regressor": train_spend(reference),
    }
    for name, model in models.items():
        onnx.save(model, MODELS / f"{name}.onnx")
        write_csv(golden(model, current), GOLDEN / f"predictions_{name}.csv")
        print(f"wrote {name}")
    make_fixtures()
    make_rollout_fixtures()


if __name__ == "__main__":
    main()
