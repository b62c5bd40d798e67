"""Each gateway process's share of PostgreSQL's connections (`flowgate.stores.budget`): read
from the real server, cut to fit when `flowgate serve` starts more processes than it has
room for at the configured pool size, refused with the figures when even a small pool each
would not fit."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from flowgate.runner import _within_connection_budget
from flowgate.services import Services
from flowgate.settings import Settings
from flowgate.stores.budget import HEADROOM, MIN_POOL, Budget, ConnectionBudgetError, read_budget
from flowgate.workers import worker_environment


async def test_the_budget_is_read_from_the_server(services: Services) -> None:
    # given: the server's own figures
    async with services.postgres.session() as session:
        limit = int((await session.execute(text("SHOW max_connections"))).scalar_one())
        superuser = int(
            (await session.execute(text("SHOW superuser_reserved_connections"))).scalar_one()
        )

    # when
    budget = await read_budget(services.postgres)

    # then: its limit and reservations, and what the tests' own pools hold open
    assert budget.max_connections == limit
    assert budget.reserved >= superuser
    assert 0 <= budget.in_use < limit
    assert budget.free == max(0, limit - budget.reserved - budget.in_use - HEADROOM)


def test_each_process_gets_the_setting_or_an_equal_share_of_what_is_free() -> None:
    # given: 100 connections, 3 reserved, 12 in use: 80 free
    budget = Budget(max_connections=100, reserved=3, in_use=12)
    assert budget.free == 80

    # then: the setting while it fits, else a share (rounded down), for any number of
    # processes down to MIN_POOL each
    assert budget.pool_size(1, 20) == 20
    assert budget.pool_size(4, 20) == 20
    assert budget.pool_size(8, 20) == 10
    assert budget.pool_size(40, 20) == MIN_POOL
    # a setting below the minimum is the user's to make
    assert budget.pool_size(80, 1) == 1


@pytest.mark.parametrize(
    ("budget", "processes"),
    [
        (Budget(max_connections=100, reserved=3, in_use=12), 41),  # 80 // 41 = 1 each
        (Budget(max_connections=100, reserved=3, in_use=95), 1),  # nothing free at all
    ],
)
def test_too_little_room_is_refused_with_the_figures(budget: Budget, processes: int) -> None:
    with pytest.raises(ConnectionBudgetError) as refused:
        budget.pool_size(processes, 20)
    message = str(refused.value)
    assert "allows 100 connections" in message
    assert f"{processes} gateway processes" in message
    assert "--workers" in message
    assert "max_connections" in message


async def test_serve_cuts_each_process_pool_to_its_share(
    services: Services, settings: Settings
) -> None:
    # given: processes that each want more connections than the server has (the tests'
    # other pools open and close theirs meanwhile: the figures move, these bounds do not)
    budget = await read_budget(services.postgres)
    processes = max(1, budget.free // (MIN_POOL + 1))
    wanted = budget.max_connections

    # when
    served = await _within_connection_budget(
        services, settings.model_copy(update={"database_pool_size": wanted}), processes
    )

    # then: each process keeps its share, and the workers are told so
    assert MIN_POOL <= served.database_pool_size < wanted
    assert served.database_pool_size * processes <= budget.max_connections
    assert worker_environment(served)["FLOWGATE_DATABASE_POOL_SIZE"] == str(
        served.database_pool_size
    )
    # a setting that fits is kept as it is
    fitting = settings.model_copy(update={"database_pool_size": MIN_POOL})
    assert await _within_connection_budget(services, fitting, 1) is fitting


async def test_serve_refuses_more_processes_than_the_server_has_room_for(
    services: Services, settings: Settings
) -> None:
    # given: a process per connection the server allows (none can get a pool)
    budget = await read_budget(services.postgres)
    with pytest.raises(ConnectionBudgetError, match="gateway processes would get"):
        await _within_connection_budget(services, settings, budget.max_connections)
