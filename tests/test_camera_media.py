"""The generated camera input is what the camera tests assume: checked against real OpenCV."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest

from devices.camera.face import detect_faces
from devices.sim import camera_media as media


@pytest.mark.parametrize("scale", [0.4, 0.6, 1.0, 1.3])
@pytest.mark.parametrize("offset", [(0, 0), (-190, 0), (190, 0), (0, -110), (-120, 60)])
def test_haar_cascade_finds_exactly_one_generated_face(scale: float, offset: tuple[int, int]) -> None:
    for seed in range(2):
        boxes = detect_faces(media.face_frame(offset, scale, seed=seed))
        assert len(boxes) == 1, (scale, offset, seed, boxes)
        x, y, w, h = boxes[0]
        assert abs(x + w / 2 - (320 + offset[0])) < 0.25 * w  # found where it was drawn


@pytest.mark.parametrize("size", [(640, 480), (1280, 720), (320, 240)])
def test_face_found_at_common_camera_resolutions(size: tuple[int, int]) -> None:
    assert len(detect_faces(media.face_frame(size=size))) == 1


@pytest.mark.parametrize("seed", range(5))
def test_no_face_in_blank_or_qr_scenes(seed: int) -> None:
    assert detect_faces(media.blank_frame(seed=seed)) == []
    assert detect_faces(media.qr_frame("ZW2025031500042", seed=seed)) == []


def test_qr_generator_never_makes_micro_qr() -> None:
    card = media.qr_card("1")  # segno.make() would choose Micro QR M1 for this
    assert card.shape[0] == (21 + 8) * 6  # version 1 QR (21 modules) + quiet zone, 6 px a module


def test_video_is_readable_frame_by_frame(tmp_path: Path) -> None:
    for name in ("v.avi", "v.mp4"):
        path = media.qr_video("x", tmp_path / name, frames=7, blank_frames=2)
        cap = cv2.VideoCapture(str(path))
        count = 0
        while cap.read()[0]:
            count += 1
        cap.release()
        assert count == 7


def test_unknown_video_extension_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=".avi"):
        media.qr_video("x", tmp_path / "v.mkv")
