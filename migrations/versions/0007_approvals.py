"""approvals: human approvals, the engines' command log, executions.human_interventions

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 07:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamps() -> list[sa.Column[object]]:
    return [
        sa.Column(name, sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False)
        for name in ("created_at", "updated_at")
    ]


def upgrade() -> None:
    op.add_column(
        "executions",
        sa.Column("human_interventions", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )
    op.create_table(
        "approvals",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("execution_id", sa.Uuid(), nullable=False),
        sa.Column("node_id", sa.String(length=100), nullable=False),
        sa.Column("approvers", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("requested_by_id", sa.Uuid(), nullable=True),
        sa.Column(
            "requested_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "decision", sa.Enum("approve", "reject", name="approval_decision"), nullable=True
        ),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Uuid(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_approvals_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["execution_id"],
            ["executions.id"],
            name=op.f("fk_approvals_execution_id_executions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["users.id"],
            name=op.f("fk_approvals_requested_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["users.id"],
            name=op.f("fk_approvals_decided_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approvals")),
    )
    op.create_index(
        op.f("ix_approvals_execution_id_requested_at"),
        "approvals",
        ["execution_id", "requested_at"],
    )
    op.create_index(
        "ix_approvals_open_approvers",
        "approvals",
        ["approvers"],
        postgresql_using="gin",
        postgresql_where=sa.text("decision IS NULL"),
    )
    op.create_table(
        "execution_commands",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("execution_id", sa.Uuid(), nullable=False),
        sa.Column("agent_id", sa.Uuid(), nullable=False),
        sa.Column("workflow_id", sa.Uuid(), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "approval_decided", "paused", "resumed", "cancelled", name="execution_command_kind"
            ),
            nullable=False,
        ),
        sa.Column("approval_id", sa.Uuid(), nullable=True),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_execution_commands_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["execution_id"],
            ["executions.id"],
            name=op.f("fk_execution_commands_execution_id_executions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_execution_commands_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["approval_id"],
            ["approvals.id"],
            name=op.f("fk_execution_commands_approval_id_approvals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_execution_commands")),
    )
    op.create_index(
        op.f("ix_execution_commands_organization_id_agent_id_id"),
        "execution_commands",
        ["organization_id", "agent_id", "id"],
    )
    op.create_index(
        op.f("ix_execution_commands_organization_id_workflow_id_id"),
        "execution_commands",
        ["organization_id", "workflow_id", "id"],
    )


def downgrade() -> None:
    op.drop_table("execution_commands")
    op.drop_table("approvals")
    op.drop_column("executions", "human_interventions")
    sa.Enum(name="execution_command_kind").drop(op.get_bind(), checkfirst=True)
    sa.Enum(name="approval_decision").drop(op.get_bind(), checkfirst=True)
