"""Subscribers: memory per idle subscription and publish-to-receive latency of
`executionUpdates`, with N websocket subscribers on one gateway process.

    uv run python -m bench.subscribers --subscribers 100 1000

For each subscriber count it starts a fresh gateway process (`flowgate serve`) on the stores
(embedded ones in a temporary data folder, or those named by `FLOWGATE_DATABASE_URL` /
`FLOWGATE_MONGODB_URL`), seeded small first with `flowgate seed`. The in-process event bus
is always measured (`FLOWGATE_REDIS_URL` unset for the gateway); when `FLOWGATE_REDIS_URL`
is set, the Redis bus is measured too.

From separate client processes (multiprocessing, N/P websocket connections each, one
`executionUpdates` subscription per connection, as N dashboards would hold) it:

1. measures the gateway's RSS before the subscriptions open and once they are established
   and idle: memory per idle subscriber = (after - before) / N;
2. publishes status changes by starting, stepping and finishing K executions over HTTP
   (three status changes each: pending, running, succeeded), at a fixed pace;
3. has every client record the receive time of each update; latency is receive time minus
   the event's server-side `timestamp` (when the gateway created the event, before storing
   and publishing it; both on this machine's clock); reports p50/p99/max and delivered vs
   expected (and duplicates).

It prints a Markdown table and appends it to bench/RESULTS.md with the date and machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import multiprocessing as mp
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"

UPDATES = """
subscription Updates($filter: ExecutionUpdatesFilter) {
  executionUpdates(filter: $filter) { id status seq timestamp }
}
"""
CREATE_AGENT = """
mutation($input: CreateAgentInput!) {
  createAgent(input: $input) { __typename ... on CreateAgentPayload { agent { id } } }
}
"""
DELETE_AGENT = "mutation($id: ID!) { deleteAgent(id: $id) { __typename } }"
START = """
mutation($agentId: ID) {
  startExecution(agentId: $agentId) {
    __typename ... on StartExecutionPayload { execution { id } } ... on Error { message }
  }
}
"""
STEP = """
mutation($id: ID!, $step: StepInput!) {
  reportExecutionStep(executionId: $id, step: $step) { __typename }
}
"""
FINISH = """
mutation($id: ID!, $status: ExecutionStatus!) {
  finishExecution(executionId: $id, status: $status) { __typename }
}
"""
CANCEL = "mutation($id: ID!) { cancelExecution(executionId: $id) { __typename } }"

STATUS_CHANGES_PER_EXECUTION = 3  # PENDING, RUNNING, SUCCEEDED


# -- the gateway --------------------------------------------------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def raise_open_files(needed: int) -> None:
    """Raise this process's soft limit on open files to the hard limit: each websocket is a
    file descriptor (10,000 subscribers are 10,000 in the gateway, N/P in each client),
    and the usual soft limit is 1,024. Fails with the numbers when even that is too few."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or soft < hard):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    if soft != resource.RLIM_INFINITY and soft < needed + FILES_SPARE:
        raise SystemExit(
            f"{needed} websockets need {needed + FILES_SPARE} open files; the limit is {soft} "
            "(raise it with `ulimit -Hn`, or use more --clients)"
        )


# Files a process needs besides its websockets (stores, logs, pipes, the listener).
FILES_SPARE = 256
# Websockets per client process at most: more processes, not larger ones, past this.
SOCKETS_PER_CLIENT = 2_500


def client_processes(subscribers: int, requested: int) -> int:
    """At least `requested`, and enough that none holds more than `SOCKETS_PER_CLIENT`."""
    return max(1, min(subscribers, max(requested, math.ceil(subscribers / SOCKETS_PER_CLIENT))))


def _flowgate(*args: str) -> list[str]:
    return [sys.executable, "-m", "flowgate.cli", *args]


def seed(data_dir: Path, env: dict[str, str]) -> None:
    """`flowgate seed` (small); stores that already hold data are used as they are."""
    done = subprocess.run(
        _flowgate("seed", "--data-dir", str(data_dir)),
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0 and "already hold" not in done.stdout + done.stderr:
        raise SystemExit(f"flowgate seed failed:\n{done.stdout}\n{done.stderr}")


def credential(data_dir: Path, env: dict[str, str]) -> str:
    """`Bearer <API key>` from `flowgate api-key create` for the seeded admin, or "" when
    that command is missing (`measure` then logs in over HTTP)."""
    from bench.stores import ADMIN_EMAIL

    done = subprocess.run(
        _flowgate(
            "api-key",
            "create",
            "--email",
            ADMIN_EMAIL,
            "--name",
            "bench-subscribers",
            "--data-dir",
            str(data_dir),
        ),
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    secret = done.stdout.strip().splitlines()[-1].strip() if done.stdout.strip() else ""
    return f"Bearer {secret}" if done.returncode == 0 and secret and " " not in secret else ""


@dataclass
class Gateway:
    process: subprocess.Popen[bytes]
    base_url: str

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://") + "/graphql"

    def rss(self) -> int:
        return int(psutil.Process(self.process.pid).memory_info().rss)

    def cpu(self) -> float:
        times = psutil.Process(self.process.pid).cpu_times()
        return float(times.user + times.system)

    def indexed(self) -> float:
        """Objects the gateway's search indexer has indexed so far (`/metrics`)."""
        from prometheus_client.parser import text_string_to_metric_families

        exposition = httpx.get(f"{self.base_url}/metrics", timeout=30).text
        return sum(
            sample.value
            for family in text_string_to_metric_families(exposition)
            if family.name == "flowgate_search_indexed"
            for sample in family.samples
            if sample.name == "flowgate_search_indexed_total"
        )

    def gc_samples(self) -> GcSamples:
        """The gateway's GC pause samples (the bench runs it in development, where /metrics
        is open)."""
        return gc_samples_of(httpx.get(f"{self.base_url}/metrics", timeout=30).text)


# (sample name, generation, bucket bound or "") -> value
GcSamples = dict[tuple[str, str, str], float]
GENERATIONS = ("0", "1", "2")


def gc_samples_of(exposition: str) -> GcSamples:
    """The `flowgate_gc_pause_seconds` samples of a /metrics answer."""
    from prometheus_client.parser import text_string_to_metric_families

    found: GcSamples = {}
    for family in text_string_to_metric_families(exposition):
        if family.name == "flowgate_gc_pause_seconds":
            for sample in family.samples:
                labels = sample.labels
                found[(sample.name, labels["generation"], labels.get("le", ""))] = sample.value
    return found


@dataclass(frozen=True)
class GcPauses:
    """The gateway's garbage collections in a window, per generation (0, 1, 2): how many,
    how long in all, and the bound of the bucket that holds the longest (any generation)."""

    counts: tuple[int, ...] = (0, 0, 0)
    seconds: tuple[float, ...] = (0.0, 0.0, 0.0)
    longest: float = 0.0

    @classmethod
    def between(cls, before: GcSamples, after: GcSamples) -> GcPauses:
        def grew(key: tuple[str, str, str]) -> float:
            return after.get(key, 0.0) - before.get(key, 0.0)

        name = "flowgate_gc_pause_seconds"
        longest = 0.0
        for generation in GENERATIONS:
            count = grew((f"{name}_count", generation, ""))
            # Buckets are cumulative: the smallest that grew by all of them holds the longest.
            holding = [
                float(key[2])
                for key in after
                if key[:2] == (f"{name}_bucket", generation) and count and grew(key) >= count
            ]
            longest = max(longest, min(holding, default=0.0))
        return cls(
            counts=tuple(int(grew((f"{name}_count", g, ""))) for g in GENERATIONS),
            seconds=tuple(grew((f"{name}_sum", g, "")) for g in GENERATIONS),
            longest=longest,
        )


@contextlib.contextmanager
def gateway(data_dir: Path, env: dict[str, str], log_name: str) -> Iterator[Gateway]:
    port = _free_port()
    log = (data_dir / log_name).open("wb")
    process = subprocess.Popen(
        # One process: its RSS and CPU are what is measured, and it holds every subscriber.
        _flowgate("serve", "--port", str(port), "--data-dir", str(data_dir), "--workers", "1"),
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            if process.poll() is not None:
                raise SystemExit(f"gateway exited with {process.returncode}: see {log.name}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise SystemExit(f"gateway not ready within 300 s: see {log.name}")
            time.sleep(0.2)
        yield Gateway(process, base_url)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


def gql(http: httpx.Client, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = http.post("/graphql", json={"query": query, "variables": variables})
    body: dict[str, Any] = response.json()
    if response.status_code != 200 or body.get("errors"):
        raise RuntimeError(f"GraphQL call failed: {body}")
    data: dict[str, Any] = body["data"]
    return data


# -- the client processes -----------------------------------------------------------------


@dataclass
class Shared:
    """What the client processes and the driver share."""

    subscribed: Any  # mp.Array: connections whose subscribe message was sent, per client
    failed: Any  # mp.Array: connections that failed, per client
    ready: Any  # mp.Array: connections that received at least one update, per client
    succeeded: Any  # mp.Array: SUCCEEDED updates received, per client
    stop: Any  # mp.Event: close the connections and report
    results: Any  # mp.Queue: (client index, records, errors)
    authorization: str = ""  # sent in each connection_init payload


def client_main(
    index: int, url: str, count: int, agent_id: str, compression: bool, shared: Shared
) -> None:
    raise_open_files(count)
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    asyncio.run(_client(index, url, count, agent_id, compression, shared))


async def _client(
    index: int, url: str, count: int, agent_id: str, compression: bool, shared: Shared
) -> None:
    import orjson
    import websockets

    # (connection, execution id, status, seq, server timestamp, receive time) per update
    records: list[tuple[int, str, str, int, str, float]] = []
    errors: list[str] = []
    opening = asyncio.Semaphore(50)
    connections: list[Any] = []
    live: set[int] = set()  # connections that received an update

    async def handle(connection: Any, number: int, raw: str | bytes, received: float) -> None:
        message = orjson.loads(raw)
        if message["type"] == "ping":
            await connection.send('{"type":"pong"}')
            return
        payload = message.get("payload") or {}
        if message["type"] != "next" or payload.get("errors") or not payload.get("data"):
            raise RuntimeError(f"unexpected message: {message}")
        update = payload["data"]["executionUpdates"]
        if number not in live:
            live.add(number)
            shared.ready[index] += 1
        records.append(
            (number, update["id"], update["status"], update["seq"], update["timestamp"], received)
        )
        if update["status"] == "SUCCEEDED":
            shared.succeeded[index] += 1

    async def subscriber(number: int) -> None:
        try:
            async with opening:
                connection = await websockets.connect(
                    url,
                    subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                    compression="deflate" if compression else None,
                    ping_interval=None,  # idle: the server's keep-alive pings are enough
                    open_timeout=30,
                    max_queue=None,
                )
                connections.append(connection)
                init = {"Authorization": shared.authorization} if shared.authorization else {}
                await connection.send(json.dumps({"type": "connection_init", "payload": init}))
                while orjson.loads(await connection.recv())["type"] != "connection_ack":
                    pass
                await connection.send(
                    json.dumps(
                        {
                            "id": str(number),
                            "type": "subscribe",
                            "payload": {
                                "query": UPDATES,
                                "variables": {"filter": {"agentIds": [agent_id]}},
                            },
                        }
                    )
                )
            shared.subscribed[index] += 1
            async for raw in connection:
                await handle(connection, number, raw, time.time())
        except asyncio.CancelledError:
            raise
        except Exception as error:
            errors.append(f"{type(error).__name__}: {error}"[:300])
            shared.failed[index] += 1
            if len(errors) <= 3:
                print(f"client {index}: {errors[-1]}", file=sys.stderr, flush=True)

    tasks = [asyncio.create_task(subscriber(number)) for number in range(count)]
    await asyncio.to_thread(shared.stop.wait)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.gather(*(c.close() for c in connections), return_exceptions=True)
    shared.results.put((index, records, errors))


# -- one measurement ----------------------------------------------------------------------


@dataclass
class Result:
    bus: str
    subscribers: int
    clients: int
    executions: int
    rss_before: int
    rss_after: int
    delivered: int
    expected: int
    duplicates: int
    latencies_ms: list[float]
    errors: list[str]
    cpu_seconds: float  # the gateway's, while publishing and delivering
    publish_seconds: float  # from the first execution started to the last finished
    # The machine's 1-minute load average as publishing began and once delivered: latency
    # depends on it (memory per subscriber does not).
    load: tuple[float, float] = (math.nan, math.nan)
    # The gateway's garbage collections over the same window as `cpu_seconds`.
    gc: GcPauses = GcPauses()

    @property
    def publish_rate(self) -> float:
        return self.executions * STATUS_CHANGES_PER_EXECUTION / self.publish_seconds

    @property
    def cpu_per_delivery_us(self) -> float:
        return self.cpu_seconds / self.delivered * 1e6 if self.delivered else math.nan

    @property
    def per_subscriber_kib(self) -> float:
        return (self.rss_after - self.rss_before) / self.subscribers / 1024

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return math.nan
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1)]


def _parse_timestamp(text: str) -> float:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _wait(condition: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not within {seconds}s: {what}")
        time.sleep(0.05)


def measure(
    gw: Gateway,
    *,
    bus: str,
    subscribers: int,
    clients: int,
    executions: int,
    interval: float,
    compression: bool,
    authorization: str = "",
) -> Result:
    if not authorization:
        from bench.stores import login

        token = login(f"{gw.base_url}/graphql")
        authorization = f"Bearer {token}" if token else ""
    headers = {"Authorization": authorization} if authorization else {}
    with httpx.Client(base_url=gw.base_url, timeout=30, headers=headers) as http:
        name = f"bench-subscribers-{uuid.uuid4().hex[:8]}"
        created = gql(http, CREATE_AGENT, {"input": {"name": name, "category": "benchmark"}})
        agent_id = created["createAgent"]["agent"]["id"]
        try:
            return _measure(
                gw,
                http,
                agent_id,
                bus=bus,
                subscribers=subscribers,
                clients=clients,
                executions=executions,
                interval=interval,
                compression=compression,
                authorization=authorization,
            )
        finally:
            gql(http, DELETE_AGENT, {"id": agent_id})


def _caught_up(gw: Gateway, quiet: float = 3.0, limit: float = 300.0) -> None:
    """Wait until the gateway's search indexer has indexed the seed (its outbox holds every
    seeded object): nothing indexed for `quiet` seconds. Passes over that backlog run on the
    gateway's event loop; measured during them, the fan-out's p99 at 1,000 subscribers was
    that of the backlog (466 ms), not of the fan-out (63 ms with the indexer off). New
    executions are still indexed while publishing, as in production."""
    deadline = time.monotonic() + limit
    last, since = gw.indexed(), time.monotonic()
    while time.monotonic() - since < quiet:
        if time.monotonic() > deadline:
            raise TimeoutError("the search indexer did not catch up")
        time.sleep(0.5)
        now = gw.indexed()
        if now != last:
            last, since = now, time.monotonic()


def _run_execution(http: httpx.Client, agent_id: str) -> str:
    started = gql(http, START, {"agentId": agent_id})["startExecution"]
    if started["__typename"] != "StartExecutionPayload":
        raise RuntimeError(f"startExecution: {started}")
    execution_id: str = started["execution"]["id"]
    step = {"nodeId": "bench", "status": "SUCCEEDED", "nodeType": "ACTION"}
    gql(http, STEP, {"id": execution_id, "step": step})
    gql(http, FINISH, {"id": execution_id, "status": "SUCCEEDED"})
    return execution_id


def _sentinel(http: httpx.Client, agent_id: str) -> None:
    """A status change that tells each client its subscription is live (then cancelled)."""
    started = gql(http, START, {"agentId": agent_id})["startExecution"]
    gql(http, CANCEL, {"id": started["execution"]["id"]})


def _tally(
    gathered: list[tuple[int, list[tuple[int, str, str, int, str, float]], list[str]]],
    measured: set[str],
) -> tuple[int, int, list[float], list[str]]:
    """Delivered (once per connection and event), duplicates, latencies (ms), errors."""
    latencies: list[float] = []
    delivered = duplicates = 0
    errors: list[str] = []
    for _, records, client_errors in gathered:
        errors.extend(client_errors)
        seen: set[tuple[int, str, int]] = set()
        for connection, execution_id, _status, seq, timestamp, received in records:
            if execution_id not in measured:
                continue  # warm-up and sentinel executions
            if (connection, execution_id, seq) in seen:
                duplicates += 1
                continue
            seen.add((connection, execution_id, seq))
            delivered += 1
            latencies.append((received - _parse_timestamp(timestamp)) * 1000)
    return delivered, duplicates, latencies, errors


def _measure(
    gw: Gateway,
    http: httpx.Client,
    agent_id: str,
    *,
    bus: str,
    subscribers: int,
    clients: int,
    executions: int,
    interval: float,
    compression: bool,
    authorization: str,
) -> Result:
    context = mp.get_context("spawn")
    clients = client_processes(subscribers, clients)
    shared = Shared(
        subscribed=context.Array("l", clients, lock=False),
        failed=context.Array("l", clients, lock=False),
        ready=context.Array("l", clients, lock=False),
        succeeded=context.Array("l", clients, lock=False),
        stop=context.Event(),
        results=context.Queue(),
        authorization=authorization,
    )
    counts = [
        subscribers // clients + (1 if i < subscribers % clients else 0) for i in range(clients)
    ]

    # Warm the gateway up (imports, schema caches, the first websocket) before the baseline.
    _run_execution(http, agent_id)
    _caught_up(gw)
    time.sleep(1.0)
    rss_before = gw.rss()

    processes = [
        context.Process(
            target=client_main,
            args=(i, gw.ws_url, counts[i], agent_id, compression, shared),
            daemon=True,
        )
        for i in range(clients)
    ]
    for process in processes:
        process.start()
    try:
        _wait(
            lambda: sum(shared.subscribed) + sum(shared.failed) >= subscribers,
            # 5,000 sockets took longer than 100 s to open on 2 shared cores (load 8)
            max(120.0, subscribers / 10),
            "subscriptions sent",
        )
        if sum(shared.failed):
            raise RuntimeError(f"{sum(shared.failed)} of {subscribers} subscribers failed")
        # The protocol does not acknowledge a subscription: publish sentinel status changes
        # until every subscriber has received one, i.e. is registered with the hub.
        # (Generous: on a shared machine 1,000 sockets took longer than 30 s to register.)
        deadline = time.monotonic() + max(120.0, subscribers / 20)
        while sum(shared.ready) < subscribers:
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {sum(shared.ready)}/{subscribers} subscribers live")
            _sentinel(http, agent_id)
            time.sleep(0.5)
        time.sleep(2.0)  # idle
        rss_after = gw.rss()

        # Publish: K executions at a fixed pace.
        cpu_before, gc_before = gw.cpu(), gw.gc_samples()
        load_before = os.getloadavg()[0]
        publishing = last_published = time.monotonic()
        measured: set[str] = set()
        for _ in range(executions):
            began = time.monotonic()
            measured.add(_run_execution(http, agent_id))
            last_published = time.monotonic()
            time.sleep(max(0.0, interval - (last_published - began)))
        publish_seconds = last_published - publishing
        expected = subscribers * executions * STATUS_CHANGES_PER_EXECUTION
        with contextlib.suppress(TimeoutError):
            # Fan-out costs ~0.4 ms of gateway CPU per delivery: give it the time it needs.
            _wait(
                lambda: sum(shared.succeeded) >= subscribers * executions,
                max(30.0, expected * 0.001),
                "deliveries",
            )
        cpu_seconds = gw.cpu() - cpu_before
        gc = GcPauses.between(gc_before, gw.gc_samples())
        load = (load_before, os.getloadavg()[0])
        time.sleep(0.5)
    finally:
        shared.stop.set()
        gathered = []
        for _ in processes:
            with contextlib.suppress(Exception):
                gathered.append(shared.results.get(timeout=60))
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()

    delivered, duplicates, latencies, errors = _tally(gathered, measured)
    return Result(
        bus=bus,
        subscribers=subscribers,
        clients=clients,
        executions=executions,
        rss_before=rss_before,
        rss_after=rss_after,
        delivered=delivered,
        expected=expected,
        duplicates=duplicates,
        latencies_ms=latencies,
        errors=errors,
        cpu_seconds=cpu_seconds,
        publish_seconds=publish_seconds,
        load=load,
        gc=gc,
    )


# -- reporting ----------------------------------------------------------------------------


def machine() -> str:
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = psutil.virtual_memory().total / 2**30
    return f"{os.cpu_count()} CPUs ({model}), {memory:.0f} GiB RAM, {platform.system()}"


def table(results: list[Result]) -> str:
    lines = [
        "| bus | subscribers | client procs | RSS before (MiB) | RSS idle (MiB) "
        "| per idle subscriber (KiB) | updates | updates/s | delivered / expected | duplicates "
        "| p50 (ms) | p99 (ms) | max (ms) | gateway CPU per delivery (µs) "
        "| GC collections, gen 0/1/2 | GC time (ms), gen 0/1/2 | longest GC pause ≤ (ms) "
        "| load avg |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.bus} | {r.subscribers} | {r.clients} | {r.rss_before / 2**20:.1f} "
            f"| {r.rss_after / 2**20:.1f} | {r.per_subscriber_kib:.1f} "
            f"| {r.executions * STATUS_CHANGES_PER_EXECUTION} | {r.publish_rate:.1f} "
            f"| {r.delivered} / {r.expected} | {r.duplicates} "
            f"| {r.percentile(50):.1f} | {r.percentile(99):.1f} "
            f"| {max(r.latencies_ms, default=math.nan):.1f} | {r.cpu_per_delivery_us:.0f} "
            f"| {'/'.join(str(n) for n in r.gc.counts)} "
            f"| {'/'.join(f'{t * 1000:.0f}' for t in r.gc.seconds)} | {r.gc.longest * 1000:g} "
            f"| {r.load[0]:.1f} → {r.load[1]:.1f} |"
        )
    return "\n".join(lines)


def report(
    results: list[Result], args: argparse.Namespace, stores: str, load: tuple[float, float]
) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"## Subscribers (`bench/subscribers.py`), {now}\n\n"
        f"- machine: {machine()}; Python {platform.python_version()}; load average "
        f"{load[0]:.1f} before, {load[1]:.1f} after (other work on the machine adds noise)\n"
        f"- stores: {stores}; one gateway process per row, at least {args.clients} client "
        f"processes (one per {SOCKETS_PER_CLIENT:,} websockets)\n"
        f"- load: per row, {args.executions} executions started, stepped and finished over "
        f"HTTP every {args.interval} s (3 status changes each) to `executionUpdates` "
        f"subscribers, one websocket each (permessage-deflate "
        f"{'offered' if args.compression else 'off'})\n"
        "- latency: receive time in the client minus the event's server-side `timestamp` "
        "(created before it is stored and published); memory: gateway RSS after the "
        "subscriptions are established and idle, minus before, over N\n\n"
        f"{table(results)}\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--clients", type=int, default=4, help="client processes")
    parser.add_argument("--executions", type=int, default=20, help="K executions per run")
    parser.add_argument("--interval", type=float, default=0.25, help="seconds between them")
    parser.add_argument(
        "--compression",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="offer permessage-deflate, as browsers do",
    )
    parser.add_argument("--no-append", action="store_true", help="do not write RESULTS.md")
    args = parser.parse_args()

    redis_url = os.environ.get("FLOWGATE_REDIS_URL", "").strip()
    buses = [("in-process", "")] + ([("redis", redis_url)] if redis_url else [])
    stores = ", ".join(
        f"{name} from FLOWGATE_{variable}"
        if os.environ.get(f"FLOWGATE_{variable}")
        else f"embedded {name}"
        for name, variable in (("PostgreSQL", "DATABASE_URL"), ("MongoDB", "MONGODB_URL"))
    )
    data_dir = Path(tempfile.mkdtemp(prefix="flowgate-bench-subscribers-"))
    base_env = {
        **os.environ,
        "FLOWGATE_ENVIRONMENT": "development",
        # Publishing is what a request does after storing; the background relay would only
        # add duplicate deliveries if it ran in between.
        "FLOWGATE_RELAY_INTERVAL": "3600",
        # The publisher makes a few hundred calls a minute: measured, not rate limited.
        "FLOWGATE_RATE_LIMIT_PER_PRINCIPAL": "0",
        "FLOWGATE_RATE_LIMIT_PER_ADDRESS": "0",
        # Every subscriber connects from this machine's one address.
        "FLOWGATE_MAX_WS_PER_ADDRESS": "100000",
    }
    # The gateway inherits the limit: its websockets are its open files.
    raise_open_files(max(args.subscribers))
    results: list[Result] = []
    load_before = os.getloadavg()[0]
    try:
        print(f"seeding ({stores}) in {data_dir} ...", flush=True)
        seed(data_dir, {**base_env, "FLOWGATE_REDIS_URL": ""})
        authorization = credential(data_dir, {**base_env, "FLOWGATE_REDIS_URL": ""})
        for bus, url in buses:
            for count in args.subscribers:
                began = time.monotonic()
                env = {**base_env, "FLOWGATE_REDIS_URL": url}
                with gateway(data_dir, env, f"gateway-{bus}-{count}.log") as gw:
                    result = measure(
                        gw,
                        bus=bus,
                        subscribers=count,
                        clients=args.clients,
                        executions=args.executions,
                        interval=args.interval,
                        compression=args.compression,
                        authorization=authorization,
                    )
                results.append(result)
                print(table([result]).splitlines()[-1], f"({time.monotonic() - began:.0f} s)")
                if result.errors:
                    print(f"  {len(result.errors)} client errors, e.g. {result.errors[:3]}")
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    text = report(results, args, stores, (load_before, os.getloadavg()[0]))
    print()
    print(text)
    if not args.no_append and results:
        with RESULTS.open("a") as out:
            out.write(("\n" if RESULTS.exists() and RESULTS.stat().st_size else "") + text)
        print(f"appended to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
