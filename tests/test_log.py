"""Structured logs: one JSON object per line, extra fields kept, ID numbers scrubbed as a last guard."""

from __future__ import annotations

import json
import logging

from kiosk import log


def _format(record_kwargs, fmt):
    rec = logging.makeLogRecord(record_kwargs)
    return fmt.format(rec)


def test_json_line_carries_fields():
    line = _format({"msg": "printer status", "levelname": "INFO", "name": "devices.printer",
                    "component": "printer", "code": "paper_out"}, log.JsonFormatter())
    entry = json.loads(line)
    assert entry["msg"] == "printer status"
    assert entry["code"] == "paper_out" and entry["component"] == "printer"
    assert "\n" not in line


def test_an_id_number_never_survives_formatting():
    leaked = "540102199001011234"
    for fmt in (log.JsonFormatter(), log.TextFormatter()):
        out = _format({"msg": f"oops {leaked}", "levelname": "ERROR", "name": "x", "field": leaked}, fmt)
        assert leaked not in out
        assert "[id-redacted]" in out
    # an X check character is scrubbed too; a long number that is not an ID is left alone
    assert log.scrub("id 54010219900101123X end") == "id [id-redacted] end"
    assert log.scrub("bytes 12345678901234567890123") == "bytes 12345678901234567890123"
