"""The flow engine: a service definition's steps as a state machine (no Qt, no device bytes)."""

from kiosk.flows.engine import (
    MAX_CARD_TRIES,
    Flow,
    FlowError,
    Kind,
    ReceiptContent,
    State,
    SubmitOutcome,
    SummaryLine,
)
from kiosk.flows.validation import FieldError

__all__ = ["MAX_CARD_TRIES", "FieldError", "Flow", "FlowError", "Kind", "ReceiptContent", "State",
           "SubmitOutcome", "SummaryLine"]
