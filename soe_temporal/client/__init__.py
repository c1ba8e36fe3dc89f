"""SoeClient: SOE's API over Temporal."""

from .soe_client import SoeClient

__all__ = ["SoeClient"]
