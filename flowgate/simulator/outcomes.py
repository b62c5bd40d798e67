"""How one simulated step turns out: how long it takes, whether it fails or is skipped, and
what an AI call costs, priced by the model of the agent's configured provider."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

from flowgate.simulator.catalog import Edge, Node, Profile

# Nominal seconds per node type (the demo sleeps this times its time scale).
DURATIONS = {
    "AI": (0.8, 2.0),
    "ACTION": (0.3, 1.2),
    "HUMAN": (1.0, 2.0),
    "DECISION": (0.3, 0.6),
    "TIMER": (0.4, 1.5),
}
# A share of the failure rate per node type: AI calls and integrations fail most.
FAILURE_WEIGHTS = {"AI": 1.0, "ACTION": 1.0, "HUMAN": 0.4, "DECISION": 0.1, "TIMER": 0.1}
TIMER_SKIP_SHARE = 0.1  # a timer whose window is already open is skipped

# Blended USD per 1,000 tokens, by model; by provider for a model not listed.
MODEL_PRICES = {
    "gpt-4o": 0.00625, "gpt-4o-mini": 0.000375, "gpt-4.1": 0.005, "o3-mini": 0.00275,
    "claude-sonnet-4": 0.009, "claude-3-5-haiku": 0.0024, "claude-opus-4": 0.045,
    "gemini-2.5-pro": 0.0056, "gemini-2.0-flash": 0.00025, "gemini-1.5-pro": 0.0031,
    "mistral-large-latest": 0.004, "mistral-small-latest": 0.0004, "codestral-latest": 0.0006,
}  # fmt: skip
PROVIDER_PRICES = {"openai": 0.005, "anthropic": 0.009, "google": 0.003, "mistral": 0.002}
DEFAULT_PRICE = 0.004

ERRORS = {
    "AI": (
        "{provider} API error 429: rate limit exceeded for {model}",
        "{provider} API error 529: overloaded, retry later",
        "request to {provider} timed out after 60s",
        "output failed schema validation: missing field 'answer'",
    ),
    "ACTION": ("HTTP 502 Bad Gateway from https://api.partner.example/v2/records",),
    "HUMAN": ("approval timed out after 60 minutes", "reviewer rejected the draft"),
    "DECISION": ("condition evaluation failed: KeyError 'score'",),
    "TIMER": ("scheduler lost the timer after a restart",),
}
# An action node's error by what it does (`data.action`); ERRORS["ACTION"] otherwise.
ACTION_ERRORS = {
    "send_email": "connection refused: smtp.mail.example:587",
    "db_query": "permission denied for table analytics.orders",
    "crm_update": "CRM rejected update: field 'stage' is read-only",
    "slack_message": "Slack API error: channel_not_found",
    "create_ticket": "ticketing API error 409: duplicate ticket",
    "call_agent": "called agent failed: upstream execution ended with status failed",
}
REQUESTS = (
    "Refund for order 4471",
    "Summarize this week's incidents",
    "Qualify the lead from Initech",
    "Check analytics.orders for anomalies",
    "Draft the Q3 launch post",
    "Reconcile invoice INV-20931",
    "Triage the reported phishing email",
)
SOURCE = "flowgate-simulator"  # in every simulated execution's input


@dataclass
class Outcome:
    status: str  # SUCCEEDED, FAILED or SKIPPED
    duration_ms: int
    input: dict[str, Any]
    output: dict[str, Any] | None = None
    error: str | None = None
    ai_provider: str | None = None
    tokens: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0

    def step(self, node_id: str) -> dict[str, Any]:
        """The `StepInput` that reports this outcome."""
        return {
            "nodeId": node_id,
            "status": self.status,
            "input": self.input,
            "output": self.output,
            "durationMs": self.duration_ms,
            "aiProvider": self.ai_provider,
            "tokens": self.tokens,
            "promptTokens": self.prompt_tokens,
            "completionTokens": self.completion_tokens,
            "cost": self.cost,
            "error": self.error,
        }


def execution_input(rng: random.Random) -> dict[str, Any]:
    return {"request": rng.choice(REQUESTS), "source": SOURCE}


def step_input(node: Node) -> dict[str, Any]:
    data = node.data
    if node.type == "AI":
        return {"prompt": str(data.get("prompt", node.label))[:500]}
    if node.calls is not None:
        return {"agent": node.calls.name}
    if node.type == "ACTION":
        return {"action": str(data.get("action", "run"))}
    return {"label": node.label}


def decide(
    rng: random.Random, node: Node, runner: Profile, next_edge: Edge | None, failure_rate: float
) -> Outcome:
    """The outcome of `node`, run by the agent `runner`, which leaves by `next_edge`."""
    low, high = DURATIONS.get(node.type, (0.3, 2.0))
    duration_ms = int(rng.uniform(low, high) * 1000)
    outcome = Outcome("SUCCEEDED", duration_ms, step_input(node))
    if rng.random() < failure_rate * FAILURE_WEIGHTS.get(node.type, 1.0):
        # A failed call is billed nothing, and usually fails early.
        provider, model = _ai_of(node, runner)
        template = (
            ACTION_ERRORS.get(str(node.data.get("action"))) if node.type == "ACTION" else None
        )
        template = template or rng.choice(ERRORS.get(node.type, ERRORS["ACTION"]))
        outcome.status = "FAILED"
        outcome.error = template.format(provider=provider or "provider", model=model or "model")
        outcome.duration_ms = int(duration_ms * rng.uniform(0.1, 0.8))
        return outcome
    if node.type == "TIMER" and rng.random() < TIMER_SKIP_SHARE:
        outcome.status = "SKIPPED"
        outcome.duration_ms = 0
        outcome.output = {"reason": "window already open"}
        return outcome
    if node.type == "AI" or node.calls is not None:
        _bill(rng, outcome, node, runner)
    elif node.type == "DECISION":
        outcome.output = {
            "condition": next_edge.condition if next_edge else None,
            "next": next_edge.target if next_edge else None,
        }
    elif node.type == "HUMAN":
        outcome.output = {"decision": "approved", "by": node.data.get("assignee_role", "user")}
    elif node.type == "TIMER":
        outcome.output = {"waited_seconds": node.data.get("delay_seconds", 0)}
    else:
        outcome.output = {"ok": True}
    return outcome


def _ai_of(node: Node, runner: Profile) -> tuple[str | None, str | None]:
    """The provider and model a node calls: the called agent's for an agent call, else the
    running agent's configured provider (and the node's own model if it names one of it)."""
    if node.calls is not None:
        return node.calls.provider, node.calls.model
    provider = runner.provider or _text(node.data.get("provider"))
    model = _text(node.data.get("model"))
    if model is None or (runner.provider and node.data.get("provider") != runner.provider):
        model = runner.model or model
    return provider, model


def _bill(rng: random.Random, outcome: Outcome, node: Node, runner: Profile) -> None:
    provider, model = _ai_of(node, runner)
    if provider is None:  # nothing configured: no AI call to report
        outcome.output = {"ok": True}
        return
    median = 2500 if node.calls is not None else 900  # a called agent runs several prompts
    tokens = min(16_000, max(40, int(rng.lognormvariate(math.log(median), 0.7))))
    price = MODEL_PRICES.get(model or "", PROVIDER_PRICES.get(provider, DEFAULT_PRICE))
    outcome.ai_provider = provider
    outcome.tokens = tokens
    # About a third of a call's tokens are the answer; derived rather than drawn, so the
    # random sequence of a simulation is unchanged.
    outcome.completion_tokens = tokens // 3
    outcome.prompt_tokens = tokens - outcome.completion_tokens
    outcome.cost = round(tokens * price / 1000, 6)
    outcome.input = {**outcome.input, "model": model}
    outcome.output = {
        "model": model,
        "tokens": tokens,
        "finish_reason": "stop",
        "completion_tokens": outcome.completion_tokens,
    }


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
