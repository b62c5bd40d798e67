"""The GraphiQL page served at /graphql in development: GraphiQL 3.8.3 with its explorer,
opening on example operations that teach the schema (`tabs`), its files served by the
gateway itself (`assets`, vendored by `vendor/build.py`) under a strict
Content-Security-Policy (`page`).

What differs from Strawberry's page: the tabs, the files' origin, and the credential.
GraphiQL keeps headers per tab; this page remembers the last `Authorization` typed in any
tab (for the browser tab's session) and sends it with every operation that has none (HTTP,
the schema's introspection, and the websocket's `connection_init`), so that one paste signs
in every tab."""

from flowgate.graphiql.assets import router as assets_router
from flowgate.graphiql.page import Page, graphiql_page
from flowgate.graphiql.tabs import Example, examples

__all__ = ["Example", "Page", "assets_router", "examples", "graphiql_page"]
