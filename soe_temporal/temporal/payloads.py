"""The shapes that cross Temporal: workflow input, activity and message arguments.

Each is persisted in workflow histories, so each is a durable contract: add fields with
defaults; never rename, retype or remove one (see DESIGN.md and STYLE.md §4).
"""

import json
from dataclasses import dataclass, field
from typing import Any

from ..engine.commands import TreeConfigChange
from ..engine.size import json_size
from ..engine.state import EngineSettings, ExecutionState
from ..llm.usage import TokenUsage
from .conversation import ConversationChunk
from .dataclass_json import DataclassJSONEncoder, decode
from .payload_store import STORED_WHOLE_MIN_BYTES, StoredWhole
from .pieces import cut, is_cut, join, set_apart

WORKFLOW_TYPE = "SoeWorkflow"
# The task queue workers poll and clients start executions on, unless told otherwise.
DEFAULT_TASK_QUEUE = "soe"
SIGNAL_NAME = "soe_signal"
CHILD_MESSAGE_SIGNAL = "soe_child_message"
HISTORY_APPEND_SIGNAL = "soe_history_append"
# soe_copy_context from another execution: whole field histories to put in place (F-BI-14).
REPLACE_FIELDS_SIGNAL = "soe_replace_fields"
TOOL_ACTIVITY = "soe.tool"
LLM_ACTIVITY = "soe.llm"
READ_HISTORY_ACTIVITY = "soe.read_history"
WORKER_OPTIONS_ACTIVITY = "soe.worker_options"

BROADCAST_UPDATE = "soe_broadcast"
WAIT_IDLE_UPDATE = "soe_wait_idle"
CLOSE_UPDATE = "soe_close"
SAVE_UPDATE = "soe_save"
CONTEXT_QUERY = "soe_context"
WORKFLOWS_QUERY = "soe_workflows"
CONFIG_QUERY = "soe_config"
STATUS_QUERY = "soe_status"
CONVERSATION_QUERY = "soe_conversation"
# What soe_list_contexts shows of an execution (F-BI-15).
SUMMARY_QUERY = "soe_summary"

# 2: each outcome's cascade runs as soon as the outcome is applied (F-EXEC-3). Executions
# started with version 1 keep version 1's order, so their histories replay; their next
# run after a continue-as-new is started with the current version.
# 3: a worker's tool and LLM options are read once per run (at the first call that needs
# them), not again each time an idle execution wakes; a continue-as-new reads them anew.
# 4: the registry travels as a stored piece of its own (WorkflowArguments.write); older
# workers cannot read such a start, so upgrade workers before clients.
# 5: a start leaves out the limits at their version-5 defaults (VERSION_5_SETTINGS), and a
# child's ``__parent__`` leaves out what Temporal records (its parent, its root) and empty
# lists (compact_parent_link); older workers cannot read such a start. A worker's options
# are read when the first call that needs them is made, not before the first broadcast
# (so an execution that only waits never reads them).
PAYLOAD_VERSION = 5
CASCADE_EACH_OUTCOME_VERSION = 2
OPTIONS_ONCE_PER_RUN_VERSION = 3
COMPACT_START_VERSION = 5
LAZY_WORKER_OPTIONS_VERSION = 5
# What a version-5 start means by a limit it leaves out. Fixed: a later default is a new
# version, so a recorded start keeps its meaning.
VERSION_5_SETTINGS = EngineSettings(
    cascade_limit=10_000, agent_iteration_limit=500, max_state_bytes=256 * 1024 * 1024
)

# ApplicationError types of failed activities, which the workflow tells apart.
TOOL_NOT_FOUND = "ToolNotFound"
TOOL_PARAMETER_ERROR = "ToolParameterError"
TOOL_ERROR = "ToolError"
TOOL_RESULT_INVALID = "ToolResultInvalid"
LLM_UNAVAILABLE = "LlmUnavailable"
LLM_PROVIDER_ERROR = "LlmProviderError"
LLM_CALL_ERROR = "LlmCallError"
# ApplicationError types of a refused broadcast: the execution is closing; the signals
# are not a list of names.
CLOSING_REFUSAL = "Closing"
INVALID_SIGNALS = "InvalidSignals"
INVALID_SAVE = "InvalidSave"

# Memo keys: what describe() shows of an execution, even once it is closed.
MEMO_WORKFLOW = "soe_workflow_name"
MEMO_MAIN_ID = "soe_main_execution_id"
MEMO_PARENT_ID = "soe_parent_execution_id"


def lineage_memo(
    workflow_name: str,
    main_id: str,
    parent_id: str | None,
    temporal_root_id: str,
    temporal_parent_id: str | None,
) -> dict[str, str]:
    """The memo of an execution: its SOE workflow, and its main and parent execution ids
    only where Temporal does not record them already (as the root and the parent of the
    workflow). A fan-out's children each carry a memo, and every byte of a child's start
    is written several times by the server."""
    memo = {MEMO_WORKFLOW: workflow_name}
    if main_id != temporal_root_id:
        memo[MEMO_MAIN_ID] = main_id
    if parent_id != temporal_parent_id:
        memo[MEMO_PARENT_ID] = parent_id or ""
    return memo


def lineage_from_memo(
    execution_id: str,
    memo: dict[str, Any],
    temporal_root_id: str | None,
    temporal_parent_id: str | None,
) -> tuple[str, str | None]:
    """(main, parent) execution ids from :func:`lineage_memo`'s memo and what Temporal
    records; memos written before it carry both ids. A server that records no roots
    started its grandchildren with the main id in the memo (their parent saw no root)."""
    main = memo.get(MEMO_MAIN_ID) or temporal_root_id or temporal_parent_id or execution_id
    parent = memo.get(MEMO_PARENT_ID, temporal_parent_id)
    return main, parent or None


@dataclass
class SoeWorkflowInput:
    """Starts an execution (the start fields), or resumes one after continue-as-new
    (:meth:`resuming`: ``resumed`` holds its whole state, and the start fields keep their
    defaults, unread).
    """

    workflow_name: str = ""
    registry: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    initial_signals: list[str] = field(default_factory=list)
    initial_context: dict[str, Any] = field(default_factory=dict)
    # F-INH-3: a context taken from another execution (history lists, as stored);
    # initial_context is then merged into it by append.
    inherited_context: dict[str, Any] | None = None
    identities: dict[str, str] = field(default_factory=dict)
    context_schema: dict[str, Any] = field(default_factory=dict)
    # The limits (EngineSettings); None: VERSION_5_SETTINGS's (written out before version 5).
    cascade_limit: int | None = None
    agent_iteration_limit: int | None = None
    # Continue as new once the history has this many events (default: when the server
    # suggests it, at about 4,096 events or 4 MiB).
    continue_as_new_after_events: int | None = None
    resumed: ExecutionState | None = None
    # A close() that arrived while the execution was continuing as new.
    closing: bool = False
    version: int = PAYLOAD_VERSION
    # F-INH-1: the execution whose workflows, identities and schema this one took.
    inherit_config_from_id: str | None = None
    # Bytes of JSON the state may grow to (EngineSettings.max_state_bytes).
    max_state_bytes: int | None = None
    # On resume: the last conversation chunks the previous runs' LLM calls stored.
    stored_conversation_heads: list[str] = field(default_factory=list)
    # Started without SOE's search attributes by the client's choice
    # (SoeClient(search_attributes=False)), and so its children and next runs: the worker
    # does not say how to register them. Carried over on resume.
    search_attributes_declined: bool = False

    @property
    def settings(self) -> EngineSettings:
        defaults = VERSION_5_SETTINGS
        return EngineSettings(
            cascade_limit=_or(self.cascade_limit, defaults.cascade_limit),
            agent_iteration_limit=_or(self.agent_iteration_limit, defaults.agent_iteration_limit),
            max_state_bytes=_or(self.max_state_bytes, defaults.max_state_bytes),
        )

    @settings.setter
    def settings(self, settings: EngineSettings) -> None:
        """Each limit, or None where it is the default (nothing to write)."""
        defaults = VERSION_5_SETTINGS
        self.cascade_limit = _unless(settings.cascade_limit, defaults.cascade_limit)
        self.agent_iteration_limit = _unless(
            settings.agent_iteration_limit, defaults.agent_iteration_limit
        )
        self.max_state_bytes = _unless(settings.max_state_bytes, defaults.max_state_bytes)

    @classmethod
    def resuming(
        cls,
        state: ExecutionState,
        continue_as_new_after_events: int | None,
        closing: bool,
        search_attributes_declined: bool = False,
    ) -> "SoeWorkflowInput":
        """The next run of an execution that continues as new."""
        return cls(
            resumed=state,
            continue_as_new_after_events=continue_as_new_after_events,
            closing=closing,
            search_attributes_declined=search_attributes_declined,
        )


def _or(value: int | None, default: int) -> int:
    return default if value is None else value


def _unless(value: int, default: int) -> int | None:
    return None if value == default else value


def compact_parent_link(link: dict[str, Any], temporal_root_id: str) -> dict[str, Any]:
    """A child's ``__parent__`` as its start carries it: without the parent's id (Temporal
    records the parent), the main id when it is the child's Temporal root, and empty
    lists. :func:`complete_parent_link` puts them back, in SOE's order."""
    compact = {
        key: value
        for key, value in link.items()
        if key != "parent_execution_id" and value != [] and value is not None
    }
    if compact.get("main_execution_id") == temporal_root_id:
        del compact["main_execution_id"]
    return compact


def complete_parent_link(
    compact: dict[str, Any], parent_id: str, temporal_root_id: str
) -> dict[str, Any]:
    """SOE's ``__parent__`` (F-OPS-10) from :func:`compact_parent_link`'s form."""
    return {
        "parent_execution_id": parent_id,
        "signals_to_parent": compact.get("signals_to_parent", []),
        "context_updates_to_parent": compact.get("context_updates_to_parent", []),
        "main_execution_id": compact.get("main_execution_id", temporal_root_id),
    }


class WorkflowArguments:
    """SoeWorkflow's arguments: its input, with every large value cut into pieces that
    follow it as arguments of their own (``pieces.py``), so the payload store keeps what
    stays the same between runs and between children once. Executions started with the
    input alone (before pieces) read as they were."""

    @staticmethod
    def write(start: SoeWorkflowInput) -> list[Any]:
        """The arguments of a start, a continue-as-new or a child: the registry (a config
        every run and child carries unchanged) goes as a stored piece of its own, so the
        histories hold its claim and the store holds it once."""
        value, pieces = cut(json.loads(json.dumps(start, cls=DataclassJSONEncoder)))
        state = value.get("resumed")
        for holder in (value, state if isinstance(state, dict) else {}):
            registry = holder.get("registry")
            if (
                isinstance(registry, dict)
                and not is_cut(registry)
                and json_size(registry) >= STORED_WHOLE_MIN_BYTES
            ):
                set_apart(holder, "registry", pieces, StoredWhole)
        return [value, *pieces]

    @staticmethod
    def read(start: Any, pieces: tuple[Any, ...]) -> SoeWorkflowInput:
        """Decoded without type hints (their number varies), so typed here."""
        if isinstance(start, SoeWorkflowInput):
            return start
        return decode(SoeWorkflowInput, join(start, list(pieces)))

    @staticmethod
    def release(start: Any, pieces: tuple[Any, ...]) -> None:
        """Empty the arguments once ``read``: temporalio keeps a workflow's arguments for
        as long as it runs, an SOE execution may wait months, and what they held lives on
        in the execution's state (``read`` shares none of their lists or mappings)."""
        for value in (start, *pieces):
            if isinstance(value, (dict, list)):
                value.clear()


@dataclass
class ToolCallInput:
    """One SOE attempt of one tool node."""

    execution_id: str
    workflow_name: str
    node_name: str
    tool_name: str
    attempt: int
    parameters: dict[str, Any] | None = None
    parameter_history: list[Any] | None = None
    # For an agent: return the result's Python string form (what the model reads).
    as_text: bool = False


@dataclass
class ToolCallResult:
    """A tool's JSON result, and what its registry entry says about retries."""

    result: Any
    max_retries: int = 0
    failure_signal: str | None = None


@dataclass
class ToolFailureDetails:
    """Carried in a failed tool activity's ApplicationError details."""

    max_retries: int = 0
    failure_signal: str | None = None
    exception_type: str = ""


@dataclass
class LlmCallInput:
    """One model call of one LLM node: SOE's assembled prompt and the node's config."""

    execution_id: str
    workflow_name: str
    node_name: str
    attempt: int
    prompt: str
    config: dict[str, Any]
    system_prompt: str | None = None
    # A long conversation travels by reference (``conversation.py``): the prompt is then
    # prompt_before + the chain of chunks ending at conversation_head + prompt_after, and
    # ``prompt`` is empty; conversation_chunks are the chunks the store may not have yet.
    prompt_before: str = ""
    prompt_after: str = ""
    conversation_head: str = ""
    conversation_chunks: list[ConversationChunk] = field(default_factory=list)


@dataclass
class LlmCallResult:
    text: str
    # The tokens the call used, when the provider reports them (histories recorded before
    # usage was reported have none).
    usage: TokenUsage | None = None


@dataclass
class ToolOptions:
    """What a workflow needs to know of a registry entry before and around a call."""

    max_retries: int = 0
    failure_signal: str | None = None
    temporal: dict[str, Any] = field(default_factory=dict)
    process_accumulated: bool = False
    # For agents: the function's own name, its signature text, its arguments' schema.
    function_name: str = ""
    signature: str = ""
    arguments_schema: dict[str, Any] = field(default_factory=dict)


@dataclass
class WorkerOptions:
    """What a workflow reads from its worker before scheduling calls: the tools and the
    Temporal options the worker sets for tool calls and LLM calls."""

    tools: dict[str, ToolOptions] = field(default_factory=dict)
    tool_defaults: dict[str, Any] = field(default_factory=dict)
    llm_defaults: dict[str, Any] = field(default_factory=dict)
    # The worker's LLM activity reads conversations by reference from its payload store.
    conversation_by_reference: bool = False


@dataclass
class BroadcastRequest:
    """Signals sent by an update. A ``request_id`` the execution has taken already is not
    delivered again: the update answers about its first delivery."""

    signals: list[str]
    wait: bool = True
    request_id: str | None = None


@dataclass
class SaveRequest:
    """A backend write from outside (soe-ai's ``save_context``, ``save_identities``,
    ``save_context_schema`` and their deletes): ``part`` replaced whole by ``value``
    (``None`` deletes identities or the context schema)."""

    part: str
    value: Any = None
    version: int = 1


@dataclass
class WaitRequest:
    """Wait until idle; report the unhandled failures of ``cascade`` (the one a start or a
    signal opened), or else those at or after ``since`` (a workflow time).

    With ``request_ids`` (signals sent with those ids, by ``soe_signal`` or an update),
    wait until each has arrived and the execution is idle, and report the failures of
    their cascades."""

    cascade: int | None = None
    since: str | None = None
    request_ids: list[str] = field(default_factory=list)


@dataclass
class ChildMessage:
    """A child's context updates ([field, value] pairs) and signal lists for its parent."""

    child_execution_id: str
    updates: list[list[Any]] = field(default_factory=list)
    signals: list[list[str]] = field(default_factory=list)
    # Changes to the tree's identities or context schema made below, on their way up to
    # the main execution (F-BI-21), applied before the signals.
    tree_changes: list[TreeConfigChange] = field(default_factory=list)


@dataclass
class IdleReport:
    """Answer of the broadcast and wait updates.

    ``retry`` means the execution is continuing as new: ask the new run again.
    """

    cascade: int | None
    idle: bool
    retry: bool = False
    progress: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    # The execution's workflow time when it answered (ISO 8601).
    now: str = ""
    # For a wait with request ids: the cascade each of them opened.
    requests: dict[str, int] = field(default_factory=dict)
    # How many calls (tools, models, children) the execution has started in all: one that
    # started none since it was last seen cannot have woken another execution.
    calls: int = 0
