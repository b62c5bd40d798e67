"""The query shapes Q0..Q6 of issue 8, as each target spells them.

Flowgate and the floor take the same request body (the floor reads only `operationName` and
`variables`, and answers with the same JSON shape Flowgate does). PostGraphile v4 names the
same data differently (`allAgents`, `executionsByAgentId`, enum orderings), so it gets its
own text for the shapes it can answer: Q0-Q4, relational parts only (no steps: they live in
MongoDB).

Orderings are explicit everywhere (agents by name then id, executions newest first), so that
every target returns the same rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

EXECUTION_FIELDS = "id status startedAt durationMs cost"
STEP_FIELDS = "nodeId status durationMs"


def _agents_page(name: str, first: int, execution_extra: str = "", agent_extra: str = "") -> str:
    return f"""query {name} {{
  agents(first: {first}, orderBy: {{field: NAME, direction: ASC}}) {{
    totalCount
    edges {{ node {{
      id name status{agent_extra}
      executions(first: 10) {{
        totalCount
        edges {{ node {{ {EXECUTION_FIELDS}{execution_extra} }} }}
      }}
    }} }}
  }}
}}"""


def _postgraphile_page(name: str, first: int) -> str:
    # Scoped as Flowgate scopes its principal: one organization, live agents only
    # (a `null` in a v4 condition means IS NULL).
    return f"""query {name}($org: UUID!) {{
  allAgents(first: {first}, orderBy: [NAME_ASC, ID_ASC],
            condition: {{organizationId: $org, deletedAt: null}}) {{
    totalCount
    nodes {{
      id name status
      executionsByAgentId(first: 10, orderBy: [STARTED_AT_DESC, ID_DESC]) {{
        totalCount
        nodes {{ {EXECUTION_FIELDS} }}
      }}
    }}
  }}
}}"""


AGENT_FIELDS = "id name status category description executionCount createdAt"

FLOWGATE: dict[str, str] = {
    "Q0": "query Q0 { __typename }",
    "Q1": f"query Q1($id: ID!) {{ agent(id: $id) {{ {AGENT_FIELDS} }} }}",
    "Q2": _agents_page("Q2", 10),
    "Q3": _agents_page("Q3", 100),
    "Q4": _agents_page("Q4", 20, execution_extra=f" steps {{ {STEP_FIELDS} }}"),
    "Q5": _agents_page(
        "Q5",
        10,
        execution_extra=" workflow { id name }",
        agent_extra=" flowchart { id version nodes { id type label } }",
    ),
    "Q6": """query Q6($since: DateTime!, $until: DateTime!) {
  dashboardStats(since: $since, until: $until) {
    totalExecutions successRate durationP50Ms durationP95Ms totalCost totalTokens
    byStatus { status count }
    byProvider { provider executions cost tokens }
    perDay { day total succeeded failed }
  }
}""",
}

POSTGRAPHILE: dict[str, str] = {
    "Q0": "query Q0 { __typename }",
    "Q1": f"query Q1($id: UUID!) {{ agentById(id: $id) {{ {AGENT_FIELDS} }} }}",
    "Q2": _postgraphile_page("Q2", 10),
    "Q3": _postgraphile_page("Q3", 100),
    # Q4 without steps: PostGraphile sees only PostgreSQL.
    "Q4": _postgraphile_page("Q4", 20),
}

# The floor answers these (bench/floor.py); Q4 with its steps, from MongoDB.
FLOOR_SHAPES = ("Q0", "Q1", "Q2", "Q3", "Q4")

ALL_SHAPES = ("Q0", "Q1", "Q2", "Q3", "Q4", "Q5", "Q6")

# The shapes a member's answers are checked for (`Fixture.member_expected`): not Q6, whose
# figures over the member's executions are not computed here.
MEMBER_SHAPES = ("Q0", "Q1", "Q2", "Q3", "Q4", "Q5")

DESCRIPTIONS = {
    "Q0": "`{ __typename }`",
    "Q1": "one agent by id",
    "Q2": "10 agents x 10 executions",
    "Q3": "100 agents x 10 executions",
    "Q4": "20 agents x 10 executions x steps",
    "Q5": "Q2 + flowchart + workflow (both stores)",
    "Q6": "`dashboardStats`, 30 days",
}


@dataclass
class Fixture:
    """What the variables and the expected answers of the shapes depend on."""

    organization_id: str
    agent_uuid: str
    agent_global_id: str
    since: str
    until: str
    # shape -> the expected object counts (see bench.check.count_objects)
    expected: dict[str, dict[str, int]] = field(default_factory=dict)
    # the same, as the member (`bench.stores.MEMBER_EMAIL`) sees them
    member_expected: dict[str, dict[str, int]] = field(default_factory=dict)


def variables(dialect: str, shape: str, fixture: Fixture) -> dict[str, Any]:
    if shape == "Q1":
        return {"id": fixture.agent_uuid if dialect == "postgraphile" else fixture.agent_global_id}
    if shape == "Q6":
        return {"since": fixture.since, "until": fixture.until}
    if dialect == "postgraphile" and shape in ("Q2", "Q3", "Q4"):
        return {"org": fixture.organization_id}
    return {}


def query(dialect: str, shape: str) -> str | None:
    texts = POSTGRAPHILE if dialect == "postgraphile" else FLOWGATE
    if dialect == "floor" and shape not in FLOOR_SHAPES:
        return None
    return texts.get(shape)


def body(dialect: str, shape: str, fixture: Fixture) -> dict[str, Any] | None:
    text = query(dialect, shape)
    if text is None:
        return None
    return {"query": text, "operationName": shape, "variables": variables(dialect, shape, fixture)}
