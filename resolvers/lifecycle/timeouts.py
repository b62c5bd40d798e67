"""The timeout sweeper: fails the runs that are past their deadline, with error code
`TIMEOUT`, through the same ending as `finishExecution` (so the same checks, events, audit
entry and whatever else an ending triggers); and acts on approvals that expired undecided
(`resolvers.approvals.expiry`).

Every replica runs the loop, and each pass first takes a transaction-scoped advisory lock
without waiting: one replica sweeps at a time, the others skip the pass. Even without the
lock, ending a run twice is impossible: `end_execution` locks the row and refuses a run that
has ended (a sweeper that lost the race, or an engine that finished in time, wins cleanly)."""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager

import structlog
from sqlalchemy import func, select

from flowgate.background import in_background
from flowgate.principal import Actor
from flowgate.services import Services
from models.enums import TERMINAL_EXECUTION_STATUSES, ExecutionErrorCode, ExecutionStatus
from models.sql import Execution
from resolvers.approvals import expiry
from resolvers.ids import to_global_id
from resolvers.mutations.errors import InvalidTransitionError, NotFoundError
from resolvers.mutations.executions import end_execution

log = structlog.get_logger(__name__)

# One lock for the deployment: whoever holds it is this pass's sweeper.
SWEEPER_LOCK = 0x5EE9_0017
SWEEP_BATCH = 200


async def sweep(services: Services) -> int:
    """One pass: end every run past its deadline (up to a batch); how many this pass ended."""
    ended = 0
    async with services.postgres.session() as session, session.begin():
        if not await session.scalar(select(func.pg_try_advisory_xact_lock(SWEEPER_LOCK))):
            return 0  # another replica is sweeping
        due = (
            await session.execute(
                select(Execution.id, Execution.organization_id, Execution.deadline_at)
                .where(
                    Execution.deadline_at <= func.now(),
                    Execution.status.not_in(TERMINAL_EXECUTION_STATUSES),
                )
                .order_by(Execution.deadline_at)
                .limit(SWEEP_BATCH)
            )
        ).all()
        # The lock is held (this transaction stays open) while each run is ended in a
        # transaction of its own: one run's failure does not undo another's ending.
        for execution_id, organization_id, deadline_at in due:
            try:
                await end_execution(
                    services,
                    Actor.system(organization_id),
                    execution_id=execution_id,
                    global_id=to_global_id("Execution", execution_id),
                    status=ExecutionStatus.FAILED,
                    fields={
                        "error": f"timed out: past its deadline ({deadline_at})",
                        "error_code": ExecutionErrorCode.TIMEOUT.value,
                    },
                    idempotency_key=None,
                    operation="timeoutExecution",
                )
                ended += 1
            except (InvalidTransitionError, NotFoundError):
                continue  # ended (or deleted) since it was read: nothing to time out
    return ended


async def sweep_forever(services: Services, interval: float) -> None:
    while True:
        try:
            ended = await sweep(services)
            if ended:
                log.info("timed out executions", executions=ended)
            # Approvals have deadlines too: past one, the run goes on as its node says.
            lapsed = await expiry.lapse_due(services)
            if lapsed:
                log.info("acted on expired approvals", approvals=lapsed)
        except Exception as error:  # keep sweeping through outages
            log.warning("timeout sweep failed", error=str(error))
        await asyncio.sleep(interval)


def running_sweeper(services: Services, interval: float) -> AbstractAsyncContextManager[None]:
    return in_background(lambda: sweep_forever(services, interval), name="timeout-sweeper")
