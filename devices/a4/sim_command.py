"""The simulated A4 printer's engine: the command `ippeveprinter -c` runs for every job it accepts.

ippeveprinter itself holds a job while its tray is empty (media-empty, set from its web form). This
command adds what only a print engine knows, through ippeveprinter's documented stderr protocol
(`STATE: +reason` / `STATE: -reason`, `ATTR: job-impressions-completed=N`): the reasons listed in the
fault file (one per line, e.g. `cover-open`, `media-jam`) stop it before the next page until they are
cleared, like an open door or a jam. A finished job is saved as a PDF in the printed directory; a job
cancelled meanwhile prints nothing.

Run as `python -m devices.a4.sim_command JOBFILE` with A4SIM_DIR (fault file, printed/; A4SIM_PRINTED
elsewhere), A4SIM_URI
(the printer's own URI, to see a cancel) and A4SIM_PAGE_S in the environment; devices/a4/sim.py sets them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

FAULT_FILE = "faults"
PRINTED_DIR = "printed"
PAGE_S = 0.1  # default time to print one page (A4SIM_PAGE_S): short, so tests stay fast
_POLL_S = 0.1
_JOB_TEST = """{
  OPERATION Get-Job-Attributes
  GROUP operation-attributes-tag
  ATTR charset attributes-charset utf-8
  ATTR naturalLanguage attributes-natural-language en
  ATTR uri printer-uri $uri
  ATTR integer job-id $job_id
  ATTR keyword requested-attributes job-state-reasons
  STATUS successful-ok
  DISPLAY job-state-reasons
}
"""


def read_faults(sim_dir: Path) -> set[str]:
    try:
        text = (sim_dir / FAULT_FILE).read_text()
    except FileNotFoundError:
        return set()
    return {line.strip() for line in text.splitlines() if line.strip()}


def page_count(pdf: bytes) -> int:
    """Pages in a PDF by its page objects: enough for a simulator that must not need poppler."""
    return max(1, len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf)))


def _cancelled(sim_dir: Path, uri: str, job_id: str) -> bool:
    test = sim_dir / "job-state.test"
    if not test.exists():
        test.write_text(_JOB_TEST)
    out = subprocess.run(["ipptool", "-c", "-T", "2", "-d", f"job_id={job_id}", uri, str(test)],
                         capture_output=True, text=True, check=False).stdout
    return "processing-to-stop-point" in out or "job-canceled" in out


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _wait_for_clear(sim_dir: Path, shown: set[str]) -> set[str]:
    """Block while the fault file lists reasons, reporting each change; returns what is shown."""
    while True:
        faults = read_faults(sim_dir)
        if gone := shown - faults:
            _say("STATE: -" + ",".join(sorted(gone)))
        if new := faults - shown:
            _say("STATE: +" + ",".join(sorted(new)))
        shown = faults
        if not faults:
            return shown
        time.sleep(_POLL_S)


def main(argv: list[str]) -> int:
    job_file = Path(argv[1])
    sim_dir = Path(os.environ["A4SIM_DIR"])
    uri = os.environ.get("A4SIM_URI", "")
    job_id = os.environ.get("IPP_JOB_ID", "0")
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", os.environ.get("IPP_JOB_NAME", "job"))[:60]
    data = job_file.read_bytes()
    pages = page_count(data)
    page_s = float(os.environ.get("A4SIM_PAGE_S", PAGE_S))
    shown: set[str] = set()
    for page in range(1, pages + 1):
        shown = _wait_for_clear(sim_dir, shown)
        if uri and _cancelled(sim_dir, uri, job_id):
            _say(f"INFO: cancelled before page {page}")
            return 0
        time.sleep(page_s)
        _say(f"ATTR: job-impressions-completed={page}")
    out_dir = Path(os.environ.get("A4SIM_PRINTED") or sim_dir / PRINTED_DIR)
    out_dir.mkdir(exist_ok=True)
    tmp = out_dir / f".{job_id}-{name}.part"
    shutil.copyfile(job_file, tmp)
    tmp.rename(out_dir / f"{int(job_id):04d}-{name}.pdf")  # whole files only: a reader never sees half a job
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
