"""Render once per group: subscribers of the same operation who may see the same things
share one execution of each item, and the same bytes go to each.

A group runs the operation once, through the schema and every extension (limits, masking,
metrics), with the context of the member who started it: alike members (`grouping`) would
get the same answer. Each item is formatted and encoded once, then offered to every member's
own bounded queue, so a slow member never slows the group or the others. A member's queue
merges what the stream notes as mergeable (`flowgate.bus.delivery`: an execution's progress,
the latest figures) and keeps every lifecycle item; a member too far behind on those ends
with a resumable SLOW_CONSUMER error, as an ungrouped stream would.

A group ends when its stream does (each member gets the last item, then `complete`), when it
fails (each member gets the masked error, as an `error` message), or when its last member
leaves. A member who joins a running group gets what is rendered from then
on, and for a stream of states (`replay_last`) the latest state first."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any

import orjson
from strawberry.types.execution import ExecutionResult, PreExecutionError

from flowgate.bus import delivery
from flowgate.metrics import SUBSCRIPTION_DELIVERIES, SUBSCRIPTION_RENDERS, SUBSCRIPTION_WRITTEN
from schema.extensions.masking import masked

Source = Callable[[], Awaitable[AsyncIterator[Any]]]


@dataclass(frozen=True, slots=True)
class Rendered:
    """One item as every member receives it: the encoded payload of a `next` (or, for an
    operation refused before it ran, of an `error`) message."""

    payload: str
    key: str | None = None  # merged with a newer item of the same key while unsent
    lifecycle: bool = True  # never merged
    refused: bool = False  # a pre-execution error: the protocols send it as `error`
    errors: tuple[dict[str, Any], ...] = ()  # formatted, for the protocol's `error` message
    # The payload's UTF-8 bytes and the message's closing brace: what follows a member's head
    # in its frame (`flowgate.sockets.wire`), encoded once for every member.
    tail: bytes = b""


# Writes an item to a member's socket at once, or answers False having written nothing.
Sink = Callable[[Rendered], bool]


class Member:
    """One subscriber's queue of rendered items.

    An item offered while the member's task waits with nothing queued goes straight to the
    member's `sink` (`flowgate.sockets.wire`), when it has one that can write it now: what the
    task would do at once, without waking it. Otherwise it is queued, as below.

    Most members are idle most of the time, and there is one per subscriber (10,000 in a
    process): the queue is a list (an empty deque holds a 0.5 KiB block) and the member
    waits on a bare future made when it waits, not on an `asyncio.Event` (another deque)."""

    __slots__ = ("_waiter", "ended", "limit", "merged", "overflowed", "queue", "sink")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.queue: list[Rendered] = []
        self.overflowed = False
        self.ended = False
        self.merged = 0
        self._waiter: asyncio.Future[None] | None = None
        self.sink: Sink | None = None

    def offer(self, item: Rendered) -> bool:
        """Queue `item`, or write it at once; True when it was written."""
        if self.overflowed or self.ended:
            return False
        if not self.queue and self.sink is not None and self._idle() and self.sink(item):
            return True
        if not item.lifecycle and item.key is not None:
            for index, queued in enumerate(self.queue):
                if not queued.lifecycle and queued.key == item.key:
                    del self.queue[index]
                    self.merged += 1
                    break
        if len(self.queue) >= self.limit:
            self.overflowed = True
            self.queue.clear()  # the stream ends for this member, resumably
        else:
            self.queue.append(item)
        self._wake()
        return False

    def _idle(self) -> bool:
        """The task waits for an item, holding none: nothing it sends could come after one
        written now. (A task cancelled meanwhile, by `complete` or `stop`, has its wait
        cancelled: it is not idle, and gets nothing more.)"""
        waiter = self._waiter
        return waiter is not None and not waiter.done()

    def end(self) -> None:
        """No more items: what is queued is still sent, then the operation completes."""
        self.ended = True
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def next(self) -> Rendered | None:
        """The next item; None once overflowed, or ended and drained."""
        while not self.queue and not self.overflowed and not self.ended:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        if self.overflowed or not self.queue:
            return None
        # At most `limit` (256) items, usually one: shifting the list costs nothing.
        return self.queue.pop(0)


class Group:
    def __init__(self, groups: RenderGroups, key: Hashable, replay_last: bool) -> None:
        self.groups = groups
        self.key = key
        self.replay_last = replay_last
        self.members: set[Member] = set()
        self.last: Rendered | None = None
        self.renders = 0
        self.task: asyncio.Task[None] | None = None

    def join(self) -> Member:
        member = Member(self.groups.queue_limit)
        if self.replay_last and self.last is not None:
            member.offer(self.last)
        self.members.add(member)
        return member

    def leave(self, member: Member) -> None:
        self.members.discard(member)
        if not self.members:
            self.groups.forget(self)
            if self.task is not None:
                self.task.cancel()

    async def run(self, source: Source) -> None:
        note = delivery.listen()
        try:
            results = await source()
            try:
                async for result in results:
                    self._publish(render(result, *note.take()))
            finally:
                aclose = getattr(results, "aclose", None)
                if aclose is not None:
                    with contextlib.suppress(Exception):
                        await aclose()
        except asyncio.CancelledError:
            raise
        except Exception as error:
            # A bug of ours (or an outage): each member's operation ends with the error,
            # masked as every unexpected error is (logged there, with the request id), so a
            # client knows to subscribe again rather than take it for the stream's end. The
            # socket stays open.
            failed = masked(error)
            self._publish(Rendered(payload="", refused=True, errors=(dict(failed.formatted),)))
        finally:
            self.groups.forget(self)
            for member in self.members:
                member.end()

    def _publish(self, item: Rendered) -> None:
        self.renders += 1
        SUBSCRIPTION_RENDERS.inc()
        self.last = item
        written = 0
        for member in self.members:
            written += member.offer(item)
        SUBSCRIPTION_DELIVERIES.inc(len(self.members))
        if written:
            SUBSCRIPTION_WRITTEN.inc(written)


def render(result: Any, key: str | None, lifecycle: bool) -> Rendered:
    """Format and encode one result, as Strawberry's handlers would for each subscriber."""
    if isinstance(result, PreExecutionError) or not isinstance(result, ExecutionResult):
        errors = tuple(dict(error.formatted) for error in (result.errors or []))
        return Rendered(payload="", refused=True, errors=errors)
    payload: dict[str, Any] = {"data": result.data}
    if result.errors:
        payload["errors"] = [error.formatted for error in result.errors]
    if result.extensions:
        payload["extensions"] = result.extensions
    encoded = orjson.dumps(payload, option=orjson.OPT_NON_STR_KEYS)
    return Rendered(payload=encoded.decode(), key=key, lifecycle=lifecycle, tail=encoded + b"}")


class RenderGroups:
    """The process's groups, by key (`grouping.group_key`)."""

    def __init__(self, queue_limit: int) -> None:
        self.queue_limit = queue_limit
        self._groups: dict[Hashable, Group] = {}

    def __len__(self) -> int:
        return len(self._groups)

    def join(self, key: Hashable, source: Source, *, replay_last: bool) -> tuple[Group, Member]:
        """Join the running group of `key`, or start one that runs `source`."""
        group = self._groups.get(key)
        if group is None:
            group = Group(self, key, replay_last)
            self._groups[key] = group
            member = group.join()
            group.task = asyncio.get_running_loop().create_task(group.run(source))
            return group, member
        return group, group.join()

    def forget(self, group: Group) -> None:
        if self._groups.get(group.key) is group:
            del self._groups[group.key]
