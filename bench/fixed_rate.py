"""Latency at a fixed request rate (what wrk2 measures and wrk does not), in Python asyncio.

Request i is due at t0 + i / rate; a pool of keep-alive connections sends each one when it
is due or, if every connection is busy, as soon as one frees up. Latency is counted from
the moment the request was due, not from when it was sent, so a server that falls behind
is charged for the queue it causes (no coordinated omission). HTTP/1.1 is spoken directly
over asyncio streams (uvloop when available): a pre-encoded request, Content-Length or
chunked answers, nothing else, so the client stays far below the servers' cost.

Every answer's status is checked, and every `--check-every`-th body is parsed and verified
with bench.check. Run as a process of its own (the harness pins it to the other CPU):

    python -m bench.fixed_rate --url ... --body-file ... --rate 200 --duration 10 ...
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import time
from urllib.parse import urlsplit

import orjson

from bench.check import problems


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        return status, await reader.readexactly(int(headers["content-length"]))
    body = bytearray()
    while True:  # chunked
        size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return status, bytes(body)
        body += await reader.readexactly(size)
        await reader.readexactly(2)


def _request(args: argparse.Namespace) -> bytes:
    url = urlsplit(args.url)
    with open(args.body_file, "rb") as file:
        body = file.read()
    extra = f"Authorization: {args.authorization}\r\n" if args.authorization else ""
    return (
        f"POST {url.path} HTTP/1.1\r\nHost: {url.netloc}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n{extra}\r\n"
    ).encode() + body


async def run(args: argparse.Namespace) -> dict[str, object]:
    url = urlsplit(args.url)
    request = _request(args)
    expected = json.loads(args.expected)
    total = max(1, int(args.rate * args.duration))
    due: asyncio.Queue[tuple[int, float]] = asyncio.Queue()
    latencies: list[float] = []
    outcome = {"non2xx": 0, "bad": 0, "checked": 0, "failed": 0}
    examples: list[str] = []

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(url.hostname, url.port)
        try:
            while True:
                index, moment = await due.get()
                if index < 0:
                    return
                writer.write(request)
                try:
                    status, answer = await _read_answer(reader)
                except (OSError, asyncio.IncompleteReadError, ValueError) as error:
                    outcome["failed"] += 1
                    examples.append(f"{type(error).__name__}: {error}")
                    writer.close()
                    reader, writer = await asyncio.open_connection(url.hostname, url.port)
                    continue
                latencies.append(time.perf_counter() - moment)
                if status != 200:
                    outcome["non2xx"] += 1
                    examples.append(f"HTTP {status}: {answer[:200]!r}")
                elif index % args.check_every == 0:
                    outcome["checked"] += 1
                    found = problems(args.dialect, args.shape, orjson.loads(answer), expected)
                    if found:
                        outcome["bad"] += 1
                        examples.append("; ".join(found))
        finally:
            writer.close()

    workers = [asyncio.create_task(connection()) for _ in range(args.connections)]
    await asyncio.sleep(0.2)  # connections open before the clock starts
    start = time.perf_counter()
    for index in range(total):
        moment = start + index / args.rate
        delay = moment - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        due.put_nowait((index, moment))
    for _ in workers:
        due.put_nowait((-1, 0.0))
    await asyncio.gather(*workers, return_exceptions=True)
    elapsed = time.perf_counter() - start
    return {
        "requests": len(latencies),
        "rate": args.rate,
        "achieved": len(latencies) / elapsed,
        "p50_ms": _percentile(latencies, 50),
        "p99_ms": _percentile(latencies, 99),
        **outcome,
        "examples": examples[:3],
    }


def _percentile(latencies: list[float], p: float) -> float:
    """In milliseconds, nearest rank."""
    if not latencies:
        return math.nan
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1)] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description="latency at a fixed request rate")
    parser.add_argument("--url", required=True)
    parser.add_argument("--body-file", required=True)
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--duration", type=float, required=True)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--authorization", default="")
    parser.add_argument("--dialect", required=True)
    parser.add_argument("--shape", required=True)
    parser.add_argument("--expected", required=True, help="JSON object counts")
    parser.add_argument("--check-every", type=int, default=10)
    args = parser.parse_args()
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    print(json.dumps(asyncio.run(run(args))))


if __name__ == "__main__":
    main()
