"""Receipt printing speed: Qt render alone, rasterise alone, and the whole job (render, rasterise,
send through a pty to the ESC/POS simulator, status before and after) with the real driver.

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m bench.bench_receipt      (from the repo root)
"""

from __future__ import annotations

import statistics
from collections.abc import Callable

from bench.stats import timings
from devices.printer import escpos
from devices.printer.printer import ReceiptPrinter
from devices.printer.receipt import Receipt, render_receipt
from devices.printer.render import ensure_gui_app, qimage_to_bits
from devices.sim.printer import PrinterSim

ROUNDS = 20


def sample_receipt(lang: str = "bo") -> Receipt:
    return Receipt(
        title="ཞབས་ཞུའི་ཨང་གྲངས།" if lang == "bo" else "办事回执",
        title_alt="办事回执" if lang == "bo" else "ཞབས་ཞུའི་ཨང་གྲངས།",
        lang=lang,  # type: ignore[arg-type]
        lines=[("ཨང་གྲངས། 编号", "TK-2024-000123"), ("ལག་ཁྱེར། 证件", "540102********1234"),
               ("ཚེས་གྲངས། 日期", "2024-05-01 10:30"),
               "བཀྲ་ཤིས་བདེ་ལེགས། ཁྱེད་ཀྱི་ཞུ་ཡིག་འབྱོར་སོང་། ཤོག་བུ་འདི་ཉར་ཚགས་ཡག་པོ་བྱེད་རོགས།",
               "您的申请已经收到。请妥善保管这张回执，凭编号可以查询办理进度。"],
        qr="https://kiosk.example/t/TK-2024-000123",
        footer="ཐུགས་རྗེ་ཆེ། 谢谢",
    )


def _median_ms(fn: Callable[[], object], rounds: int = ROUNDS) -> float:
    return statistics.median(timings(fn, rounds)) * 1000


def run(rounds: int = ROUNDS) -> list[dict]:
    ensure_gui_app()
    receipt = sample_receipt()
    img = render_receipt(receipt)
    bits = qimage_to_bits(img)
    job_bytes = len(escpos.raster(bits))
    rows = [
        {"name": "render receipt (bo, 576 dots)", "value": round(_median_ms(lambda: render_receipt(receipt)), 2),
         "unit": "ms", "note": f"median of {rounds}; {img.height()} rows"},
        {"name": "render receipt (zh, 576 dots)",
         "value": round(_median_ms(lambda: render_receipt(sample_receipt("zh"))), 2),
         "unit": "ms", "note": f"median of {rounds}"},
        {"name": "rasterise (bits + GS v 0 bytes)",
         "value": round(_median_ms(lambda: escpos.raster(qimage_to_bits(img))), 2),
         "unit": "ms", "note": f"{job_bytes} bytes"},
    ]
    with PrinterSim() as sim, ReceiptPrinter(sim.path) as printer:
        rows.append({"name": "print receipt end to end (pty sim)",
                     "value": round(_median_ms(lambda: printer.print_receipt(receipt)), 2), "unit": "ms",
                     "note": f"median of {rounds}; render + raster + send + status before/after; "
                             f"{len(sim.pages)} pages printed"})
    return rows


if __name__ == "__main__":
    from bench.__main__ import show
    show("receipt", run())
