"""Check a config without running it, for ``soe-temporal validate``: every error, then
warnings about what SOE accepts but the author most likely did not mean, then each
workflow's entry and exit points (where signals come in, where they end).

Pure: the only I/O is reading the config file, by ``check_config`` (load_config's own
reading). Errors are exactly load_config's, all of them in SOE's order; a config with no
error loads, whatever its warnings.

Warnings (kind, then what it catches):

- ``unknown-key``: a node key SOE does not read (F-CFG-7: silently ignored; on llm and
  agent nodes passed to ``call_llm``, F-API-5), or an emission key (``when`` for
  ``condition`` makes the emission unconditional), with the key it most likely misspells.
  ``model`` and ``temperature`` on llm and agent nodes are model options, not unknown.
- ``unknown-section``: a top-level key of the combined format that is not a section
  (F-CFG-5: ignored), e.g. ``identites``.
- ``signal-typo``: a signal emitted in a workflow that no node there triggers on, close
  to a trigger that nothing there emits (``APROVED`` / ``APPROVED``).
- ``signal-lost``: a signal a child workflow emits that no node of it triggers on and the
  child node starting it does not forward (its ``signals_to_parent`` lists others).
- ``child-workflow-missing``: a child node names a workflow the config does not define
  (F-VAL-12 fails it when it starts, unless a built-in adds the workflow first).
- ``child-signal-unused``: a child node starts its child with a signal that triggers no
  node of the child workflow.

A signal that is emitted and triggers nothing is not a warning by itself: it is how SOE
workflows end (``DONE``, ``COMPLETE``; the caller sees it in ``__operational__.signals``).
Such signals are listed as exit points (``exit_signals``). A signal named in the
``signals_to_parent`` of a child node starting the workflow goes to the parent
(F-CHILD-8): in the parent it arrives as if emitted there. Triggers that nothing in their
workflow emits are entry points (``entry_signals``): sent from outside (``START``,
``APPROVED``), by a parent's ``child_initial_signals``, or by a tool's failure signal.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .config import (
    NODE_TYPES,
    SoeConfig,
    check_config,
    closest_key,
    emission_keys,
    node_keys,
    required_keys,
)

# Keys of llm and agent nodes that the bundled providers read (F-API-5).
MODEL_OPTION_KEYS = frozenset({"model", "temperature"})
COMBINED_SECTIONS = ("workflows", "context_schema", "identities")
# How alike two signal names must be (difflib's ratio, case folded) to call one a typo.
SIGNAL_LIKENESS = 0.85


@dataclass(frozen=True)
class ConfigWarning:
    """Something a valid config says that its author most likely did not mean."""

    workflow: str | None
    node: str | None
    message: str
    kind: str = ""

    def __str__(self) -> str:
        if self.workflow is None:
            return self.message
        if self.node is None:
            return f"Workflow '{self.workflow}': {self.message}"
        return f"Workflow '{self.workflow}', node '{self.node}': {self.message}"


@dataclass
class ValidationReport:
    """What ``validate_config`` found. ``entry_signals`` and ``exit_signals`` map each
    workflow to signal names in declaration order (workflows without any are left out)."""

    errors: list[str] = field(default_factory=list)
    warnings: list[ConfigWarning] = field(default_factory=list)
    entry_signals: dict[str, list[str]] = field(default_factory=dict)
    exit_signals: dict[str, list[str]] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return not self.errors


def validate_config(
    source: str | os.PathLike[str] | Mapping[str, Any] | SoeConfig,
) -> ValidationReport:
    """Every error load_config finds in ``source`` (as load_config takes it), the warnings
    and the signal facts; never raises ConfigError."""
    check = check_config(source)
    report = ValidationReport(errors=list(check.errors))
    if check.document is None:
        return report
    workflows = _well_formed(check.workflows)
    report.warnings += _section_warnings(check.document)
    for workflow_name, nodes in workflows.items():
        for node_name, node in nodes.items():
            report.warnings += _key_warnings(workflow_name, node_name, node)
    graph = _SignalGraph(workflows)
    report.warnings += graph.warnings()
    report.entry_signals = graph.entry_signals()
    report.exit_signals = graph.exit_signals()
    return report


def format_problems(report: ValidationReport) -> list[str]:
    """``error: ...`` lines, then ``warning: ...`` lines."""
    return [f"error: {error}" for error in report.errors] + [
        f"warning: {warning}" for warning in report.warnings
    ]


def format_signals(report: ValidationReport) -> list[str]:
    """The entry and exit points of each workflow, for a reader."""
    lines: list[str] = []
    for title, signals in (
        ("entry points (triggers nothing in the workflow emits):", report.entry_signals),
        (
            "exit points (emitted, and no node of the workflow triggers on them):",
            report.exit_signals,
        ),
    ):
        if signals:
            lines.append(title)
            lines += [f"  {workflow}: {', '.join(names)}" for workflow, names in signals.items()]
    return lines


def format_report(report: ValidationReport) -> str:
    """The whole report as text: errors, warnings, entry and exit points, a summary."""
    errors, warnings = len(report.errors), len(report.warnings)
    verdict = "invalid" if errors else "valid"
    summary = f"{verdict}: {_count(errors, 'error')}, {_count(warnings, 'warning')}"
    return "\n".join([*format_problems(report), *format_signals(report), summary])


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


# -- keys -------------------------------------------------------------------------------


def _well_formed(workflows: Any) -> dict[str, dict[str, Mapping[str, Any]]]:
    """The workflows and nodes the warnings can read: named by strings, nodes of a type
    SOE knows (internal ``_`` types are not SOE's to check, F-CFG-9). What is left out
    has an error of its own."""
    if not isinstance(workflows, Mapping):
        return {}
    return {
        workflow_name: {
            node_name: node
            for node_name, node in nodes.items()
            if isinstance(node_name, str)
            and isinstance(node, Mapping)
            and node.get("node_type") in NODE_TYPES
        }
        for workflow_name, nodes in workflows.items()
        if isinstance(workflow_name, str) and isinstance(nodes, Mapping)
    }


def _section_warnings(document: Any) -> list[ConfigWarning]:
    if not isinstance(document, Mapping) or "workflows" not in document:
        return []
    warnings = []
    for key in document:
        if key in COMBINED_SECTIONS:
            continue
        text = f"top-level key {key!r} is not a section of the combined format: "
        suggestion = closest_key(key, COMBINED_SECTIONS)
        if suggestion:
            text += f"did you mean '{suggestion}'? "
        text += f"SOE ignores it (F-CFG-5); the sections are {', '.join(COMBINED_SECTIONS)}."
        warnings.append(ConfigWarning(None, None, text, "unknown-section"))
    return warnings


def _key_warnings(workflow: str, name: str, node: Mapping[str, Any]) -> list[ConfigWarning]:
    node_type = node["node_type"]
    known = node_keys(node_type)
    required = required_keys(node)
    warnings = []
    for key in node:
        if key in known or (node_type in ("llm", "agent") and key in MODEL_OPTION_KEYS):
            continue
        suggestion = closest_key(key, known)
        if suggestion in required and suggestion not in node:
            continue  # the error for the missing key already names this one
        text = f"unknown key {key!r}: "
        if suggestion:
            text += f"did you mean '{suggestion}'? "
        if node_type in ("llm", "agent"):
            text += (
                "SOE ignores it and passes it to call_llm with the node's config (F-API-5); "
                f"the bundled providers read only {' and '.join(sorted(MODEL_OPTION_KEYS))}."
            )
        else:
            text += f"SOE ignores it (F-CFG-7); a {node_type} node reads {_keys(known)}."
        warnings.append(ConfigWarning(workflow, name, text, "unknown-key"))
    warnings += _emission_key_warnings(workflow, name, node)
    return warnings


def _emission_key_warnings(
    workflow: str, name: str, node: Mapping[str, Any]
) -> list[ConfigWarning]:
    known = emission_keys(node["node_type"])
    emissions = node.get("event_emissions")
    warnings = []
    for index, emission in enumerate(emissions if isinstance(emissions, list) else []):
        if not isinstance(emission, Mapping):
            continue
        for key in emission:
            if key in known:
                continue
            suggestion = closest_key(key, known)
            if suggestion == "signal_name" and "signal_name" not in emission:
                continue  # the error for the missing signal_name already names this one
            signal = emission.get("signal_name")
            text = f"event_emissions[{index}] ({signal!r}) has unknown key {key!r}: "
            if suggestion:
                text += f"did you mean '{suggestion}'? "
            text += f"SOE ignores it (F-CFG-7); an emission reads {_keys(known)}."
            if "condition" not in emission:
                text += " With no condition the signal is always emitted (F-SIG-1)."
            warnings.append(ConfigWarning(workflow, name, text, "unknown-key"))
    return warnings


def _keys(keys: Iterable[str]) -> str:
    return ", ".join(sorted(keys))


# -- signals ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _ChildStart:
    """A child node that starts a workflow: where it stands, and its config."""

    workflow: str
    node: str
    config: Mapping[str, Any]

    @property
    def forwards(self) -> list[str]:
        return _signal_names(self.config.get("signals_to_parent"))

    @property
    def label(self) -> str:
        return f"'{self.workflow}.{self.node}'"


class _SignalGraph:
    """Which signals each workflow's nodes trigger on and which arrive in it: emitted by
    its nodes (event_emissions, llm_failure_signal; a child node's own emissions too,
    DESIGN D-3), or forwarded up by its children (the child node's signals_to_parent,
    F-CHILD-8)."""

    def __init__(self, workflows: dict[str, dict[str, Mapping[str, Any]]]) -> None:
        self.workflows = workflows
        self.triggers: dict[str, dict[str, list[str]]] = {}
        self.emitted: dict[str, dict[str, list[str]]] = {}
        self.starts: dict[str, list[_ChildStart]] = {}
        for workflow, nodes in workflows.items():
            triggers = self.triggers.setdefault(workflow, {})
            emitted = self.emitted.setdefault(workflow, {})
            for name, node in nodes.items():
                for signal in _signal_names(node.get("event_triggers")):
                    triggers.setdefault(signal, []).append(name)
                for signal in _emitted_by(node):
                    emitted.setdefault(signal, []).append(name)
                target = node.get("child_workflow_name")
                if node["node_type"] == "child" and isinstance(target, str) and target:
                    self.starts.setdefault(target, []).append(_ChildStart(workflow, name, node))

    def entry_signals(self) -> dict[str, list[str]]:
        entries = {
            workflow: [
                signal for signal in self.triggers[workflow] if not self._arrives(workflow, signal)
            ]
            for workflow in self.workflows
        }
        return {workflow: signals for workflow, signals in entries.items() if signals}

    def exit_signals(self) -> dict[str, list[str]]:
        found = {
            workflow: [
                signal
                for signal in self._untriggered(workflow)
                if self._finding(workflow, signal) is None
            ]
            for workflow in self.workflows
        }
        return {workflow: signals for workflow, signals in found.items() if signals}

    def warnings(self) -> list[ConfigWarning]:
        warnings: list[ConfigWarning] = []
        for workflow in self.workflows:
            for signal in self._untriggered(workflow):
                finding = self._finding(workflow, signal)
                if finding is not None:
                    warnings.append(finding)
        for target, starts in self.starts.items():
            for start in starts:
                warnings += self._start_warnings(target, start)
        return warnings

    def _arrives(self, workflow: str, signal: str) -> bool:
        return signal in self.emitted[workflow]

    def _untriggered(self, workflow: str) -> list[str]:
        """Signals arriving in the workflow that none of its nodes triggers on and that do
        not go up to a parent (F-CHILD-8)."""
        forwarded = {signal for start in self.starts.get(workflow, []) for signal in start.forwards}
        return [
            signal
            for signal in self.emitted[workflow]
            if signal not in self.triggers[workflow] and signal not in forwarded
        ]

    def _finding(self, workflow: str, signal: str) -> ConfigWarning | None:
        """Why an untriggered signal looks like a mistake, or None: an exit point."""
        node = self.emitted[workflow][signal][0]
        entries = [s for s in self.triggers[workflow] if not self._arrives(workflow, s)]
        meant = _close_signal(signal, entries)
        if meant is not None:
            waiting = ", ".join(f"'{name}'" for name in self.triggers[workflow][meant])
            return ConfigWarning(
                workflow,
                node,
                f"signal '{signal}' triggers no node of this workflow: did you mean "
                f"'{meant}'? Node(s) {waiting} trigger on '{meant}', which nothing in the "
                "workflow emits.",
                "signal-typo",
            )
        starts = self.starts.get(workflow, [])
        if starts and all(start.forwards for start in starts):
            forwarded = [s for start in starts for s in start.forwards]
            text = (
                f"signal '{signal}' goes nowhere: no node of '{workflow}' triggers on it, and "
                f"the child node(s) starting '{workflow}' "
                f"({', '.join(start.label for start in starts)}) do not forward it to the "
                f"parent: their signals_to_parent list {_quoted(dict.fromkeys(forwarded))} "
                "(F-CHILD-8)."
            )
            meant = _close_signal(signal, forwarded)
            if meant is not None:
                text += f" Did you mean '{meant}'?"
            return ConfigWarning(workflow, node, text, "signal-lost")
        return None

    def _start_warnings(self, target: str, start: _ChildStart) -> list[ConfigWarning]:
        if target not in self.workflows:
            text = (
                f"child_workflow_name '{target}' names no workflow of this config: the child "
                "fails to start (F-VAL-12) unless a built-in tool adds the workflow first."
            )
            meant = closest_key(target, self.workflows)
            if meant is not None:
                text += f" Did you mean '{meant}'?"
            return [ConfigWarning(start.workflow, start.node, text, "child-workflow-missing")]
        warnings = []
        triggers = self.triggers[target]
        for signal in _signal_names(start.config.get("child_initial_signals")):
            if signal in triggers or signal in start.forwards:
                continue
            text = (
                f"child_initial_signals '{signal}' triggers no node of '{target}': the child "
                "starts and does nothing with it."
            )
            meant = _close_signal(signal, triggers)
            if meant is not None:
                text += f" Did you mean '{meant}'?"
            warnings.append(ConfigWarning(start.workflow, start.node, text, "child-signal-unused"))
        return warnings


def _emitted_by(node: Mapping[str, Any]) -> list[str]:
    emissions = node.get("event_emissions")
    signals = [
        emission.get("signal_name")
        for emission in (emissions if isinstance(emissions, list) else [])
        if isinstance(emission, Mapping)
    ]
    if node["node_type"] in ("llm", "agent"):
        signals.append(node.get("llm_failure_signal"))
    if node["node_type"] == "child":
        signals += _signal_names(node.get("signals_to_parent"))
    return _signal_names(signals)


def _signal_names(value: Any) -> list[str]:
    """The signal names a list holds (anything else has an error of its own)."""
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, str) and item]


def _close_signal(signal: str, candidates: Iterable[str]) -> str | None:
    """The candidate ``signal`` most likely misspells, case aside, or None."""
    folded = {candidate.casefold(): candidate for candidate in candidates if candidate != signal}
    matches = difflib.get_close_matches(
        signal.casefold(), list(folded), n=1, cutoff=SIGNAL_LIKENESS
    )
    return folded[matches[0]] if matches else None


def _quoted(names: Iterable[str]) -> str:
    return ", ".join(f"'{name}'" for name in names)
