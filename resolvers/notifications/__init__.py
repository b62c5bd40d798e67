"""Notifications: who is told what when a run ends or an approval waits on them, in the app
(always) and over a workflow's webhook (when its `notificationChannels` name `webhook`).

Nothing is lost under faults: `on_events` runs inside the lifecycle's PostgreSQL
transaction (`resolvers.lifecycle.transaction.run_change`), so a notification and a queued
webhook delivery commit with the change that causes them or not at all. In-app
notifications are numbered per recipient and published after the commit; a subscriber
resumes from its cursor. Webhook deliveries are sent by the background deliverer
(`deliverer`), retried with backoff, each attempt logged.

Who is told: for a run of a workflow that ended as failed (succeeded), its owners and its
creator when the workflow's `notifyOnFailure` (`notifyOnSuccess`) is on and their own
preference (`execution_failed` / `execution_succeeded`) too; for an approval request, each
approver. Always only people of the organization, active, who may read the workflow: a
member who may not read it is told nothing about it."""
