"""Agent nodes (SOE_SPEC §14): a tool-using LLM loop, run here one step at a time.

Each model call (router, parameter and response stages) and each tool call is its own
command, so an agent that crashed after its 20th tool call resumes at the 21st and
repeats none. The loop's state is a plain record that survives continue-as-new.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from ...llm.protocol import assemble_prompt, input_document, retry_prompt
from ...llm.response import (
    Answer,
    InvalidAnswer,
    ResponseModel,
    llm_response_model,
    read_answer,
)
from ..builtins import describe_builtin, is_builtin
from ..calls import settle, start_tool_call
from ..commands import CallLlm, CallTool, Command, LlmOutcome, ToolOutcome
from ..events import (
    AgentStageAnswered,
    AgentStarted,
    AgentToolCall,
    AgentToolNotFound,
    AgentToolResult,
    AgentToolsLoaded,
)
from ..history import conversation_for, system_message
from ..host import NOTHING, Fired, NodeHost
from ..operational import count_llm_call, count_tool_call
from ..prompts import prompt_context
from ..signatures import ToolDescription
from ..state import Firing, ToolFacts
from ..templates import render_prompt
from .llm import DEFAULT_RETRIES, EmissionPlan, fail_llm_node, save_and_emit, schema_entry

ROUTER_MODEL = ResponseModel(
    schema={
        "properties": {
            "action": {
                "description": "call_tool to use one of the available tools, finish to answer",
                "enum": ["call_tool", "finish"],
                "title": "Action",
                "type": "string",
            },
            "tool_name": {
                "anyOf": [{"type": "string"}, {"type": "null"}],
                "default": None,
                "description": "The exact name of the tool to call (for call_tool)",
                "title": "Tool Name",
            },
        },
        "required": ["action"],
        "title": "AgentDecision",
        "type": "object",
    },
    output_key="action",
)

_FIRST_LINE = (
    "You decide the next step of a task: 'call_tool' to use one of the available tools, "
    "or 'finish' when you can give the final answer."
)
# F-AGENT-5: the instruction follows the role of the last conversation entry.
INSTRUCTIONS = {
    "initial": f"{_FIRST_LINE}\nAnalyse the task. Call a tool only when you need what it "
    "returns; otherwise finish.",
    "tool_response": f"{_FIRST_LINE}\nThe last tool call succeeded: its result is in the "
    "conversation history. Call another tool if you still need one, or finish. Do not "
    "repeat a call that already succeeded.",
    "tool_error": f"{_FIRST_LINE}\nThe last tool call failed: the error is in the "
    "conversation history. Retry with corrected arguments, try another tool, or finish if "
    "you can.",
    "retry": f"{_FIRST_LINE}\nA system error occurred (for example an unknown tool name). "
    "Use the exact name of an available tool, or finish.",
}
_STATE_OF_ROLE = {"tool": "tool_response", "tool_error": "tool_error", "system_error": "retry"}
RESULT_PREVIEW_CHARACTERS = 1000


def entries_text(entries: list[dict[str, Any]]) -> str:
    """F-AGENT-10: the loop's entries as the conversation text of every stage."""
    blocks = []
    for entry in entries:
        role, content = entry.get("role"), entry.get("content", "")
        if role == "tool":
            blocks.append(f"[Tool: {entry.get('tool_name')}]\n{content}")
        elif role == "tool_error":
            blocks.append(f"[Tool Error: {entry.get('tool_name')}]\n{content}")
        elif role == "system_error":
            blocks.append(f"[System Error]\n{content}")
        else:
            blocks.append(str(content))
    return "\n\n".join(blocks)


@dataclass
class RunningAgent:
    """One agent run between two calls: where the loop stands and what it has seen."""

    firing: Firing
    call: Command
    stage: str  # "router" | "parameters" | "tool" | "response"
    budget: int
    task_description: str
    context_json: str
    available_tools: str
    # function name -> registry key: what the agent may call (F-AGENT-2, Q-11)
    agent_tools: dict[str, str]
    history_enabled: bool
    entries: list[dict[str, Any]] = field(default_factory=list)
    retry_count: int = 0
    # The last tool or system error of this run (not of the history it started from).
    last_error: str = ""
    iterations: int = 0
    tool_name: str = ""
    snapshot: dict[str, Any] | None = None
    model: ResponseModel = ROUTER_MODEL
    plan: EmissionPlan | None = None

    kind: ClassVar[str] = "agent"

    def apply(self, host: NodeHost, outcome: Any) -> list[Command]:
        return apply_agent_outcome(host, self, outcome)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["call_kind"] = "tool" if isinstance(self.call, CallTool) else "llm"
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunningAgent:
        data = dict(data)
        call_type = CallTool if data.pop("call_kind") == "tool" else CallLlm
        data.pop("kind", None)
        return cls(
            **{
                **data,
                "firing": Firing(**data["firing"]),
                "call": call_type(**data["call"]),
                "model": ResponseModel.from_dict(data["model"]),
                "plan": EmissionPlan.from_dict(data["plan"]) if data["plan"] else None,
            }
        )


def fire_agent(host: NodeHost, firing: Firing, conversation: list[dict[str, Any]] | None) -> Fired:
    """F-AGENT-4 steps 1-6: prepare the loop and ask for the first router decision.

    ``conversation`` is the tree's history when the node has an identity (F-HIST-1).
    """
    config = firing.config
    context = host.context
    history = conversation_for(host, config.get("identity"), conversation)
    # F-NODE-2: finish conditions see the node's snapshot (kept only if one can read it).
    programmatic = EmissionPlan.of(config.get("event_emissions")).programmatic
    snapshot = copy.deepcopy(context) if programmatic else None
    count_llm_call(context)  # once for the whole agent run (F-OPS-4)
    host.record(AgentStarted(firing.node_name))
    task, _ = render_prompt(config["prompt"], context)  # Q-37: computed once per run
    context_json, _ = prompt_context(config["prompt"], context, empty="{}")
    agent_tools = _agent_registry(host)
    signatures = []
    for name in config.get("tools") or []:
        key = agent_tools.get(name)
        if key is None and is_builtin(name):
            # F-AGENT-3: a listed built-in, for this run only (our Q-10 fix), by the name
            # it is called by (our Q-12 fix).
            key = agent_tools[name] = name
        if key is None:
            error = f"Tool '{name}' not found in registry or builtins"
            host.fail_node(firing, error, error_type="ValueError")  # F-API-8
            return NOTHING
        signatures.append(_describe(host, key).signature)
    host.record(
        AgentToolsLoaded(firing.node_name, list(config.get("tools") or []), sorted(agent_tools))
    )
    running = RunningAgent(
        firing=firing,
        call=None,  # type: ignore[arg-type]  # set by _next_decision
        stage="router",
        budget=int(config.get("retries", DEFAULT_RETRIES)),
        task_description=task,
        context_json=context_json,
        available_tools="\n\n".join(signatures),
        agent_tools=agent_tools,
        history_enabled=history is not None,
        entries=list(history or []),
        snapshot=snapshot,
    )
    return Fired(call=_next_decision(host, running))


def _agent_registry(host: NodeHost) -> dict[str, str]:
    """F-AGENT-2: every registry tool, by its function's own name (the last one wins)."""
    return {facts.function_name or key: key for key, facts in host.tools.items()}


def _describe(host: NodeHost, key: str) -> ToolFacts | ToolDescription:
    """A registry tool as the worker described it, else the built-in of that name."""
    return host.tools.get(key) or describe_builtin(key)


def apply_agent_outcome(host: NodeHost, running: RunningAgent, outcome: Any) -> list[Command]:
    if running.stage == "tool":
        command = _after_tool(host, running, outcome)
    else:
        command = _after_model_call(host, running, outcome)
    return [command] if command is not None else []


# -- the loop ----------------------------------------------------------------------------


def _next_decision(host: NodeHost, running: RunningAgent) -> Command | None:
    """F-AGENT-4 step 6/7: another router decision while the error budget lasts."""
    if running.retry_count >= running.budget:
        message = f"Agent execution exceeded max retries ({running.budget})."
        last = running.last_error
        fail_llm_node(host, running.firing, f"{message} Last error: {last}" if last else message)
        return None
    limit = host.settings.agent_iteration_limit
    if running.iterations >= limit:
        fail_llm_node(
            host,
            running.firing,
            f"Agent iteration limit reached: {limit} decisions without finishing. Raise "
            "agent_iteration_limit if the task really needs more tool calls, or tell the "
            "agent in its prompt when to finish.",
        )
        return None
    running.iterations += 1
    last_role = running.entries[-1].get("role") if running.entries else None
    document = input_document(
        instructions=INSTRUCTIONS[_STATE_OF_ROLE.get(last_role, "initial")],
        task_description=running.task_description,
        context=running.context_json,
        available_tools=running.available_tools,
        conversation_history=entries_text(running.entries),
    )
    return _model_call(host, running, "router", ROUTER_MODEL, document)


def _model_call(
    host: NodeHost, running: RunningAgent, stage: str, model: ResponseModel, document: str
) -> CallLlm:
    firing = running.firing
    call = CallLlm(
        call_id=host.new_call_id(),
        workflow_name=firing.workflow_name,
        node_name=firing.node_name,
        attempt=1,
        prompt=assemble_prompt(document, model.schema),
        config={**firing.config, "name": firing.node_name},
        system_prompt=system_message(running.entries) if running.history_enabled else None,
        temporal=firing.config.get("temporal"),
        stage=stage,
    )
    running.stage, running.model, running.call = stage, model, call
    host.await_call(running)
    return call


def _after_model_call(host: NodeHost, running: RunningAgent, outcome: LlmOutcome) -> Command | None:
    """A stage's model call: parse retries (``retries``), then the stage's own step."""
    call = running.call
    assert isinstance(call, CallLlm)
    if outcome.status != "ok":
        _record_response(host, running, "failed", outcome.error)
        return _stage_failed(host, running, outcome.error)
    try:
        answer = read_answer(outcome.text, running.model)
    except InvalidAnswer as invalid:
        _record_response(host, running, "invalid", str(invalid))
        if call.attempt <= running.budget:
            retry = CallLlm(
                **{
                    **asdict(call),
                    "call_id": host.new_call_id(),
                    "attempt": call.attempt + 1,
                    "prompt": retry_prompt(call.prompt, outcome.text, invalid.issues),
                }
            )
            running.call = retry
            host.await_call(running)
            return retry
        error = f"Max retries ({running.budget}) exceeded. Last error: {invalid}"
        return _stage_failed(host, running, error)
    _record_response(host, running, "ok", "")
    if running.stage == "router":
        return _decided(host, running, answer)
    if running.stage == "parameters":
        return _call_tool(host, running, answer.output)
    _finish(host, running, answer)
    return None


def _stage_failed(host: NodeHost, running: RunningAgent, error: str) -> Command | None:
    """The parameter stage's failure is a tool error (F-AGENT-7); the router and response
    stages' fail the node, which llm_failure_signal covers (our Q-13 fix)."""
    if running.stage == "parameters":
        return _tool_error(host, running, f"Error executing {running.tool_name}: {error}")
    fail_llm_node(host, running.firing, error)
    return None


def _decided(host: NodeHost, running: RunningAgent, answer: Answer) -> Command | None:
    """F-AGENT-5: finish, or the tool path (F-AGENT-7)."""
    if answer.output == "finish":
        return _respond(host, running)
    tool_name = answer.value.get("tool_name") if isinstance(answer.value, dict) else None
    running.tool_name = tool_name or ""
    key = running.agent_tools.get(tool_name or "")
    if key is None:
        host.record(
            AgentToolNotFound(running.firing.node_name, tool_name, sorted(running.agent_tools))
        )
        running.retry_count += 1
        running.last_error = f"Tool '{tool_name}' not found or not available."
        _append_entry(host, running, {"role": "system_error", "content": running.last_error})
        return _next_decision(host, running)
    arguments = ResponseModel(_describe(host, key).arguments_schema or _NO_ARGUMENTS, None)
    document = input_document(
        task_description=running.task_description,
        context=running.context_json,
        tool_name=tool_name,
        conversation_history=entries_text(running.entries),
    )
    return _model_call(host, running, "parameters", arguments, document)


_NO_ARGUMENTS = {"properties": {}, "title": "Arguments", "type": "object"}


def _call_tool(host: NodeHost, running: RunningAgent, arguments: Any) -> Command | None:
    """F-AGENT-7 steps 3-4: count the call and run the tool (its retries are attempts); a
    built-in that runs here answers at once."""
    firing = running.firing
    count_tool_call(host.context)
    host.record(AgentToolCall(firing.node_name, running.tool_name, arguments))
    key = running.agent_tools[running.tool_name]
    parameters = dict(arguments or {})
    start = start_tool_call(host, firing, key, parameters, None, as_text=True)
    running.stage, running.call = "tool", start.call
    if start.outcome is not None:  # a built-in ran here
        return _after_tool(host, running, start.outcome)
    host.await_call(running)
    return start.call


def _after_tool(host: NodeHost, running: RunningAgent, outcome: ToolOutcome) -> Command | None:
    """F-AGENT-7 steps 4-6: the result (or error) joins the conversation; loop again."""
    call = running.call
    assert isinstance(call, CallTool)
    outcome = settle(call, outcome, as_text=True)
    if outcome.status == "ok":
        text = outcome.result if isinstance(outcome.result, str) else str(outcome.result)
        problem = host.state_limit_problem(running.entries, text)
        if problem:  # the loop keeps every result it sees
            return _tool_error(host, running, f"Error executing {running.tool_name}: {problem}")
        preview = text[:RESULT_PREVIEW_CHARACTERS] + (
            "..." if len(text) > RESULT_PREVIEW_CHARACTERS else ""
        )
        host.record(
            AgentToolResult(running.firing.node_name, running.tool_name, preview, len(text))
        )
        _append_entry(
            host, running, {"role": "tool", "tool_name": running.tool_name, "content": text}
        )
        return _next_decision(host, running)
    if outcome.status == "failed" and call.attempt <= outcome.max_retries and not outcome.final:
        retry = CallTool(
            **{**asdict(call), "call_id": host.new_call_id(), "attempt": call.attempt + 1}
        )
        running.call = retry
        host.await_call(running)
        return retry
    return _tool_error(host, running, f"Error executing {running.tool_name}: {outcome.error}")


def _tool_error(host: NodeHost, running: RunningAgent, message: str) -> Command | None:
    running.retry_count += 1
    running.last_error = message
    _append_entry(
        host,
        running,
        {"role": "tool_error", "tool_name": running.tool_name, "content": message},
    )
    return _next_decision(host, running)


def _append_entry(host: NodeHost, running: RunningAgent, entry: dict[str, Any]) -> None:
    """F-HIST-5: loop entries join the tree's history at once when it is enabled."""
    running.entries.append(entry)
    if running.history_enabled:
        host.append_conversation([entry])


def _respond(host: NodeHost, running: RunningAgent) -> CallLlm:
    """F-AGENT-8: the response stage, with the node's output model and signal options."""
    config = running.firing.config
    output_field = config.get("output_field")
    running.plan = EmissionPlan.of(config.get("event_emissions"))
    model = llm_response_model(output_field, schema_entry(host, output_field), running.plan.options)
    document = input_document(
        task_description=running.task_description,
        context=running.context_json,
        conversation_history=entries_text(running.entries),
    )
    return _model_call(host, running, "response", model, document)


def _finish(host: NodeHost, running: RunningAgent, answer: Answer) -> None:
    """F-AGENT-8: save the output, emit; no conversation turn is saved for agents."""
    assert running.plan is not None
    problem = host.state_limit_problem(answer.output)
    if problem:
        fail_llm_node(host, running.firing, problem)
        return
    save_and_emit(host, running.firing, running.snapshot, running.plan, answer)


def _record_response(host: NodeHost, running: RunningAgent, status: str, error: str) -> None:
    host.record(
        AgentStageAnswered(
            running.firing.node_name, running.stage, running.call.attempt, status, error
        )
    )
