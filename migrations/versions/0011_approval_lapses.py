"""approval lapses: when an undecided approval's deadline passed and the gateway acted on it

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 11:30:00

The timeout sweeper acts once on each approval that expires undecided (the run fails, or
resumes when its human node continues on rejection); `lapsed_at` records that it did. The
partial index serves the sweeper's "due and not yet acted on" scan.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Engines are told of an expiry as a command of its own kind. (PostgreSQL 12+ adds an
    # enum value inside a transaction; it is first used by a later one.)
    op.execute("ALTER TYPE execution_command_kind ADD VALUE IF NOT EXISTS 'approval_expired'")
    op.add_column("approvals", sa.Column("lapsed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_approvals_due",
        "approvals",
        ["expires_at"],
        postgresql_where=sa.text(
            "decision IS NULL AND lapsed_at IS NULL AND expires_at IS NOT NULL"
        ),
    )


def downgrade() -> None:
    op.drop_index("ix_approvals_due", table_name="approvals")
    op.drop_column("approvals", "lapsed_at")
    # PostgreSQL cannot drop an enum value: the type is rebuilt without it, and the commands
    # of that kind (the record of expiries) go with it.
    op.execute("DELETE FROM execution_commands WHERE kind = 'approval_expired'")
    op.execute("ALTER TYPE execution_command_kind RENAME TO execution_command_kind_old")
    op.execute(
        "CREATE TYPE execution_command_kind AS ENUM "
        "('approval_decided', 'paused', 'resumed', 'cancelled')"
    )
    op.execute(
        "ALTER TABLE execution_commands ALTER COLUMN kind TYPE execution_command_kind "
        "USING kind::text::execution_command_kind"
    )
    op.execute("DROP TYPE execution_command_kind_old")
