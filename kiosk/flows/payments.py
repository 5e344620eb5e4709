"""Social-insurance payment records in a resident's words: one record's labels, and the summary they hear.

The edge answers {"source", "as_of", "payments": [{"year", "month", "kind", "amount", "paid_at",
"payer_status"}, ...]} latest first (kiosk.wire). Everything here is pure (no Qt, no I/O) so the screen,
the voice and the tests share one reading of it. Records are personal: nothing here logs them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kiosk import i18n, wire

QUERY = "insurance_payments"  # the lookup step's query (kiosk.content_model.LOOKUP_QUERIES)
COVERED = (wire.PAYER_PAID, wire.PAYER_GOVERNMENT)  # the month counts for the resident either way
MAX_MONTHS_LISTED = 6  # arrears months named in one sentence; more are "and others" (it is spoken)

_ZH_DIGITS = "零一二三四五六七八九"
_BO_DIGITS = "༠༡༢༣༤༥༦༧༨༩"


@dataclass(frozen=True)
class KindSummary:
    kind: str
    months: int                              # months on record for this kind
    covered: int                             # paid by the resident or on their behalf
    arrears: tuple[tuple[int, int], ...]     # (year, month) due and not paid, latest first


def summarise(payments: Iterable[dict]) -> list[KindSummary]:
    """Per kind of insurance (known kinds first, in wire order), only kinds that have records."""
    by_kind: dict[str, list[dict]] = {}
    for p in payments:
        by_kind.setdefault(str(p.get("kind")), []).append(p)
    order = [k for k in wire.PAYMENT_KINDS if k in by_kind] + sorted(k for k in by_kind if k not in wire.PAYMENT_KINDS)
    out = []
    for kind in order:
        recs = by_kind[kind]
        arrears = sorted({(int(p["year"]), int(p["month"])) for p in recs
                          if p.get("payer_status") == wire.PAYER_ARREARS}, reverse=True)
        out.append(KindSummary(kind, len({(p["year"], p["month"]) for p in recs}),
                               sum(p.get("payer_status") in COVERED for p in recs), tuple(arrears)))
    return out


def by_month(payments: Iterable[dict]) -> list[tuple[tuple[int, int], list[dict]]]:
    """Records grouped by (year, month), latest month first, kinds in wire order within a month."""
    groups: dict[tuple[int, int], list[dict]] = {}
    for p in payments:
        groups.setdefault((int(p["year"]), int(p["month"])), []).append(p)
    rank = {k: i for i, k in enumerate(wire.PAYMENT_KINDS)}
    return [(ym, sorted(groups[ym], key=lambda p: rank.get(p.get("kind"), len(rank))))
            for ym in sorted(groups, reverse=True)]


def count_words(n: int, lang: str) -> str:
    """A count as a resident reads it aloud: 十二 in Chinese, ༡༢ in Tibetan, 12 otherwise."""
    if lang == "bo":
        return "".join(_BO_DIGITS[int(d)] for d in str(n))
    if lang != "zh" or not 0 <= n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    if tens == 0:
        return _ZH_DIGITS[ones]
    return ("" if tens == 1 else _ZH_DIGITS[tens]) + "十" + (_ZH_DIGITS[ones] if ones else "")


def month_label(year: int, month: int, lang: str) -> str:
    return i18n.tr("payment_month", lang, year=year, month=month)


def kind_label(kind: str, lang: str) -> str:
    return i18n.tr(f"payment_kind_{kind}" if kind in wire.PAYMENT_KINDS else "payment_kind_other", lang)


def payer_label(status: str, lang: str) -> str:
    return i18n.tr(f"payer_{status}" if status in wire.PAYER_STATUSES else "status_unknown", lang)


def amount_label(amount: object, lang: str) -> str:
    return i18n.tr("payment_amount", lang, amount=amount)


def summary_lines(payments: Iterable[dict], lang: str) -> list[tuple[str, bool]]:
    """(sentence, all_paid) per kind ("最近十二个月养老保险都已缴费", True), or that nothing was found."""
    lines = []
    for s in summarise(payments):
        params = {"months": count_words(s.months, lang), "kind": kind_label(s.kind, lang),
                  "covered": count_words(s.covered, lang)}
        if s.covered == s.months:
            lines.append((i18n.tr("payments_all_paid", lang, **params), True))
        elif not s.arrears:  # a status this kiosk has no words for is not called "paid"
            lines.append((i18n.tr("payments_some_unknown", lang, **params), False))
        else:
            named = [month_label(y, m, lang) for y, m in s.arrears[:MAX_MONTHS_LISTED]]
            which = {"zh": "、", "bo": " "}.get(lang, ", ").join(named)
            if len(s.arrears) > MAX_MONTHS_LISTED:
                which += i18n.tr("payments_and_more", lang)
            lines.append((i18n.tr("payments_some_arrears", lang, **params, arrears=count_words(len(s.arrears), lang),
                                  which=which), False))
    return lines or [(i18n.tr("payments_none", lang), False)]


def summary_sentences(payments: Iterable[dict], lang: str) -> list[str]:
    return [sentence for sentence, _ in summary_lines(payments, lang)]
