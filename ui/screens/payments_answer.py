"""The social-insurance payment lookup's result: a summary shown and spoken, then a big, simple list
(month; kind, amount, who paid). LookupScreen puts the "as of" line above it when the answer is the
edge's copy.

LookupScreen pages these widgets (ui.widgets.Pager) when its flow's lookup asks for payments: one screen per lookup step
keeps the window's navigation (ui/host.py) as it is. Who paid is said with a word AND an icon (a
check, a government building, a warning triangle for arrears): colour is never the only cue.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QVBoxLayout, QWidget

from kiosk import i18n, wire
from kiosk.flows import payments
from ui.theme import Theme
from ui.widgets.labels import IconLabel, Label

# payer status -> (icon, theme colour of the icon)
PAYER_ICONS = {wire.PAYER_PAID: ("check", "ok"), wire.PAYER_GOVERNMENT: ("building", "text"),
               wire.PAYER_ARREARS: ("warning", "error")}
_UNKNOWN_ICON = ("clock", "text")


def is_payments(flow: Any) -> bool:
    return flow is not None and flow.lookup_query == payments.QUERY


def default_prompt(flow: Any) -> str:
    return getattr(flow.step, "prompt", None) or "payments_result"


def spoken_extra(flow: Any, lang: str, as_of_text: str) -> str:
    """What TTS reads after the prompt: how fresh (when offline), then one sentence per kind."""
    result = flow.lookup_result or {}
    sentences = payments.summary_sentences(result.get("payments") or [], lang)
    if flow.lookup_offline:
        sentences.insert(0, i18n.tr("payments_offline", lang, as_of=as_of_text))
    return "。".join(sentences)


def build(flow: Any, lang: str, theme: Theme) -> list[QWidget]:
    """The widgets of a payments answer, most important first: summary, whose records, the months."""
    records = (flow.lookup_result or {}).get("payments") or []
    widgets: list[QWidget] = [_summary(records, lang)]
    if flow.masked_id:
        who = Label(f"{i18n.tr('id_number', lang)}: {flow.masked_id}", "body")
        who.setObjectName("payments_id")
        widgets.append(who)
    for (year, month), recs in payments.by_month(records):
        # the month beside its records, not above them: a line less per month, fewer pages to turn
        box = QFrame()
        box.setObjectName("Panel")
        lay = QHBoxLayout(box)
        head = Label(payments.month_label(year, month, lang), "title")
        head.setObjectName("payment_month")
        lay.addWidget(head, 1)
        rows = QVBoxLayout()
        for rec in recs:
            rows.addWidget(_record_row(rec, lang, theme))
        lay.addLayout(rows, 3)
        widgets.append(box)
    return widgets


def _summary(records: list[dict], lang: str) -> QWidget:
    box = QFrame()
    box.setObjectName("Panel")
    lay = QVBoxLayout(box)
    for sentence, all_paid in payments.summary_lines(records, lang):
        row = QHBoxLayout()
        mark = IconLabel("check" if all_paid else "warning", 56)
        mark.setObjectName("summary_icon")
        row.addWidget(mark, 0, Qt.AlignTop)
        words = Label(sentence, "title")
        words.setObjectName("payments_summary")
        row.addWidget(words, 1)
        lay.addLayout(row)
    return box


def _record_row(rec: dict, lang: str, theme: Theme) -> QWidget:
    status = str(rec.get("payer_status", ""))
    icon, colour = PAYER_ICONS.get(status, _UNKNOWN_ICON)
    row = QWidget()
    row.setObjectName("payment_arrears" if status == wire.PAYER_ARREARS else "payment_record")
    lay = QHBoxLayout(row)
    lay.setContentsMargins(0, 0, 0, 0)
    kind = Label(payments.kind_label(str(rec.get("kind", "")), lang), "body")
    amount = Label(payments.amount_label(rec.get("amount", ""), lang), "body")
    amount.setObjectName("payment_amount")
    mark = IconLabel(icon, 48, theme.colour(colour))
    mark.setObjectName("payer_icon")
    payer = Label(payments.payer_label(status, lang), "title" if status == wire.PAYER_ARREARS else "body")
    payer.setObjectName("payer_status")
    lay.addWidget(kind, 3)
    lay.addWidget(amount, 2)
    lay.addWidget(mark, 0, Qt.AlignVCenter)
    lay.addWidget(payer, 3)
    return row
