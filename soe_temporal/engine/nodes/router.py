"""Router nodes (SOE_SPEC §10): pure routing, evaluated on the spot, no I/O."""

from __future__ import annotations

from typing import Any

from ..emissions import programmatic_emission
from ..events import RouterRan
from ..host import Fired, NodeHost
from ..state import Firing


def fire_router(host: NodeHost, firing: Firing, conversation: list[dict[str, Any]] | None) -> Fired:
    """F-ROUTER-2..4: every passing emission, against the context as it stands now,
    broadcast at once (nested, F-EXEC-5).

    The node counter was incremented before this call, so a router sees its own count
    (F-NODE-2). Routers never write, so the live context is their snapshot.
    """
    host.record(RouterRan())
    return Fired(tuple(programmatic_emission(firing.config.get("event_emissions"), host.context)))
