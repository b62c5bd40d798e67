"""The execution lifecycle: the state machine, event sequencing, idempotency and the
outbox that carries each committed change from PostgreSQL to the MongoDB event log.

The write order, and why it converges:

1. One PostgreSQL transaction locks the execution row (`SELECT ... FOR UPDATE`), checks the
   idempotency key and the state transition, allocates the next event sequence numbers
   (`executions.last_event_seq`), updates the row and the agent's counters, records the
   idempotency key, and inserts the events into `execution_outbox`. It commits or nothing
   happened.
2. Then the outbox entries are delivered to MongoDB, in sequence order: each event is
   inserted into `execution_events` (a duplicate `(execution_id, seq)` means it was already
   delivered) and applied to the execution's trace under the condition
   `applied_seq == seq - 1`, so it is applied exactly once and in order. The entry is then
   deleted.

A crash or a MongoDB outage between 1 and 2 leaves committed entries in the outbox: the
event log is behind, never wrong, and never has a gap. They are delivered by the next call
for the same execution (an engine's retry included: its idempotency key returns the first
answer and delivers what is pending), by the gateway's background relay, or by
`flowgate doctor`. Every step of delivery is idempotent, so any number of deliverers, in any
interleaving, converge to the same log and trace.
"""
