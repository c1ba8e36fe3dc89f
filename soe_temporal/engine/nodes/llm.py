"""LLM nodes (SOE_SPEC §12, §13, §16, §17): one model call per command; reading the answer,
the retry-with-feedback loop, the conversation turn and the emission decision happen here.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from ...llm.protocol import assemble_prompt, input_document, retry_prompt
from ...llm.response import Answer, InvalidAnswer, ResponseModel, llm_response_model, read_answer
from ..commands import CallLlm, LlmOutcome
from ..context import write_field
from ..emissions import condition_of, has_jinja_condition, programmatic_emission
from ..events import LlmAnswered, LlmCalled, PromptWarnings, SchemaWarning
from ..history import conversation_for, system_message
from ..host import Fired, NodeHost
from ..operational import count_llm_call
from ..prompts import history_text, prompt_context
from ..state import Firing
from ..templates import render_prompt

DEFAULT_RETRIES = 3


@dataclass
class EmissionPlan:
    """How an LLM or agent node picks its signals (F-SIG-6, with DESIGN decision D-4).

    With a Jinja condition anywhere, every emission is evaluated as a router's are.
    Otherwise the emissions without a condition are always sent, and the model chooses
    among those that carry a plain-text description.
    """

    programmatic: bool
    always: list[str] = field(default_factory=list)
    options: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def of(cls, emissions: list[dict[str, Any]] | None) -> EmissionPlan:
        emissions = emissions or []
        if has_jinja_condition(emissions):
            return cls(programmatic=True)
        always = [e["signal_name"] for e in emissions if not condition_of(e)]
        options = [(e["signal_name"], condition_of(e)) for e in emissions if condition_of(e)]
        return cls(programmatic=False, always=always, options=options)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EmissionPlan:
        return cls(data["programmatic"], list(data["always"]), [tuple(o) for o in data["options"]])

    def signals(
        self, emissions: list[dict[str, Any]] | None, context: dict[str, Any], selected: list[str]
    ) -> list[str]:
        """One broadcast: the undescribed signals in config order, then the model's picks."""
        if self.programmatic:
            return programmatic_emission(emissions, context)
        return [*self.always, *selected]


@dataclass
class RunningLlmCall:
    firing: Firing
    call: CallLlm
    model: ResponseModel
    plan: EmissionPlan
    retries: int
    rendered_prompt: str
    history_enabled: bool
    # F-LLM-8: conditions see the node's snapshot with its own output appended.
    snapshot: dict[str, Any] | None

    kind: ClassVar[str] = "llm"

    def apply(self, host: NodeHost, outcome: LlmOutcome) -> list[CallLlm]:
        return apply_llm_outcome(host, self, outcome)

    def to_dict(self) -> dict[str, Any]:
        return {
            "firing": asdict(self.firing),
            "call": asdict(self.call),
            "model": asdict(self.model),
            "plan": asdict(self.plan),
            "retries": self.retries,
            "rendered_prompt": self.rendered_prompt,
            "history_enabled": self.history_enabled,
            "snapshot": self.snapshot,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunningLlmCall:
        return cls(
            firing=Firing(**data["firing"]),
            call=CallLlm(**data["call"]),
            model=ResponseModel.from_dict(data["model"]),
            plan=EmissionPlan.from_dict(data["plan"]),
            retries=data["retries"],
            rendered_prompt=data["rendered_prompt"],
            history_enabled=data["history_enabled"],
            snapshot=data["snapshot"],
        )


def schema_entry(host: NodeHost, output_field: str | None) -> Any:
    """F-SCHEMA-3: the output field's context_schema entry, warning when there is none."""
    if not output_field:
        return None
    entry = host.context_schema.get(output_field)
    if entry is None:
        host.record(
            SchemaWarning(
                f"Output field '{output_field}' not found in context schema", output_field
            )
        )
    return entry


def fire_llm(host: NodeHost, firing: Firing, conversation: list[dict[str, Any]] | None) -> Fired:
    """F-LLM-2 steps 2-5: prepare the prompt and ask for the first model call.

    ``conversation`` is the tree's history when the node has an identity (F-HIST-1).
    """
    config = firing.config
    context = host.context
    identity = config.get("identity")
    history = conversation_for(host, identity, conversation)
    template = config["prompt"]
    context_json, warnings = prompt_context(template, context)
    output_field = config.get("output_field")
    plan = EmissionPlan.of(config.get("event_emissions"))
    model = llm_response_model(output_field, schema_entry(host, output_field), plan.options)
    # F-NODE-2: conditions see the node's snapshot, not its own llm_calls increment.
    snapshot = copy.deepcopy(context) if plan.programmatic else None
    count_llm_call(context)
    host.record(LlmCalled(firing.node_name, identity))
    rendered, render_warnings = render_prompt(template, context)
    warnings += render_warnings
    if warnings:
        host.record(PromptWarnings(firing.node_name, warnings))
    document = input_document(
        prompt=rendered,
        context=context_json,
        conversation_history=history_text(history or []),
    )
    call = CallLlm(
        call_id=host.new_call_id(),
        workflow_name=firing.workflow_name,
        node_name=firing.node_name,
        attempt=1,
        prompt=assemble_prompt(document, model.schema),
        config={**config, "name": firing.node_name},
        system_prompt=system_message(history),
        temporal=config.get("temporal"),
    )
    retries = config.get("retries", DEFAULT_RETRIES)
    host.await_call(
        RunningLlmCall(
            firing, call, model, plan, int(retries), rendered, history is not None, snapshot
        )
    )
    return Fired(call=call)


def apply_llm_outcome(
    host: NodeHost, running: RunningLlmCall, outcome: LlmOutcome
) -> list[CallLlm]:
    """F-LLM-2 step 6: read the answer, retry with feedback, or save and emit."""
    call = running.call
    if outcome.status != "ok":
        _record_call(host, running, "failed", outcome.error)
        fail_llm_node(host, running.firing, outcome.error)  # F-PROTO-6: never retried by SOE
        return []
    try:
        answer = read_answer(outcome.text, running.model)
    except InvalidAnswer as invalid:
        _record_call(host, running, "invalid", str(invalid))
        if call.attempt <= running.retries:
            retry = CallLlm(
                call_id=host.new_call_id(),
                workflow_name=call.workflow_name,
                node_name=call.node_name,
                attempt=call.attempt + 1,
                prompt=retry_prompt(call.prompt, outcome.text, invalid.issues),
                config=call.config,
                system_prompt=call.system_prompt,
                temporal=call.temporal,
            )
            running.call = retry
            host.await_call(running)
            return [retry]
        fail_llm_node(
            host,
            running.firing,
            f"Max retries ({running.retries}) exceeded. Last error: {invalid}",
        )
        return []
    _record_call(host, running, "ok", "")
    turn = [running.rendered_prompt, answer.output] if running.history_enabled else []
    problem = host.state_limit_problem(answer.output, *turn)
    if problem:
        fail_llm_node(host, running.firing, problem)
        return []
    _succeed(host, running, answer)
    return []


def _record_call(host: NodeHost, running: RunningLlmCall, status: str, error: str) -> None:
    host.record(LlmAnswered(running.firing.node_name, running.call.attempt, status, error))


def _succeed(host: NodeHost, running: RunningLlmCall, answer: Answer) -> None:
    """F-LLM-5..8: record the turn, save the output, emit."""
    if running.history_enabled:
        host.append_conversation(
            [
                {"role": "user", "content": running.rendered_prompt},
                {"role": "assistant", "content": str(answer.output)},
            ]
        )
    save_and_emit(host, running.firing, running.snapshot, running.plan, answer)


def save_and_emit(
    host: NodeHost,
    firing: Firing,
    snapshot: dict[str, Any] | None,
    plan: EmissionPlan,
    answer: Answer,
) -> None:
    """F-LLM-5..8, F-AGENT-8: the answer goes to output_field (and into the node's
    snapshot, even a null, Q-40, so conditions see it), then the node's signals go out."""
    config = firing.config
    output_field = config.get("output_field")
    if output_field and answer.output is not None:
        host.write_output(output_field, answer.output)
    if output_field and snapshot is not None:
        write_field(snapshot, output_field, answer.output)
    conditions_context = snapshot if snapshot is not None else host.context
    signals = plan.signals(
        config.get("event_emissions"), conditions_context, answer.selected_signals
    )
    host.emit(signals, firing.cascade)


def fail_llm_node(host: NodeHost, firing: Firing, error: str) -> None:
    """F-LLM-9, F-AGENT-9: a node error; llm_failure_signal, else an unhandled failure."""
    failure_signal = firing.config.get("llm_failure_signal")
    host.fail_node(firing, error, handled=bool(failure_signal), failure_signal=failure_signal)
