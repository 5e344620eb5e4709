"""Mount the maintenance screen (ui.maintenance.screen, behind ui.maintenance.launcher) on the kiosk window: its services come from the
window's devices and edge; opening it ends any resident session first (nothing of a resident is
visible to, or left for, the technician).

The PIN lock state lives beside the edge data (cfg.edge.data_dir/../ui/); the audit log is the kiosk's
one hash-chained log (kiosk.audit.path_for: `[audit] path`, by default cfg.edge.data_dir/../audit/).
"""

from __future__ import annotations

import logging
from typing import Any

from kiosk.status import OK, UNAVAILABLE, Level, Status
from ui.adapters.voice_coverage import voice_coverage

log = logging.getLogger(__name__)

NO_CARD = Status(Level.DEGRADED, "no_card", "读卡器上没有身份证", "ལག་ཁྱེར་ཀློག་ཆས་སྟེང་ལག་ཁྱེར་མི་འདུག",
                 "no card on the reader")
EDGE_DOWN = Status(Level.FAULT, "edge_unavailable", "连不上本地服务节点", "ས་གནས་ཞབས་ཞུ་ཚེག་དང་མཐུད་མ་ཐུབ།",
                   "edge node not answering")
WAN_DOWN = Status(Level.DEGRADED, "wan_down", "连不上政务服务平台", "གཞུང་ཞབས་ཞུའི་སྟེགས་བུ་དང་མཐུད་མ་ཐུབ།",
                  "service platform not reachable")

WAN_UNKNOWN = Status(Level.OK, "wan_unknown", "还没有需要上报的申请", "ད་དུང་བསྐུར་རྒྱུའི་ཞུ་ཡིག་མེད།",
                     "nothing sent to the platform yet")
# Self-test answers that say what happened (the device's own "OK" would only repeat the level word)
PRINTED = Status(Level.OK, "printed", "测试小票已打印", "ཚོད་ལྟའི་ཤོག་བྱང་པར་བསྐྲུན་ཟིན།", "test receipt printed")
SPOKEN = Status(Level.OK, "spoken", "已播放", "སྒྲ་བཏང་ཟིན།", "spoken")
REPRINTED = Status(Level.OK, "receipt_printed", "回执已打印", "གཏན་འཁེལ་ཤོག་བུ་པར་བསྐྲུན་ཟིན།", "receipt printed")
NO_CLIP = Status(Level.DEGRADED, "no_clip", "这句话没有录音，没有播放", "སྒྲ་ཆ་མེད་པས་སྒྲ་མ་བཏང་།",
                 "no recorded clip: not spoken")



def make_services(window: Any) -> Any:
    """MaintenanceServices over the window's bridge (devices), speaker (voice) and edge client."""
    from ui.maintenance.services import MaintenanceServices, OutboxInfo, Unconfirmed

    bridge, edge = window.bridge, window.edge

    def card() -> Any:
        from devices.idcard.errors import NoCard, ReaderError

        if bridge.reader is None:
            return UNAVAILABLE
        try:
            return bridge.reader.read_card()
        except NoCard:
            return NO_CARD
        except ReaderError:
            return bridge.reader.status()

    def print_test() -> Status:
        from devices.printer.printer import PrinterError
        from devices.printer.receipt import Receipt

        if bridge.printer is None:
            return UNAVAILABLE
        receipt = Receipt(title="打印自检", title_alt="ཚོད་ལྟའི་ཤོག་བྱང་།", lines=[("自助机", window.cfg.kiosk.id)],
                          qr="SELF-TEST", lang="zh")
        try:
            bridge.printer.print_receipt(receipt)
        except PrinterError as e:
            return e.status
        after = bridge.printer.status_source.status()
        return PRINTED if after.level is Level.OK else after

    def speak(lang: str) -> Status:
        voice = window.speaker.voice
        if voice is None:
            return UNAVAILABLE
        said = voice.speak(window.speaker.text("home", lang), lang, "home")
        status = voice.status.status()
        if status.level is Level.FAULT:  # no audio output, TTS broken: the device's own words
            return status
        return SPOKEN if said.spoken else NO_CLIP

    def edge_status() -> dict:
        try:
            return edge.status()
        except Exception:
            return {}

    def outbox() -> Any:
        stats = edge_status().get("outbox") or {}
        return OutboxInfo(int(stats.get("depth", 0)), stats.get("oldest_age_s"),
                          dead_letters=int(stats.get("dead_letters") or 0),
                          dead_oldest_age_s=stats.get("dead_oldest_age_s"),
                          unconfirmed=int(stats.get("unconfirmed") or 0))

    def content_refused() -> dict | None:
        doc = edge_status()
        if not doc:
            raise ConnectionError("edge status unavailable")
        return ((doc.get("content") or {}).get("sync") or {}).get("refused")

    def unconfirmed() -> list[Unconfirmed]:
        items = []
        for doc in edge.unconfirmed_submissions():
            service = window.content.service(doc.get("service_id", ""))
            title = {lang: service.title.get(lang) for lang in ("bo", "zh", "en")} if service else None
            items.append(Unconfirmed(str(doc["tracking_number"]), str(doc.get("service_id", "")),
                                     str(doc.get("created", "")), str(doc.get("status", "")), title))
        return items

    def print_unconfirmed(item: Unconfirmed, lang: str) -> Status:
        """A receipt for staff to hand over: no card was read for it, so no masked ID; then marked shown."""
        from devices.printer.printer import PrinterError
        from devices.printer.receipt import Receipt
        from kiosk import i18n
        from ui.screens.lookup import local_time

        if bridge.printer is None:
            return UNAVAILABLE
        lang = lang if lang in i18n.LANGS else "zh"
        alt = i18n.other_language(lang)
        title = item.title or {}
        receipt = Receipt(title=title.get(lang) or item.service_id, title_alt=title.get(alt),
                          lines=[(i18n.tr("tracking_number", lang), item.tracking_number),
                                 (i18n.tr("id_number", lang), i18n.tr("receipt_id_unknown", lang)),
                                 (i18n.tr("date", lang), local_time(item.created))],
                          qr=item.tracking_number, footer=i18n.tr("receipt_staff_copy", lang), lang=lang)
        try:
            bridge.printer.print_receipt(receipt)
        except PrinterError as e:
            return e.status
        after = bridge.printer.status_source.status()
        if after.level is not Level.OK:
            return after
        try:
            edge.submission_shown(item.tracking_number)
        except Exception as e:  # printed all the same: the window's reporter retries the mark
            log.info("reprint not marked shown yet", extra={"error": type(e).__name__})
            window.mark_shown(item.tracking_number)
        return REPRINTED

    def wan() -> Status:
        doc = edge_status()
        if not doc:
            return EDGE_DOWN
        state = (doc.get("wan") or {}).get("wan")
        return {"up": OK, "down": WAN_DOWN}.get(state, WAN_UNKNOWN)

    def content_version() -> str | None:
        version = (edge_status().get("content") or {}).get("active_version")
        return None if version is None else str(version)

    voice = window.speaker.voice
    return MaintenanceServices(
        device_statuses=bridge.statuses,
        self_test_card=card,
        self_test_print=print_test,
        camera_frame=lambda: bridge.camera.read_frame() if bridge.camera is not None else None,
        speak_test=speak,
        content_version=content_version,
        outbox=outbox,
        wan_state=wan,
        missing_clips=lambda: sorted(voice.missing_clips) if voice is not None else [],
        unconfirmed=unconfirmed,
        print_unconfirmed=print_unconfirmed,
        content_refused=content_refused,
        voice_coverage=lambda: voice_coverage(window.content, synthetic_bo=window.speaker.synthetic_bo),
    )


def install(window: Any, cfg: Any) -> Any | None:
    """The corner gesture -> PIN -> maintenance screen; None when no PIN is configured (disabled)."""
    if not cfg.maintenance.pin_hash:
        log.info("maintenance screen disabled: no PIN configured")
        return None
    from kiosk.audit import AuditLog, path_for
    from kiosk.lockout import PinGate
    from ui.adapters.state_dir import state_dir
    from ui.maintenance.launcher import MaintenanceLauncher

    directory = state_dir(cfg)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        log.error("maintenance screen disabled: no state directory", extra={"error": str(e)})
        return None
    m = cfg.maintenance
    gate = PinGate(m.pin_hash, m.lockout_attempts, m.lockout_s, state_file=directory / "pin-lock.json")
    launcher = MaintenanceLauncher(window, gate=gate, audit=AuditLog(path_for(cfg)),
                                   services=make_services(window), lang=lambda: window.session.lang,
                                   theme=window.theme)
    launcher.opened.connect(lambda _screen: window.pause_for_maintenance())
    launcher.closed.connect(window.resume_after_maintenance)
    return launcher
