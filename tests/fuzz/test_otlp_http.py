"""POST /v1/traces with hostile bodies: mutated OTLP/JSON, mutated protobuf, random bytes, each
perhaps gzipped and sent as either media type. Every answer is 200, 400, 413 or 415, never a
500; a refusal leaves the ledger unchanged (its inbox too); an accepted export sent again
changes nothing once drained, but for the audit entry of its bad spans refused again."""

from __future__ import annotations

import gzip
import json

from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from valuegap.costs.otlp import from_json
from valuegap.web.app import create_app

from .conftest import DATA, FUZZ, Fresh, fingerprint
from .hostile import deepened, mutated_tree, tree_values

EXPORT = json.loads((DATA / "otel-genai.jsonl").read_text().splitlines()[0])  # resourceSpans
PROTOBUF = bytes(from_json(json.dumps(EXPORT).encode()).SerializeToString())
MEDIA = ["application/x-protobuf", "application/json", "application/json; charset=utf-8"]


@st.composite
def mutated_bytes(draw: st.DrawFn, valid: bytes) -> bytes:
    data = bytearray(valid)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        change = draw(st.sampled_from(["flip", "cut", "insert"]))
        if change == "flip" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif change == "cut":
            del data[at : at + draw(st.integers(1, 16))]
        else:
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
    return bytes(data)


@st.composite
def exports(draw: st.DrawFn) -> tuple[str, bool, bytes]:
    kind = draw(st.sampled_from(["json", "protobuf", "bytes"]))
    if kind == "json":
        tree = draw(mutated_tree(EXPORT, tree_values()))
        body = deepened(json.dumps(tree)).encode()
        media = draw(st.sampled_from(MEDIA[1:]))
    elif kind == "protobuf":
        body, media = draw(mutated_bytes(PROTOBUF)), MEDIA[0]
    else:
        body, media = draw(st.binary(max_size=512)), draw(st.sampled_from(MEDIA))
    zipped = draw(st.booleans())
    return media, zipped, gzip.compress(body) if zipped else body


@FUZZ
@given(export=exports())
def test_a_hostile_export_is_stored_or_refused_never_a_500(
    fresh_ledger: Fresh, export: tuple[str, bool, bytes]
) -> None:
    media, zipped, body = export
    with fresh_ledger() as (ledger, _):
        token = ledger.governance.credentials.create_token("alice").secret
        headers = {"Authorization": f"Bearer {token}", "Content-Type": media}
        if zipped:
            headers["Content-Encoding"] = "gzip"
        client = TestClient(create_app(ledger), headers=headers, raise_server_exceptions=False)
        before = fingerprint(ledger)
        answer = client.post("/v1/traces", content=body)
        assert answer.status_code in (200, 400, 413, 415), answer.text
        if answer.status_code != 200:
            assert fingerprint(ledger) == before
            return
        if media == MEDIA[0]:
            ExportTraceServiceResponse.FromString(answer.content)
        else:
            assert isinstance(answer.json(), dict)
        ledger.costs.inbox.drain_all()
        after = fingerprint(ledger)
        assert after["otlp_inbox"] == (0, "")
        audit = len(ledger.governance.audit.audit_log())
        assert client.post("/v1/traces", content=body).status_code == 200
        ledger.costs.inbox.drain_all()
        again = fingerprint(ledger)
        assert {**again, "audit_log": None} == {**after, "audit_log": None}
        added = ledger.governance.audit.audit_log()[: again["audit_log"][0] - audit]
        assert {entry.action for entry in added} <= {"otlp.refuse"}
