"""The receipt printer's statuses, in plain words for residents and maintenance teams."""

from __future__ import annotations

from kiosk.status import Level, Status, status_from

# code -> (level, zh, bo, en)
_TEXT: dict[str, tuple[Level, str, str, str]] = {
    "paper_near_end": (Level.DEGRADED, "打印纸快用完了", "པར་ཆས་ཀྱི་ཤོག་བུ་ཟད་ལ་ཉེ་བ་རེད།",
                       "Receipt paper is running low"),
    "paper_out": (Level.FAULT, "打印纸用完了", "པར་ཆས་ཀྱི་ཤོག་བུ་ཟད་སོང་།", "The printer is out of paper"),
    "cover_open": (Level.FAULT, "打印机盖子开着", "པར་ཆས་ཀྱི་ཁ་ལེབ་ཁ་ཕྱེ་འདུག", "The printer cover is open"),
    "offline": (Level.FAULT, "打印机暂停工作了", "པར་ཆས་གྲ་སྒྲིག་མི་འདུག", "The printer is offline"),
    "cutter_error": (Level.FAULT, "打印机切纸刀坏了", "པར་ཆས་ཀྱི་ཤོག་གཏུབ་ལ་སྐྱོན་ཤོར་འདུག",
                     "The printer's paper cutter has failed"),
    "not_answering": (Level.FAULT, "打印机没有应答", "པར་ཆས་ཀྱིས་ལན་མི་འདེབས།", "The printer is not answering"),
    "garbled": (Level.FAULT, "打印机的回答无法识别，请检查连接线", "པར་ཆས་ཀྱི་ལན་ངོས་འཛིན་མི་ཐུབ།",
                "The printer's replies are garbled: check the cable and baud rate"),
    "disconnected": (Level.FAULT, "打印机没有连接", "པར་ཆས་དང་འབྲེལ་མཐུད་མེད།", "The printer is not connected"),
}


def status_for(code: str) -> Status:
    return status_from(_TEXT, code)
