"""Every operation of the OpenAPI schema, walked: none but sign-in and /healthz is open, each
declares its permission, answers 401 without credentials and 403 to a role without that
permission, and a contributor is refused another business unit's initiative. Generic: a route
added anywhere is walked too. Its path parameters get real values from the demo, told by the
parameter's name or by the path segment before it (``/initiatives/{id}``); a parameter of
another kind needs a line in ``NAMES`` or ``SEGMENTS``."""

from __future__ import annotations

from typing import Any

from valuegap.model.roles import GRANTS

from .conftest import Server

OPEN = {"/healthz", "/login", "/logout"}
METHODS = {"get", "put", "post", "patch", "delete"}
# A demo user of each role but admin.
BY_ROLE = {
    "viewer": "exec.board",
    "contributor": "ana.costa",  # marketing
    "finance": "finn.berg",
    "governance": "grace.okafor",
}
# What a path parameter names: by its name, else by the path's segment before it.
NAMES = {
    "initiative_id": "initiative",
    "initiative": "initiative",
    "agent_id": "agent",
    "agent": "agent",
    "metric_id": "metric",
    "metric": "metric",
    "name": "user",
    "user": "user",
    "token_id": "token",
    "control": "control",
    "approval_id": "approval",
    "unit": "business_unit",
    "budget_id": "budget",
}
SEGMENTS = {
    "initiatives": "initiative",
    "agents": "agent",
    "metrics": "metric",
    "users": "user",
    "tokens": "token",
    "controls": "control",
    "approvals": "approval",
    "budgets": "budget",
}
# Initiatives of units that are not ana.costa's (marketing).
OTHER_UNITS = {"initiative": "fraud-detection", "agent": "refund-agent"}  # risk; customer-service


def kind_of(path: str, name: str) -> str | None:
    before = path.partition(f"{{{name}}}")[0].rstrip("/").rpartition("/")[2]
    return NAMES.get(name) or SEGMENTS.get(before)


def real_values(server: Server) -> dict[str, str]:
    """A real value of each kind of path parameter, from the demo."""
    ledger = server.ledger
    loc_qa = next(i for i in ledger.portfolio.initiatives() if i.id == "loc-qa")
    return {
        "initiative": "loc-qa",  # marketing: ana.costa's
        "agent": "refund-agent",
        "metric": loc_qa.metrics[0].id,
        "user": "exec.board",
        "token": ledger.governance.credentials.tokens("exec.board")[0].id,
        "control": "sops_updated",
        "approval": "1",
        "business_unit": "marketing",  # ana.costa's
        "budget": "case:loc-qa",
    }


def operations(server: Server) -> list[tuple[str, str, dict[str, Any]]]:
    schema = server.client(None).get("/api/v1/openapi.json").json()
    return [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def path_kinds(path: str, operation: dict[str, Any]) -> dict[str, str | None]:
    """Each path parameter's name, and what it names."""
    return {
        p["name"]: kind_of(path, p["name"])
        for p in operation.get("parameters", [])
        if p["in"] == "path"
    }


def filled(path: str, operation: dict[str, Any], values: dict[str, str]) -> str:
    """``path`` with its parameters filled: a value of their kind, else the first of their
    enumerated values."""
    enums = {p["name"]: p.get("schema", {}).get("enum") for p in operation.get("parameters", [])}
    for name, kind in path_kinds(path, operation).items():
        enum = enums.get(name)
        value = values.get(kind or "") or (enum[0] if enum else None)
        assert value is not None, f"{path}: say what {{{name}}} names, in NAMES or SEGMENTS"
        path = path.replace(f"{{{name}}}", value)
    return path


def test_every_operation_declares_its_permission_and_only_sign_in_is_open(
    demo_server: Server,
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


def test_every_operation_refuses_a_caller_without_credentials(demo_server: Server) -> None:
    values = real_values(demo_server)
    client = demo_server.client(None)
    answers = {
        f"{method.upper()} {path}": client.request(method, filled(path, op, values)).status_code
        for path, method, op in operations(demo_server)
        if path not in OPEN
    }
    assert {call: status for call, status in answers.items() if status != 401} == {}


def test_every_operation_refuses_a_role_without_its_permission(demo_server: Server) -> None:
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


def test_a_contributor_is_refused_another_units_initiative(demo_server: Server) -> None:
    """Every operation on one initiative or agent that needs no body or query and that a
    contributor's role allows, as ana.costa (marketing) on another unit's: refused (403, or
    404 as if it were not there). Her own unit's loc-qa she may read."""
    values = real_values(demo_server)
    client = demo_server.client(BY_ROLE["contributor"])
    refused, own = {}, {}
    for path, method, op in operations(demo_server):
        kinds = set(path_kinds(path, op).values())
        body = op.get("requestBody", {}).get("required", False) or any(
            p["required"] for p in op.get("parameters", []) if p["in"] != "path"
        )
        allowed = op.get("x-valuegap-permission") in GRANTS["contributor"]
        if not kinds & set(OTHER_UNITS) or body or not allowed:
            continue
        call = f"{method.upper()} {path}"
        other = client.request(method, filled(path, op, {**values, **OTHER_UNITS}))
        refused[call] = other.status_code
        if method == "get" and "agent" not in kinds:
            own[call] = client.get(filled(path, op, values)).status_code
    assert refused
    assert {call: status for call, status in refused.items() if status not in (403, 404)} == {}
    assert {call: status for call, status in own.items() if status != 200} == {}
