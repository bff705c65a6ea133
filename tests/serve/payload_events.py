"""Send recorded inference traffic to a collector as KServe's payload logger would: one CloudEvent
per request and per response, made by the CloudEvents Python SDK, in binary or structured HTTP mode.

usage: payload_events.py EXCHANGES.json URL binary|structured

EXCHANGES.json is a list of {"id", "request", "response"}: the ce-id and the raw bodies (text).
Every other exchange sends its response before its request (the logger gives no order). Prints
one line per POST: the HTTP status.
"""

import json
import sys
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

from cloudevents.core.bindings.http import to_binary, to_structured
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

REQUEST = "org.kubeflow.serving.inference.request"
RESPONSE = "org.kubeflow.serving.inference.response"


def event(kind, ce_id, body, at):
    return CloudEvent(
        attributes={
            "specversion": "1.0",
            "type": kind,
            "source": "http://localhost:9081/",
            "id": ce_id,
            "time": at,
            "datacontenttype": "application/json",
            "inferenceservicename": "churn_v1",
            "namespace": "default",
            "component": "predictor",
            "endpoint": "default",
        },
        data=body.encode("utf-8"),
    )


def post(url, message):
    req = urllib.request.Request(url, data=message.body, headers=message.headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def main():
    exchanges = json.load(open(sys.argv[1]))
    url, mode = sys.argv[2], sys.argv[3]
    convert = to_binary if mode == "binary" else to_structured
    start = datetime(2026, 12, 2, 10, 0, 0, tzinfo=timezone.utc)
    for i, x in enumerate(exchanges):
        at = start + timedelta(seconds=i)
        pair = [
            event(REQUEST, x["id"], x["request"], at),
            event(RESPONSE, x["id"], x["response"], at + timedelta(milliseconds=7)),
        ]
        if i % 2:
            pair.reverse()
        for e in pair:
            print(post(url, convert(e, JSONFormat())))


main()
