"""``POST /v1/traces``: the OTLP/HTTP receiver, where an OpenTelemetry collector's ``otlphttp``
exporter, or an application's OTLP exporter, sends its spans (the path OTLP/HTTP uses by
default, so it sits at the root, not under ``/api/v1``).

Per the OTLP/HTTP specification: bodies in binary protobuf (``application/x-protobuf``) or
OTLP/JSON (``application/json``), optionally gzip-compressed; the answer is an
``ExportTraceServiceResponse`` in the request's encoding, once the GenAI spans are committed
to the inbox (costs/inbox.py), which a drain thread (web/drain.py) empties into usage events.
Errors of a protobuf request are a ``google.rpc.Status`` in protobuf; errors of any other
request are the server's problem details.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from google.rpc.status_pb2 import Status
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from valuegap.costs import otlp
from valuegap.errors import ValidationError, ValuegapError
from valuegap.ledger import Ledger
from valuegap.web.auth import Guarded, acting
from valuegap.web.problems import ProblemDetails, TooLarge, from_error

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
# The largest export read, once unzipped (an OpenTelemetry collector sends a few MiB at most).
MAX_EXPORT_BYTES = 32 * 1024 * 1024
# google.rpc.Code of an HTTP status, for a protobuf request's error.
_RPC_CODES = {400: 3, 401: 16, 403: 7, 404: 5, 409: 10, 413: 8, 422: 3, 429: 8, 503: 14}
_INTERNAL = 13
log = logging.getLogger("valuegap.web")


def _media(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


class _OtlpRoute(Guarded):
    """A route whose errors, for a protobuf request, are a ``google.rpc.Status`` in protobuf
    (also those of authentication), as OTLP/HTTP asks."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answered(request: Request) -> Response:
            try:
                return await handler(request)
            except ValuegapError as error:
                if _media(request) != PROTOBUF:
                    raise
                return _refusal(error, protobuf=True)

        return answered


router = APIRouter(route_class=_OtlpRoute, tags=["opentelemetry"])

_BODY = {
    "required": True,
    "content": {
        PROTOBUF: {"schema": {"type": "string", "format": "binary"}},
        JSON: {"schema": {"type": "object"}},
    },
}
_ANSWER = {
    "description": "The GenAI spans were committed, to be stored as usage events within a few "
    "seconds.",
    "content": {
        PROTOBUF: {"schema": {"type": "string", "format": "binary"}},
        JSON: {"schema": {"type": "object"}},
    },
}

# Problem details; for a protobuf request, a google.rpc.Status in protobuf.
_REFUSAL: dict[str, Any] = {
    "model": ProblemDetails,
    "content": {PROTOBUF: {"schema": {"type": "string", "format": "binary"}}},
}


@router.post(
    "/v1/traces",
    response_class=Response,
    summary="Receive OpenTelemetry traces (OTLP/HTTP)",
    responses={
        200: _ANSWER,
        **{status: _REFUSAL for status in (400, 401, 403, 413)},
        415: {"model": ProblemDetails},
    },
    openapi_extra={"requestBody": _BODY},
)
async def traces(request: Request, ledger: Annotated[Ledger, acting("cost.write")]) -> Response:
    """Receive an OTLP/HTTP trace export (protobuf or OTLP/JSON, optionally gzip): its GenAI
    spans (those with a `gen_ai.*` attribute) are committed to the server's inbox, and the
    answer comes once they are: an acknowledged span is durable. Within a few seconds they
    are stored as LLM usage events, priced, exactly as `valuegap ingest usage` stores
    OpenTelemetry spans; other spans are ignored. A span already stored (same trace and span
    id) is not stored again, so a re-sent export changes nothing. A span with a bad value (a
    negative token count, say) is refused alone when it is stored, after the answer: it is
    named in the server's log and counted in the audit log (`otlp.refuse`), not in
    `partial_success`. Errors are problem details, or for a protobuf request a
    `google.rpc.Status` in protobuf."""
    protobuf = _media(request) == PROTOBUF
    if not protobuf and _media(request) != JSON:
        raise HTTPException(415, f"Send OTLP as {PROTOBUF} or {JSON}.")
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("gzip", "identity"):
        raise HTTPException(415, "The only content encoding read is gzip.")
    body = await request.body()
    limit = min(request.app.state.max_request_bytes, MAX_EXPORT_BYTES)
    try:
        return await run_in_threadpool(_export, ledger, body, protobuf, encoding == "gzip", limit)
    except ValidationError as error:  # the body
        return _refusal(error, protobuf=protobuf, status=400)


def _export(ledger: Ledger, body: bytes, protobuf: bool, gzipped: bool, limit: int) -> Response:
    if gzipped:
        body = _inflated(body, limit)
    elif len(body) > limit:
        raise _too_large(limit)
    request = otlp.from_protobuf(body) if protobuf else otlp.from_json(body)
    received = ledger.costs.inbox.receive(request, source_name="otlp")
    log.debug(
        "OTLP export: %d spans, %d GenAI received, %d without GenAI attributes ignored",
        received.spans,
        received.gen_ai,
        received.ignored,
    )
    answer = otlp.response(protobuf=protobuf)
    return Response(answer, media_type=PROTOBUF if protobuf else JSON)


def _inflated(body: bytes, limit: int) -> bytes:
    """``body`` unzipped, refused as soon as it passes ``limit`` bytes (a gzip bomb)."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise otlp.undecodable(f"is not gzip data ({exc})") from None
    if len(data) > limit or inflater.unconsumed_tail:
        raise _too_large(limit)
    if not inflater.eof or inflater.unused_data:
        raise otlp.undecodable("is not one whole gzip stream")
    return data


def _too_large(limit: int) -> TooLarge:
    return TooLarge(
        f"The export is larger than {limit:,} bytes unzipped; send smaller batches (the "
        "collector's batch processor: send_batch_max_size)."
    )


def _refusal(error: ValuegapError, *, protobuf: bool, status: int | None = None) -> Response:
    """``error`` as problem details, or, for a protobuf request, as a ``google.rpc.Status``."""
    problem = from_error(error, status=status)
    if not protobuf:
        return problem
    said: list[Any] = [str(error)]
    if isinstance(error, ValidationError):
        said += [str(p) for p in error.problems[:10]]
    rpc = Status(code=_RPC_CODES.get(problem.status_code, _INTERNAL), message=" ".join(said))
    headers = {k: v for k, v in problem.headers.items() if k.lower() == "www-authenticate"}
    return Response(
        rpc.SerializeToString(), problem.status_code, headers=headers, media_type=PROTOBUF
    )
