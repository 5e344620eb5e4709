"""The kiosk's own broker client certificate: days left, and the `broker_cert` component status.

An expired certificate is refused by the broker, so the kiosk would fall silent with no reason given:
the agent warns while it still can (degraded under WARN_DAYS, in the retained state the monitor keeps)
and says fault once it has expired (seen on the kiosk, and in the last state the monitor holds).
Days are whole (floored), so the state changes once a day, not on every sample. Read on the system
clock: a clock that is wrong is reported by the clock component, and this only ever warns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509

from kiosk import fleet_wire

COMPONENT = "broker_cert"
WARN_DAYS = 30

# bo: to be reviewed by the translators
_TEXT = {
    "ok": ("代理服务器证书有效", "ལག་ཁྱེར་ནུས་ལྡན།", "Broker certificate valid"),
    "cert_expiring": ("代理服务器证书将在 {days} 天后过期，请重新签发", "ལག་ཁྱེར་ཉིན་ {days} ནང་དུས་ཚོད་འདས་འགྲོ།",
                      "Broker certificate expires in {days} days; re-enrol the kiosk"),
    "cert_expired": ("代理服务器证书已过期，无法连接监控中心", "ལག་ཁྱེར་དུས་ཚོད་འདས་ཟིན།",
                     "Broker certificate expired; the fleet monitor cannot be reached"),
    "cert_not_yet_valid": ("代理服务器证书尚未生效（系统时间可能有误）", "ལག་ཁྱེར་ད་དུང་ནུས་མེད།",
                           "Broker certificate not valid yet (is the clock wrong?)"),
    "cert_unreadable": ("无法读取代理服务器证书", "ལག་ཁྱེར་ཀློག་མ་ཐུབ།", "Broker certificate cannot be read"),
}


def _status(level: str, code: str, days: int | None = None) -> fleet_wire.ComponentStatus:
    zh, bo, en = (t.format(days=days) for t in _TEXT[code])
    return fleet_wire.ComponentStatus(level=level, code=code, zh=zh, bo=bo, en=en)  # type: ignore[arg-type]


@dataclass
class CertWatch:
    """Reads the certificate again only when the file changes (a re-enrolment swaps it)."""
    path: Path
    _key: tuple[float, int] | None = None
    _cert: x509.Certificate | None = None

    def _load(self) -> x509.Certificate | None:
        try:
            st = self.path.stat()
            key = (st.st_mtime, st.st_ino)
            if key != self._key:
                self._cert, self._key = x509.load_pem_x509_certificate(self.path.read_bytes()), key
        except (OSError, ValueError):
            self._cert, self._key = None, None
        return self._cert

    def check(self, now: datetime | None = None) -> tuple[int | None, fleet_wire.ComponentStatus]:
        """(whole days left, status); days None when the certificate cannot be read."""
        cert = self._load()
        if cert is None:
            return None, _status("fault", "cert_unreadable")
        now = now or datetime.now(UTC)
        days = math.floor((cert.not_valid_after_utc - now).total_seconds() / 86400)
        if now >= cert.not_valid_after_utc:
            return days, _status("fault", "cert_expired")
        if now < cert.not_valid_before_utc:
            return days, _status("degraded", "cert_not_yet_valid")
        if days < WARN_DAYS:
            return days, _status("degraded", "cert_expiring", days)
        return days, _status("ok", "ok")
