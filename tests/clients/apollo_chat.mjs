// Apollo Client as a chat frontend (a user's API key) uses Flowgate: start a conversation,
// post, follow the agent's reply as it streams in over `conversationEvents`, lose the socket
// mid-reply and resume from the last cursor, end with the exact text; then, in a second
// conversation, press "stop" mid-reply.
//
// The agent's side (an engine's key) is the pytest side, tests/test_clients_apollo_chat.py:
// the two talk in JSON lines. This script prints `{"step": ...}` when it reached a point,
// and reads the engine's word on stdin before it goes on, so that the socket really drops
// while the reply is streaming and the stop really lands mid-reply. Its last line is one
// JSON object of everything it saw.
//
// Environment: FLOWGATE_URL (http://host:port), FLOWGATE_TOKEN (the user's API key),
// AGENT_ID (the agent to chat with).

import { gql } from "@apollo/client";
import { createInterface } from "node:readline";
import { connect as connectTo, follow as followWith, waitFor } from "./apollo_links.mjs";

const base = process.env.FLOWGATE_URL;
const agentId = process.env.AGENT_ID;

const START = gql`
  mutation Start($agentId: ID!, $message: String!, $title: String) {
    startConversation(agentId: $agentId, message: $message, title: $title) {
      __typename
      ... on StartConversationPayload { conversation { id title } firstMessage { id } }
      ... on Error { code message }
    }
  }
`;

const POST = gql`
  mutation Post($id: ID!, $content: String!) {
    postMessage(conversationId: $id, content: $content) {
      __typename
      ... on MessagePayload { chatMessage { id content status } }
      ... on Error { code message }
    }
  }
`;

const STOP = gql`
  mutation Stop($id: ID!) {
    stopReply(messageId: $id) {
      __typename
      ... on MessagePayload { chatMessage { id content status } }
      ... on Error { code message }
    }
  }
`;

const EVENTS = gql`
  subscription Chat($id: ID!, $after: String) {
    conversationEvents(conversationId: $id, after: $after) {
      __typename
      ... on ConversationEvent { cursor seq type messageId text chunks payload }
      ... on ResyncRequired { message oldestCursor }
    }
  }
`;

const MESSAGES = gql`
  query Messages($id: ID!) {
    conversation(id: $id) {
      id
      messages(first: 20) { totalCount edges { node { id role content status } } }
    }
  }
`;

const connect = () => connectTo(base, process.env.FLOWGATE_TOKEN);
const follow = (apollo, variables, events) => followWith(apollo, EVENTS, variables, events);

// The engine's words, one JSON object a line on stdin.
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
async function hear(what) {
  const { value, done } = await lines.next();
  if (done) throw new Error(`stdin closed while waiting for ${what}`);
  return JSON.parse(value);
}
const say = (step, details = {}) => console.log(JSON.stringify({ step, ...details }));

async function mutate(apollo, mutation, variables, field, typename) {
  const result = await apollo.mutate({ mutation, variables });
  const answer = result.data[field];
  if (answer.__typename !== typename) throw new Error(`${field}: ${JSON.stringify(answer)}`);
  return answer;
}

// Drop a reply mid-stream and resume it from the cursor.
async function chatAcrossADrop(seen) {
  const first = connect();
  const started = await mutate(
    first.apollo, START, { agentId, message: "Hello", title: "Apollo chat" },
    "startConversation", "StartConversationPayload",
  );
  const id = started.conversation.id;
  seen.chat = { conversationId: id, beforeDrop: [], afterResume: [] };
  const live = follow(first.apollo, { id, after: null }, seen.chat.beforeDrop);
  const posted = await mutate(
    first.apollo, POST, { id, content: "Explain cursors, please." }, "postMessage", "MessagePayload",
  );
  seen.chat.posted = posted.chatMessage;
  await waitFor(
    () => seen.chat.beforeDrop.some((e) => e.messageId === posted.chatMessage.id),
    "the posted message's event",
  );
  say("posted", { conversationId: id, messageId: posted.chatMessage.id });

  // the engine streams part of the reply; once all of it arrived, the connection drops
  // (the TCP connection is destroyed as a network failure would: no close frame)
  const { dropAfter } = await hear("the engine's first chunks");
  await waitFor(() => seen.chat.beforeDrop.some((e) => e.seq >= dropAfter), `event ${dropAfter}`);
  first.connection.socket.terminate();
  seen.chat.dropped = await live.ended;
  live.stop();
  say("dropped");

  // the engine wrote more while the socket was away; resume after the last event seen
  await hear("the engine's chunks written while away");
  const second = connect();
  const cursor = seen.chat.beforeDrop.at(-1).cursor;
  const resumed = follow(second.apollo, { id, after: cursor }, seen.chat.afterResume);
  await waitFor(() => seen.chat.afterResume.length > 0, "the first event after resuming");
  say("resumed");
  await waitFor(
    () => seen.chat.afterResume.some((e) => e.type === "REPLY_FINISHED"),
    "the reply's end",
  );
  resumed.stop();
  const read = await first.apollo.query({ query: MESSAGES, variables: { id }, fetchPolicy: "network-only" });
  seen.chat.messages = read.data.conversation.messages;
  await second.sockets.dispose();
  await first.sockets.dispose();
}

// Press "stop" while the reply streams.
async function stopMidReply(seen) {
  const frontend = connect();
  const started = await mutate(
    frontend.apollo, START, { agentId, message: "Write me a long story" },
    "startConversation", "StartConversationPayload",
  );
  const id = started.conversation.id;
  seen.stop = { conversationId: id, events: [] };
  const live = follow(frontend.apollo, { id, after: null }, seen.stop.events);
  await waitFor(() => seen.stop.events.length > 0, "the first message's event");
  say("started", { conversationId: id, messageId: started.firstMessage.id });

  const { replyId, stopAfter } = await hear("the engine's first chunks");
  await waitFor(() => seen.stop.events.some((e) => e.seq >= stopAfter), `event ${stopAfter}`);
  const stopped = await mutate(frontend.apollo, STOP, { id: replyId }, "stopReply", "MessagePayload");
  seen.stop.stopped = stopped.chatMessage;
  await waitFor(() => seen.stop.events.some((e) => e.type === "REPLY_STOPPED"), "the stop event");
  live.stop();
  await frontend.sockets.dispose();
}

async function main() {
  const seen = {};
  await chatAcrossADrop(seen);
  await stopMidReply(seen);
  console.log(JSON.stringify(seen));
  process.exit(0); // stdin stays open: the readline interface would keep Node alive
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
