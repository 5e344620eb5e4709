"""`kiosk device printer-status` and `kiosk device print-test`: receipt printer self-tests.

Exit codes: 0 fine, 4 the printer cannot do it (not answering / cannot print).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime

EXIT_DEVICE = 4


def _yes(flag: bool | None, yes: str, no: str) -> str:
    return "unknown" if flag is None else (yes if flag else no)


def _printer(args: argparse.Namespace):  # -> ReceiptPrinter; import deferred to keep --help fast
    from devices.printer.printer import ReceiptPrinter

    cfg = args.cfg.devices.printer
    return ReceiptPrinter(args.port or cfg.port, args.baudrate or cfg.baudrate, width_dots=cfg.width_dots,
                          status_timeout=cfg.status_timeout_s)


def _status(args: argparse.Namespace) -> int:
    with _printer(args) as printer:
        state = printer.query_status()
        status = printer.status_source.status()
    if args.json:
        print(json.dumps(state.as_dict()))
    else:
        print(f"printer {printer.port}: {status.en}")
        print(f"  {status.zh}")
        print(f"  {status.bo}")
        print(f"  answering:  {_yes(state.answering, 'yes', 'no')}")
        print(f"  online:     {_yes(state.online if state.answering else None, 'yes', 'no')}")
        print(f"  paper:      {state.paper or 'unknown'}")
        print(f"  cover:      {_yes(state.cover_open, 'open', 'closed')}")
        print(f"  cutter:     {_yes(state.cutter_error, 'fault', 'ok')}")
    return 0 if state.answering else EXIT_DEVICE


def make_test_receipt(lang: str, kiosk_id: str, when: datetime):  # -> Receipt
    """A bilingual (Tibetan + Chinese) receipt with a QR code and the date."""
    from devices.printer.receipt import Receipt

    stamp = when.strftime("%Y-%m-%d %H:%M")
    bo_title, zh_title = "པར་ཆས་ཚོད་ལྟ།", "打印机测试"
    return Receipt(
        title=bo_title if lang == "bo" else zh_title,
        title_alt=zh_title if lang == "bo" else bo_title,
        lang="bo" if lang == "bo" else "zh",
        lines=[
            ("ཚེས་གྲངས། 日期", stamp),
            ("Kiosk", kiosk_id),
            "བཀྲ་ཤིས་བདེ་ལེགས། པར་ཆས་ཀྱིས་བོད་ཡིག་དང་རྒྱ་ཡིག་གཉིས་ཀ་པར་འདེབས་ཐུབ།",
            "打印机可以同时打印藏文和中文。",
        ],
        qr=f"kiosk-print-test {kiosk_id} {stamp}",
        footer="ཚོད་ལྟའི་ཤོག་བུ། 测试页",
    )


def _print_test(args: argparse.Namespace) -> int:
    from devices.printer.printer import PrinterError

    receipt = make_test_receipt(args.lang or args.cfg.kiosk.default_language, args.cfg.kiosk.id, datetime.now())
    with _printer(args) as printer:
        try:
            job = printer.print_receipt(receipt)
        except PrinterError as e:
            print(f"cannot print: {e.status.en} / {e.status.zh} / {e.status.bo} ({e.code})", file=sys.stderr)
            return EXIT_DEVICE
    print(f"test receipt printed (job {job}); QR: {receipt.qr}")
    return 0


def register(dsub: argparse._SubParsersAction) -> None:
    for name, func, help_text in (
        ("printer-status", _status, "ask the receipt printer for its status (exit 4 if it does not answer)"),
        ("print-test", _print_test, "print a bilingual test receipt with a QR code (exit 4 if it cannot)"),
    ):
        p = dsub.add_parser(name, help=help_text)
        p.add_argument("--port", help="serial port (default: printer.port from the config)")
        p.add_argument("--baudrate", type=int, help="default: printer.baudrate from the config")
        if name == "printer-status":
            p.add_argument("--json", action="store_true", help="one JSON object on stdout")
        else:
            p.add_argument("--lang", choices=["bo", "zh"], help="main language (default: the kiosk's)")
        p.set_defaults(func=func)
