"""The layer rule's contracts (pyproject.toml `[tool.importlinter]`) cover all of `flowgate/`:
a new module of it that no layer names would escape every contract. `lint-imports` itself
runs in `.ci/run`, before the tests."""

from __future__ import annotations

import pkgutil
import tomllib
from pathlib import Path
from typing import Any

import flowgate

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def _contracts() -> dict[str, dict[str, Any]]:
    config = tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]
    return {contract["id"]: contract for contract in config["contracts"]}


def _modules(layer: str) -> list[str]:
    return [name.strip() for name in layer.replace("|", ":").split(":")]


def test_every_flowgate_module_is_in_exactly_one_layer() -> None:
    # given: the layers contract, and the modules and packages directly inside `flowgate/`
    layers = _contracts()["layers"]["layers"]
    named = [module for layer in layers for module in _modules(layer)]
    present = {f"flowgate.{info.name}" for info in pkgutil.iter_modules(flowgate.__path__)}

    # when: comparing what the layers name inside `flowgate` with what is there
    in_flowgate = [module for module in named if module.startswith("flowgate.")]

    # then: each module is named once, and nothing named is missing or gone
    assert sorted(set(in_flowgate)) == sorted(in_flowgate)
    assert set(in_flowgate) == present


def test_the_adapter_contract_lists_the_adapter_layer() -> None:
    # given: the adapter layer (the one just above models) and the contract that keeps
    # HTTP and GraphQL out of it
    contracts = _contracts()
    layers = contracts["layers"]["layers"]
    adapters = _modules(layers[layers.index("models") - 1])

    # when / then: a forbidden contract takes no layer, so it lists the same modules again
    assert sorted(contracts["adapters-no-http"]["source_modules"]) == sorted(adapters)
