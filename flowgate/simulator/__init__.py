"""A simulated execution engine for the demo: every few seconds it starts an execution of a
seeded agent (one with a flowchart) or workflow and walks its graph node by node, with
realistic delays, outcomes and costs, through the same GraphQL lifecycle mutations an
external engine uses (over HTTP, with idempotency keys and one retry on network errors).

- `gateway`: GraphQL over HTTP, keys and the retry
- `catalog`: the agents and workflows to run, read through the API
- `outcomes`: durations, failures, tokens and cost of one step
- `engine`: `Simulator`, which starts executions and walks them
- `serving`: the uvicorn server `flowgate demo` uses, which runs the simulator
"""

from flowgate.simulator.engine import Run, Simulator, SimulatorConfig

__all__ = ["Run", "Simulator", "SimulatorConfig"]
