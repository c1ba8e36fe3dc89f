"""Tools for the durability test: each call is written to a ledger file, and `hold`
blocks until the test creates a release file (so the worker can be killed mid-call)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path


def _ledger(line: str) -> None:
    with open(os.environ["SOE_TEST_LEDGER"], "a", encoding="utf-8") as ledger:
        ledger.write(line + "\n")
        ledger.flush()


def first() -> str:
    _ledger("first")
    return "first done"


def hold() -> str:
    _ledger("hold started")
    release = Path(os.environ["SOE_TEST_RELEASE"])
    while not release.exists():
        time.sleep(0.05)
    _ledger("hold finished")
    return "hold done"


def big_first() -> str:
    _ledger("first")
    return "first " + "p" * 50_000


def big_hold(page: str) -> str:
    """Its arguments and its result are larger than the payload threshold: both travel
    as claims on the payload store."""
    _ledger(f"hold started with {len(page)} characters")
    release = Path(os.environ["SOE_TEST_RELEASE"])
    while not release.exists():
        time.sleep(0.05)
    _ledger("hold finished")
    return page.upper()


def last() -> str:
    _ledger("last")
    return "last done"


def shared(item: int) -> int:
    """A call for the several-workers test: the ledger says which worker ran it and
    whether it finished, under the call's own key."""
    from soe_temporal.tool_context import current_call_key

    key = current_call_key()
    _ledger(f"start {key} {os.getpid()}")
    time.sleep(0.3)
    _ledger(f"end {key} {os.getpid()}")
    return os.getpid()


TOOLS = {
    "first": first,
    "hold": hold,
    "last": last,
    "big_first": big_first,
    "big_hold": big_hold,
    "shared": shared,
}


def call_llm(prompt: str, config: dict) -> str:
    """SOE_LLM=tests.durability_tools:call_llm. The `Slow` node's call holds like `hold`."""
    _ledger(f"llm {config['name']}")
    if config["name"] == "Slow":
        release = Path(os.environ["SOE_TEST_RELEASE"])
        while not release.exists():
            time.sleep(0.05)
    return '{"' + config["output_field"] + '": "answered ' + config["name"] + '"}'


def agent_llm(prompt: str, config: dict) -> str:
    """SOE_LLM for the agent durability test: call `hold` once, then finish."""
    document = json.loads(prompt.splitlines()[0])
    if "instructions" in document:
        _ledger("llm router")
        if "[Tool: hold]" in document["conversation_history"]:
            return '{"action": "finish"}'
        return '{"action": "call_tool", "tool_name": "hold"}'
    if "tool_name" in document:
        _ledger("llm parameters")
        return "{}"
    _ledger("llm response")
    return '{"output": "done"}'
