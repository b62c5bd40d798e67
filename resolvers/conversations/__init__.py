"""Conversations: projects, chats between users and agents, replies that stream in while
the model writes, and the tool calls made on the way.

Who sees what (the rule has its one home in `access`):

- a project is visible to every member of its organization (projects are organization-wide
  workspaces; there is no separate membership list);
- a conversation belongs to its user. Others see it only when it is held in a project that
  is not deleted: holding a conversation in a project is how it is shared. Admins see all;
- only its user (or an admin) changes a conversation or posts in it; an engine (any user or
  admin key) writes the agent's side of conversations it can see, and only an admin's key
  may listen to `agentConversationRequests`, which carries every user's messages.

Every change of a conversation appends its events to `conversation_events` in the same
PostgreSQL transaction, under the conversation row's lock (so their numbers are gap-free),
and publishes them on the bus after the commit: the guarantees of `executionProgress`
without an outbox, because the log lives in the same store as the change."""
