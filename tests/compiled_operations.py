"""Seeded random operations over the compilable part of the schema (and a little beyond it, so
that fallback is exercised too): selections, aliases, fragments, arguments, filters, orders,
pages, cursors and variables. `operation(rng, pools)` returns (query, variables); the same
seed gives the same operations, so a failure names the operation it reproduces with."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

AGENT_SCALARS = [
    "id",
    "name",
    "description",
    "status",
    "category",
    "configuration",
    "capabilities",
    "createdAt",
    "updatedAt",
    "lastExecutionAt",
    "executionCount",
    "deletedAt",
    "__typename",
]
EXECUTION_SCALARS = [
    "id",
    "status",
    "startedAt",
    "endedAt",
    "durationMs",
    "input",
    "result",
    "error",
    "aiProvider",
    "aiCalls",
    "tokens",
    "cost",
    "__typename",
]
USER_SCALARS = ["id", "email", "name", "role", "createdAt", "__typename"]
# MongoDB fields the planner compiles (`schema.compiled.documents`), with their sub-selections
# (`progress`: counts of the row, the current node of the trace).
NODE_FIELDS = ["id", "type", "label", "position { x y }", "data", "__typename"]
EDGE_FIELDS = ["source", "target", "condition", "__typename"]
FLOWCHART_FIELDS = [
    "id",
    "version",
    "updatedAt",
    "__typename",
    "metadata { title description layout }",
    "nodes",
    "connections",
]
WORKFLOW_FIELDS = [
    "id",
    "version",
    "name",
    "description",
    "status",
    "tags",
    "category",
    "createdAt",
    "updatedAt",
    "__typename",
    "settings { timeoutSeconds maxRetries concurrency notifyOnFailure notifyOnSuccess"
    " notificationChannels }",
    "permissions { ownerIds editorIds viewerIds isPublic __typename }",
    "nodes",
    "edges",
]
STEP_FIELDS = [
    "nodeId",
    "nodeType",
    "status",
    "startedAt",
    "endedAt",
    "durationMs",
    "input",
    "output",
    "error",
    "aiProvider",
    "tokens",
    "cost",
    "__typename",
]
# Execution figures the planner compiles (`schema.compiled.figures`).
STATS_FIELDS = [
    "executions",
    "succeeded",
    "failed",
    "successRate",
    "averageDurationMs",
    "totalCost",
    "totalTokens",
    "lastStartedAt",
    "executionsLast24Hours",
    "__typename",
]
# Fields the planner does not compile: their root field falls back to the resolvers.
AGENT_FALLBACK = ("flowchart { id agent { id } }", "history(first: 1) { action }")
EXECUTION_FALLBACK = ("events(first: 1) { totalCount }", "workflow { id owner { id } }")
# Approvals (`Execution.approvals`, their state at the request's time too: `status`, `waitMs`),
# conversations (`Agent.conversations`, the roots) and projects, compiled
# (`schema.compiled.bind`); what the planner leaves to the resolvers.
APPROVAL_SCALARS = [
    "id",
    "nodeId",
    "message",
    "requestedAt",
    "expiresAt",
    "decidedAt",
    "decision",
    "comment",
    "status",
    "waitMs",
    "__typename",
]
CONVERSATION_SCALARS = [
    "id",
    "title",
    "status",
    "createdAt",
    "updatedAt",
    "lastMessageAt",
    "messageCount",
    "deletedAt",
    "__typename",
]
# A conversation's messages, last message, branches and the message it forked from
# (`schema.compiled.messages`), compiled; what the planner leaves to the resolvers.
MESSAGE_SCALARS = [
    "id",
    "role",
    "content",
    "status",
    "model",
    "provider",
    "cost",
    "responseTimeMs",
    "error",
    "createdAt",
    "finishedAt",
    "usage { prompt completion total __typename }",
    "toolCalls { id callId toolName server arguments result status durationMs cost startedAt"
    " finishedAt __typename }",
    "attachments { id name mediaType size checksum storageUrl __typename }",
    "__typename",
]
MESSAGE_FALLBACK = "parentId"
PROJECT_SCALARS = [
    "id",
    "name",
    "description",
    "repositoryUrl",
    "localPath",
    "framework",
    "language",
    "status",
    "createdAt",
    "updatedAt",
    "__typename",
]
CONVERSATION_ORDER = ("UPDATED_AT", "CREATED_AT")
CONVERSATION_STATUS = ("ACTIVE", "ARCHIVED")
PROJECT_STATUS = ("ACTIVE", "ARCHIVED", "DELETED")
PROGRESS_FIELDS = ["nodesDone", "nodesTotal", "percent", "currentNode", "__typename"]
AGENT_ORDER = ("CREATED_AT", "UPDATED_AT", "NAME", "LAST_EXECUTION_AT", "EXECUTION_COUNT")
EXECUTION_ORDER = ("STARTED_AT", "DURATION", "COST", "TOKENS")
AGENT_STATUS = ("ACTIVE", "INACTIVE", "RUNNING", "PAUSED")
EXECUTION_STATUS = ("PENDING", "RUNNING", "PAUSED", "SUCCEEDED", "FAILED", "CANCELLED")
CATEGORIES = ("support", "research", "sales", "operations", "engineering", "finance")
SIZES = (0, 1, 2, 3, 5, 10, 20, 101, -1)
BAD_CURSOR = "bm90IGEgY3Vyc29y"


@dataclass
class Pools:
    """Ids and cursors seen in earlier answers, for by-id fields and `after`/`before`."""

    ids: list[str] = field(default_factory=lambda: ["QWdlbnQ6bm9wZQ", "not-an-id"])
    cursors: list[str] = field(default_factory=lambda: [BAD_CURSOR])

    def learn(self, value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "id" and isinstance(item, str):
                    self.ids.append(item)
                elif key in ("cursor", "endCursor", "startCursor") and isinstance(item, str):
                    self.cursors.append(item)
                else:
                    self.learn(item)
        elif isinstance(value, list):
            for item in value:
                self.learn(item)


class Builder:
    def __init__(self, rng: random.Random, pools: Pools) -> None:
        self.rng = rng
        self.pools = pools
        self.variables: dict[str, Any] = {}
        self.definitions: list[str] = []
        self.fragments: list[str] = []
        self.aliases = 0

    def name(self, field: str) -> str:
        if self.aliases < 8 and self.rng.random() < 0.15:
            self.aliases += 1
            return f"{field}{self.aliases}: {field}"
        return field

    def argument(self, name: str, type_: str, literal: str, value: Any) -> str:
        """`name: literal`, or `name: $v` with the value as a variable."""
        if self.rng.random() < 0.4:
            variable = f"v{len(self.variables)}"
            self.variables[variable] = value
            self.definitions.append(f"${variable}: {type_}")
            return f"{name}: ${variable}"
        return f"{name}: {literal}"

    def pick(self, options: tuple[str, ...] | list[str], low: int = 1) -> list[str]:
        return self.rng.sample(list(options), self.rng.randint(low, min(len(options), 6)))

    def wrap(self, type_: str, fields: str) -> str:
        roll = self.rng.random()
        if roll < 0.15:
            name = f"F{len(self.fragments)}"
            self.fragments.append(f"fragment {name} on {type_} {{ {fields} }}")
            return f"...{name}"
        if roll < 0.25:
            return f"... on {type_} {{ {fields} }}"
        return fields

    def agent(self, depth: int) -> str:
        fields = [self.name(f) for f in self.pick(AGENT_SCALARS)]
        if self.rng.random() < 0.3:
            fields.append(f"{self.name('owner')} {{ {' '.join(self.pick(USER_SCALARS))} }}")
        if depth < 2 and self.rng.random() < 0.4:
            connection = self.connection("Execution", depth + 1)
            fields.append(f"{self.name('executions')}{self.nested_args()} {connection}")
        if self.rng.random() < 0.25:
            fields.append(f"{self.name('flowchart')} {{ {self.document(FLOWCHART_FIELDS)} }}")
        if self.rng.random() < 0.25:
            picked = " ".join(self.name(f) for f in self.pick(STATS_FIELDS))
            fields.append(f"{self.name('stats')} {{ {self.wrap('ExecutionStats', picked)} }}")
        if depth < 2 and self.rng.random() < 0.25:
            connection = self.connection("Conversation", depth + 1)
            fields.append(f"{self.name('conversations')}{self.nested_first()} {connection}")
        if self.rng.random() < 0.05:
            fields.append(self.rng.choice(AGENT_FALLBACK))
        return self.wrap("Agent", " ".join(fields))

    def user(self, depth: int = 2) -> str:
        fields = self.pick(USER_SCALARS)
        if depth < 2 and self.rng.random() < 0.2:
            connection = self.connection("Conversation", depth + 1)
            fields.append(f"{self.name('conversations')}{self.nested_first()} {connection}")
        return " ".join(fields)

    def nested_first(self) -> str:
        """`(first: n)` of a parent's conversations, or nothing (the default)."""
        if self.rng.random() < 0.3:
            return ""
        size = self.rng.choice(SIZES[:-2]) if self.rng.random() < 0.95 else 101
        return f"({self.argument('first', 'Int!', str(size), size)})"

    def approval(self, depth: int) -> str:
        fields = [self.name(f) for f in self.pick(APPROVAL_SCALARS)]
        if self.rng.random() < 0.3:
            fields.append(f"{self.name('decidedBy')} {{ {self.user()} }}")
        if self.rng.random() < 0.3:
            fields.append(f"{self.name('approvers')} {{ {self.user()} }}")
        if depth < 2 and self.rng.random() < 0.2:
            fields.append(f"{self.name('execution')} {{ {self.execution(depth + 1)} }}")
        return self.wrap("Approval", " ".join(fields))

    def conversation(self, depth: int) -> str:
        fields = [self.name(f) for f in self.pick(CONVERSATION_SCALARS)]
        if depth < 2 and self.rng.random() < 0.25:
            fields.append(f"{self.name('agent')} {{ {self.agent(depth + 1)} }}")
        if self.rng.random() < 0.25:
            fields.append(f"{self.name('user')} {{ {self.user(depth + 1)} }}")
        if self.rng.random() < 0.3:
            fields.append(f"{self.name('project')} {{ {self.project(depth + 1)} }}")
        if depth < 2 and self.rng.random() < 0.15:
            fields.append(f"{self.name('parent')} {{ {self.conversation(depth + 1)} }}")
        if self.rng.random() < 0.25:
            fields.append(f"{self.name('lastMessage')} {{ {self.message()} }}")
        if depth < 2 and self.rng.random() < 0.3:
            connection = self.connection("Message", depth + 1)
            fields.append(f"{self.name('messages')}{self.message_args()} {connection}")
        if depth < 2 and self.rng.random() < 0.1:
            fields.append(f"{self.name('branches')} {{ {self.conversation(depth + 1)} }}")
        if self.rng.random() < 0.1:
            fields.append(f"{self.name('forkedFrom')} {{ {self.message()} }}")
        return self.wrap("Conversation", " ".join(fields))

    def message(self, depth: int = 2) -> str:
        fields = [self.name(f) if " " not in f else f for f in self.pick(MESSAGE_SCALARS)]
        if self.rng.random() < 0.05:
            fields.append(MESSAGE_FALLBACK)
        return self.wrap("Message", " ".join(fields))

    def message_args(self) -> str:
        """A page of messages: the oldest (`first`/`after`), the newest (`last`/`before`) or
        the default; a cursor seen before (of a message, or of something else: refused)."""
        if self.rng.random() < 0.2:
            return ""
        backward = self.rng.random() < 0.5
        size = self.rng.choice(SIZES[:-2]) if self.rng.random() < 0.95 else 101
        args = [self.argument("last" if backward else "first", "Int", str(size), size)]
        if self.rng.random() < 0.3:
            cursor = self.rng.choice(self.pools.cursors)
            name = "before" if backward else "after"
            args.append(self.argument(name, "String", f'"{cursor}"', cursor))
        return f"({', '.join(args)})"

    def project(self, depth: int) -> str:
        fields = [self.name(f) for f in self.pick(PROJECT_SCALARS)]
        if self.rng.random() < 0.3:
            fields.append(f"{self.name('owner')} {{ {self.user()} }}")
        if depth < 2 and self.rng.random() < 0.3:
            connection = self.connection("Conversation", depth + 1)
            fields.append(f"{self.name('conversations')}{self.nested_first()} {connection}")
        if depth < 2 and self.rng.random() < 0.25:
            fields.append(f"{self.name('agents')} {{ {self.agent(depth + 1)} }}")
        return self.wrap("Project", " ".join(fields))

    def document(self, fields: list[str]) -> str:
        """A selection of a MongoDB object: scalars, sub-objects, and graph nodes or edges."""
        picked = []
        for name in self.pick(fields):
            if name == "nodes":
                picked.append(f"{self.name(name)} {{ {' '.join(self.pick(NODE_FIELDS))} }}")
            elif name in ("edges", "connections"):
                picked.append(f"{self.name(name)} {{ {' '.join(self.pick(EDGE_FIELDS))} }}")
            else:
                picked.append(self.name(name) if " " not in name else name)
        return " ".join(picked)

    def execution(self, depth: int) -> str:
        fields = [self.name(f) for f in self.pick(EXECUTION_SCALARS)]
        if depth < 2 and self.rng.random() < 0.3:
            fields.append(f"{self.name('agent')} {{ {self.agent(depth + 1)} }}")
        if self.rng.random() < 0.15:
            fields.append(f"{self.name('startedBy')} {{ {' '.join(self.pick(USER_SCALARS))} }}")
        if self.rng.random() < 0.2:
            fields.append(f"{self.name('steps')} {{ {' '.join(self.pick(STEP_FIELDS))} }}")
        if self.rng.random() < 0.2:
            picked = " ".join(self.name(f) for f in self.pick(PROGRESS_FIELDS))
            fields.append(f"{self.name('progress')} {{ {picked} }}")
        if self.rng.random() < 0.2:
            selection = self.document(WORKFLOW_FIELDS)
            fields.append(f"{self.name('workflow')} {{ {self.wrap('Workflow', selection)} }}")
        if self.rng.random() < 0.2:
            fields.append(f"{self.name('approvals')} {{ {self.approval(depth + 1)} }}")
        if self.rng.random() < 0.05:
            fields.append(self.rng.choice(EXECUTION_FALLBACK))
        return self.wrap("Execution", " ".join(fields))

    def connection(self, type_: str, depth: int) -> str:
        nodes = {
            "Agent": self.agent,
            "Execution": self.execution,
            "Project": self.project,
            "Message": self.message,
            "Approval": self.approval,
        }
        node = nodes.get(type_, self.conversation)(depth)
        edge = self.pick(["cursor", f"node {{ {node} }}", "__typename"])
        if not any(part.startswith("node") for part in edge):
            edge.append(f"node {{ {node} }}")
        parts = [f"{self.name('edges')} {{ {' '.join(edge)} }}"]
        if self.rng.random() < 0.6:
            parts.append(self.name("totalCount"))
        if self.rng.random() < 0.5:
            info = self.pick(
                ["hasNextPage", "hasPreviousPage", "startCursor", "endCursor", "__typename"]
            )
            parts.append(f"pageInfo {{ {' '.join(info)} }}")
        if self.rng.random() < 0.1:
            parts.append("__typename")
        self.rng.shuffle(parts)
        return "{ " + " ".join(parts) + " }"

    def nested_args(self) -> str:
        args = []
        if self.rng.random() < 0.7:
            size = self.rng.choice(SIZES[:-2]) if self.rng.random() < 0.95 else 101
            args.append(self.argument("first", "Int!", str(size), size))
        if self.rng.random() < 0.4:
            args.append(self.execution_filter())
        if self.rng.random() < 0.4:
            args.append(self.order(EXECUTION_ORDER, "ExecutionOrder"))
        return f"({', '.join(args)})" if args else ""

    def order(self, fields: tuple[str, ...], type_: str) -> str:
        field_, direction = self.rng.choice(fields), self.rng.choice(("ASC", "DESC"))
        literal = f"{{field: {field_}, direction: {direction}}}"
        return self.argument("orderBy", type_, literal, {"field": field_, "direction": direction})

    def execution_filter(self) -> str:
        value: dict[str, Any] = {}
        if self.rng.random() < 0.5:
            value["status"] = self.rng.sample(EXECUTION_STATUS, self.rng.randint(1, 3))
        if self.rng.random() < 0.3:
            low = self.rng.choice((0, 1000, 20000))
            value["durationMs"] = {"min": low, "max": low + self.rng.choice((5000, 60000, -1))}
        if self.rng.random() < 0.3:
            value["started"] = {"from": f"2026-11-{self.rng.randint(1, 28):02d}T00:00:00Z"}
        if self.rng.random() < 0.2:
            value["errorContains"] = self.rng.choice(("time", "rate", "%", "x"))
        return self.argument("filter", "ExecutionFilter", _literal(value), value)

    def agent_filter(self) -> str:
        value: dict[str, Any] = {}
        if self.rng.random() < 0.5:
            value["status"] = self.rng.sample(AGENT_STATUS, self.rng.randint(1, 2))
        if self.rng.random() < 0.3:
            value["category"] = self.rng.sample(CATEGORIES, 2)
        if self.rng.random() < 0.3:
            value["nameContains"] = self.rng.choice(("a", "re", "bot", "_", "Z"))
        if self.rng.random() < 0.2:
            value["created"] = {"from": "2026-01-01T00:00:00Z", "to": "2026-11-15T00:00:00Z"}
        return self.argument("filter", "AgentFilter", _literal(value), value)

    def page_args(self) -> list[str]:
        args = []
        backward = self.rng.random() < 0.25
        size = self.rng.choice(SIZES)
        args.append(self.argument("last" if backward else "first", "Int", str(size), size))
        if self.rng.random() < 0.35 and self.pools.cursors:
            cursor = self.rng.choice(self.pools.cursors)
            name = "before" if backward else "after"
            args.append(self.argument(name, "String", f'"{cursor}"', cursor))
        return args

    def conversation_filter(self) -> str:
        value: dict[str, Any] = {}
        if self.rng.random() < 0.4:
            value["status"] = self.rng.sample(CONVERSATION_STATUS, self.rng.randint(1, 2))
        if self.rng.random() < 0.3:
            value["titleContains"] = self.rng.choice(("a", "re", "%", "Z"))
        if self.rng.random() < 0.3:
            value["includeDeleted"] = self.rng.random() < 0.5
        if self.rng.random() < 0.2:
            value["updatedFrom"] = f"2026-{self.rng.randint(1, 11):02d}-01T00:00:00Z"
        return self.argument("filter", "ConversationFilter", _literal(value), value)

    def root(self) -> str:
        kind = self.rng.choice(
            ("agents", "executions") * 2
            + ("agent", "execution", "node", "conversations", "conversation", "project")
            + ("projects", "pendingApprovals")
        )
        if kind == "node":
            global_id = self.rng.choice(self.pools.ids)
            argument = self.argument("id", "ID!", f'"{global_id}"', global_id)
            body = [
                self.name("id"),
                "__typename",
                f"... on Agent {{ {self.agent(0)} }}",
                f"... on Execution {{ {self.execution(0)} }}",
                f"... on Conversation {{ {self.conversation(0)} }}",
                f"... on Project {{ {self.project(0)} }}",
                f"... on User {{ {self.user(0)} }}",
            ]
            if self.rng.random() < 0.2:
                body.append("... on Workflow { name }")  # not compiled: falls back
            self.rng.shuffle(body)
            return f"{self.name(kind)}({argument}) {{ {' '.join(body)} }}"
        if kind in ("agent", "execution", "conversation", "project"):
            global_id = self.rng.choice(self.pools.ids)
            argument = self.argument("id", "ID!", f'"{global_id}"', global_id)
            by_id = {
                "agent": self.agent,
                "execution": self.execution,
                "conversation": self.conversation,
                "project": self.project,
            }
            return f"{self.name(kind)}({argument}) {{ {by_id[kind](0)} }}"
        if kind == "pendingApprovals":  # forward only, from the start: its own cursors
            size = self.rng.choice(SIZES)
            first = self.argument("first", "Int", str(size), size)
            return f"{self.name(kind)}({first}) {self.connection('Approval', 0)}"
        args = self.page_args()
        if kind == "conversations":
            if self.rng.random() < 0.5:
                args.append(self.conversation_filter())
            if self.rng.random() < 0.5:
                args.append(self.order(CONVERSATION_ORDER, "ConversationOrder"))
            return f"{self.name(kind)}({', '.join(args)}) {self.connection('Conversation', 0)}"
        if kind == "projects":
            if self.rng.random() < 0.5:
                statuses = self.rng.sample(PROJECT_STATUS, self.rng.randint(1, 2))
                literal = "[" + ", ".join(statuses) + "]"
                args.append(self.argument("status", "[ProjectStatus!]", literal, statuses))
            return f"{self.name(kind)}({', '.join(args)}) {self.connection('Project', 0)}"
        if self.rng.random() < 0.5:
            args.append(self.agent_filter() if kind == "agents" else self.execution_filter())
        if self.rng.random() < 0.6:
            order = AGENT_ORDER if kind == "agents" else EXECUTION_ORDER
            args.append(self.order(order, "AgentOrder" if kind == "agents" else "ExecutionOrder"))
        type_ = "Agent" if kind == "agents" else "Execution"
        return f"{self.name(kind)}({', '.join(args)}) {self.connection(type_, 0)}"


@dataclass
class Operation:
    query: str
    variables: dict[str, Any]
    roots: int


def operation(rng: random.Random, pools: Pools) -> Operation:
    builder = Builder(rng, pools)
    roots = [builder.root() for _ in range(1 if rng.random() < 0.8 else 2)]
    if len(roots) == 2:  # two root fields need different response keys
        head, _, rest = roots[1].partition("(")
        roots[1] = f"second: {head.split(': ')[-1]}({rest}"
    definitions = f"({', '.join(builder.definitions)})" if builder.definitions else ""
    query = f"query Generated{definitions} {{ {' '.join(roots)} }}"
    return Operation("\n".join([query, *builder.fragments]), builder.variables, len(roots))


def _literal(value: Any) -> str:
    """A GraphQL literal of a JSON-like value (enum names and field names unquoted)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, str) and value in (*AGENT_STATUS, *EXECUTION_STATUS, *CONVERSATION_STATUS):
        return value
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value).lower() if isinstance(value, bool) else str(value)
