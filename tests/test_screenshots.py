"""`make screenshots`: the real window on the demo stack, walked through every screen in one language.

Everything is real: the demo stack's processes and simulators, the window from ui.shell.composition, the card
put on the card-reader simulator, the face image in front of the camera, the printer simulator's paper.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from kiosk.audit import read_entries
from ui.demo.screenshots import (
    SHOT_NAMES,
    SHOTS,
    SIZE,
    ScreenshotError,
    shot_path,
    take_screenshots,
    wait_for,
)


@pytest.mark.timeout(120)
def test_walk_saves_every_screen_in_tibetan(qapp, tmp_path):
    out = tmp_path / "shots"
    saved = take_screenshots(out, ["bo"], workdir=tmp_path / "work")

    expected = [shot_path(out, "bo", name) for name in SHOT_NAMES]
    assert saved == expected
    assert expected[0].name == "bo-01-home.png" and expected[-1].name == f"bo-{len(SHOTS):02d}-maintenance.png"
    previous = None
    for path in expected:
        img = cv2.imread(str(path))
        assert img is not None, path
        if path.name.endswith("-a4-page.png"):  # the printed PDF itself: an A4 page, portrait
            assert img.shape[0] / img.shape[1] == pytest.approx(297 / 210, rel=0.01), path.name
        else:
            assert (img.shape[1], img.shape[0]) == SIZE, path.name
        assert img.std() > 20, f"{path.name} looks blank"  # bars, tiles and text give plenty of contrast
        assert previous is None or not np.array_equal(img, previous), f"{path.name} is the previous screen again"
        previous = img

    # The maintenance shots went through the launcher the window installed (ui.maintenance.wiring) with its
    # services over the real devices: its audit log holds the self-tests, both passed.
    audit = read_entries(tmp_path / "work" / "demo" / "audit" / "audit.sqlite3")
    results = {e["test"]: e["result"] for e in audit if e["event"] == "self_test_result"}
    assert results["card"] == "ok" and results["print"] == "ok"

    readme = (out / "README.md").read_text(encoding="utf-8")
    for path in expected:
        assert f"[{path.name}]({path.name})" in readme
    assert "zh-01-home.png" not in readme  # only the language walked is listed


def test_a_screen_that_never_comes_is_named_not_waited_for_forever(qapp):
    with pytest.raises(ScreenshotError, match="the 'lookup' screen"):
        wait_for(lambda: False, "the 'lookup' screen", timeout_s=0.2)
