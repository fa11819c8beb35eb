"""Hostile uploads through the API: files the ingest readers choke on, and multipart bodies
that are not multipart. Every answer is 2xx or 4xx, never 5xx; a refused upload leaves the
ledger as it was (every table, by fingerprint). The readers themselves are fuzzed in
tests/fuzz; this is the same property through HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from valuegap import Ledger
from valuegap.settings import Settings

from ..fuzz.conftest import DATA, FUZZ, fingerprint
from ..fuzz.hostile import hostile_csv, read_table
from .conftest import ADMIN, Server, serving

UPLOADS = {  # where each kind of file goes, and a valid example to mutate
    "/api/v1/ingest/focus": ("files", DATA / "focus-1.2-minimal.csv"),
    "/api/v1/ingest/usage": ("file", DATA / "usage-generic.csv"),
    "/api/v1/ingest/costs": ("file", DATA / "manual-costs.csv"),
    "/api/v1/ingest/rates": ("file", DATA / "rates.csv"),
}
TABLES = {path: read_table(example) for path, (_, example) in UPLOADS.items()}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A ledger for the module's examples: each refused one must leave it as it was."""
    path = tmp_path_factory.mktemp("fuzzed-uploads") / "ledger.duckdb"
    Ledger.init(path, actor=ADMIN, settings=Settings(db=path)).close()
    yield from serving(path, [ADMIN])


def answered(server: Server, send: httpx.Request) -> int:
    """Send a request, and check the property: no 5xx; refused, nothing changed."""
    before = fingerprint(server.ledger)
    response = server.client().send(send)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"
        assert fingerprint(server.ledger) == before, response.text
    return response.status_code


@FUZZ
@given(data=st.data(), path=st.sampled_from(sorted(UPLOADS)))
def test_a_hostile_file_is_loaded_or_refused_with_4xx(
    server: Server, data: st.DataObject, path: str
) -> None:
    name, content = data.draw(hostile_csv(TABLES[path]))
    field = UPLOADS[path][0]
    request = server.client().build_request("POST", path, files={field: (name, content)})
    answered(server, request)


@FUZZ
@given(
    path=st.sampled_from(sorted(UPLOADS)),
    body=st.binary(max_size=2048),
    boundary=st.one_of(st.none(), st.text(st.characters(min_codepoint=32, max_codepoint=126))),
)
def test_a_body_that_is_not_multipart_is_a_4xx(
    server: Server, path: str, body: bytes, boundary: str | None
) -> None:
    kind = "multipart/form-data" + ("" if boundary is None else f"; boundary={boundary}")
    request = server.client().build_request(
        "POST", path, content=body, headers={"content-type": kind}
    )
    assert answered(server, request) >= 400


@FUZZ
@given(
    path=st.sampled_from(sorted(UPLOADS)),
    name=st.text(max_size=300),
    content=st.binary(max_size=4096),
)
def test_any_file_name_and_bytes_are_loaded_or_refused(
    server: Server, path: str, name: str, content: bytes
) -> None:
    field = UPLOADS[path][0]
    request = server.client().build_request("POST", path, files={field: (name, content)})
    answered(server, request)
