// Apollo Client over HTTP and graphql-ws, as a Node dashboard or engine would use Flowgate:
// a query with variables and fragments, mutations that start and drive an execution, and a
// subscription to its progress that loses its socket mid-way and resumes with its cursor.
//
// Environment: FLOWGATE_URL (http://host:port), FLOWGATE_TOKEN (an API key), AGENT_ID (a
// scratch agent to run). Prints one JSON object of what it saw; the pytest side
// (tests/test_clients_apollo.py) compares it with the stores.

import { gql } from "@apollo/client";
import { TIMEOUT, connect as connectTo, follow as followWith, waitFor } from "./apollo_links.mjs";

const base = process.env.FLOWGATE_URL;
const agentId = process.env.AGENT_ID;

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

const connect = () => connectTo(base, process.env.FLOWGATE_TOKEN);
const follow = (apollo, variables, events) => followWith(apollo, PROGRESS, variables, events);

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
