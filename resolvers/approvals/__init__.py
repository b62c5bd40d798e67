"""Human approvals, operator pauses and resumes, and the commands engines hear about them.

An engine asks for a decision at a human node (`request`): the run becomes PAUSED and the
approval waits in its approvers' inbox (`inbox`). One decision (`decide`) resumes the run,
or on REJECT fails it (unless the node's `data.onReject` is "continue"). Operators pause
and resume runs (`control`). Every decision, pause, resume and cancellation is also written
to the command log that engines follow (`commands`, `stream`). Who may do what:
`resolvers.access.approvals`."""
