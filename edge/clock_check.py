"""Is the system clock NTP-synchronised? timedatectl says so on systemd hosts; the kernel's adjtimex()
answers anywhere else (TIME_ERROR = not synchronised). When neither can tell, the answer is "unknown" —
never a guess: a kiosk with a wrong clock stamps wrong dates on receipts and refuses signed content.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import shutil
import subprocess

from kiosk import fleet_wire

Status = fleet_wire.ComponentStatus

TIME_ERROR = 5  # adjtimex(2): the clock is not synchronised (STA_UNSYNC)
_TIMEX_BYTES = 512  # struct timex is ~208 bytes on 64-bit Linux; modes = 0 (the first int) only reads

# bo: to be reviewed by the translators
CLOCK_SYNCED = Status(level="ok", code="ntp_synchronised", zh="时钟已与网络时间同步",
                      bo="དུས་ཚོད་དྲ་རྒྱའི་དུས་ཚོད་དང་མཐུན་འདུག", en="Clock synchronised (NTP)")
CLOCK_NOT_SYNCED = Status(level="degraded", code="clock_not_synchronised", zh="时钟没有与网络时间同步",
                          bo="དུས་ཚོད་དྲ་རྒྱའི་དུས་ཚོད་དང་མི་མཐུན།", en="Clock not synchronised (NTP)")
CLOCK_UNKNOWN = Status(level="degraded", code="unknown", zh="无法确定时钟是否同步",
                       bo="དུས་ཚོད་མཐུན་མིན་ཤེས་མ་ཐུབ།", en="Clock synchronisation unknown")


def _timedatectl() -> bool | None:
    exe = shutil.which("timedatectl")
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, "show", "--property=NTPSynchronized", "--value"], capture_output=True,
                             text=True, timeout=3, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    value = out.stdout.strip().lower()
    return {"yes": True, "no": False}.get(value) if out.returncode == 0 else None


def _adjtimex() -> bool | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        buf = ctypes.create_string_buffer(_TIMEX_BYTES)
        rc = libc.adjtimex(buf)
    except (OSError, AttributeError):
        return None
    if rc < 0:
        return None
    return rc != TIME_ERROR


def ntp_synchronised() -> bool | None:
    found = _timedatectl()
    return found if found is not None else _adjtimex()


def clock_check() -> Status:
    return {True: CLOCK_SYNCED, False: CLOCK_NOT_SYNCED, None: CLOCK_UNKNOWN}[ntp_synchronised()]
