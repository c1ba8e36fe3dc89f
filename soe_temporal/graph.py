"""The signal graph of an SOE config: which node's signal triggers which node.

Pure: a workflows registry (and, for an execution, its node counters and failed nodes) in,
a :class:`SignalGraph` out, drawn as Mermaid (:func:`to_mermaid`, GitHub renders it) or
Graphviz (:func:`to_dot`). No Temporal, no I/O.

What is drawn, per workflow (one subgraph each):

* every node, in declaration order, shaped by its ``node_type``;
* an edge from a node to each node of the same workflow that one of its signals
  triggers, labelled with the signal: ``event_emissions`` (conditional or not, router,
  llm, agent, tool, and child nodes, which emit once their children started: DESIGN D-3)
  and an llm/agent node's ``llm_failure_signal`` (a tool's ``failure_signal`` lives in
  the tools registry, which the config does not hold);
* an *entry point* for each signal that triggers a node but that no node of the workflow
  emits and no child of it sends up: it comes from outside (``orchestrate``,
  ``broadcast_signals``), or, for a child workflow, from the child node that starts it;
* an *exit point* for each signal that arrives in the workflow and triggers none of its
  nodes (the execution goes idle on it);
* a dashed edge from each child node to the entry points of its child workflow (the
  ``child_initial_signals``), and a dashed edge for each ``signals_to_parent`` signal from
  where it arises in the child workflow back to the parent's nodes it triggers (or to the
  parent's exit point for it, when none does).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .errors import ConfigError

RefKind = Literal["node", "entry", "exit"]
EdgeKind = Literal["signal", "failure", "child", "to_parent"]
# A node as a key of ``fire_counts`` / an item of ``failed_nodes``: its name alone, or
# (workflow, name) to pick one node of one workflow.
NodeKey = str | tuple[str, str]


@dataclass(frozen=True, order=True)
class Ref:
    """One vertex of the graph: a node (``name`` is the node's name) or a workflow's entry
    or exit point for a signal (``name`` is the signal)."""

    kind: RefKind
    workflow: str
    name: str


@dataclass(frozen=True)
class GraphNode:
    """A node of a workflow. ``fires`` is None when no counts were given, else how many
    times the node ran (0 included)."""

    workflow: str
    name: str
    node_type: str
    fires: int | None = None
    failed: bool = False

    @property
    def ref(self) -> Ref:
        return Ref("node", self.workflow, self.name)


@dataclass(frozen=True)
class SignalPoint:
    """Where a signal enters a workflow from outside (``entry``) or ends in it (``exit``)."""

    kind: Literal["entry", "exit"]
    workflow: str
    signal: str

    @property
    def ref(self) -> Ref:
        return Ref(self.kind, self.workflow, self.signal)


@dataclass(frozen=True)
class GraphEdge:
    """``signal`` edges carry an emission (``condition`` is its condition, if any);
    ``failure`` an ``llm_failure_signal``; ``child`` links a child node to an entry point
    of its child workflow (``signal`` is the initial signal, ``fan_out_field`` set for a
    fan-out); ``to_parent`` carries a ``signals_to_parent`` signal up to the parent."""

    source: Ref
    target: Ref
    signal: str
    kind: EdgeKind = "signal"
    condition: str | None = None
    fan_out_field: str | None = None


@dataclass(frozen=True)
class SignalGraph:
    """The drawn workflows (the selected one first), their nodes, entry and exit points,
    and the edges between them, all in a stable order."""

    workflows: tuple[str, ...]
    nodes: tuple[GraphNode, ...]
    entries: tuple[SignalPoint, ...]
    exits: tuple[SignalPoint, ...]
    edges: tuple[GraphEdge, ...]

    def node(self, workflow: str, name: str) -> GraphNode:
        for node in self.nodes:
            if node.workflow == workflow and node.name == name:
                return node
        raise KeyError((workflow, name))

    def points(self, workflow: str) -> tuple[SignalPoint, ...]:
        """The entry and exit points of one workflow."""
        return tuple(p for p in self.entries + self.exits if p.workflow == workflow)


def signal_graph(
    workflows: Mapping[str, Mapping[str, Any]],
    workflow: str | None = None,
    fire_counts: Mapping[Any, int] | None = None,
    failed_nodes: Iterable[NodeKey] = (),
) -> SignalGraph:
    """The signal graph of a workflows registry (``SoeConfig.workflows``).

    ``workflow=None`` draws every workflow of the registry; a name draws that workflow and
    every workflow its child nodes reach, transitively. ``fire_counts`` maps a node (by
    name, or by ``(workflow, name)``) to how many times it ran; ``failed_nodes`` lists the
    nodes that failed, keyed alike. A key by name alone applies to the selected workflow's
    nodes when ``workflow`` is given (an execution's counters are its own, F-OPS-8), else
    to every node of that name.
    """
    names = _drawn(workflows, workflow)
    nodes_of = {name: _nodes(workflows[name]) for name in names}
    counts = dict(fire_counts or {})
    failed = set(failed_nodes)

    def keys(workflow_name: str, node_name: str) -> list[NodeKey]:
        qualified: list[NodeKey] = [(workflow_name, node_name)]
        return qualified + [node_name] if workflow in (None, workflow_name) else qualified

    def fires(workflow_name: str, node_name: str) -> int | None:
        if fire_counts is None:
            return None
        found = [counts[key] for key in keys(workflow_name, node_name) if key in counts]
        return int(found[0]) if found else 0

    graph_nodes = tuple(
        GraphNode(
            workflow=name,
            name=node_name,
            node_type=str(config.get("node_type", "")),
            fires=fires(name, node_name),
            failed=any(key in failed for key in keys(name, node_name)),
        )
        for name in names
        for node_name, config in nodes_of[name].items()
    )
    return _Builder(names, nodes_of).build(graph_nodes)


def entry_signals(workflows: Mapping[str, Mapping[str, Any]], workflow: str) -> list[str]:
    """The signals that start something in ``workflow`` and that none of its nodes (nor a
    child sending up) emits: what an idle execution of it waits for someone to send."""
    if workflow not in workflows:
        return []
    graph = signal_graph(workflows, workflow)
    return [point.signal for point in graph.entries if point.workflow == workflow]


def _drawn(workflows: Mapping[str, Mapping[str, Any]], workflow: str | None) -> list[str]:
    if workflow is None:
        return list(workflows)
    if workflow not in workflows:
        raise ConfigError(
            f"Workflow '{workflow}' not found in config. Available workflows: {list(workflows)}"
        )
    drawn, queue = [workflow], [workflow]
    while queue:
        for config in _nodes(workflows[queue.pop(0)]).values():
            child = _child_workflow(config)
            if child is not None and child in workflows and child not in drawn:
                drawn.append(child)
                queue.append(child)
    return drawn


# -- reading a node's config ------------------------------------------------------------


def _nodes(nodes: Any) -> dict[str, Mapping[str, Any]]:
    if not isinstance(nodes, Mapping):
        return {}
    return {str(name): c for name, c in nodes.items() if isinstance(c, Mapping)}


def _strings(value: Any) -> list[str]:
    return [str(item) for item in value] if isinstance(value, list | tuple) else []


def _triggers(config: Mapping[str, Any]) -> list[str]:
    return _strings(config.get("event_triggers"))


def _emissions(config: Mapping[str, Any]) -> list[tuple[str, EdgeKind, str | None]]:
    """(signal, kind, condition) for what a node may emit, in config order."""
    found: list[tuple[str, EdgeKind, str | None]] = []
    emissions = config.get("event_emissions")
    for emission in emissions if isinstance(emissions, list) else []:
        if isinstance(emission, Mapping) and emission.get("signal_name") not in (None, ""):
            condition = emission.get("condition")
            found.append((str(emission["signal_name"]), "signal", condition or None))
    failure = config.get("llm_failure_signal")
    if config.get("node_type") in ("llm", "agent") and isinstance(failure, str) and failure:
        found.append((failure, "failure", None))
    return found


def _child_workflow(config: Mapping[str, Any]) -> str | None:
    name = config.get("child_workflow_name")
    if config.get("node_type") == "child" and isinstance(name, str) and name:
        return name
    return None


@dataclass(frozen=True)
class _Link:
    """A child node of ``parent`` that starts ``child`` (both drawn)."""

    parent: str
    node: str
    child: str
    initial_signals: tuple[str, ...]
    to_parent: tuple[str, ...]
    fan_out_field: str | None


class _Builder:
    def __init__(self, names: list[str], nodes_of: dict[str, dict[str, Mapping[str, Any]]]):
        self.names = names
        self.nodes_of = nodes_of
        self.links = [
            _Link(
                parent=name,
                node=node_name,
                child=child,
                initial_signals=tuple(_strings(config.get("child_initial_signals"))),
                to_parent=tuple(_strings(config.get("signals_to_parent"))),
                fan_out_field=str(config.get("fan_out_field") or "") or None,
            )
            for name in names
            for node_name, config in nodes_of[name].items()
            if (child := _child_workflow(config)) in nodes_of
        ]
        self.emitted = {
            name: _unique(s for c in nodes_of[name].values() for s, _, _ in _emissions(c))
            for name in names
        }
        self.entries = {name: self._entries(name) for name in names}
        self.occurs = self._occurs()
        self.exits = {name: self._exits(name) for name in names}

    def consumers(self, workflow: str, signal: str) -> list[Ref]:
        return [
            Ref("node", workflow, name)
            for name, config in self.nodes_of[workflow].items()
            if signal in _triggers(config)
        ]

    def _entries(self, workflow: str) -> list[str]:
        """Triggers that nothing in the workflow raises, and the initial signals its
        starters give it."""
        sent_up = {s for link in self.links if link.parent == workflow for s in link.to_parent}
        inside = set(self.emitted[workflow]) | sent_up
        triggers = [s for c in self.nodes_of[workflow].values() for s in _triggers(c)]
        started = [s for link in self.links if link.child == workflow for s in link.initial_signals]
        return _unique([s for s in triggers if s not in inside] + started)

    def _occurs(self) -> dict[str, set[str]]:
        """The signals that may be broadcast to each workflow's executions: its nodes'
        emissions, its entries, and what its children send up (a fixpoint: a signal may
        come up from a grandchild)."""
        occurs = {name: set(self.emitted[name]) | set(self.entries[name]) for name in self.names}
        changed = True
        while changed:
            changed = False
            for link in self.links:
                arriving = set(link.to_parent) & occurs[link.child]
                if not arriving <= occurs[link.parent]:
                    occurs[link.parent] |= arriving
                    changed = True
        return occurs

    def _exits(self, workflow: str) -> list[str]:
        from_children = [
            s
            for link in self.links
            if link.parent == workflow
            for s in link.to_parent
            if s in self.occurs[link.child]
        ]
        arriving = _unique(self.emitted[workflow] + from_children)
        return [s for s in arriving if not self.consumers(workflow, s)]

    def targets(self, workflow: str, signal: str) -> list[Ref]:
        return self.consumers(workflow, signal) or [Ref("exit", workflow, signal)]

    def sources_up(self, workflow: str, signal: str) -> list[Ref]:
        """Where a signal the workflow sends to its parent arises in it."""
        if signal in self.exits[workflow]:
            return [Ref("exit", workflow, signal)]
        found = [
            Ref("node", workflow, name)
            for name, config in self.nodes_of[workflow].items()
            if signal in [s for s, _, _ in _emissions(config)]
        ]
        if signal in self.entries[workflow]:
            found.append(Ref("entry", workflow, signal))
        found += [
            Ref("node", workflow, link.node)
            for link in self.links
            if link.parent == workflow and signal in link.to_parent
        ]
        return found

    def build(self, nodes: tuple[GraphNode, ...]) -> SignalGraph:
        edges: list[GraphEdge] = []
        for name in self.names:
            for signal in self.entries[name]:
                entry = Ref("entry", name, signal)
                edges += [GraphEdge(entry, t, signal) for t in self.consumers(name, signal)]
            for node_name, config in self.nodes_of[name].items():
                source = Ref("node", name, node_name)
                for signal, kind, condition in _emissions(config):
                    edges += [
                        GraphEdge(source, t, signal, kind, condition)
                        for t in self.targets(name, signal)
                    ]
        for link in self.links:
            source = Ref("node", link.parent, link.node)
            edges += [
                GraphEdge(
                    source,
                    Ref("entry", link.child, s),
                    s,
                    "child",
                    fan_out_field=link.fan_out_field,
                )
                for s in link.initial_signals
            ]
        for link in self.links:
            for signal in link.to_parent:
                if signal not in self.occurs[link.child]:
                    continue
                edges += [
                    GraphEdge(source, target, signal, "to_parent")
                    for source in self.sources_up(link.child, signal)
                    for target in self.targets(link.parent, signal)
                ]
        return SignalGraph(
            workflows=tuple(self.names),
            nodes=nodes,
            entries=tuple(
                SignalPoint("entry", name, s) for name in self.names for s in self.entries[name]
            ),
            exits=tuple(
                SignalPoint("exit", name, s) for name in self.names for s in self.exits[name]
            ),
            edges=tuple(_unique(edges)),
        )


def _unique(items: Iterable[Any]) -> list[Any]:
    return list(dict.fromkeys(items))


# -- drawing ----------------------------------------------------------------------------

_MERMAID_SHAPES = {
    "router": ('{"', '"}'),
    "llm": ('("', '")'),
    "agent": ('("', '")'),
    "tool": ('{{"', '"}}'),
    "child": ('[["', '"]]'),
    "entry": ('>"', '"]'),
    "exit": ('(["', '"])'),
}
_MERMAID_CLASSES = {
    "failed": "fill:#fde2e2,stroke:#c62828,stroke-width:3px,color:#000",
    "unfired": "fill:#f5f5f5,stroke:#bdbdbd,color:#9e9e9e",
    "signal": "fill:none,stroke:#9e9e9e,stroke-dasharray:4 3",
}
_FAILURE_LINK = "stroke:#c62828"
_DOT_SHAPES: dict[str, dict[str, str]] = {
    "router": {"shape": "diamond", "style": "filled", "fillcolor": "#fff8e1"},
    "llm": {"shape": "box", "style": "rounded,filled", "fillcolor": "#e3f2fd"},
    "agent": {"shape": "box", "style": "rounded,filled,bold", "fillcolor": "#e3f2fd"},
    "tool": {"shape": "hexagon", "style": "filled", "fillcolor": "#e8f5e9"},
    "child": {"shape": "box", "peripheries": "2", "style": "filled", "fillcolor": "#f3e5f5"},
    "other": {"shape": "box", "style": "filled", "fillcolor": "#ffffff"},
    "entry": {"shape": "cds", "style": "dashed", "color": "#9e9e9e"},
    "exit": {"shape": "oval", "style": "dashed", "color": "#9e9e9e"},
}


def to_mermaid(graph: SignalGraph) -> str:
    """The graph as a Mermaid flowchart (left to right), one subgraph per workflow."""
    ids = _Ids(graph)
    lines = ["flowchart LR"]
    for workflow in graph.workflows:
        lines.append(f"  subgraph {ids.workflow(workflow)}[{_mermaid_text(workflow)}]")
        lines.append("    direction LR")  # Mermaid lays an unlinked subgraph top-down
        for node in (n for n in graph.nodes if n.workflow == workflow):
            lines.append(f"    {_mermaid_vertex(ids.of(node.ref), node.node_type, _label(node))}")
        for point in graph.points(workflow):
            lines.append(f"    {_mermaid_vertex(ids.of(point.ref), point.kind, point.signal)}")
        lines.append("  end")
    failure_links: list[int] = []
    for index, (edge, label) in enumerate(_merged(graph.edges)):
        arrow = "-.->" if edge.kind in ("child", "to_parent") else "-->"
        text = f"|{_mermaid_text(label)}|" if label else ""
        lines.append(f"  {ids.of(edge.source)} {arrow}{text} {ids.of(edge.target)}")
        if edge.kind == "failure":
            failure_links.append(index)
    classes = {
        "failed": [ids.of(n.ref) for n in graph.nodes if n.failed],
        "unfired": [ids.of(n.ref) for n in graph.nodes if n.fires == 0 and not n.failed],
        "signal": [ids.of(p.ref) for p in graph.entries + graph.exits],
    }
    for name, members in classes.items():
        if members:
            lines.append(f"  classDef {name} {_MERMAID_CLASSES[name]}")
            lines.append(f"  class {','.join(members)} {name}")
    if failure_links:
        lines.append(f"  linkStyle {','.join(map(str, failure_links))} {_FAILURE_LINK}")
    return "\n".join(lines) + "\n"


def to_dot(graph: SignalGraph) -> str:
    """The graph in Graphviz's DOT language (left to right), one cluster per workflow."""
    ids = _Ids(graph)
    lines = [
        "digraph soe {",
        "  rankdir=LR;",
        '  node [fontname="Helvetica"];',
        '  edge [fontname="Helvetica", fontsize=10];',
    ]
    for index, workflow in enumerate(graph.workflows):
        lines.append(f'  subgraph "cluster_{index}" {{')
        lines.append(f'    label="{_dot_text(workflow)}";')
        lines.append('    style="rounded"; color="#9e9e9e";')
        for node in (n for n in graph.nodes if n.workflow == workflow):
            attributes = {
                "label": _label(node),
                **_DOT_SHAPES.get(node.node_type, _DOT_SHAPES["other"]),
            }
            if node.failed:
                attributes["style"] = f"bold,{attributes['style']}"
                attributes.update(color="#c62828", fillcolor="#fde2e2")
            elif node.fires == 0:
                attributes.update(color="#bdbdbd", fontcolor="#9e9e9e")
            lines.append(f'    "{ids.of(node.ref)}" [{_dot_attributes(attributes)}];')
        for point in graph.points(workflow):
            attributes = {"label": point.signal, **_DOT_SHAPES[point.kind]}
            lines.append(f'    "{ids.of(point.ref)}" [{_dot_attributes(attributes)}];')
        lines.append("  }")
    for edge, label in _merged(graph.edges):
        attributes = {"label": label} if label else {}
        if edge.kind in ("child", "to_parent"):
            attributes["style"] = "dashed"
        if edge.kind == "failure":
            attributes["color"] = "#c62828"
        suffix = f" [{_dot_attributes(attributes)}]" if attributes else ""
        lines.append(f'  "{ids.of(edge.source)}" -> "{ids.of(edge.target)}"{suffix};')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _label(node: GraphNode) -> str:
    return f"{node.name} ×{node.fires}" if node.fires else node.name


def _edge_label(edge: GraphEdge) -> str:
    if edge.kind == "child" and edge.fan_out_field:
        return f"{edge.signal} per {edge.fan_out_field} item"
    if edge.kind == "signal" and (edge.source.kind == "entry" or edge.target.kind == "exit"):
        return ""  # the entry or exit point names the signal
    return edge.signal


def _merged(edges: Iterable[GraphEdge]) -> Iterator[tuple[GraphEdge, str]]:
    """One drawn edge per (source, target, kind): several signals share one label."""
    groups: dict[tuple[Ref, Ref, str], tuple[GraphEdge, list[str]]] = {}
    for edge in edges:
        _, labels = groups.setdefault((edge.source, edge.target, edge.kind), (edge, []))
        label = _edge_label(edge)
        if label and label not in labels:
            labels.append(label)
    for edge, labels in groups.values():
        yield edge, ", ".join(labels)


class _Ids:
    """Ids that Mermaid and DOT take as they are (letters, digits, underscores, starting
    with a letter), readable, and unique across the graph."""

    def __init__(self, graph: SignalGraph) -> None:
        self._ids: dict[Any, str] = {}
        self._taken: set[str] = set()
        for workflow in graph.workflows:
            self._ids[("workflow", workflow)] = self._new(f"wf_{_slug(workflow)}")
        for node in graph.nodes:
            self._ids[node.ref] = self._new(f"{_slug(node.workflow)}__{_slug(node.name)}")
        for point in graph.entries + graph.exits:
            tag = "in" if point.kind == "entry" else "out"
            self._ids[point.ref] = self._new(
                f"{_slug(point.workflow)}__{tag}__{_slug(point.signal)}"
            )

    def _new(self, wanted: str) -> str:
        candidate, number = wanted, 1
        while candidate.lower() in self._taken:
            number += 1
            candidate = f"{wanted}_{number}"
        self._taken.add(candidate.lower())
        return candidate

    def of(self, ref: Ref) -> str:
        return self._ids[ref]

    def workflow(self, name: str) -> str:
        return self._ids[("workflow", name)]


def _slug(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_]", "_", text)
    return slug if re.match(r"[A-Za-z]", slug) else f"n{slug}"


def _mermaid_vertex(identifier: str, shape: str, label: str) -> str:
    opening, closing = _MERMAID_SHAPES.get(shape, ('["', '"]'))
    return f"{identifier}{opening}{_mermaid_escape(label)}{closing}"


def _mermaid_text(text: str) -> str:
    return f'"{_mermaid_escape(text)}"'


def _mermaid_escape(text: str) -> str:
    """Text safe inside a quoted Mermaid label: entity codes for what Mermaid reads."""
    out = []
    for char in " ".join(str(text).split()):
        if char in '"#&<>|`':
            out.append(f"#{ord(char)};")
        else:
            out.append(char)
    return "".join(out)


def _dot_attributes(attributes: Mapping[str, str]) -> str:
    return ", ".join(f'{key}="{_dot_text(value)}"' for key, value in attributes.items())


def _dot_text(text: str) -> str:
    return " ".join(str(text).split()).replace("\\", "\\\\").replace('"', '\\"')
