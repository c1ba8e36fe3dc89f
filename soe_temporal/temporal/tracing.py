"""OpenTelemetry tracing (the ``[otel]`` extra): temporalio's ``TracingInterceptor`` on
clients and workers, and one span per SOE node firing.

When it is on: OpenTelemetry is installed, and either OTEL_EXPORTER_OTLP_ENDPOINT (or
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set, in which case a TracerProvider that exports
over OTLP (OTEL_EXPORTER_OTLP_PROTOCOL: ``http/protobuf``, the default, or ``grpc`` with
opentelemetry-exporter-otlp-proto-grpc) under the service name OTEL_SERVICE_NAME (default
``soe-temporal``) is set up, once per process; or the caller already set a global tracer
provider, which is then used as it is. OTEL_SDK_DISABLED=true turns it off. Without the
extra nothing here imports OpenTelemetry, and tracing is off.

Node spans. A firing (the engine's ``NodeExecuted``, F-EXEC-3 step 4) gets one span,
``soe.node WORKFLOW.NODE``, with ``soe.execution_id``, ``soe.main_execution_id``,
``soe.workflow``, ``soe.node``, ``soe.node_type``, ``soe.outcome`` (``ok`` or
``failed``), and where they apply ``soe.error``, ``soe.failure_handled`` (SOE's failure
path took it), ``soe.tool``, ``soe.attempts``, ``soe.llm_calls``, ``soe.tool_calls`` (an
agent's), ``soe.children``, ``soe.resumed`` (below) and
``soe.tokens`` (what the node's model calls used, when the provider reports usage). The
span covers the firing: it starts at the workflow time of the step that fired the node and
ends at the workflow time of the step in which its last call's outcome was applied, so a
router's span has no duration, a tool node's covers all its attempts, an llm node's its
retries, an agent's every model and tool call, and a child node's the start of its
children. It is emitted once, when the firing ends, by the worker that runs that step for
the first time; never while a worker replays history, and a firing that began before a
worker lost the execution from its cache keeps its start (replay rebuilds the open firings
without emitting). Its parent is the execution's trace context, the one temporalio's
workflow spans have (the client's ``StartWorkflow`` span, or the parent's
``StartChildWorkflow``): an execution started without one (``temporal workflow start``)
gets no node spans, as it gets no ``RunWorkflow`` span.

A firing still waiting for a call when its run continues as new ends in the next run: its
span starts when that run started and has ``soe.resumed`` (and no ``soe.tokens``). Limits:
a workflow task that fails and runs again may emit its spans twice; when firings of one
node overlap, events and ends are matched to them first in, first out.
"""

from __future__ import annotations

import contextvars
import logging
import os
import sys
import threading
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar

import temporalio.worker
from temporalio import workflow
from temporalio.client import Client

from ..engine.events import (
    AgentStageAnswered,
    AgentToolCall,
    ChildrenStarting,
    Event,
    LlmAnswered,
    NodeErrored,
    NodeExecuted,
    ToolCalled,
)
from ..errors import ConfigError

if TYPE_CHECKING:
    from opentelemetry.trace import Tracer

    from ..engine.execution import Execution

DEFAULT_SERVICE_NAME = "soe-temporal"
SPAN_PREFIX = "soe.node"
_PROTOCOLS = ("http/protobuf", "grpc")
_EXTRA_HINT = "pip install 'soe-temporal[otel]'"

_logger = logging.getLogger(__name__)
_set_up_lock = threading.Lock()
_set_up = False
# The provider this module set up from the environment (shutdown() flushes it).
_provider: Any = None
# The node firings of the workflow run being stepped (set by the workflow interceptor).
_FIRINGS: contextvars.ContextVar[_Firings | None] = contextvars.ContextVar(
    "soe_node_firings", default=None
)


# -- is tracing on ------------------------------------------------------------------


@cache
def available() -> bool:
    """Whether OpenTelemetry and temporalio's integration of it can be imported."""
    try:
        import opentelemetry.trace  # noqa: F401
        import temporalio.contrib.opentelemetry  # noqa: F401
    except ImportError:
        return False
    return True


def configured() -> bool:
    """Whether spans go anywhere: the OTLP exporter of the environment (set up here, once
    per process) or a global tracer provider the caller set. With neither, it imports
    nothing: a caller that set a provider has imported OpenTelemetry already."""
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    if _endpoint():
        if not available():
            _warn_once_not_installed()
            return False
        _set_up_from_environment()
    elif "opentelemetry.trace" not in sys.modules or not available():
        return False
    return _global_provider_set()


def shutdown() -> None:
    """Export the spans still buffered by the provider set up here (short-lived commands
    leave with ``os._exit``, which runs no exit handler)."""
    if _provider is not None:
        _provider.shutdown()


def _endpoint() -> str | None:
    return (
        os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or None
    )


@cache
def _warn_once_not_installed() -> None:
    _logger.warning(
        "OTEL_EXPORTER_OTLP_ENDPOINT is set but OpenTelemetry is not installed, so nothing "
        "is traced: %s",
        _EXTRA_HINT,
    )


def _global_provider_set() -> bool:
    from opentelemetry import trace

    provider = trace.get_tracer_provider()
    return not isinstance(provider, trace.ProxyTracerProvider | trace.NoOpTracerProvider)


def _set_up_from_environment() -> None:
    """With an OTLP endpoint and no global provider yet: a provider that exports there."""
    global _set_up, _provider
    with _set_up_lock:
        if _set_up:
            return
        _set_up = True
        if _endpoint() is None or _global_provider_set():
            return
        try:
            from opentelemetry import trace
            from opentelemetry.sdk.resources import SERVICE_NAME, Resource
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import BatchSpanProcessor
        except ImportError as error:
            raise ConfigError(
                f"OTEL_EXPORTER_OTLP_ENDPOINT is set, but the OpenTelemetry SDK is missing "
                f"({error}): {_EXTRA_HINT}"
            ) from None
        service = os.environ.get("OTEL_SERVICE_NAME") or DEFAULT_SERVICE_NAME
        provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service}))
        provider.add_span_processor(BatchSpanProcessor(_otlp_exporter()))
        trace.set_tracer_provider(provider)
        _provider = provider


def _otlp_exporter() -> Any:
    """OTLP over the protocol the environment names; endpoint, headers, timeout and
    compression are the exporter's own OTEL_EXPORTER_OTLP_* variables."""
    protocol = (
        os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    ).strip()
    if protocol not in _PROTOCOLS:
        raise ConfigError(
            f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol}: soe-temporal exports traces over "
            f"{' or '.join(_PROTOCOLS)}"
        )
    try:
        if protocol == "grpc":
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
        else:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError:
        package = f"opentelemetry-exporter-otlp-proto-{'grpc' if protocol == 'grpc' else 'http'}"
        raise ConfigError(
            f"OTLP over {protocol} needs {package} (the [otel] extra brings the http one)"
        ) from None
    return OTLPSpanExporter()


# -- interceptors ---------------------------------------------------------------------


def client_interceptors() -> list[Any]:
    """For ``Client.connect(interceptors=...)``: temporalio's TracingInterceptor when
    tracing is on, else nothing. Workers made from the client use it too."""
    if not configured():
        return []
    from temporalio.contrib.opentelemetry import TracingInterceptor

    return [TracingInterceptor()]


def traced_client(client: Client) -> Client:
    """``client``, with a TracingInterceptor when tracing is on and it has none."""
    if not configured() or _tracing_interceptor(client.config()["interceptors"]) is not None:
        return client
    config = client.config()
    config["interceptors"] = [*config["interceptors"], *client_interceptors()]
    return Client(**config)


def worker_interceptors(
    client: Client, given: Sequence[Any] = (), tracing: bool | None = None
) -> list[Any]:
    """What a worker on ``client`` with the interceptors ``given`` adds to trace.

    temporalio runs the client's worker interceptors before the worker's own, so a
    TracingInterceptor already on the client (or given) is not added twice: the worker
    adds the node spans, with that interceptor's tracer. Otherwise, when tracing is on
    (``tracing`` None) or asked for (True), it adds both. ``tracing=False`` adds nothing.
    """
    if tracing is False:
        return []
    present = [*client.config(active_config=True)["interceptors"], *given]
    if any(isinstance(interceptor, NodeSpans) for interceptor in present):
        return []
    # An interceptor of temporalio's integration means the integration is imported.
    contrib = sys.modules.get("temporalio.contrib.opentelemetry")
    if contrib is not None:
        existing = _tracing_interceptor(present)
        if existing is not None:
            return [NodeSpans(existing.tracer)]
        if any(isinstance(i, contrib.OpenTelemetryInterceptor) for i in present):
            return [NodeSpans()]  # temporalio's plugin traces; the global provider gets them
    if not (tracing or configured()):
        return []
    if not available():
        raise ConfigError(f"tracing=True needs OpenTelemetry: {_EXTRA_HINT}")
    from temporalio.contrib.opentelemetry import TracingInterceptor

    return [TracingInterceptor(), NodeSpans()]


def _tracing_interceptor(interceptors: Sequence[Any]) -> Any:
    """temporalio's TracingInterceptor among ``interceptors``, if any (without importing
    it: an instance means it is imported)."""
    contrib = sys.modules.get("temporalio.contrib.opentelemetry")
    if contrib is None:
        return None
    return next((i for i in interceptors if isinstance(i, contrib.TracingInterceptor)), None)


class NodeSpans(temporalio.worker.Interceptor):
    """A worker interceptor: one span per SOE node firing (see the module's doc).

    ``tracer`` defaults to the global provider's. ``always_create_spans`` makes spans for
    executions started without a trace context too (each firing is then a trace of its
    own), as ``TracingInterceptor(always_create_workflow_spans=True)`` does for its spans.
    """

    def __init__(self, tracer: Tracer | None = None, *, always_create_spans: bool = False):
        from opentelemetry import trace

        self.tracer = tracer or trace.get_tracer("soe_temporal")
        self.always_create_spans = always_create_spans
        self._inbound = type("NodeSpansInbound", (_NodeSpansInbound,), {"spans": self})

    def workflow_interceptor_class(
        self, input: temporalio.worker.WorkflowInterceptorClassInput
    ) -> type[temporalio.worker.WorkflowInboundInterceptor]:
        return self._inbound


class _NodeSpansInbound(temporalio.worker.WorkflowInboundInterceptor):
    """Made with each workflow instance (again on replay), so it holds the open firings
    of that run; every entry point that may step the engine makes them current."""

    spans: ClassVar[NodeSpans]

    def __init__(self, next: temporalio.worker.WorkflowInboundInterceptor) -> None:
        super().__init__(next)
        self.firings = _Firings(self.spans)

    async def execute_workflow(self, input: temporalio.worker.ExecuteWorkflowInput) -> Any:
        _FIRINGS.set(self.firings)
        return await super().execute_workflow(input)

    async def handle_signal(self, input: temporalio.worker.HandleSignalInput) -> None:
        _FIRINGS.set(self.firings)
        await super().handle_signal(input)

    async def handle_update_handler(self, input: temporalio.worker.HandleUpdateInput) -> Any:
        _FIRINGS.set(self.firings)
        return await super().handle_update_handler(input)


# -- node spans -----------------------------------------------------------------------


def trace_node_events(execution: Execution, events: Sequence[Event]) -> None:
    """Called by the workflow with each step's SOE events; spans for the firings that
    ended in it. Nothing (one context-variable read) when the worker does not trace."""
    firings = _FIRINGS.get()
    if firings is None:
        return
    try:
        firings.step(execution, events)
    except Exception:  # tracing must never fail a workflow task
        _logger.exception("Could not trace the SOE node events of %s", execution.execution_id)


@dataclass(slots=True)
class _Firing:
    sequence: int
    node: str
    node_type: str
    start_ns: int
    tokens_before: int | None
    resumed: bool = False
    error: str | None = None
    handled: bool = False
    tool: str | None = None
    attempts: int = 0
    llm_calls: int = 0
    tool_calls: int = 0
    children: int = 0

    def note(self, event: Event) -> None:
        """What an event of the node says about this firing."""
        if isinstance(event, NodeErrored):
            self.error, self.handled = event.error, event.handled
        elif isinstance(event, ToolCalled):
            self.tool, self.attempts = event.tool_name, max(self.attempts, event.attempt)
        elif isinstance(event, LlmAnswered):
            self.llm_calls += 1
            self.attempts = max(self.attempts, event.attempt)
        elif isinstance(event, AgentStageAnswered):
            self.llm_calls += 1
        elif isinstance(event, AgentToolCall):
            self.tool_calls += 1
        elif isinstance(event, ChildrenStarting):
            self.children += len(event.children)


class _Firings:
    """The firings of one workflow run that have not ended, per node, oldest first."""

    def __init__(self, spans: NodeSpans) -> None:
        self._spans = spans
        self._open: dict[str, deque[_Firing]] = {}
        self._fired = 0

    def step(self, execution: Execution, events: Sequence[Event]) -> None:
        if not events and not self._open:
            return
        now = workflow.time_ns()
        for event in events:
            if isinstance(event, NodeExecuted):
                firing = self._firing(
                    event.node_name, event.node_type, now, _node_tokens(execution, event.node_name)
                )
                self._open.setdefault(event.node_name, deque()).append(firing)
                continue
            node = getattr(event, "node_name", None)
            if not node:
                continue
            waiting = self._open.get(node)
            if not waiting:
                # A firing the last run left waiting (continue-as-new): it starts, here,
                # when this run started, and its earlier tokens are unknown.
                workflow_nodes = execution.registry.get(execution.state.workflow_name, {})
                node_type = (workflow_nodes.get(node) or {}).get("node_type")
                started = int(workflow.info().start_time.timestamp() * 1e9)
                firing = self._firing(node, node_type, min(started, now), None, resumed=True)
                waiting = self._open[node] = deque([firing])
            waiting[0].note(event)
        if not self._open:
            return
        # A firing has ended when its node has fewer calls in flight than open firings.
        running = Counter(execution.running_nodes)
        ended: list[_Firing] = []
        for node in list(self._open):
            waiting = self._open[node]
            while len(waiting) > running[node]:
                ended.append(waiting.popleft())
            if not waiting:
                del self._open[node]
        if ended and not workflow.unsafe.is_replaying_history_events():
            for firing in sorted(ended, key=lambda f: f.sequence):
                self._emit(execution, firing, now)

    def _firing(
        self, node: str, node_type: Any, start_ns: int, tokens: int | None, resumed: bool = False
    ) -> _Firing:
        self._fired += 1
        return _Firing(self._fired, node, str(node_type), start_ns, tokens, resumed)

    def _emit(self, execution: Execution, firing: _Firing, end_ns: int) -> None:
        from opentelemetry import trace

        spans = self._spans
        traced = trace.get_current_span().get_span_context().is_valid
        if not traced and not spans.always_create_spans:
            return
        info = workflow.info()
        workflow_name = execution.state.workflow_name
        attributes: dict[str, Any] = {
            "soe.execution_id": execution.execution_id,
            "soe.main_execution_id": execution.main_execution_id,
            "soe.workflow": workflow_name,
            "soe.node": firing.node,
            "soe.node_type": firing.node_type,
            "soe.outcome": "ok" if firing.error is None else "failed",
            "temporalWorkflowID": info.workflow_id,
            "temporalRunID": info.run_id,
        }
        if firing.error is not None:
            attributes["soe.error"] = firing.error
            attributes["soe.failure_handled"] = firing.handled
        optional = {
            "soe.tool": firing.tool,
            "soe.attempts": firing.attempts,
            "soe.llm_calls": firing.llm_calls,
            "soe.tool_calls": firing.tool_calls,
            "soe.children": firing.children,
            "soe.resumed": firing.resumed,
        }
        attributes.update({key: value for key, value in optional.items() if value})
        tokens_after = _node_tokens(execution, firing.node)
        if firing.tokens_before is not None and (tokens_after or 0) > firing.tokens_before:
            attributes["soe.tokens"] = (tokens_after or 0) - firing.tokens_before
        span = spans.tracer.start_span(
            f"{SPAN_PREFIX} {workflow_name}.{firing.node}",
            kind=trace.SpanKind.INTERNAL,
            attributes=attributes,
            start_time=firing.start_ns,
        )
        if firing.error is not None:
            span.set_status(trace.Status(trace.StatusCode.ERROR, firing.error))
        span.end(end_time=end_ns)


def _node_tokens(execution: Execution, node: str) -> int | None:
    """The tokens the node's model calls used so far in the execution, if it counts them."""
    account = getattr(execution, "tokens", None)
    by_node = getattr(account, "by_node", None)
    if not isinstance(by_node, dict):
        return None
    return getattr(by_node.get(node), "total", 0)
