// What the Apollo client scripts share (apollo.mjs, apollo_chat.mjs): one Apollo Client with
// HTTP for queries and mutations and a websocket for subscriptions, a subscription that
// collects what it receives, and polling for a condition with a deadline.

import { ApolloClient, HttpLink, InMemoryCache, split } from "@apollo/client";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { getMainDefinition } from "@apollo/client/utilities";
import { createClient } from "graphql-ws";
import WebSocket from "ws";

export const TIMEOUT = 20_000;

// The socket does not reconnect by itself: the tests drop it and resume on purpose.
// `connection.socket` is the open websocket, for them to terminate.
export function connect(base, token) {
  const authorization = `Bearer ${token}`;
  const connection = {};
  const sockets = createClient({
    url: base.replace(/^http/, "ws") + "/graphql",
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: authorization },
    retryAttempts: 0,
    on: { connected: (socket) => (connection.socket = socket) },
  });
  const link = split(
    ({ query }) => {
      const definition = getMainDefinition(query);
      return definition.kind === "OperationDefinition" && definition.operation === "subscription";
    },
    new GraphQLWsLink(sockets),
    new HttpLink({ uri: `${base}/graphql`, headers: { Authorization: authorization } }),
  );
  return { apollo: new ApolloClient({ link, cache: new InMemoryCache() }), sockets, connection };
}

// Subscribe, pushing each result's one root field to `events`; `ended` resolves when the
// stream completes or fails.
export function follow(apollo, query, variables, events) {
  let subscription;
  const ended = new Promise((resolve) => {
    subscription = apollo.subscribe({ query, variables }).subscribe({
      // Apollo Client 4 hands a stream's failure to `next` as `error`, then completes.
      next: ({ data, error }) => {
        if (error) resolve({ error: String(error) });
        else events.push(Object.values(data)[0]);
      },
      error: (error) => resolve({ error: String(error) }),
      complete: () => resolve({ complete: true }),
    });
  });
  return { ended, stop: () => subscription.unsubscribe() };
}

export async function waitFor(condition, what) {
  const deadline = Date.now() + TIMEOUT;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
