"""How many PostgreSQL connections each gateway process may keep.

Every process keeps a pool of `database_pool_size` connections (`flowgate.stores.postgres`),
and `flowgate serve` starts one process per core: 8 cores x 20 is 160 connections, where
PostgreSQL allows 100 by default. Past its limit PostgreSQL refuses a new connection ("too
many clients"), so under load the last processes to open theirs would fail requests with
STORE_UNAVAILABLE while the database itself is idle. `flowgate serve` therefore reads the
server's limit before it starts the processes, and gives each an equal share of what is
free, never more than the setting asks for; a share too small to serve with stops the start
with the figures and what to change, rather than failing requests later."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text

from flowgate.stores.postgres import Postgres

# Left free for what else connects: `flowgate migrate`, an operator's psql, the processes of
# a second deployment starting while this one drains.
HEADROOM = 5
# Below this a process would queue its own requests behind one another (a request's loader
# batches and a compiled statement may each hold one).
MIN_POOL = 2

_LIMITS = text(
    """
    SELECT current_setting('max_connections')::int,
           current_setting('superuser_reserved_connections')::int,
           coalesce(current_setting('reserved_connections', true)::int, 0),
           (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int
    """
)


class ConnectionBudgetError(ValueError):
    """PostgreSQL cannot give every gateway process a pool it could serve with."""


@dataclass(frozen=True)
class Budget:
    """PostgreSQL's connection limit, as read once at start."""

    max_connections: int
    reserved: int  # for superusers and roles granted pg_use_reserved_connections
    in_use: int  # by other clients (not the reading connection)

    @property
    def free(self) -> int:
        return max(0, self.max_connections - self.reserved - self.in_use - HEADROOM)

    def pool_size(self, processes: int, wanted: int) -> int:
        """Each of `processes`' pool: `wanted`, or an equal share of what is free if less;
        ConnectionBudgetError if that share is below `MIN_POOL`."""
        share = min(wanted, self.free // processes)
        if share < min(wanted, MIN_POOL):
            raise ConnectionBudgetError(
                f"PostgreSQL allows {self.max_connections} connections ({self.reserved} "
                f"reserved, {self.in_use} in use, {HEADROOM} kept free): {processes} "
                f"gateway processes would get {share} each. Start fewer (--workers), or raise "
                "PostgreSQL's max_connections, or put a pooler such as PgBouncer in front"
            )
        return share


async def read_budget(postgres: Postgres) -> Budget:
    async with postgres.session() as session:
        limit, superuser, reserved, in_use = (await session.execute(_LIMITS)).one()
    # The reading connection counts itself; it goes back to its pool, closed with it.
    return Budget(limit, superuser + reserved, max(0, in_use - 1))
