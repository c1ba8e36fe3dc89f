"""The config travels once (issue 13): a start, a continue-as-new and every child carry the
registry as a claim on the payload store, which holds it once, however many executions
and children carry it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from temporalio.api.common.v1 import Payload

from soe_temporal.temporal.payload_store import LocalPayloadStore
from soe_temporal.testing import SoeTestEnvironment


def routers(count: int) -> dict[str, Any]:
    return {
        f"Route{i}": {
            "node_type": "router",
            "event_triggers": ["START" if i == 0 else f"S{i - 1}"],
            "event_emissions": [{"signal_name": f"S{i}"}],
        }
        for i in range(count)
    }


def started_input(history) -> list[Payload]:
    return list(history.events[0].workflow_execution_started_event_attributes.input.payloads)


def claims(payloads: list[Payload]) -> list[str]:
    """The digests the input's claims name."""
    return [json.loads(p.data)["claimData"]["sha256"] for p in payloads if len(p.external_payloads)]


async def test_executions_of_one_config_carry_the_same_claim_for_it(tmp_path: Path):
    config = {"main": routers(20)}
    async with SoeTestEnvironment(payload_store=tmp_path) as env:
        first = await env.soe.orchestrate(config, "main", ["START"], {"n": 1})
        second = await env.soe.orchestrate(config, "main", ["START"], {"n": 2})
        histories = [
            await env.client.get_workflow_handle(e).fetch_history() for e in (first, second)
        ]
        contexts = [await env.soe.get_context(e) for e in (first, second)]
    [claim_one], [claim_two] = (claims(started_input(h)) for h in histories)
    assert claim_one == claim_two  # the same content, under the same digest
    assert all(c["__operational__"]["signals"][-1] == "S19" for c in contexts)
    # Only the registry is stored (the rest of the input is small and stays inline).
    assert sum(1 for _ in (tmp_path / "sha256").rglob("*") if _.is_file()) == 1


async def test_every_child_of_a_fan_out_carries_the_config_as_one_claim(tmp_path: Path):
    config = {
        "parent": {
            "Spawn": {
                "node_type": "child",
                "event_triggers": ["START"],
                "child_workflow_name": "worker",
                "child_initial_signals": ["START"],
                "fan_out_field": "items",
                "child_input_field": "item",
                "signals_to_parent": ["S9"],
            },
            "Done": {
                "node_type": "router",
                "event_triggers": ["S9"],
                "event_emissions": [{"signal_name": "DONE"}],
            },
        },
        "worker": routers(10),
    }
    async with SoeTestEnvironment(payload_store=tmp_path) as env:
        parent = await env.soe.orchestrate(config, "parent", ["START"], {"items": [1, 2, 3]})
        children = (await env.soe.describe(parent))["children"]
        histories = [await env.client.get_workflow_handle(c).fetch_history() for c in children]
        context = await env.soe.get_context(parent)
    assert context["__operational__"]["nodes"]["Done"] == 3
    assert len({claim for h in histories for claim in claims(started_input(h))}) == 1


async def test_a_small_config_stays_in_the_history(tmp_path: Path):
    """A claim is about 200 bytes: a registry smaller than 384 bytes of JSON is not worth it."""
    async with SoeTestEnvironment(payload_store=tmp_path) as env:
        eid = await env.soe.orchestrate({"main": routers(1)}, "main", ["START"], {})
        history = await env.client.get_workflow_handle(eid).fetch_history()
    assert claims(started_input(history)) == []


async def test_a_payload_read_again_comes_from_memory(tmp_path: Path):
    store = LocalPayloadStore(tmp_path)
    [claim] = await store.store(None, [Payload(data=b"x" * 4096)])  # type: ignore[arg-type]
    for path in (tmp_path / "sha256").rglob("*"):
        if path.is_file():
            path.unlink()  # gone from the directory: only the store's memory has it
    [payload] = await store.retrieve(None, [claim])  # type: ignore[arg-type]
    assert payload.data == b"x" * 4096
    assert LocalPayloadStore(tmp_path)._recent.get(claim.claim_data["sha256"]) is None
