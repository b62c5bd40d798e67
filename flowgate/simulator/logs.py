"""The simulated engine's log lines (`appendExecutionLog`): what a real engine writes as it
works, so that the demo's event logs hold `LOG` events next to the steps."""

from __future__ import annotations

from typing import Any

from flowgate.simulator.gateway import Gateway

LOG = """
mutation SimulatorLog($id: ID!, $message: String!, $level: LogLevel, $nodeId: String,
                      $data: JSON) {
  appendExecutionLog(executionId: $id, message: $message, level: $level, nodeId: $nodeId,
                     data: $data) {
    __typename
    ... on Error { code message }
  }
}
"""


async def append_log(
    gateway: Gateway,
    execution_id: str,
    level: str,
    message: str,
    *,
    node_id: str | None = None,
    data: dict[str, Any] | None = None,
) -> bool:
    """Whether the line was taken: a run that ended meanwhile refuses it, and a lost log
    line is no reason to stop a run, so the caller goes on either way."""
    variables = {
        "id": execution_id,
        "message": message,
        "level": level,
        "nodeId": node_id,
        "data": data,
    }
    answer = await gateway.mutate("appendExecutionLog", LOG, variables)
    return bool(answer["__typename"] == "AppendExecutionLogPayload")
