"""History and stored bytes per LLM call of a long conversation, soe_temporal against a
hand-written temporalio workflow that passes the same prompts through Temporal's external
storage (the same content-addressed store, the same 2 KiB threshold).

An llm node with an identity answers 8 KB per turn, so every prompt holds the whole
conversation so far. Both workflows continue as new every 1,000 history events. Side by
side on one embedded dev server (which enforces Temporal's size limits), in one process:

    python -m benchmarks.bench_conversation --turns 100 400 1000 --runs 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker

from benchmarks.stats import print_on_dev_server
from soe_temporal import SoeClient, create_worker
from soe_temporal.llm.protocol import assemble_prompt, input_document
from soe_temporal.temporal.converter import soe_temporal_client
from soe_temporal.temporal.payload_store import LocalPayloadStore

ANSWER_CHARACTERS = 8 * 1024
EVENTS_PER_RUN = 1_000
SYSTEM = "You talk at length."
CONFIG = f"""
workflows:
  chat:
    Talk:
      node_type: llm
      event_triggers: [START, AGAIN]
      prompt: "Go on."
      identity: talker
      output_field: said
      event_emissions: [{{signal_name: SAID}}]
    Loop:
      node_type: router
      event_triggers: [SAID]
      event_emissions:
        - signal_name: AGAIN
          condition: "{{{{ context.__operational__.nodes.Talk < context.turns }}}}"
context_schema:
  said: string
identities:
  talker: "{SYSTEM}"
"""
SCHEMA = {"title": "SaidRoot", "type": "string"}


def answer(turn: int) -> str:
    return f"turn {turn}: " + "blah " * (ANSWER_CHARACTERS // 5)


class Model:
    """The same answers for both: 8 KB, numbered."""

    def __init__(self) -> None:
        self.turns = 0

    def __call__(self, prompt: str, config: dict[str, Any]) -> str:
        self.turns += 1
        return json.dumps(answer(self.turns))


@activity.defn(name="bench.chat")
async def chat_activity(prompt: str) -> str:
    return json.dumps(answer(prompt.count("[assistant]:") + 1))


@workflow.defn(name="HandWrittenConversation", sandboxed=False)
class HandWrittenConversation:
    """The same prompts as SOE builds them (F-PROTO-1), the whole conversation in each."""

    @workflow.run
    async def run(self, turns: int, history: list[str] | None = None) -> int:
        history = history if history is not None else [f"[system]: {SYSTEM}"]
        while (len(history) - 1) // 2 < turns:
            if workflow.info().get_current_history_length() >= EVENTS_PER_RUN:
                workflow.continue_as_new(args=[turns, history])
            document = input_document(
                prompt="Go on.", context="", conversation_history="\n".join(history)
            )
            reply = await workflow.execute_activity(
                chat_activity,
                assemble_prompt(document, SCHEMA),
                start_to_close_timeout=timedelta(minutes=2),
            )
            history += ["[user]: Go on.", f"[assistant]: {json.loads(reply)}"]
        return (len(history) - 1) // 2


@dataclass
class Measure:
    seconds: float
    history_bytes_per_call: float
    stored_bytes_per_call: float
    runs: int


async def history_of(client: Client, workflow_id: str) -> tuple[int, int, int]:
    """(history bytes, activity calls, runs) over every run of an execution."""
    handle = client.get_workflow_handle(workflow_id)
    run_id = (await handle.describe()).raw_description.workflow_execution_info.first_run_id
    size = calls = runs = 0
    while run_id:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        runs += 1
        size += sum(event.ByteSize() for event in history.events)
        calls += sum(e.HasField("activity_task_scheduled_event_attributes") for e in history.events)
        last = history.events[-1]
        run_id = (
            last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
            if last.HasField("workflow_execution_continued_as_new_event_attributes")
            else ""
        )
    return size, calls, runs


def stored(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())


async def soe_run(client: Client, turns: int, store: Path) -> Measure:
    queue = f"bench-chat-{uuid.uuid4().hex[:6]}"
    soe = SoeClient(client, queue, payload_store=store, wait_timeout=timedelta(hours=1),
                    continue_as_new_after_events=EVENTS_PER_RUN)  # fmt: skip
    async with create_worker(client, queue, call_llm=Model(), payload_store=store):
        started = time.perf_counter()
        eid = await soe.orchestrate(CONFIG, "chat", ["START"], {"turns": turns})
        seconds = time.perf_counter() - started
    size, calls, runs = await history_of(client, eid)
    return Measure(seconds, size / calls, stored(store) / calls, runs)


async def hand_written_run(client: Client, turns: int, store: Path) -> Measure:
    queue = f"bench-hand-{uuid.uuid4().hex[:6]}"
    temporal = soe_temporal_client(client, LocalPayloadStore(store))
    async with Worker(temporal, task_queue=queue, workflows=[HandWrittenConversation],
                      activities=[chat_activity]):  # fmt: skip
        started = time.perf_counter()
        wid = f"hand-{uuid.uuid4().hex[:8]}"
        await temporal.execute_workflow(HandWrittenConversation.run, args=[turns, None],
                                        id=wid, task_queue=queue)  # fmt: skip
        seconds = time.perf_counter() - started
    size, calls, runs = await history_of(client, wid)
    return Measure(seconds, size / calls, stored(store) / calls, runs)


def spread(values: list[float], unit: str = "") -> str:
    return f"{min(values):,.0f}/{statistics.median(values):,.0f}/{max(values):,.0f}{unit}"


async def benchmark(client: Client, turns_list: list[int], runs: int) -> str:
    lines = [
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"8 KB answers, continue-as-new every {EVENTS_PER_RUN} events; min/median/max of "
        f"{runs} run(s)",
        "| turns | history B/call: soe / hand-written | stored KB/call: soe / hand-written "
        "| time ratio soe/hand-written |",
        "|---|---|---|---|",
    ]
    for turns in turns_list:
        ours: list[Measure] = []
        theirs: list[Measure] = []
        for _ in range(runs):
            for results, run in ((ours, soe_run), (theirs, hand_written_run)):
                directory = Path(tempfile.mkdtemp(prefix="bench-store-"))
                try:
                    results.append(await run(client, turns, directory))
                finally:
                    shutil.rmtree(directory, ignore_errors=True)
        ratios = [a.seconds / b.seconds for a, b in zip(ours, theirs, strict=True)]
        lines.append(
            f"| {turns} | {spread([m.history_bytes_per_call for m in ours])} / "
            f"{spread([m.history_bytes_per_call for m in theirs])} | "
            f"{spread([m.stored_bytes_per_call / 1024 for m in ours])} / "
            f"{spread([m.stored_bytes_per_call / 1024 for m in theirs])} | "
            f"{min(ratios):.2f}/{statistics.median(ratios):.2f}/{max(ratios):.2f} |"
        )
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, nargs="+", default=[100, 400, 1000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    await print_on_dev_server(17733, lambda client: benchmark(client, args.turns, args.runs))


if __name__ == "__main__":
    asyncio.run(main())
