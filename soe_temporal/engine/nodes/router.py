"""Router nodes (SOE_SPEC §10): pure routing, evaluated on the spot, no I/O."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..emissions import programmatic_emission

if TYPE_CHECKING:
    from ..execution import Execution
    from ..state import Firing


def fire_router(execution: Execution, firing: Firing) -> list[str]:
    """F-ROUTER-2..4: every passing emission, against the context as it stands now.

    The node counter was incremented before this call, so a router sees its own count
    (F-NODE-2). Routers never write, so the live context is their snapshot.
    """
    return programmatic_emission(firing.config.get("event_emissions"), execution.context)
