"""``/api/v1/agents``: agents' guardrails, the runtime decision on an agent's action, and the
approval an agent waits for.

An agent asks `POST /agents/{id}/authorize` before it acts. `allow`: it acts; `deny`: it does
not; `needs_approval`: the answer names a pending request (`approval_id`, and the `Location`
of `GET /agents/{id}/approvals/{approval_id}`), which the agent polls until a governance user
approves or rejects it. Every decision is in the audit log before it is answered."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from valuegap.governance.agents import AgentApproval, AgentDecision
from valuegap.ledger import Ledger
from valuegap.model.portfolio import AgentSpec
from valuegap.web.answers import DENIED, ERRORS, answer
from valuegap.web.auth import acting, api_router

router = api_router(tags=["agents"], responses=ERRORS)
API = "/api/v1"


class Authorize(BaseModel):
    """The action an agent means to take."""

    action: str
    amount: Decimal | None = Field(default=None, description="In the agent's currency.")
    context: dict[str, str] = Field(default_factory=dict)


class Decide(BaseModel):
    note: str | None = None  # required to reject: why


@router.get("/agents", response_model=list[dict[str, Any]])
def list_agents(ledger: Annotated[Ledger, acting("read")]) -> JSONResponse:
    """The registered agents and their guardrails, as `valuegap agent list --format json`."""
    agents = [i for i in ledger.portfolio.initiatives() if i.agent is not None]
    return answer(
        [
            {
                "id": i.id,
                "stage": i.stage,
                "risk_tier": i.risk_tier,
                **i.agent.model_dump(mode="json"),
            }
            for i in agents
            if i.agent
        ]
    )


@router.put("/agents/{agent_id}", response_model=AgentSpec)
def register_agent(
    agent_id: str, agent: AgentSpec, ledger: Annotated[Ledger, acting("portfolio.write")]
) -> JSONResponse:
    """Set an agent's guardrails (its initiative must be of kind `agent`); past `proposed`,
    only governance or admin changes them."""
    return answer(ledger.agents.register_agent(agent_id, agent))


@router.post("/agents/{agent_id}/authorize", response_model=AgentDecision)
def authorize(
    agent_id: str, body: Authorize, ledger: Annotated[Ledger, acting("agent.act")]
) -> JSONResponse:
    """May the agent take this action now? `decision` is `allow`, `deny` or
    `needs_approval`, with the ids of the `rules` that decided and each rule's result
    (`details`). For `needs_approval`, `approval_id` names the request to poll (also the
    `Location` header); asking again for the same action names the same pending request."""
    decision = ledger.agents.authorize(agent_id, body.action, body.amount, body.context)
    if decision.approval_id is None:
        return answer(decision)
    where = f"{API}/agents/{agent_id}/approvals/{decision.approval_id}"
    return answer(decision, headers={"Location": where})


@router.get("/agents/approvals", response_model=list[AgentApproval])
def list_approvals(
    ledger: Annotated[Ledger, acting("read")],
    status: Annotated[str | None, Query(description="pending | approved | rejected")] = None,
) -> JSONResponse:
    """Approval requests for agents' actions, oldest first."""
    return answer(ledger.agents.approvals(status))


@router.get("/agents/{agent_id}/approvals/{approval_id}", response_model=AgentApproval)
def get_approval(
    agent_id: str, approval_id: int, ledger: Annotated[Ledger, acting("read")]
) -> JSONResponse:
    """An approval request for an agent's action as it stands: `status` is `pending` until a
    governance user approves (`approved`: the agent may act) or rejects it (`rejected`, with
    the `note` saying why)."""
    return answer(ledger.agents.approval(agent_id, approval_id))


@router.post(
    "/agents/{agent_id}/approvals/{approval_id}/approve",
    response_model=AgentApproval,
    responses=DENIED,
)
def approve(
    agent_id: str,
    approval_id: int,
    body: Decide,
    ledger: Annotated[Ledger, acting("approval.decide")],
) -> JSONResponse:
    """Approve a pending request for an agent's action; whoever asked cannot approve it."""
    return answer(ledger.agents.approve_action(agent_id, approval_id, body.note))


@router.post(
    "/agents/{agent_id}/approvals/{approval_id}/reject",
    response_model=AgentApproval,
    responses=DENIED,
)
def reject(
    agent_id: str,
    approval_id: int,
    body: Decide,
    ledger: Annotated[Ledger, acting("approval.decide")],
) -> JSONResponse:
    """Reject a pending request for an agent's action, with a `note` saying why."""
    return answer(ledger.agents.reject_action(agent_id, approval_id, body.note or ""))
