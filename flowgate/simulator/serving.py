"""The demo's uvicorn server: starts the simulator once it listens, and stops it (cancelling
the executions it left open) while the gateway still answers, before uvicorn shuts down."""

from __future__ import annotations

import logging
import socket

import httpx
import uvicorn

from flowgate.runner import GatewayServer
from flowgate.settings import Settings
from flowgate.simulator.chat import ChatSimulator
from flowgate.simulator.engine import Simulator, SimulatorConfig

WILDCARDS = {"", "0.0.0.0", "::"}  # noqa: S104 - names the wildcard, binds nothing
TAG = "flowgate-simulator"  # the simulator's requests carry `?client=flowgate-simulator`


def _not_the_simulator(record: logging.LogRecord) -> bool:
    """Keeps uvicorn's access log for other clients: the simulator's dozens of requests per
    execution would bury them (it logs each execution it starts and ends itself)."""
    args = record.args
    return not (isinstance(args, tuple) and len(args) > 2 and f"client={TAG}" in str(args[2]))


class SimulatedServer(GatewayServer):
    def __init__(self, config: uvicorn.Config, settings: Settings, api_key: str) -> None:
        super().__init__(config)
        self._settings = settings
        self._api_key = api_key  # the simulated engine authenticates like a real one
        self._http: httpx.AsyncClient | None = None
        self._simulator: Simulator | None = None
        self._chats: ChatSimulator | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.should_exit:
            return
        settings = self._settings
        self._http = httpx.AsyncClient(
            base_url=self._base_url(),
            timeout=30.0,
            headers={"Authorization": f"Bearer {self._api_key}"},
        )
        self._simulator = Simulator(
            self._http,
            SimulatorConfig(
                interval=settings.simulator_interval,
                concurrency=settings.simulator_concurrency,
                time_scale=settings.simulator_time_scale,
                approval_share=settings.simulator_approval_share,
            ),
            tag=TAG,
        )
        logging.getLogger("uvicorn.access").addFilter(_not_the_simulator)
        self._simulator.start()
        # The same engine answers chats: post a message in GraphiQL, watch the reply stream.
        self._chats = ChatSimulator(self._http, tag=TAG)
        self._chats.start()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await self.stop_simulator()
        await super().shutdown(sockets)

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().serve(sockets)
        finally:
            await self.stop_simulator()

    async def stop_simulator(self) -> None:
        simulator, self._simulator = self._simulator, None
        chats, self._chats = self._chats, None
        http, self._http = self._http, None
        try:
            if chats is not None:
                await chats.stop()
            if simulator is not None:
                await simulator.stop()
        finally:
            if http is not None:
                await http.aclose()
            logging.getLogger("uvicorn.access").removeFilter(_not_the_simulator)

    def _base_url(self) -> str:
        """Where this server answers: its configured host (loopback for a wildcard) and the
        port it actually bound (which differs from the setting when that is 0)."""
        host = self._settings.host
        port = self._settings.port
        for server in getattr(self, "servers", []):  # set by `startup`
            for bound in server.sockets:
                port = bound.getsockname()[1]
                break
        if host in WILDCARDS:
            host = "::1" if host == "::" else "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{port}"
