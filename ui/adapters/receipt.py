"""A flow's receipt (kiosk.flows, words only) as the receipt printer's job (devices.printer): the one mapping.

The receipt carries the hall's name (config `kiosk.hall_name`), the edge's trusted time of acceptance in
the hall's zone (`kiosk.timezone`; no time when the edge's clock is not trusted) and the pack's hotline.
The printer module loads on the first receipt, not at start-up (its raster rendering is slow to import).
"""

from __future__ import annotations

from datetime import tzinfo
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from devices.printer.receipt import Receipt
    from kiosk.flows import Flow
    from kiosk.flows.receipt import Hotline, Words


def receipt_job(flow: Flow, lang: str, *, hall: Words | None = None, contact: Hotline | None = None,
                tz: tzinfo | None = None) -> Receipt:
    """The receipt in `lang`, with the other language beneath it."""
    from devices.printer.receipt import receipt_from_content

    return receipt_from_content(flow.receipt_content(lang, hall=hall, contact=contact, tz=tz))
