"""The Relay `Node` interface: every object with a global id can be refetched by `node(id)`."""

import strawberry


@strawberry.interface(description="An object with a global id, refetchable with `node(id)`.")
class Node:
    id: strawberry.ID = strawberry.field(description="Global id, opaque to clients.")
