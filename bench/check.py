"""Correctness: a fast wrong answer scores nothing.

Every target's answer to a shape is reduced to object counts (agents, executions, steps, ...)
and compared with counts computed from the database itself (bench.expected). Any GraphQL
error, a missing object or an extra one is a failure."""

from __future__ import annotations

from typing import Any


def _agent_nodes(dialect: str, data: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
    if dialect == "postgraphile":
        page = data["allAgents"]
        return page["totalCount"], page["nodes"]
    page = data["agents"]
    return page["totalCount"], [edge["node"] for edge in page["edges"]]


def _executions(dialect: str, agent: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
    if dialect == "postgraphile":
        page = agent["executionsByAgentId"]
        return page["totalCount"], page["nodes"]
    page = agent["executions"]
    return page["totalCount"], [edge["node"] for edge in page["edges"]]


def count_objects(dialect: str, shape: str, data: dict[str, Any]) -> dict[str, int]:
    """The object counts of one answer's `data` (KeyError/TypeError if its shape is wrong)."""
    if shape == "Q0":
        return {"typename": int(data["__typename"] == "Query")}
    if shape == "Q1":
        agent = data["agentById" if dialect == "postgraphile" else "agent"]
        return {"agents": int(agent is not None and bool(agent["name"]))}
    if shape == "Q6":
        stats = data["dashboardStats"]
        return {"totalExecutions": stats["totalExecutions"], "days": len(stats["perDay"])}
    total, agents = _agent_nodes(dialect, data)
    counts = {"agentsTotal": total, "agents": len(agents), "executions": 0, "executionsTotal": 0}
    if shape == "Q4" and dialect != "postgraphile":
        counts["steps"] = 0
    if shape == "Q5":
        counts["flowcharts"] = counts["workflows"] = 0
    for agent in agents:
        executions_total, executions = _executions(dialect, agent)
        counts["executionsTotal"] += executions_total
        counts["executions"] += len(executions)
        if shape == "Q5":
            counts["flowcharts"] += agent["flowchart"] is not None
        for execution in executions:
            if "steps" in counts:
                counts["steps"] += len(execution["steps"])
            if shape == "Q5":
                counts["workflows"] += execution["workflow"] is not None
    return counts


def expected_for(dialect: str, shape: str, expected: dict[str, dict[str, int]]) -> dict[str, int]:
    counts = dict(expected[shape])
    if dialect == "postgraphile":
        counts.pop("steps", None)  # PostGraphile answers the relational part of Q4 only
    return counts


def problems(
    dialect: str, shape: str, answer: dict[str, Any], expected: dict[str, int] | None
) -> list[str]:
    """What is wrong with one answer (an empty list: nothing). `expected` None: any counts,
    for an answer whose counts are not computed here (a member's)."""
    if answer.get("errors"):
        return [f"errors: {str(answer['errors'])[:300]}"]
    data = answer.get("data")
    if not isinstance(data, dict):
        return ["no data"]
    try:
        counts = count_objects(dialect, shape, data)
    except (KeyError, TypeError, IndexError) as error:
        return [f"unexpected shape: {type(error).__name__}: {error}"]
    if expected is None:
        return []
    return [
        f"{name}: got {counts.get(name)}, expected {value}"
        for name, value in expected.items()
        if counts.get(name) != value
    ] + [f"{name}: not expected" for name in counts if name not in expected]
