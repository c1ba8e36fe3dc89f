"""SOE's search attributes: how ``temporal workflow list`` and the Web UI find executions.

An execution carries them when it was started with them (by SoeClient, or by a parent
that carries them): a server without them registered refuses any workflow that sets one,
so the start decides, and the workflow reads that decision from its own start event
(deterministic on replay). The embedded servers register them; elsewhere
``registration_commands()`` says how.
"""

from __future__ import annotations

from typing import Any

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.common import (
    SearchAttributeKey,
    SearchAttributePair,
    SearchAttributeUpdate,
    TypedSearchAttributes,
)
from temporalio.service import RPCError, RPCStatusCode

from ..engine.status import RUNNING, ExecutionStatus
from .payloads import WORKFLOW_TYPE

WORKFLOW_NAME = SearchAttributeKey.for_keyword("SoeWorkflowName")
STATUS = SearchAttributeKey.for_keyword("SoeStatus")
LAST_SIGNALS = SearchAttributeKey.for_keyword_list("SoeLastSignals")
MAIN_EXECUTION_ID = SearchAttributeKey.for_keyword("SoeMainExecutionId")
PARENT_EXECUTION_ID = SearchAttributeKey.for_keyword("SoeParentExecutionId")
FAILED_NODES = SearchAttributeKey.for_keyword_list("SoeFailedNodes")
LLM_CALLS = SearchAttributeKey.for_int("SoeLlmCalls")
TOOL_CALLS = SearchAttributeKey.for_int("SoeToolCalls")
TOKENS = SearchAttributeKey.for_int("SoeTokens")

SEARCH_ATTRIBUTES: tuple[SearchAttributeKey[Any], ...] = (
    WORKFLOW_NAME,
    STATUS,
    LAST_SIGNALS,
    MAIN_EXECUTION_ID,
    PARENT_EXECUTION_ID,
    FAILED_NODES,
    LLM_CALLS,
    TOOL_CALLS,
    TOKENS,
)
# As the temporal CLI and the dev server name the types.
_TYPE_NAMES = {"KEYWORD": "Keyword", "KEYWORD_LIST": "KeywordList", "INT": "Int"}


def type_name(key: SearchAttributeKey[Any]) -> str:
    return _TYPE_NAMES[key.indexed_value_type.name]


def dev_server_flags() -> list[str]:
    """``temporal server start-dev`` flags that register them."""
    flags: list[str] = []
    for key in SEARCH_ATTRIBUTES:
        flags += ["--search-attribute", f"{key.name}={type_name(key)}"]
    return flags


def registration_commands(namespace: str = "default") -> str:
    """The ``temporal operator`` command that registers them on a server."""
    options = " ".join(f"--name {key.name} --type {type_name(key)}" for key in SEARCH_ATTRIBUTES)
    return f"temporal operator search-attribute create --namespace {namespace} {options}"


def is_unregistered_refusal(error: BaseException) -> bool:
    """Whether the server refused a start because a search attribute is not registered."""
    text = str(error).lower()
    return "search attribute" in text and any(
        words in text for words in ("not defined", "no mapping", "not registered")
    )


def start_attributes(
    workflow_name: str, main_execution_id: str, parent_execution_id: str | None
) -> TypedSearchAttributes:
    """What an execution carries from its start: its SOE workflow, its tree, ``running``."""
    pairs: list[SearchAttributePair[Any]] = [
        SearchAttributePair(WORKFLOW_NAME, workflow_name),
        SearchAttributePair(STATUS, RUNNING),
        SearchAttributePair(MAIN_EXECUTION_ID, main_execution_id),
    ]
    if parent_execution_id:
        pairs.append(SearchAttributePair(PARENT_EXECUTION_ID, parent_execution_id))
    return TypedSearchAttributes(pairs)


def list_query(
    workflow_name: str | None = None,
    status: str | None = None,
    last_signal: str | None = None,
    query: str | None = None,
) -> str:
    """Temporal's list filter for SOE executions of a workflow, a status, a last signal,
    and any filter of the caller's own (in Temporal's list query syntax)."""
    parts = [f"WorkflowType = {_quoted(WORKFLOW_TYPE)}"]
    for key, value in (
        (WORKFLOW_NAME, workflow_name),
        (STATUS, status),
        (LAST_SIGNALS, last_signal),
    ):
        if value:
            parts.append(f"{key.name} = {_quoted(value)}")
    if query:
        parts.append(f"({query})")
    return " AND ".join(parts)


def _quoted(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def listed_execution(
    execution_id: str, temporal_status: str, started: str, attributes: TypedSearchAttributes
) -> dict[str, Any]:
    """One row of ``soe-temporal list``: what the server's index holds of an execution."""
    return {
        "execution_id": execution_id,
        "workflow_name": attributes.get(WORKFLOW_NAME),
        "soe_status": attributes.get(STATUS),
        "last_signals": list(attributes.get(LAST_SIGNALS) or []),
        "failed_nodes": list(attributes.get(FAILED_NODES) or []),
        "main_execution_id": attributes.get(MAIN_EXECUTION_ID),
        "parent_execution_id": attributes.get(PARENT_EXECUTION_ID),
        "llm_calls": attributes.get(LLM_CALLS) or 0,
        "tool_calls": attributes.get(TOOL_CALLS) or 0,
        "tokens": attributes.get(TOKENS) or 0,
        "status": temporal_status,
        "started": started,
    }


def described_status(attributes: TypedSearchAttributes) -> dict[str, Any]:
    """What ``describe()`` shows of them, as far as an execution carries them."""
    shown: dict[str, Any] = {}
    for name, key in (
        ("soe_status", STATUS),
        ("last_signals", LAST_SIGNALS),
        ("failed_nodes", FAILED_NODES),
    ):
        value = attributes.get(key)
        if value is not None:
            shown[name] = _comparable(value)
    if "soe_status" in shown:
        shown.setdefault("last_signals", [])
        shown.setdefault("failed_nodes", [])
    return shown


def carries_search_attributes(attributes: TypedSearchAttributes) -> bool:
    """Whether an execution was started with SOE's search attributes."""
    return attributes.get(WORKFLOW_NAME) is not None


def changes(
    carried: TypedSearchAttributes, status: ExecutionStatus
) -> list[SearchAttributeUpdate[Any]]:
    """The updates that take the attributes an execution carries (its start's, and what
    it upserted since, across continue-as-new) to ``status``. While a turn runs only the
    status is kept current; the rest is brought up to date when it ends, so a chain of
    calls upserts when it starts and when it ends, not per call."""
    wanted: list[tuple[SearchAttributeKey[Any], Any]] = [(STATUS, status.status)]
    if status.status != RUNNING:
        wanted += [
            (LAST_SIGNALS, list(status.last_signals)),
            (FAILED_NODES, list(status.failed_nodes)),
            (LLM_CALLS, status.llm_calls),
            (TOOL_CALLS, status.tool_calls),
            (TOKENS, status.tokens),
        ]
    updates: list[SearchAttributeUpdate[Any]] = []
    for key, value in wanted:
        current = carried.get(key)
        if current is None and not value:
            continue  # never set, and nothing to say
        if current is not None and _comparable(current) == value:
            continue
        updates.append(key.value_set(value) if value else key.value_unset())
    return updates


def _comparable(value: Any) -> Any:
    return list(value) if isinstance(value, (list, tuple)) else value


async def register_search_attributes(client: Client) -> None:
    """Register them in the client's namespace (for the servers soe_temporal runs itself:
    the embedded dev server takes them as flags, the time-skipping server this way)."""
    wanted = {
        key.name: IndexedValueType.ValueType(key.indexed_value_type) for key in SEARCH_ATTRIBUTES
    }
    try:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=client.namespace, search_attributes=wanted)
        )
    except RPCError as error:
        if error.status != RPCStatusCode.ALREADY_EXISTS:
            raise


async def search_attributes_available(client: Client) -> bool:
    """Whether a start may carry them: registered in the client's namespace. The
    time-skipping test server cannot list them (and keeps the id of a start it refused),
    so there, as on the embedded dev server, they are registered here; a client that may
    not list them assumes they are there (a refused start is started again without)."""
    try:
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=client.namespace)
        )
    except RPCError as error:
        if error.status == RPCStatusCode.UNIMPLEMENTED:
            await register_search_attributes(client)
        return True
    known = set(listed.custom_attributes) | set(listed.system_attributes)
    return all(key.name in known for key in SEARCH_ATTRIBUTES)
