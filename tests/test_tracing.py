"""OpenTelemetry tracing (temporal/tracing.py): temporalio's spans on clients and workers,
one span per SOE node firing, none on replay. Spans go to OpenTelemetry's in-memory
exporter through a tracer handed to temporalio's TracingInterceptor, never through the
process's global tracer provider (other tests must not trace)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("opentelemetry.sdk")

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (  # noqa: E402
    InMemorySpanExporter,
)
from opentelemetry.trace import StatusCode, Tracer  # noqa: E402
from temporalio.contrib.opentelemetry import TracingInterceptor  # noqa: E402
from temporalio.worker import Replayer  # noqa: E402

from examples.tools import TOOLS  # noqa: E402
from soe_temporal import cli, load_config  # noqa: E402
from soe_temporal.client import SoeClient  # noqa: E402
from soe_temporal.engine.execution import Execution  # noqa: E402
from soe_temporal.llm.providers import provider_from_environment  # noqa: E402
from soe_temporal.temporal.tracing import SPAN_PREFIX, NodeSpans  # noqa: E402
from soe_temporal.testing import SoeTestEnvironment  # noqa: E402
from soe_temporal.worker import create_worker  # noqa: E402
from soe_temporal.workflow import SoeWorkflow  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
APPROVAL = ROOT / "examples" / "approval.yaml"

MIXED = {
    "traced": {
        "Ask": {
            "node_type": "llm",
            "event_triggers": ["START"],
            "prompt": "Greet {{ context.name }} in one word",
            "output_field": "greeting",
            "event_emissions": [{"signal_name": "ASKED"}],
        },
        "Flaky": {
            "node_type": "tool",
            "event_triggers": ["ASKED"],
            "tool_name": "flaky",
            "output_field": "result",
            "event_emissions": [{"signal_name": "DONE"}],
        },
        "Recover": {
            "node_type": "router",
            "event_triggers": ["FLAKY_FAILED"],
            "event_emissions": [{"signal_name": "RECOVERED"}],
        },
        "Delegate": {
            "node_type": "child",
            "event_triggers": ["RECOVERED"],
            "child_workflow_name": "helper",
            "child_initial_signals": ["GO"],
        },
    },
    "helper": {
        "Work": {
            "node_type": "router",
            "event_triggers": ["GO"],
            "event_emissions": [{"signal_name": "WORKED"}],
        },
    },
}


def flaky() -> None:
    raise RuntimeError("the service is down")


FLAKY = {"flaky": {"function": flaky, "max_retries": 1, "failure_signal": "FLAKY_FAILED"}}


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def tracer(exporter: InMemorySpanExporter) -> Tracer:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider.get_tracer("test_tracing")


def node_spans(spans: Any) -> list[ReadableSpan]:
    return [span for span in spans if span.name.startswith(SPAN_PREFIX + " ")]


def by_node(spans: Any) -> dict[str, list[ReadableSpan]]:
    found: dict[str, list[ReadableSpan]] = {}
    for span in node_spans(spans):
        found.setdefault(span.attributes["soe.node"], []).append(span)
    return found


async def run_approval(soe: SoeClient, execution_id: str) -> str:
    eid = await soe.orchestrate(
        load_config(APPROVAL),
        "waiting_workflow",
        ["START"],
        {"request": "laptop"},
        execution_id=execution_id,
    )
    await soe.broadcast_signals(eid, ["APPROVED"])
    return eid


async def test_temporalio_spans_and_one_node_span_per_firing(exporter, tracer):
    async with SoeTestEnvironment(
        tools_registry=TOOLS, interceptors=[TracingInterceptor(tracer)]
    ) as env:
        eid = await run_approval(env.soe, "approval-traced")
    spans = exporter.get_finished_spans()
    names = [span.name for span in spans]
    for expected in (
        "StartUpdateWithStartWorkflow:SoeWorkflow",
        "RunWorkflow:SoeWorkflow",
        "StartActivity:soe.tool",
        "RunActivity:soe.tool",
        "StartWorkflowUpdate:soe_broadcast",
        "HandleUpdate:soe_broadcast",
    ):
        assert expected in names
    assert names.count("RunWorkflow:SoeWorkflow") == 1

    nodes = by_node(spans)
    assert {name: len(found) for name, found in nodes.items()} == {
        "Initialize": 1,
        "HandleApproval": 1,
        "ProcessApproved": 1,
    }
    start = next(span for span in spans if span.name == "StartUpdateWithStartWorkflow:SoeWorkflow")
    for name, (span,) in nodes.items():
        assert span.name == f"soe.node waiting_workflow.{name}"
        assert span.context.trace_id == start.context.trace_id
        assert span.parent is not None and span.parent.span_id == start.context.span_id
        assert span.attributes["soe.execution_id"] == eid
        assert span.attributes["soe.main_execution_id"] == eid
        assert span.attributes["soe.workflow"] == "waiting_workflow"
        assert span.attributes["soe.outcome"] == "ok"
        assert span.attributes["temporalWorkflowID"] == eid
        assert span.status.status_code == StatusCode.UNSET
    assert nodes["Initialize"][0].attributes["soe.node_type"] == "router"
    assert nodes["Initialize"][0].start_time == nodes["Initialize"][0].end_time
    (tool,) = nodes["ProcessApproved"]
    assert tool.attributes["soe.node_type"] == "tool"
    assert tool.attributes["soe.tool"] == "finalize_approved"
    assert tool.attributes["soe.attempts"] == 1
    assert "soe.tokens" not in tool.attributes
    # The tool node's span covers its activity: it starts in the step that fires the node
    # and ends in the step that applies the activity's outcome. Both ends are workflow
    # time, as the times of temporalio's workflow spans are.
    (start_tool,) = (span for span in spans if span.name == "StartActivity:soe.tool")
    assert tool.start_time <= start_tool.start_time <= tool.end_time


async def test_failures_model_calls_and_children_in_node_spans(exporter, tracer):
    async with SoeTestEnvironment(
        call_llm=provider_from_environment("fake"),
        tools_registry=FLAKY,
        interceptors=[TracingInterceptor(tracer)],
    ) as env:
        eid = await env.soe.orchestrate(MIXED, "traced", ["START"], {"name": "Ada"})
        await env.soe.wait_idle(eid)
    spans = exporter.get_finished_spans()
    nodes = by_node(spans)
    assert {name: len(found) for name, found in nodes.items()} == {
        "Ask": 1,
        "Flaky": 1,
        "Recover": 1,
        "Delegate": 1,
        "Work": 1,
    }
    (ask,) = nodes["Ask"]
    assert ask.attributes["soe.node_type"] == "llm"
    assert ask.attributes["soe.outcome"] == "ok"
    assert ask.attributes["soe.llm_calls"] == 1
    if hasattr(Execution, "tokens"):  # the engine counts tokens: the fake reports usage
        assert ask.attributes["soe.tokens"] > 0

    (failed,) = nodes["Flaky"]
    assert failed.attributes["soe.outcome"] == "failed"
    assert failed.attributes["soe.failure_handled"] is True
    assert failed.attributes["soe.attempts"] == 2
    assert "the service is down" in failed.attributes["soe.error"]
    assert failed.status.status_code == StatusCode.ERROR

    (delegate,) = nodes["Delegate"]
    assert delegate.attributes["soe.node_type"] == "child"
    assert delegate.attributes["soe.children"] == 1
    # The child's nodes are in the same trace, under the parent's StartChildWorkflow span.
    (work,) = nodes["Work"]
    (start_child,) = (span for span in spans if span.name == "StartChildWorkflow:SoeWorkflow")
    assert work.attributes["soe.workflow"] == "helper"
    assert work.attributes["soe.main_execution_id"] == eid
    assert work.attributes["soe.execution_id"] != eid
    assert work.context.trace_id == ask.context.trace_id
    assert work.parent is not None and work.parent.span_id == start_child.context.span_id


async def test_a_worker_that_replays_every_step_emits_each_node_span_once(exporter, tracer):
    """With no workflow cache the worker replays the whole history at every step: node
    spans come from the step in which each firing ended, once, with the start of the step
    that fired it."""
    async with SoeTestEnvironment(interceptors=[TracingInterceptor(tracer)]) as env:
        queue = f"{env.task_queue}-uncached"
        worker = create_worker(
            env.client,
            queue,
            tools_registry={**TOOLS, **FLAKY},
            payload_store=env.payload_store,
            max_cached_workflows=0,
        )
        async with worker:
            soe = SoeClient(env.client, queue, payload_store=env.payload_store)
            await run_approval(soe, "approval-uncached")
    spans = exporter.get_finished_spans()
    assert [span.name for span in spans].count("RunWorkflow:SoeWorkflow") == 1
    nodes = by_node(spans)
    assert {name: len(found) for name, found in nodes.items()} == {
        "Initialize": 1,
        "HandleApproval": 1,
        "ProcessApproved": 1,
    }
    (tool,) = nodes["ProcessApproved"]
    (start_tool,) = (span for span in spans if span.name == "StartActivity:soe.tool")
    assert tool.start_time <= start_tool.start_time <= tool.end_time


async def test_node_spans_stay_in_the_trace_across_continue_as_new(exporter, tracer):
    from .test_continue_as_new import LOOP

    async with SoeTestEnvironment(
        tools_registry={"step": lambda n: f"step {n}"},
        continue_as_new_after_events=20,
        interceptors=[TracingInterceptor(tracer)],
    ) as env:
        eid = await env.soe.orchestrate(LOOP, "loop", ["START"], {"rounds": 12})
        await env.soe.wait_idle(eid)
    spans = exporter.get_finished_spans()
    runs = {span.attributes["temporalRunID"] for span in node_spans(spans)}
    assert len(runs) > 1  # it did continue as new
    assert len({span.context.trace_id for span in node_spans(spans)}) == 1
    nodes = by_node(spans)
    assert len(nodes["Next"]) == 13
    assert len(nodes["Step"]) == 12
    assert all(span.attributes["soe.outcome"] == "ok" for span in node_spans(spans))
    # A Step left waiting when its run continued as new ends in the next run: its span
    # starts when that run started, and says so.
    resumed = [span for span in nodes["Step"] if span.attributes.get("soe.resumed")]
    assert len(resumed) == len(runs) - 1
    for span in resumed:
        assert span.attributes["soe.node_type"] == "tool"
        assert span.attributes["soe.tool"] == "step"
        assert span.start_time <= span.end_time


async def test_replaying_a_history_emits_no_span(exporter, tracer):
    async with SoeTestEnvironment(
        tools_registry=TOOLS, interceptors=[TracingInterceptor(tracer)]
    ) as env:
        eid = await run_approval(env.soe, "approval-replayed")
        await env.soe.close(eid)
        history = await env.client.get_workflow_handle(eid).fetch_history()
        converter = env.client.data_converter
    assert len(node_spans(exporter.get_finished_spans())) == 3
    exporter.clear()
    replayer = Replayer(
        workflows=[SoeWorkflow],
        data_converter=converter,
        interceptors=[TracingInterceptor(tracer), NodeSpans(tracer)],
    )
    await replayer.replay_workflow(history)
    assert exporter.get_finished_spans() == ()


async def test_create_worker_adds_node_spans_once_and_no_second_tracing_interceptor(tracer):
    async with SoeTestEnvironment() as env:
        traced = TracingInterceptor(tracer)
        config = env.client.config()
        config["interceptors"] = [*config["interceptors"], traced]
        traced_client = type(env.client)(**config)
        queues = iter(f"{env.task_queue}-{n}" for n in range(10))

        def interceptors(client: Any, **options: Any) -> list[Any]:
            return create_worker(client, next(queues), **options).config()["interceptors"]

        added = interceptors(traced_client)
        assert [type(i) for i in added] == [NodeSpans]
        assert added[0].tracer is tracer
        given = [NodeSpans(tracer)]
        assert interceptors(traced_client, interceptors=given) == given
        assert interceptors(env.client) == []
        assert interceptors(traced_client, tracing=False) == []
        asked = interceptors(env.client, tracing=True)
        assert [type(i) for i in asked] == [TracingInterceptor, NodeSpans]


async def test_cli_clients_connect_with_the_tracing_interceptors(monkeypatch):
    sentinel = object()
    seen: dict[str, Any] = {}

    async def connect(**options: Any) -> str:
        seen.update(options)
        return "client"

    monkeypatch.setattr(cli, "client_interceptors", lambda: [sentinel])
    monkeypatch.setattr(cli.Client, "connect", connect)
    args = cli._parser().parse_args(["describe", "x", "--address", "somewhere:7233"])
    assert await cli._connect(args) == "client"
    assert seen["interceptors"] == [sentinel]
    assert seen["target_host"] == "somewhere:7233"


def _python(code: str, **environment: str) -> dict[str, Any]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("OTEL_") and key != "PYTHONPATH"
    }
    env.update(environment, PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


# Makes OpenTelemetry impossible to import, as it is without the extra.
NO_OPENTELEMETRY = """
import sys
for name in ("opentelemetry", "opentelemetry.trace", "temporalio.contrib.opentelemetry"):
    sys.modules[name] = None
"""


def test_the_otlp_endpoint_sets_up_an_exporting_provider_once_per_process():
    code = """
import json
from opentelemetry import trace
from temporalio.contrib.opentelemetry import TracingInterceptor
from soe_temporal.temporal import tracing
first, second = tracing.client_interceptors(), tracing.client_interceptors()
provider = trace.get_tracer_provider()
(processor,) = provider._active_span_processor._span_processors
exporter = processor.span_exporter
print(json.dumps({
    "interceptors": [type(i).__name__ for i in first + second],
    "service": provider.resource.attributes["service.name"],
    "exporter": type(exporter).__module__,
    "endpoint": exporter._endpoint,
    "same": tracing._provider is provider,
}))
"""
    found = _python(code, OTEL_EXPORTER_OTLP_ENDPOINT="http://localhost:4318")
    assert found == {
        "interceptors": ["TracingInterceptor", "TracingInterceptor"],
        "service": "soe-temporal",
        "exporter": "opentelemetry.exporter.otlp.proto.http.trace_exporter",
        "endpoint": "http://localhost:4318/v1/traces",
        "same": True,
    }
    named = _python(
        code, OTEL_EXPORTER_OTLP_ENDPOINT="http://jaeger:4318", OTEL_SERVICE_NAME="soe-worker"
    )
    assert named["service"] == "soe-worker"
    assert named["endpoint"] == "http://jaeger:4318/v1/traces"


FAKE_CLIENT = """
class FakeClient:
    def config(self, active_config=False):
        return {"interceptors": []}
"""


def test_no_endpoint_and_no_provider_traces_nothing_and_imports_nothing():
    code = (
        FAKE_CLIENT
        + """
import json, sys
import soe_temporal.worker, soe_temporal.cli
from soe_temporal.temporal import tracing
found = {
    "on": tracing.configured(),
    "client": tracing.client_interceptors(),
    "worker": tracing.worker_interceptors(FakeClient()),
    "imported": sorted(m for m in sys.modules if m.startswith("opentelemetry")),
}
print(json.dumps(found))
"""
    )
    off = {"on": False, "client": [], "worker": [], "imported": []}
    assert _python(code) == off
    disabled = _python(code, OTEL_EXPORTER_OTLP_ENDPOINT="http://x:4318", OTEL_SDK_DISABLED="true")
    assert disabled == off


def test_without_opentelemetry_nothing_is_traced_and_nothing_fails():
    code = (
        NO_OPENTELEMETRY
        + FAKE_CLIENT
        + """
import json
import soe_temporal.workflow, soe_temporal.worker, soe_temporal.cli, soe_temporal.testing
from soe_temporal.errors import ConfigError
from soe_temporal.temporal import tracing
try:
    tracing.worker_interceptors(FakeClient(), tracing=True)
    refused = None
except ConfigError as error:
    refused = str(error)
print(json.dumps({
    "available": tracing.available(),
    "client": tracing.client_interceptors(),
    "worker": tracing.worker_interceptors(FakeClient()),
    "refused": refused,
}))
"""
    )
    found = _python(code, OTEL_EXPORTER_OTLP_ENDPOINT="http://localhost:4318")
    assert found == {
        "available": False,
        "client": [],
        "worker": [],
        "refused": "tracing=True needs OpenTelemetry: pip install 'soe-temporal[otel]'",
    }
