"""``soe-temporal``: run, serve, start, signal and inspect SOE executions.

Every command that talks to Temporal takes ``--address``, ``--namespace`` and
``--task-queue``, over the environment as the ``temporal`` CLI reads it (temporalio's
environment configuration: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY,
TEMPORAL_TLS*, TEMPORAL_PROFILE of TEMPORAL_CONFIG_FILE or the default config file) and
SOE_TASK_QUEUE (``soe``). With no address anywhere, ``run`` starts the embedded dev server
and the others use localhost:7233. Also from the environment: SOE_TOOLS
(``module:attribute`` of a tools registry) and SOE_LLM (``fake``, the default; ``openai``
with OPENAI_API_KEY, OPENAI_BASE_URL, SOE_LLM_MODEL; or ``module:callable``). With the
``[otel]`` extra and OTEL_EXPORTER_OTLP_ENDPOINT, clients and workers trace
(``temporal/tracing.py``).
Script-friendly: ``start`` prints the execution id alone on stdout, ``context --json`` and
``describe --json`` print JSON on stdout (without ``--json``, a readable form); everything
else goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import json
import logging
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from importlib import metadata
from typing import Any

import yaml
from temporalio.client import Client

from .client import SoeClient
from .client.workers import worker_appears
from .config import check_initial_workflow, load_config
from .engine.events import (
    AgentStageAnswered,
    AgentToolCall,
    AgentToolResult,
    BuiltinApplied,
    ChildrenStarting,
    Event,
    LlmAnswered,
    NodeErrored,
    NodeExecuted,
    SignalsBroadcast,
    ToolCalled,
    ToolDispatched,
)
from .engine.status import STATUSES
from .errors import ConfigError, SoeError, WorkerUnavailableError
from .graph import signal_graph, to_dot, to_mermaid
from .llm.providers import provider_from_environment
from .servers.codec import CodecServer
from .servers.devserver import DevServer, DevServerSettings, port_in_use
from .temporal.connection import client_connect_options
from .temporal.payload_store import payload_store_from
from .temporal.tracing import client_interceptors, traced_client
from .temporal.tracing import shutdown as shutdown_tracing
from .validation import format_problems, format_signals, validate_config
from .worker import DEFAULT_TASK_QUEUE, create_worker

EXIT_ERROR = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
# The default time limit of a waiting command (seconds): --timeout changes it.
DEFAULT_TIMEOUT_SECONDS = 3600.0


def console_main() -> None:
    """The ``soe-temporal`` executable.

    It leaves with ``os._exit`` once output is flushed: Temporal's Rust client threads can
    abort a short-lived process while the interpreter finalizes (temporalio/sdk-python#300).
    """
    code = main()
    with contextlib.suppress(Exception):  # spans still buffered go out before the exit
        shutdown_tracing()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return asyncio.run(args.command(args))
    except KeyboardInterrupt:
        _say("interrupted: what was already sent stays sent; the execution goes on")
        return EXIT_INTERRUPTED
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except SoeError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR


# -- commands -----------------------------------------------------------------------


async def run_command(args: argparse.Namespace) -> int:
    """Everything in one process: server (unless TEMPORAL_ADDRESS), worker, execution."""
    config = load_config(args.config)
    initial_context = _json_object(args.context, "--context")
    # The id is chosen here so only this execution's tree is shown: the worker may also
    # pick up executions left open on the dev server by earlier runs.
    execution_id = args.id or str(uuid.uuid4())
    _show_node_events(execution_id)
    llm = provider_from_environment()
    _say(f"LLM provider: {llm.description}")
    async with _server_for_run(args) as client:
        worker = create_worker(client, _task_queue(args), call_llm=llm, tools_registry=load_tools())
        async with worker:
            soe = _soe_client(client, args)
            await soe.orchestrate(
                config, args.workflow, args.signal, initial_context, execution_id=execution_id
            )
            for then in args.then_signal or []:
                _say(f"sending {then} to {execution_id}")
                await soe.broadcast_signals(execution_id, [then])
            context = await soe.get_context(execution_id)
    print(json.dumps(context, indent=2))
    _say(
        f"execution {execution_id} is idle and stays open; continue it later with "
        f"`soe-temporal signal {execution_id} SIGNAL` (with `soe-temporal dev` and "
        "`soe-temporal worker` running)."
    )
    return 0


async def dev_command(args: argparse.Namespace) -> int:
    settings = DevServerSettings.from_environment()
    async with DevServer(settings):
        _say(
            f"Temporal dev server on {settings.address}, UI on http://localhost:{settings.ui_port}, "
            f"data in {settings.database}, log in {settings.log_file}. Ctrl-C to stop."
        )
        await _until_stopped()
    return 0


async def codec_server_command(args: argparse.Namespace) -> int:
    """Temporal's codec-server protocol over the payload store, so the Web UI and
    ``temporal workflow show --codec-endpoint`` show stored payloads instead of claims."""
    store = payload_store_from(None)
    server = CodecServer(store, args.host, args.port, args.cors_origin)
    _say(
        f"codec server on {server.url} for the payload store {store.describe()}: give it to "
        f"`temporal workflow show --codec-endpoint {server.url}` or the Web UI's codec "
        "endpoint setting. Ctrl-C to stop."
    )
    server.start()
    try:
        await _until_stopped()
    finally:
        server.stop()
    return 0


async def worker_command(args: argparse.Namespace) -> int:
    llm = provider_from_environment()
    client = await _connect(args)
    queue = _task_queue(args)
    worker = create_worker(client, queue, call_llm=llm, tools_registry=load_tools())
    _say(
        f"worker on task queue '{queue}' at {_where(client)}, LLM provider: "
        f"{llm.description}; Ctrl-C to stop."
    )
    async with worker:
        await _until_stopped()
    return 0


async def start_command(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    initial_context = _json_object(args.context, "--context")
    check_initial_workflow(config, args.workflow)  # bad input before a missing worker
    client = await _connect(args)
    soe = _soe_client(client, args)
    if args.wait:
        await _expect_worker(client, args, "nothing was started")
    execution_id = await soe.orchestrate(
        config, args.workflow, args.signal, initial_context, execution_id=args.id, wait=args.wait
    )
    print(execution_id)
    return 0


async def signal_command(args: argparse.Namespace) -> int:
    client = await _connect(args)
    soe = _soe_client(client, args)
    if args.wait:
        await _expect_worker(client, args, "the signals were not sent")
    await soe.broadcast_signals(
        args.execution_id, args.signals, wait=args.wait, request_id=args.request_id
    )
    return 0


async def context_command(args: argparse.Namespace) -> int:
    soe = SoeClient(await _connect(args), _task_queue(args))
    _print_mapping(await soe.get_context(args.execution_id), args.json)
    return 0


async def describe_command(args: argparse.Namespace) -> int:
    soe = SoeClient(await _connect(args), _task_queue(args))
    _print_mapping(await soe.describe(args.execution_id), args.json)
    return 0


async def list_command(args: argparse.Namespace) -> int:
    """SOE executions from the server's search index, newest first."""
    soe = SoeClient(await _connect(args), _task_queue(args))
    rows = await soe.list_executions(
        workflow_name=args.workflow,
        status=args.status,
        last_signal=args.last_signal,
        query=args.query,
        limit=args.limit,
    )
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        _say("no SOE execution matches")
        return 0
    columns = ("execution_id", "workflow_name", "soe_status", "last_signals", "started")
    table = [[_cell(row[column]) for column in columns] for row in rows]
    widths = [
        max(len(column), *(len(line[i]) for line in table)) for i, column in enumerate(columns)
    ]
    for line in [list(columns), *table]:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        )
    return 0


def _cell(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(str(item) for item in value) or "-"
    return "-" if value in (None, "") else str(value)


async def validate_command(args: argparse.Namespace) -> int:
    """Check a config without a server: errors and warnings on stderr, entry and exit
    points on stdout; exit 2 when there are errors (warnings alone exit 0)."""
    report = validate_config(args.config)
    for line in format_problems(report):
        print(line, file=sys.stderr)
    if not args.quiet:
        for line in format_signals(report):
            print(line)
    errors, warnings = len(report.errors), len(report.warnings)
    verdict = f"{args.config}: {'invalid' if errors else 'valid'}"
    print(
        f"{verdict} ({errors} error(s), {warnings} warning(s))",
        file=sys.stderr if errors else sys.stdout,
    )
    return EXIT_BAD_INPUT if errors else 0


async def graph_command(args: argparse.Namespace) -> int:
    """A config's signal graph, or an execution's (its registry as it is now, each node's
    fire count, failed nodes marked)."""
    if (args.config is None) == (args.execution is None):
        raise ConfigError("graph takes a CONFIG file or --execution ID (one of them)")
    if args.config is not None:
        graph = signal_graph(load_config(args.config).workflows, args.workflow)
    else:
        soe = SoeClient(await _connect(args), _task_queue(args))
        registry = await soe.get_workflows(args.execution)
        context = await soe.get_context(args.execution)
        described = await soe.describe(args.execution)
        workflow = args.workflow or described.get("workflow_name")
        failed = {f["node_name"] for f in described.get("failures", []) if not f.get("handled")}
        graph = signal_graph(
            registry,
            workflow,
            fire_counts=context.get("__operational__", {}).get("nodes", {}),
            failed_nodes=sorted(failed),
        )
    print(to_dot(graph) if args.format == "dot" else to_mermaid(graph))
    return 0


async def close_command(args: argparse.Namespace) -> int:
    client = await _connect(args)
    soe = _soe_client(client, args)
    await _expect_worker(client, args, "the execution was not closed")
    print(json.dumps(await soe.close(args.execution_id), indent=2))
    return 0


def _soe_client(client: Client, args: argparse.Namespace) -> SoeClient:
    """A SoeClient whose waits end after --timeout seconds."""
    seconds = getattr(args, "timeout", None) or DEFAULT_TIMEOUT_SECONDS
    return SoeClient(client, _task_queue(args), wait_timeout=timedelta(seconds=seconds))


async def _expect_worker(client: Client, args: argparse.Namespace, consequence: str) -> None:
    """A command that would wait for a worker says within seconds that none polls its
    task queue, instead of waiting in silence (unless --wait-for-worker)."""
    if getattr(args, "wait_for_worker", False):
        return
    queue = _task_queue(args)
    if not await worker_appears(client, queue):
        raise WorkerUnavailableError(
            f"No worker polls task queue '{queue}' at {_where(client)}, so {consequence}. "
            "Start one (`soe-temporal worker` with the same --task-queue or SOE_TASK_QUEUE, "
            "address and namespace), or pass --wait-for-worker to wait for one."
        )


def _print_mapping(value: Mapping[str, Any], as_json: bool) -> None:
    """``--json``: the JSON scripts read; else the same as YAML, for people (``key: value``
    lines, nested values indented, lists of plain values on one line)."""
    text = json.dumps(value, indent=2, default=str)
    if as_json:
        print(text)
        return
    readable = yaml.safe_dump(
        json.loads(text), sort_keys=False, allow_unicode=True, default_flow_style=None, width=100
    )
    print(readable, end="")


# -- connection -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Connection:
    """Where a command talks to Temporal."""

    options: dict[str, Any]  # Client.connect's arguments: target_host, namespace, api_key, tls
    configured: bool  # the address came from --address, the environment or a profile

    @property
    def address(self) -> str:
        return self.options["target_host"]

    @property
    def namespace(self) -> str:
        return self.options.get("namespace") or "default"


def _connection(args: argparse.Namespace) -> _Connection:
    """temporalio's environment configuration, as the ``temporal`` CLI reads it (the
    TEMPORAL_* variables over the TEMPORAL_PROFILE profile of TEMPORAL_CONFIG_FILE or the
    default config file), then --address and --namespace over it. With no address anywhere:
    the embedded dev server's (localhost:7233 unless SOE_DEV_PORT). An empty variable counts
    as unset."""
    options = client_connect_options(
        getattr(args, "address", None), getattr(args, "namespace", None)
    )
    configured = bool(options.get("target_host"))
    if not configured:
        options["target_host"] = DevServerSettings.from_environment().address
    return _Connection(options, configured)


def _task_queue(args: argparse.Namespace) -> str:
    """--task-queue, else SOE_TASK_QUEUE, else ``soe``."""
    return (
        getattr(args, "task_queue", None) or os.environ.get("SOE_TASK_QUEUE") or DEFAULT_TASK_QUEUE
    )


def _where(client: Client) -> str:
    return f"{client.service_client.config.target_host} (namespace '{client.namespace}')"


async def _connect(args: argparse.Namespace, connection: _Connection | None = None) -> Client:
    connection = connection or _connection(args)
    interceptors = client_interceptors()
    try:
        return await Client.connect(**connection.options, interceptors=interceptors)
    except Exception as error:
        raise SoeError(
            f"Cannot reach Temporal at {connection.address} ({error}). Start a server with "
            "`soe-temporal dev`, or pass --address (or set TEMPORAL_ADDRESS, or a "
            "TEMPORAL_PROFILE) to yours."
        ) from None


@contextlib.asynccontextmanager
async def _server_for_run(args: argparse.Namespace) -> AsyncIterator[Client]:
    """The configured server (--address, TEMPORAL_ADDRESS or a profile); else a dev server
    already on the port; else an embedded one, with --namespace if one is given."""
    connection = _connection(args)
    settings = DevServerSettings.from_environment()
    if connection.configured or port_in_use(settings.port):
        yield await _connect(args, connection)
        return
    namespace = connection.namespace
    if namespace != "default":
        extra = ("--namespace", namespace)
        settings = DevServerSettings(settings.database, settings.port, settings.ui_port, extra)
    _say(f"starting the embedded Temporal dev server (data in {settings.database})")
    async with DevServer(settings) as server:
        assert server.client is not None
        if namespace == "default":
            yield traced_client(server.client)
        else:
            yield await Client.connect(
                settings.address, namespace=namespace, interceptors=client_interceptors()
            )


def _version() -> str:
    try:
        return metadata.version("soe-temporal")
    except metadata.PackageNotFoundError:
        return "(not installed)"


def load_tools(spec: str | None = None) -> dict[str, Any]:
    """The tools registry named by SOE_TOOLS (``module:attribute``), or an empty one."""
    spec = spec if spec is not None else os.environ.get("SOE_TOOLS", "")
    if not spec:
        return {}
    module_name, _, attribute = spec.partition(":")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ConfigError(f"SOE_TOOLS={spec}: cannot import '{module_name}': {error}") from None
    registry = getattr(module, attribute or "TOOLS", None)
    if not isinstance(registry, Mapping):
        raise ConfigError(
            f"SOE_TOOLS={spec}: '{module_name}' has no mapping named '{attribute or 'TOOLS'}' "
            "(a tools registry: {name: callable or {function, max_retries, ...}})"
        )
    return dict(registry)


def _json_object(text: str | None, option: str) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError(f"{option} is not valid JSON: {error}") from None
    if not isinstance(value, dict):
        raise ConfigError(f"{option} must be a JSON object, e.g. '{{\"amount\": 1200}}'")
    return value


async def _until_stopped() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class _NodeEventPrinter(logging.Handler):
    """Prints the SOE events of one execution tree (nodes as they fire) on stderr; a
    child's lines start with its place in the tree, e.g. ``[Spawn-1]``."""

    def __init__(self, execution_id: str) -> None:
        super().__init__()
        self._execution_id = execution_id

    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, "soe_event", None)
        workflow_id = getattr(record, "temporal_workflow", {}).get("workflow_id", "")
        if not event or not _in_tree(workflow_id, self._execution_id):
            return
        try:
            line = _event_line(event)
        except Exception:  # a printer must never fail the workflow task that logs
            self.handleError(record)
            return
        if line and workflow_id != self._execution_id:
            line = f"[{workflow_id[len(self._execution_id) + 1 :]}] {line}"
        if line:
            _say(line)


def _in_tree(workflow_id: str, execution_id: str) -> bool:
    """Whether ``workflow_id`` is the execution or one of its children (ids nest, F-CHILD)."""
    return workflow_id == execution_id or workflow_id.startswith(f"{execution_id}/")


def _event_line(event: Event) -> str | None:
    """One SOE event as `run` shows it; None for events it does not show."""
    match event:
        case SignalsBroadcast(signals=signals):
            return f"  signals {', '.join(signals)}"
        case BuiltinApplied(tool=tool, details=details):
            target = ".".join(
                str(details[key]) for key in ("workflow_name", "node_name") if details.get(key)
            )
            named = details.get("identity_name") or details.get("field_name") or target
            return f"  {tool}: {named}"
        case ChildrenStarting():
            return (
                f"  {event.node_name}: starts {len(event.children)} child execution(s) of "
                f"{event.child_workflow}"
            )
        case NodeExecuted():
            return f"▶ {event.node_name} ({event.node_type})"
        case ToolDispatched():
            return f"  soe_call_tool: calls {event.invoked_tool}({event.arguments})"
        case ToolCalled():
            detail = f": {event.error}" if event.error else ""
            return f"  {event.node_name}: tool {event.tool_name} {event.status}{detail}"
        case LlmAnswered() | AgentStageAnswered():
            status = {"ok": "answer accepted", "invalid": "answer refused", "failed": "call failed"}
            stage = f"{event.stage} " if isinstance(event, AgentStageAnswered) else ""
            detail = f": {event.error}" if event.error else ""
            return (
                f"  {event.node_name}: LLM {stage}{status[event.status]} "
                f"(attempt {event.attempt}){detail}"
            )
        case AgentToolCall():
            return f"  {event.node_name}: calls {event.tool_name}({event.tool_args})"
        case AgentToolResult():
            return f"  {event.node_name}: {event.tool_name} returned {event.result_preview}"
        case NodeErrored():
            return f"✗ {event.node_name}: {event.error}"
    return None


def _show_node_events(execution_id: str) -> None:
    logger = logging.getLogger("temporalio.workflow")
    logger.setLevel(logging.INFO)
    logger.addHandler(_NodeEventPrinter(execution_id))
    logger.propagate = False


# -- arguments ------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="soe-temporal",
        description="SOE workflows on Temporal. Environment: the TEMPORAL_* variables and "
        "profiles of the `temporal` CLI (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, "
        "TEMPORAL_API_KEY, TEMPORAL_TLS*, TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE), "
        "SOE_TASK_QUEUE (default soe), SOE_TOOLS (module:attribute), SOE_LLM (fake | openai "
        "| module:callable; default fake); with the [otel] extra, OTEL_EXPORTER_OTLP_ENDPOINT "
        "and OTEL_SERVICE_NAME (tracing).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    # The options of every command that talks to Temporal, as the `temporal` CLI names them.
    temporal = argparse.ArgumentParser(add_help=False)
    options = temporal.add_argument_group("Temporal connection")
    options.add_argument(
        "--address",
        metavar="HOST:PORT",
        help="the Temporal frontend (default: TEMPORAL_ADDRESS, else the address of the "
        "config file's profile, TEMPORAL_PROFILE or `default`; else localhost:7233, and for "
        "`run` the embedded dev server)",
    )
    options.add_argument(
        "--namespace",
        metavar="NAME",
        help="the namespace (default: TEMPORAL_NAMESPACE, else the profile's, else default)",
    )
    options.add_argument(
        "--task-queue",
        metavar="NAME",
        help=f"the workers' task queue (default: SOE_TASK_QUEUE, else {DEFAULT_TASK_QUEUE})",
    )

    def add(name: str, handler: Any, help_text: str, talks: bool = True) -> argparse.ArgumentParser:
        """A command; ``talks``: it talks to Temporal, so it takes the connection options."""
        parents = [temporal] if talks else []
        sub = commands.add_parser(name, help=help_text, description=help_text, parents=parents)
        sub.set_defaults(command=handler)
        return sub

    def waiting(sub: argparse.ArgumentParser, needs_worker: bool = True) -> None:
        sub.add_argument(
            "--timeout",
            type=float,
            metavar="SECONDS",
            help=f"stop waiting after this long (default {DEFAULT_TIMEOUT_SECONDS:g}); the "
            "execution goes on",
        )
        if needs_worker:
            sub.add_argument(
                "--wait-for-worker",
                action="store_true",
                help="wait even when no worker polls the task queue (by default the "
                "command says so within 10 s and exits 1)",
            )

    def starting(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("config", help="SOE config (YAML file)")
        sub.add_argument("--workflow", required=True, help="initial workflow name")
        sub.add_argument(
            "--signal", action="append", required=True, help="initial signal (repeatable)"
        )
        sub.add_argument("--context", help="initial context as a JSON object")
        sub.add_argument("--id", help="execution id (default: a new UUID)")

    run = add(
        "run", run_command, "run a config start to idle, showing each node, then print the context"
    )
    starting(run)
    run.add_argument(
        "--then-signal",
        action="append",
        metavar="SIGNAL",
        help="once idle, send this signal and wait again (repeatable, in order)",
    )
    waiting(run, needs_worker=False)  # run brings its own worker
    add(
        "dev",
        dev_command,
        "run the embedded Temporal dev server (data kept in a file)",
        talks=False,
    )
    add("worker", worker_command, "run a worker (tools from SOE_TOOLS)")
    codec = add(
        "codec-server",
        codec_server_command,
        "serve Temporal's codec protocol so the UI and `temporal` show stored payloads",
        talks=False,
    )
    codec.add_argument("--host", default="127.0.0.1")
    codec.add_argument("--port", type=int, default=8888)
    codec.add_argument(
        "--cors-origin",
        default="*",
        help="the Web UI's origin, e.g. http://localhost:8233 (default: any)",
    )
    start = add("start", start_command, "start an execution and print its id")
    starting(start)
    start.add_argument("--wait", action="store_true", help="wait until the execution is idle")
    waiting(start)
    sig = add("signal", signal_command, "send signals to an execution")
    sig.add_argument("execution_id")
    sig.add_argument("signals", nargs="+", metavar="SIGNAL")
    sig.add_argument("--wait", action="store_true", help="wait until the execution is idle")
    waiting(sig)
    sig.add_argument(
        "--request-id",
        metavar="ID",
        help="deliver at most once per id: sending the same id again applies nothing "
        "(safe to retry)",
    )
    for name, handler, text in (
        ("context", context_command, "print an execution's context"),
        ("describe", describe_command, "print an execution's status"),
    ):
        reading = add(name, handler, text)
        reading.add_argument("execution_id")
        reading.add_argument(
            "--json",
            action="store_true",
            help="print JSON, for scripts (default: a readable YAML form)",
        )
    listing = add("list", list_command, "list SOE executions, newest first (search attributes)")
    listing.add_argument("--workflow", metavar="NAME", help="of this SOE workflow")
    listing.add_argument(
        "--status",
        choices=STATUSES,
        help="in this SOE status (failed: a node failure no failure path took)",
    )
    listing.add_argument(
        "--last-signal", metavar="SIGNAL", help="whose last turn broadcast this signal"
    )
    listing.add_argument(
        "--query",
        metavar="QUERY",
        help='and Temporal\'s list filter, e.g. "SoeToolCalls > 3" or "StartTime > \'2026-12-01\'"',
    )
    listing.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
    listing.add_argument("--json", action="store_true", help="print JSON, for scripts")
    validate = add(
        "validate",
        validate_command,
        "check a config without a server: errors, warnings, entry and exit points",
        talks=False,
    )
    validate.add_argument("config", help="SOE config (YAML file)")
    validate.add_argument("--quiet", "-q", action="store_true", help="only errors and warnings")
    graph = add(
        "graph",
        graph_command,
        "draw the signal graph of a config or of an execution (Mermaid or Graphviz dot)",
    )
    graph.add_argument("config", nargs="?", help="SOE config (YAML file)")
    graph.add_argument(
        "--execution", metavar="ID", help="an execution's graph: its registry now, fire counts"
    )
    graph.add_argument(
        "--workflow", metavar="NAME", help="this workflow and the child workflows it reaches"
    )
    graph.add_argument("--format", choices=("mermaid", "dot"), default="mermaid")
    close = add("close", close_command, "complete an execution and print its final context")
    close.add_argument("execution_id")
    waiting(close)
    return parser


if __name__ == "__main__":
    console_main()
