"""State of any size, on the embedded dev server (which enforces Temporal's size limits,
unlike the time-skipping server): payloads over the threshold live in the payload store
and the history holds claims, so long conversations and large contexts neither grow the
history per call nor get an execution terminated."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.client import Client

from soe_temporal import SoeClient, create_worker
from soe_temporal.servers.codec import CodecServer
from soe_temporal.temporal.payload_store import LocalPayloadStore

from .conftest import BIN, DevServerInfo

ANSWER_BYTES = 8 * 1024

CONVERSATION = """
workflows:
  chat:
    Talk:
      node_type: llm
      event_triggers: [START, AGAIN]
      prompt: "Go on."
      identity: talker
      output_field: said
      event_emissions: [{signal_name: SAID}]
    Loop:
      node_type: router
      event_triggers: [SAID]
      event_emissions:
        - signal_name: AGAIN
          condition: "{{ context.__operational__.nodes.Talk < context.turns }}"
identities:
  talker: "You talk at length."
"""


class LongAnswers:
    """8 KB per turn, numbered (so no two answers are the same)."""

    def __init__(self) -> None:
        self.turns = 0

    def __call__(self, prompt: str, config: dict[str, Any]) -> str:
        self.turns += 1
        return json.dumps({"said": f"turn {self.turns}: " + "blah " * (ANSWER_BYTES // 5)})


def stored_bytes(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())


async def runs_of(client: Client, execution_id: str) -> list[tuple[int, int, int]]:
    """(events, history bytes, LLM calls) of each run, first run first."""
    handle = client.get_workflow_handle(execution_id)
    runs = []
    run_id = (await handle.describe()).raw_description.workflow_execution_info.first_run_id
    while run_id:
        history = await client.get_workflow_handle(execution_id, run_id=run_id).fetch_history()
        size = sum(event.ByteSize() for event in history.events)
        calls = sum(
            1 for e in history.events if e.HasField("activity_task_scheduled_event_attributes")
        )
        runs.append((len(history.events), size, calls))
        last = history.events[-1]
        run_id = (
            last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
            if last.HasField("workflow_execution_continued_as_new_event_attributes")
            else ""
        )
    return runs


async def test_a_400_turn_conversation_of_8_kb_answers_stays_small_per_call(
    dev_server: DevServerInfo, tmp_path: Path, capsys
):
    """At turn 400 each prompt holds a 3.3 MB conversation; each call still adds under
    4 KB of history, the state continues as new as a claim, and the store grows with the
    conversation (a chunk per 16 KB), not with its square."""
    turns = 400
    client = dev_server.server.client
    queue = f"chat-{uuid.uuid4().hex[:6]}"
    soe = SoeClient(client, queue, wait_timeout=timedelta(minutes=10), payload_store=tmp_path,
                    continue_as_new_after_events=1_000)  # fmt: skip
    async with create_worker(client, queue, call_llm=LongAnswers(), payload_store=tmp_path):
        eid = await soe.orchestrate(CONVERSATION, "chat", ["START"], {"turns": turns})
        history = await soe.temporal.get_workflow_handle(eid).query("soe_conversation")
        final = await soe.close(eid)
    runs = await runs_of(client, eid)
    assert len(final["said"]) == turns
    assert len(history) == 1 + 2 * turns  # the system prompt, then each turn
    calls = sum(c for _, _, c in runs)
    history_bytes = sum(b for _, b, _ in runs)
    assert len(runs) >= 2  # it continued as new, carrying megabytes as a claim
    per_call = history_bytes / calls
    assert per_call < 4 * 1024
    store = stored_bytes(tmp_path)
    conversation = sum(len(e["content"]) for e in history)
    # Each call stores its answer and its prompt without the conversation; the
    # conversation itself is stored about once (plus each run's carried state).
    assert store < 12 * conversation
    with capsys.disabled():
        print(
            f"\n{turns}-turn conversation: {len(runs)} runs, {per_call:.0f} B of history per call, "
            f"{store / calls / 1024:.1f} KB stored per call ({store / 1e6:.1f} MB in all)"
        )


GROWING = """
grow:
  Write:
    node_type: tool
    event_triggers: [START, AGAIN]
    tool_name: page
    output_field: pages
    event_emissions: [{signal_name: WRITTEN}]
    temporal: {local: true}
  Loop:
    node_type: router
    event_triggers: [WRITTEN]
    event_emissions:
      - signal_name: AGAIN
        condition: "{{ context.__operational__.nodes.Write < context.writes }}"
  Ping: {node_type: router, event_triggers: [PING], event_emissions: [{signal_name: PONG}]}
"""


async def test_a_context_grown_to_20_mb_by_1000_writes_can_be_read_signalled_and_closed(
    dev_server: DevServerInfo, tmp_path: Path
):
    """Every read of it (get_context, describe, the CLI) and close(), which returns it,
    go through the payload store; the execution keeps taking signals."""
    writes = 1_000
    client = dev_server.server.client
    queue = f"grow-{uuid.uuid4().hex[:6]}"
    soe = SoeClient(client, queue, wait_timeout=timedelta(minutes=10), payload_store=tmp_path)
    pages = iter(range(writes))

    def page() -> str:
        return f"page {next(pages)}: " + "x" * 20_000

    async with create_worker(client, queue, tools_registry={"page": page}, payload_store=tmp_path):
        eid = await soe.orchestrate(GROWING, "grow", ["START"], {"writes": writes})
        context = await soe.get_context(eid)
        await soe.broadcast_signals(eid, ["PING"])
        described = await soe.describe(eid)
        # the CLI in another process (this one's worker answers its query meanwhile)
        cli = await asyncio.create_subprocess_exec(
            str(BIN / "soe-temporal"), "context", eid, "--json",
            env=dev_server.env(SOE_PAYLOAD_STORE=str(tmp_path), SOE_TASK_QUEUE=queue),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        shown, errors = await asyncio.wait_for(cli.communicate(), 120)
        final = await soe.close(eid)
    assert cli.returncode == 0, errors.decode()
    assert json.loads(shown)["pages"] == context["pages"]
    assert len(context["pages"]) == writes
    assert sum(len(p) for p in context["pages"]) > 20_000_000
    assert described["failures"] == [] and described["status"] == "RUNNING"
    assert final["__operational__"]["signals"][-2:] == ["PING", "PONG"]
    assert final["pages"] == context["pages"]


def _payload_texts(value: Any) -> str:
    """Every payload's data in a history as `temporal workflow show --output json` prints
    it (base64), decoded and joined."""
    if isinstance(value, dict):
        found = [_payload_texts(v) for k, v in value.items() if k != "data"]
        if isinstance(value.get("data"), str) and "metadata" in value:
            found.append(base64.b64decode(value["data"]).decode(errors="replace"))
        return "\n".join(found)
    if isinstance(value, list):
        return "\n".join(_payload_texts(v) for v in value)
    return ""


async def test_the_codec_server_shows_stored_payloads_to_temporal_s_own_tools(
    dev_server: DevServerInfo, tmp_path: Path
):
    """`temporal workflow show --codec-endpoint` shows the stored payloads themselves, as
    the Web UI does with the same endpoint; without it, only claims."""
    client = dev_server.server.client
    queue = f"codec-{uuid.uuid4().hex[:6]}"
    soe = SoeClient(client, queue, payload_store=tmp_path)
    marker = "a-value-only-the-store-holds"
    config = "keep:\n  R: {node_type: router, event_triggers: [GO], event_emissions: [{signal_name: X}]}\n"
    async with create_worker(client, queue, payload_store=tmp_path):
        eid = await soe.orchestrate(config, "keep", ["GO"], {"notes": marker + " " + "x" * 10_000})
    server = CodecServer(LocalPayloadStore(tmp_path), port=0)
    server.start()
    try:
        shown = {}
        for codec in (None, server.url):
            args = [str(BIN / "temporal"), "workflow", "show", "--workflow-id", eid,
                    "--address", dev_server.address, "--output", "json"]  # fmt: skip
            if codec:
                args += ["--codec-endpoint", codec]
            process = await asyncio.create_subprocess_exec(
                *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
            )
            out, err = await asyncio.wait_for(process.communicate(), 60)
            assert process.returncode == 0, err.decode()
            shown[codec] = _payload_texts(json.loads(out))
    finally:
        server.stop()
    assert marker not in shown[None]  # a claim, not the payload
    assert marker in shown[server.url]
