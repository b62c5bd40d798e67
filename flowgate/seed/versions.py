"""The earlier versions of each workflow (`WorkflowVersion` snapshots), as the update
mutations would have left them: a workflow at version N has snapshots 1..N-1, the first a
draft, each saved between the workflow's creation and its last update."""

from __future__ import annotations

import random
from datetime import timedelta

from flowgate.seed.entities import Doc, WorkflowSeed, content_doc, new_id
from models.documents import WorkflowContent
from models.enums import WorkflowStatus

REVIEW_NODES = {"review", "gate", "publish", "rework"}


def status(workflow: WorkflowSeed, number: int) -> WorkflowStatus:
    drafted = number == 1 or workflow.status is WorkflowStatus.DRAFT
    return WorkflowStatus.DRAFT if drafted else WorkflowStatus.ACTIVE


def build_versions(rng: random.Random, workflows: list[WorkflowSeed]) -> list[Doc]:
    versions: list[Doc] = []
    for workflow in workflows:
        current = workflow.content
        latest = workflow.version
        span = workflow.updated_at - workflow.created_at
        saved = [
            workflow.created_at + span * (number - 1) / (latest - 1) for number in range(1, latest)
        ]
        saved = [moment - timedelta(microseconds=moment.microsecond % 1000) for moment in saved]
        authors = [*current.permissions.owners, *current.permissions.editors]
        # The review step, when there is one, arrived half-way through the history.
        review_from = latest // 2 + 1
        for number in range(1, latest):
            nodes, edges = current.nodes, current.edges
            if number < review_from:
                nodes = [node for node in nodes if node.id not in REVIEW_NODES]
                edges = [edge for edge in edges if edge.target not in REVIEW_NODES]
            # The content as the workflow holds it now, but for what changed since.
            content = WorkflowContent.model_validate(
                {
                    **current.content(),
                    "status": status(workflow, number),
                    "nodes": nodes,
                    "edges": edges,
                    "tags": current.tags[: max(1, len(current.tags) - latest + number)],
                }
            )
            versions.append(
                {
                    "_id": new_id(rng),
                    "workflow_id": workflow.id,
                    "organization_id": workflow.organization_id,
                    "version": number,
                    **content_doc(content),
                    "updated_at": saved[number - 1],
                    # Taken by the change that replaced it: when the next version was saved.
                    "created_at": saved[number] if number < latest - 1 else workflow.updated_at,
                    "created_by": rng.choice(authors),
                }
            )
    return versions
