"""Where a client connects: temporalio's environment configuration, as the ``temporal``
CLI reads it, with explicit choices over it."""

from __future__ import annotations

import os
from typing import Any

from temporalio.envconfig import ClientConfig

from ..errors import ConfigError


def client_connect_options(
    address: str | None = None, namespace: str | None = None
) -> dict[str, Any]:
    """``Client.connect``'s arguments (target_host, namespace, api_key, tls, ...): the
    TEMPORAL_* variables over the TEMPORAL_PROFILE profile of TEMPORAL_CONFIG_FILE (or the
    default config file), then ``address`` and ``namespace`` over them. An empty variable
    counts as unset; ``target_host`` is absent when nothing names an address."""
    environment = {name: value for name, value in os.environ.items() if value}
    try:
        options: dict[str, Any] = dict(
            ClientConfig.load_client_connect_config(override_env_vars=environment)
        )
    except (RuntimeError, OSError, ValueError) as error:
        raise ConfigError(
            f"Cannot read the Temporal client configuration: {error}. Check TEMPORAL_PROFILE, "
            "TEMPORAL_CONFIG_FILE and the TEMPORAL_* variables."
        ) from None
    if address:
        options["target_host"] = address
    if namespace:
        options["namespace"] = namespace
    if not options.get("target_host"):
        options.pop("target_host", None)
    return options
