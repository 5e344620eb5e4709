"""The fleet health agent inside the edge daemon: availability, state, events (spooled), commands over MQTT.

The daemon builds one `Agent(...)`, calls `start()` once it serves, and `stop()` on the way out.
"""

from .agent import Agent
from .connection import BrokerConfig

__all__ = ["Agent", "BrokerConfig"]
