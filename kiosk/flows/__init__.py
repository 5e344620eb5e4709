"""The flow engine: a service definition's steps as a state machine (no Qt, no device bytes)."""

from kiosk.flows.engine import Flow, Kind, State, SubmitOutcome

__all__ = ["Flow", "Kind", "State", "SubmitOutcome"]
