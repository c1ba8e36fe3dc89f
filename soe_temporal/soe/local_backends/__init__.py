"""soe-ai's ``soe.local_backends``: the backends factories."""

from __future__ import annotations

from .factory import (
    LocalBackends,
    create_backends,
    create_in_memory_backends,
    create_local_backends,
)

__all__ = ["LocalBackends", "create_backends", "create_in_memory_backends", "create_local_backends"]
