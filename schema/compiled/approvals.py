"""What an approval's relations compile to besides the binder's plain ones (`_TO_ONE`,
`_TO_MANY` in `schema.compiled.bind`): its approvers, named by an array of ids."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import FromClause

from models import sql
from resolvers.compiled import statements
from resolvers.compiled.sql import Expression
from schema.compiled.plan import ListPlan

if TYPE_CHECKING:
    from schema.compiled.bind import Binder


def named_users(binder: Binder, column: str, target: ListPlan, parent: FromClause) -> Expression:
    """The users the parent's array `column` names, in its order, those not found left out
    (`Approval.approvers`: the loader's `load_many`)."""
    organization = binder.principal.organization_id
    return statements.named_rows(
        sql.User,
        binder.object_json(target.item),
        parent.c[column],
        lambda t: [t.c.organization_id == organization],
    )
