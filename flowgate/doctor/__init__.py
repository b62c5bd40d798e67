"""`flowgate doctor`: find where PostgreSQL and MongoDB disagree, and repair what is safe,
while the gateway serves.

Never destroying what a concurrent writer is creating rests on the order of reads: every
check reads the store that is written *second* first, then the store written first, so an
object caught half-written looks complete, never orphaned; each candidate is then checked
again against the current state before anything is done to it, and what would be removed
is moved to a quarantine collection instead (`flowgate.doctor.quarantine`).

What it checks, and what `repair` does about it:
- outbox entries not yet delivered: delivered, execution by execution. An execution whose
  next event cannot be applied because earlier ones were lost: its trace is advanced past
  them, the rest delivered, and the lost sequence numbers reported (`flowgate.doctor.executions`).
- executions whose trace lags what PostgreSQL committed and delivered (events lost by the
  document store), or that have no trace: the trace is rebuilt or advanced, a lost final
  status is rebuilt from the execution's row, and every lost event is reported by number.
- a log that goes beyond `last_event_seq`: the row is raised to match.
- traces (with their event logs) of executions that do not exist, flowcharts of agents that
  do not exist: quarantined. Flowcharts of soft-deleted agents are reported only.
- agent counters that disagree with the agent's executions: recounted under the agent's
  row lock (`flowgate.doctor.counters`).
- idempotency keys past their retention: purged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flowgate.services import Services
from flowgate.stores.mongo import long_operations
from resolvers.lifecycle.idempotency import purge_expired


@dataclass
class Finding:
    kind: str
    object_id: str
    detail: str
    repaired: bool = False


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)

    def add(self, kind: str, object_id: object, detail: str, *, repaired: bool) -> None:
        self.findings.append(Finding(kind, str(object_id), detail, repaired))

    @property
    def unrepaired(self) -> list[Finding]:
        return [finding for finding in self.findings if not finding.repaired]

    def count(self, *, repaired: bool) -> int:
        return sum(1 for finding in self.findings if finding.repaired is repaired)


async def examine(services: Services, *, repair: bool) -> Report:
    from flowgate.doctor import counters, executions, orphans

    report = Report()
    # Scans of every event may outlast the per-request bound of a gateway's client.
    with long_operations():
        await executions.check_outbox(services, report, repair)
        await executions.check_executions(services, report, repair)
        await orphans.check_traces(services, report, repair)
        await orphans.check_flowcharts(services, report, repair)
        await counters.check_agent_counters(services, report, repair)
        if repair:
            async with services.postgres.session() as session, session.begin():
                await purge_expired(session)
    return report
