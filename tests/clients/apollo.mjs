// Apollo Client over HTTP and graphql-ws, as a Node dashboard or engine would use Flowgate:
// a query with variables and fragments, mutations that start and drive an execution, and a
// subscription to its progress that loses its socket mid-way and resumes with its cursor.
//
// Environment: FLOWGATE_URL (http://host:port), FLOWGATE_TOKEN (an API key), AGENT_ID (a
// scratch agent to run). Prints one JSON object of what it saw; the pytest side
// (tests/test_clients_apollo.py) compares it with the stores.

import { ApolloClient, HttpLink, InMemoryCache, gql, split } from "@apollo/client";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { getMainDefinition } from "@apollo/client/utilities";
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const base = process.env.FLOWGATE_URL;
const authorization = `Bearer ${process.env.FLOWGATE_TOKEN}`;
const agentId = process.env.AGENT_ID;
const TIMEOUT = 20_000;

const AGENT = gql`
  query AgentWithRuns($id: ID!, $first: Int!) {
    agent(id: $id) {
      ...AgentCard
      executions(first: $first) {
        totalCount
        edges { node { ...RunRow } }
      }
    }
  }
  fragment AgentCard on Agent { id name status owner { email } }
  fragment RunRow on Execution { id status progress { nodesDone nodesTotal } }
`;

const START = gql`
  mutation Start($agentId: ID!, $key: String!) {
    startExecution(agentId: $agentId, idempotencyKey: $key) {
      __typename
      ... on StartExecutionPayload { execution { id status } }
    }
  }
`;

const STEP = gql`
  mutation Step($id: ID!, $step: StepInput!, $key: String!) {
    reportExecutionStep(executionId: $id, step: $step, idempotencyKey: $key) {
      __typename
      ... on ReportExecutionStepPayload { eventSeq }
    }
  }
`;

const FINISH = gql`
  mutation Finish($id: ID!, $key: String!) {
    finishExecution(executionId: $id, status: SUCCEEDED, idempotencyKey: $key) {
      __typename
      ... on FinishExecutionPayload { execution { status } }
    }
  }
`;

const PROGRESS = gql`
  subscription Progress($id: ID!, $after: String) {
    executionProgress(executionId: $id, after: $after) {
      __typename
      ... on ExecutionEvent { cursor seq type nodeId status }
    }
  }
`;

// One Apollo Client: HTTP for queries and mutations, a websocket for subscriptions. The
// socket does not reconnect by itself: this test drops it and resumes on purpose.
function connect() {
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

// Subscribe, collecting events; `ended` resolves when the stream completes or fails.
function follow(apollo, variables, events) {
  let subscription;
  const ended = new Promise((resolve) => {
    subscription = apollo.subscribe({ query: PROGRESS, variables }).subscribe({
      // Apollo Client 4 hands a stream's failure to `next` as `error`, then completes.
      next: ({ data, error }) => {
        if (error) resolve({ error: String(error) });
        else events.push(data.executionProgress);
      },
      error: (error) => resolve({ error: String(error) }),
      complete: () => resolve({ complete: true }),
    });
  });
  return { ended, stop: () => subscription.unsubscribe() };
}

async function waitFor(condition, what) {
  const deadline = Date.now() + TIMEOUT;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function main() {
  const seen = {};
  const run = `apollo-${process.pid}-${Date.now()}`;
  const first = connect();

  // a query with variables and fragments
  const agent = await first.apollo.query({ query: AGENT, variables: { id: agentId, first: 5 } });
  seen.agent = agent.data.agent;

  // a mutation: start a run of the agent
  const started = await first.apollo.mutate({
    mutation: START,
    variables: { agentId, key: `${run}-start` },
  });
  seen.started = started.data.startExecution;
  const id = seen.started.execution.id;
  const step = async (nodeId, status) => {
    const result = await first.apollo.mutate({
      mutation: STEP,
      variables: { id, step: { nodeId, status, nodeType: "ACTION" }, key: `${run}-${nodeId}-${status}` },
    });
    return result.data.reportExecutionStep.eventSeq;
  };

  // the subscription, live while two steps happen
  seen.beforeDrop = [];
  const live = follow(first.apollo, { id, after: null }, seen.beforeDrop);
  await step("a", "STARTED");
  const lastLive = await step("a", "SUCCEEDED");
  await waitFor(() => seen.beforeDrop.some((e) => e.seq === lastLive), `event ${lastLive}`);

  // the connection drops (the TCP connection is destroyed, as a network failure would: no
  // close frame); the engine carries on
  first.connection.socket.terminate();
  seen.dropped = await live.ended;
  live.stop();
  seen.whileAway = [await step("b", "STARTED"), await step("b", "SUCCEEDED"), await step("c", "STARTED")];

  // a new connection resumes after the last event it received, and follows to the end
  const second = connect();
  const cursor = seen.beforeDrop.at(-1).cursor;
  seen.afterResume = [];
  const resumed = follow(second.apollo, { id, after: cursor }, seen.afterResume);
  await step("c", "SUCCEEDED");
  const finished = await first.apollo.mutate({ mutation: FINISH, variables: { id, key: `${run}-finish` } });
  seen.finished = finished.data.finishExecution;
  seen.resumeEnded = await Promise.race([
    resumed.ended,
    new Promise((resolve) => setTimeout(() => resolve({ timeout: true }), TIMEOUT).unref()),
  ]);
  resumed.stop();
  await second.sockets.dispose();
  await first.sockets.dispose();
  console.log(JSON.stringify(seen));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
