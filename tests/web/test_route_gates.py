"""Each router of the server is passed by unless the path can reach one of its routes
(web/route_gates.py); every path still reaches the route it reached before."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from .conftest import AGENT_ACCOUNT, Server

AUTHORIZE = "/api/v1/agents/refund-agent/authorize"


def gates(server: Server) -> list[Any]:
    return [route for route in server.app.router.routes if hasattr(route, "original_router")]


def test_every_router_is_gated(demo_server: Server) -> None:
    routers = gates(demo_server)
    assert len(routers) > 20  # the pages', sign-in's, OTLP's and the API's
    assert all(hasattr(router, "beginnings") for router in routers)


def test_the_agents_routers_gate_holds_its_paths(demo_server: Server) -> None:
    """api/agents.py: GET /agents and GET /agents/approvals are exact paths; the five routes
    with an agent's id all begin /api/v1/agents/."""
    (agents,) = [g for g in gates(demo_server) if "/api/v1/agents" in g.exact]
    assert agents.exact == {"/api/v1/agents", "/api/v1/agents/approvals"}
    assert agents.beginnings == ("/api/v1/agents/",)


def test_paths_reach_their_routes(demo_server: Server) -> None:
    anonymous, agent = demo_server.client(None), demo_server.client(AGENT_ACCOUNT)
    ask = {"action": "issue_refund", "amount": "45.90", "context": {"order_id": "G-1"}}
    assert agent.post(AUTHORIZE, json=ask).json()["decision"] == "allow"
    assert anonymous.post(AUTHORIZE, json=ask).status_code == 401
    assert agent.get(AUTHORIZE).status_code == 405  # the route, another method
    assert agent.post("/api/v1/agentsx", json=ask).status_code == 404
    assert agent.post("/api/v1/agents/refund-agent/authorize/more", json=ask).status_code == 404
    assert demo_server.client().get("/api/v1/agents/approvals").status_code == 200
    assert anonymous.get("/static/app.css").status_code == 200  # a route with a parameter
    assert anonymous.get("/healthz").json() == {"status": "ok"}
    moved = agent.get("/api/v1/agents/", follow_redirects=False)
    assert moved.status_code == 307
    assert moved.headers["location"] == "http://testserver/api/v1/agents"


def test_paths_under_a_root_path(demo_server: Server) -> None:
    """Behind a proxy that serves the server under /ledger, routes match without it."""
    headers = {"Authorization": f"Bearer {demo_server.tokens[AGENT_ACCOUNT]}"}
    client = TestClient(demo_server.app, headers=headers, root_path="/ledger")
    ask = {"action": "issue_refund", "amount": "1500", "context": {"order_id": "G-2"}}
    assert client.post(AUTHORIZE, json=ask).json()["decision"] == "deny"
    assert client.get("/api/v1/me").json()["name"] == AGENT_ACCOUNT
