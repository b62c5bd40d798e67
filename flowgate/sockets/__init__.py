"""The websocket protocols (graphql-transport-ws and the legacy graphql-ws), held to what
HTTP is held to: every frame checked before it is used, every operation rate-limited and
resolved against the persisted queries like a request, and a bounded number of sockets per
client address."""
