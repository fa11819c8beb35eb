"""Every operation of the OpenAPI schema, walked: none but sign-in and /healthz is open, each
declares its permission, answers 401 without credentials and 403 to a role without that
permission, and a contributor is refused another business unit's initiative. Generic: a route
added anywhere is walked too (a new path parameter needs a real value in ``REAL``)."""

from __future__ import annotations

from typing import Any

from valuegap.model.roles import GRANTS

from .conftest import Served

OPEN = {"/healthz", "/login", "/logout"}
METHODS = {"get", "put", "post", "patch", "delete"}
# A demo user of each role but admin.
BY_ROLE = {
    "viewer": "exec.board",
    "contributor": "ana.costa",  # marketing
    "finance": "finn.berg",
    "governance": "grace.okafor",
}
OTHER_UNITS_INITIATIVE = "fraud-detection"  # risk: not ana.costa's
INITIATIVE_PARAMETERS = {"initiative_id", "initiative", "agent_id"}


def real_values(served: Served) -> dict[str, str]:
    """A real value of each path parameter, by name, from the demo."""
    ledger = served.ledger
    metric = ledger.portfolio.initiatives()[0].metrics[0].id
    token = ledger.governance.credentials.tokens("exec.board")[0].id
    return {
        "initiative_id": "loc-qa",
        "initiative": "loc-qa",
        "agent_id": "refund-agent",
        "metric_id": metric,
        "name": "exec.board",
        "user": "exec.board",
        "token_id": token,
    }


def operations(served: Served) -> list[tuple[str, str, dict[str, Any]]]:
    schema = served.client(None).get("/api/v1/openapi.json").json()
    return [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def filled(path: str, operation: dict[str, Any], values: dict[str, str], **given: str) -> str:
    """``path`` with its parameters filled: ``given``, else a real value by name, else the
    first of the parameter's enumerated values."""
    for parameter in operation.get("parameters", []):
        if parameter["in"] != "path":
            continue
        name = parameter["name"]
        enum = parameter.get("schema", {}).get("enum")
        value = given.get(name) or values.get(name) or (enum[0] if enum else None)
        assert value is not None, f"{path}: give the path parameter {name!r} a value in REAL"
        path = path.replace(f"{{{name}}}", value)
    return path


def test_every_operation_declares_its_permission_and_only_sign_in_is_open(
    demo_server: Served,
) -> None:
    found = operations(demo_server)
    assert len(found) >= 25
    undeclared = [
        f"{method.upper()} {path}"
        for path, method, operation in found
        if path not in OPEN and operation.get("x-valuegap-permission") not in GRANTS["admin"]
    ]
    assert undeclared == []
    open_paths = {path for path, _, op in found if "x-valuegap-permission" not in op}
    assert open_paths == OPEN


def test_every_operation_refuses_a_caller_without_credentials(demo_server: Served) -> None:
    values = real_values(demo_server)
    client = demo_server.client(None)
    answers = {
        f"{method.upper()} {path}": client.request(method, filled(path, op, values)).status_code
        for path, method, op in operations(demo_server)
        if path not in OPEN
    }
    assert {call: status for call, status in answers.items() if status != 401} == {}


def test_every_operation_refuses_a_role_without_its_permission(demo_server: Served) -> None:
    values = real_values(demo_server)
    walked = 0
    wrong = {}
    for path, method, op in operations(demo_server):
        permission = op.get("x-valuegap-permission")
        lacking = [role for role in BY_ROLE if permission not in GRANTS[role]]
        if path in OPEN or not lacking:
            continue  # `read`: every role has it
        client = demo_server.client(BY_ROLE[lacking[0]])
        response = client.request(method, filled(path, op, values))
        walked += 1
        if response.status_code != 403:
            wrong[f"{method.upper()} {path} as {lacking[0]}"] = response.status_code
    assert wrong == {}
    assert walked >= 10


def test_a_contributor_is_refused_another_units_initiative(demo_server: Served) -> None:
    """Every operation on one initiative that needs no body and that a contributor's role
    allows, as ana.costa (marketing) on fraud-detection (risk): refused (403, or 404 as if
    it were not there). Her own unit's loc-qa she may read."""
    values = real_values(demo_server)
    client = demo_server.client(BY_ROLE["contributor"])
    other = dict.fromkeys(INITIATIVE_PARAMETERS, OTHER_UNITS_INITIATIVE)
    refused, own = {}, {}
    for path, method, op in operations(demo_server):
        parameters = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
        body = op.get("requestBody", {}).get("required", False)
        allowed = op.get("x-valuegap-permission") in GRANTS["contributor"]
        if not parameters & INITIATIVE_PARAMETERS or body or not allowed:
            continue
        call = f"{method.upper()} {path}"
        refused[call] = client.request(method, filled(path, op, values, **other)).status_code
        if method == "get":
            own[call] = client.get(filled(path, op, values)).status_code
    assert refused
    assert {call: status for call, status in refused.items() if status not in (403, 404)} == {}
    assert {call: status for call, status in own.items() if status != 200} == {}
