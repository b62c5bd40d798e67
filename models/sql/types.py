from enum import Enum as PyEnum

from sqlalchemy import Enum


def pg_enum(enum_class: type[PyEnum], name: str) -> Enum:
    """A PostgreSQL enum stored by value (`'admin'`), not by Python member name (`'ADMIN'`)."""
    return Enum(enum_class, name=name, values_callable=lambda members: [m.value for m in members])
