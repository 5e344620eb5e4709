"""The A4 printer's statuses: IPP printer-state-reasons mapped to the receipt printer's codes where
they mean the same thing (paper_out, paper_near_end, cover_open, offline, not_answering), so the
kiosk's banners, the edge status and the fleet rules read both printers alike."""

from __future__ import annotations

from kiosk.status import Level, Status, status_from

# code -> (level, zh, bo, en)
_TEXT: dict[str, tuple[Level, str, str, str]] = {
    "paper_out": (Level.FAULT, "A4打印机没有纸了", "A4 པར་ཆས་ཀྱི་ཤོག་བུ་ཟད་སོང་།", "The A4 printer is out of paper"),
    "paper_near_end": (Level.DEGRADED, "A4打印纸快用完了", "A4 པར་ཆས་ཀྱི་ཤོག་བུ་ཟད་ལ་ཉེ་བ་རེད།",
                       "A4 paper is running low"),
    "cover_open": (Level.FAULT, "A4打印机的门开着", "A4 པར་ཆས་ཀྱི་སྒོ་ཁ་ཕྱེ་འདུག", "A door of the A4 printer is open"),
    "paper_jam": (Level.FAULT, "A4打印机卡纸了", "A4 པར་ཆས་ནང་ཤོག་བུ་འཛེར་འདུག", "Paper is jammed in the A4 printer"),
    "toner_out": (Level.FAULT, "A4打印机的墨粉用完了", "A4 པར་ཆས་ཀྱི་སྣག་ཚ་ཟད་སོང་།", "The A4 printer is out of toner"),
    "toner_low": (Level.DEGRADED, "A4打印机的墨粉快用完了", "A4 པར་ཆས་ཀྱི་སྣག་ཚ་ཟད་ལ་ཉེ་བ་རེད།",
                  "The A4 printer's toner is running low"),
    "offline": (Level.FAULT, "A4打印机没有连接或已关机", "A4 པར་ཆས་དང་འབྲེལ་མཐུད་མེད།",
                "The A4 printer is off or not connected"),
    "not_answering": (Level.FAULT, "打印服务没有应答", "པར་འདེབས་ཞབས་ཞུས་ལན་མི་འདེབས།",
                      "The print service (CUPS) is not answering"),
    "job_failed": (Level.FAULT, "A4打印机没能打印这份文件", "A4 པར་ཆས་ཀྱིས་ཡིག་ཆ་འདི་པར་འདེབས་མ་ཐུབ།",
                   "The A4 printer could not print the document"),
    "job_unconfirmed": (Level.FAULT, "打印中途打印机断开了，文件可能没有打印出来",
                        "པར་འདེབས་སྐབས་པར་ཆས་འབྲེལ་མཐུད་ཆད་སོང་། ཡིག་ཆ་པར་འདེབས་བྱུང་མེད་སྲིད།",
                        "The A4 printer went away during the job; it may not have printed"),
}

# IPP keyword (RFC 8011 / PWG 5100.9, suffix removed) -> code, in order of what a resident or the
# hall's staff must hear first when several are reported at once.
_REASONS: tuple[tuple[str, str], ...] = (
    ("cover-open", "cover_open"), ("door-open", "cover_open"), ("interlock-open", "cover_open"),
    ("media-jam", "paper_jam"), ("input-tray-missing", "paper_out"),
    ("media-empty", "paper_out"), ("media-needed", "paper_out"),
    ("offline", "offline"), ("shutdown", "offline"), ("paused", "offline"),
    ("toner-empty", "toner_out"), ("marker-supply-empty", "toner_out"),
    ("media-low", "paper_near_end"), ("toner-low", "toner_low"), ("marker-supply-low", "toner_low"),
)
_SUFFIXES = ("-error", "-warning", "-report")


def base_reason(reason: str) -> str:
    for suffix in _SUFFIXES:
        if reason.endswith(suffix):
            return reason[: -len(suffix)]
    return reason


def code_for_reasons(reasons: tuple[str, ...] | list[str]) -> str:
    """The most urgent status code among printer-state-reasons; "ok" when none is known."""
    present = {base_reason(r) for r in reasons}
    for keyword, code in _REASONS:
        if keyword in present:
            return code
    return "ok"


def status_for(code: str) -> Status:
    return status_from(_TEXT, code)
