"""token split: prompt and completion tokens summed on each execution

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 09:10:00

`tokens` stays the total. Rows written before the split keep 0 in both parts: their steps
reported totals only, so nothing can be recovered (and 0 + 0 < tokens says so).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for name in ("prompt_tokens", "completion_tokens"):
        op.add_column(
            "executions",
            sa.Column(name, sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        )


def downgrade() -> None:
    op.drop_column("executions", "completion_tokens")
    op.drop_column("executions", "prompt_tokens")
