"""What a broadcast walks (F-EXEC-3..6): the nodes each signal triggers, indexed once per
version of the registry, and one frame per broadcast in progress.

A broadcast's cost is then the nodes it triggers, not the nodes of the workflow; frames
share the index's node list (the registry snapshot of F-EXEC-6: built-ins replace the
registry rather than change it, so a snapshot never changes under a frame). A frame with
nothing left to walk when a router's nested broadcast starts is dropped at once, and the
nested frame forwards its signals to the parent after its own (F-EXEC-3 step 5, deeper
broadcasts first), so a chain of routers holds one frame, not one per link.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TriggerIndex:
    """A workflow's nodes in declaration order, and which of them each signal triggers."""

    nodes: tuple[tuple[str, dict[str, Any]], ...]
    positions: dict[str, tuple[int, ...]]

    @classmethod
    def of(cls, workflow: dict[str, dict[str, Any]]) -> TriggerIndex:
        """The index of ``workflow``; executions that share a registry (nothing changes one
        in place) share its indexes too."""
        found = _recent.get(id(workflow))
        if found is not None and found[0] is workflow:
            return found[1]
        index = cls._build(workflow)
        if len(_recent) >= _RECENT_LIMIT:
            _recent.clear()
        _recent[id(workflow)] = (workflow, index)
        return index

    @classmethod
    def _build(cls, workflow: dict[str, dict[str, Any]]) -> TriggerIndex:
        nodes = tuple(workflow.items())
        positions: dict[str, list[int]] = {}
        for position, (_, config) in enumerate(nodes):
            for signal in dict.fromkeys(config.get("event_triggers") or ()):
                if isinstance(signal, str):
                    positions.setdefault(signal, []).append(position)
        return cls(nodes, {signal: tuple(found) for signal, found in positions.items()})

    def triggered(self, signals: list[str]) -> list[int]:
        """F-EXEC-4: each node triggered by any of ``signals``, once, in declaration order."""
        if len(signals) == 1:
            return list(self.positions.get(signals[0], ()))
        found: set[int] = set()
        for signal in signals:
            found.update(self.positions.get(signal, ()))
        return sorted(found)


# The indexes of the workflows indexed last, by identity (each entry holds its workflow,
# so an id is not reused while it is here). Workflow tasks run on several threads: each
# step here is one dict operation, and a race at worst builds an index twice.
_RECENT_LIMIT = 256
_recent: dict[int, tuple[dict[str, Any], TriggerIndex]] = {}


@dataclass(frozen=True)
class Ended:
    signals: list[str]
    rest: Ended | None

    def all(self) -> list[list[str]]:
        found: list[list[str]] = []
        link: Ended | None = self
        while link is not None:
            found.append(link.signals)
            link = link.rest
        return found


@dataclass
class Frame:
    """One broadcast being walked."""

    signals: list[str]
    index: TriggerIndex
    candidates: list[int]
    position: int = 0
    # Enclosing broadcasts that ended while this one ran, whose signals go to the parent
    # after this frame's own: a linked list (signals, the rest), innermost first.
    then_forward: Ended | None = None

    @property
    def walked(self) -> bool:
        return self.position >= len(self.candidates)

    def next_triggered(self) -> tuple[str, dict[str, Any]] | None:
        if self.position >= len(self.candidates):  # walked, spelt out: asked at every node
            return None
        node = self.index.nodes[self.candidates[self.position]]
        self.position += 1
        return node
