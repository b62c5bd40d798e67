"""execution settings that hold: deadlines, retries, the gateway's own error code

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-03 07:45:00

A run keeps the workflow settings it started under: its deadline (`timeoutSeconds` after it
started, wall-clock) and its `maxRetries`, with the failed attempts per node counted under
the row's lock. Existing rows get no deadline (they ran before timeouts were enforced).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("executions", sa.Column("error_code", sa.String(length=50), nullable=True))
    op.add_column("executions", sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "executions",
        sa.Column("max_retries", sa.Integer(), server_default=sa.text("3"), nullable=False),
    )
    op.add_column(
        "executions",
        sa.Column(
            "step_failures",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
    )
    op.create_index(
        op.f("ix_executions_deadline_at"),
        "executions",
        ["deadline_at"],
        unique=False,
        postgresql_where=sa.text(
            "deadline_at IS NOT NULL AND status IN ('pending', 'running', 'paused')"
        ),
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_executions_deadline_at"),
        table_name="executions",
        postgresql_where=sa.text(
            "deadline_at IS NOT NULL AND status IN ('pending', 'running', 'paused')"
        ),
    )
    op.drop_column("executions", "step_failures")
    op.drop_column("executions", "max_retries")
    op.drop_column("executions", "deadline_at")
    op.drop_column("executions", "error_code")
