"""Camera: QR codes, face presence and stills, from real files OpenCV opens like a camera."""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from devices.camera.camera import Camera, CameraError
from devices.camera.qr import decode_qr
from devices.sim import camera_media as media
from kiosk.status import Level
from tests.fixtures_media import eventually

PAYLOADS = [
    "ZW2025031500042",  # a tracking number as printed on receipts
    "https://svc.example.gov.cn/track?n=ZW2025031500042&k=7f3a",
    "社保卡补办 回执 ZW2025031500042",
    "བཀྲ་ཤིས་བདེ་ལེགས། ལས་རིམ་ ZW2025031500042",
]


@pytest.fixture
def camera_from():
    cameras: list[Camera] = []

    def make(source: int | str | Path, **kwargs) -> Camera:
        cam = Camera(str(source) if isinstance(source, Path) else source, **kwargs)
        cameras.append(cam)
        return cam

    yield make
    for cam in cameras:
        cam.close()


# -- QR ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("payload", PAYLOADS)
def test_qr_from_image_reads_back_the_payload(payload: str, tmp_path: Path, camera_from) -> None:
    image = media.qr_image(payload, tmp_path / "qr.png")
    assert camera_from(image).scan_qr(timeout_s=10) == payload


def test_qr_from_video_after_blank_frames(tmp_path: Path, camera_from) -> None:
    payload = PAYLOADS[2]
    video = media.qr_video(payload, tmp_path / "hold-up.avi", frames=12, blank_frames=4)
    cam = camera_from(video)
    assert decode_qr(cam.read_frame()) is None  # the video really starts with no code in view
    assert cam.scan_qr(timeout_s=10) == payload


def test_qr_from_mp4(tmp_path: Path, camera_from) -> None:
    video = media.qr_video(PAYLOADS[0], tmp_path / "hold-up.mp4", frames=6, blank_frames=2)
    assert camera_from(video).scan_qr(timeout_s=10) == PAYLOADS[0]


def test_small_code_is_found_by_the_upscaled_retry() -> None:
    frame = media.qr_frame(PAYLOADS[0], code_px=100, seed=0)
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    assert cv2.QRCodeDetector().detectAndDecode(gray)[0] == ""  # too small for one plain pass
    assert decode_qr(frame) == PAYLOADS[0]


def test_kanji_mode_code_is_read_not_crashed_on() -> None:
    # segno (and other printers) put text that fits Shift JIS in kanji mode; OpenCV's binding
    # raises UnicodeDecodeError on it when it decodes the bytes itself.
    frame = media.qr_frame("日本", mode="kanji")
    assert decode_qr(frame) == "日本"


def test_no_code_gives_none_at_the_timeout(tmp_path: Path, camera_from) -> None:
    cam = camera_from(media.blank_image(tmp_path / "blank.png"))
    assert cam.scan_qr(timeout_s=0.5) is None
    assert cam.status.status().level is Level.OK  # no code is not a camera fault


def test_scan_can_be_cancelled(tmp_path: Path, camera_from) -> None:
    cam = camera_from(media.blank_image(tmp_path / "blank.png"))
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    assert cam.scan_qr(timeout_s=120, cancel=cancel) is None  # returns long before 120 s


# -- the capture: looping files, missing sources, reconnection --------------------------------
def test_recorded_video_loops_like_a_live_camera(tmp_path: Path, camera_from) -> None:
    cam = camera_from(media.qr_video("x", tmp_path / "v.avi", frames=4, blank_frames=4))
    frames = [cam.read_frame() for _ in range(11)]
    assert all(f is not None and f.shape == (480, 640, 3) for f in frames)
    assert np.array_equal(frames[0], frames[4]) and np.array_equal(frames[1], frames[9])


def test_single_image_is_the_same_picture_forever(tmp_path: Path, camera_from) -> None:
    cam = camera_from(media.face_image(tmp_path / "face.png"))
    first, second, third = (cam.read_frame() for _ in range(3))
    assert first is not None and np.array_equal(first, second) and np.array_equal(second, third)


@pytest.mark.parametrize("source", ["/nonexistent/camera.avi", 7, "7"])
def test_source_that_cannot_open_is_no_camera(source, camera_from, tmp_path: Path) -> None:
    cam = camera_from(source)
    assert cam.read_frame() is None
    status = cam.status.status()
    assert (status.level, status.code) == (Level.FAULT, "no_camera")
    assert status.zh and status.bo and status.en
    with pytest.raises(CameraError, match="cannot be opened"):
        cam.open()
    with pytest.raises(CameraError):
        cam.capture_jpeg()
    assert cam.scan_qr(timeout_s=0.3) is None


def test_file_that_is_not_media_is_no_camera(tmp_path: Path, camera_from) -> None:
    junk = tmp_path / "notes.avi"
    junk.write_text("not a video")
    cam = camera_from(junk)
    assert cam.read_frame() is None
    assert cam.status.status().code == "no_camera"


def test_lost_source_is_disconnected_then_reopened(tmp_path: Path, camera_from) -> None:
    image = media.face_image(tmp_path / "cam.png")
    saved = image.read_bytes()
    cam = camera_from(image, backoff_s=30)
    codes: list[str] = []
    cam.status.subscribe(lambda _c, s: codes.append(s.code))
    assert cam.read_frame() is not None
    image.unlink()  # the camera goes away mid-session
    assert cam.read_frame() is None
    assert cam.status.status().code == "disconnected"
    image.write_bytes(saved)  # it is back, but the backoff has not run out:
    assert cam.read_frame() is None  # reads return at once, without hammering the device
    cam.open()  # a technician's self-test forces the reopen
    assert cam.read_frame() is not None
    assert codes == ["disconnected", "ok"]


def test_reopen_happens_by_itself_after_backoff(tmp_path: Path, camera_from) -> None:
    image = tmp_path / "cam.png"
    cam = camera_from(image, backoff_s=0.05, max_backoff_s=0.2)
    assert cam.read_frame() is None and cam.status.status().code == "no_camera"
    media.face_image(image)
    assert eventually(lambda: cam.read_frame() is not None)
    assert cam.status.status().level is Level.OK


def test_closed_camera_gives_no_frames(tmp_path: Path, camera_from) -> None:
    cam = camera_from(media.blank_image(tmp_path / "b.png"))
    assert cam.read_frame() is not None
    cam.close()
    assert cam.read_frame() is None
    assert cam.scan_qr(timeout_s=5) is None


# -- faces ------------------------------------------------------------------------------------
def test_centred_face_is_ok(tmp_path: Path, camera_from) -> None:
    cam = camera_from(media.face_image(tmp_path / "face.png"))
    check = cam.face_presence(cam.read_frame())
    assert (check.present, check.centred, check.big_enough, check.hint) == (True, True, True, "ok")
    x, y, w, h = check.box
    assert 200 < x + w / 2 < 440 and 150 < y + h / 2 < 330 and check.faces == 1


def test_small_face_should_move_closer(camera_from, tmp_path: Path) -> None:
    cam = camera_from(media.face_image(tmp_path / "f.png", scale=0.4))
    check = cam.face_presence(cam.read_frame())
    assert check.present and not check.big_enough and check.hint == "move_closer"


@pytest.mark.parametrize(("dx", "hint"), [(-190, "move_left"), (190, "move_right")])
def test_off_centre_face_is_told_which_way(dx: int, hint: str, camera_from, tmp_path: Path) -> None:
    # Left/right are the resident's own: a face on the left of the raw image must move left.
    cam = camera_from(media.face_image(tmp_path / "f.png", offset=(dx, 0)))
    check = cam.face_presence(cam.read_frame())
    assert check.present and check.big_enough and not check.centred and check.hint == hint


def test_face_too_high_should_look_at_camera(camera_from, tmp_path: Path) -> None:
    cam = camera_from(media.face_image(tmp_path / "f.png", offset=(0, -110), scale=0.8))
    check = cam.face_presence(cam.read_frame())
    assert check.present and not check.centred and check.hint == "look_at_camera"


def test_two_people_should_come_one_at_a_time(camera_from) -> None:
    frame = media.face_frame(offset=(150, 0), scale=0.8, extra_faces=((-150, 0),))
    check = camera_from("unused").face_presence(frame)
    assert check.present and check.faces == 2 and check.hint == "look_at_camera"


def test_blank_scene_has_no_face(tmp_path: Path, camera_from) -> None:
    cam = camera_from(media.blank_image(tmp_path / "blank.png"))
    check = cam.face_presence(cam.read_frame())
    assert (check.present, check.box, check.hint) == (False, None, "no_face")


# -- stills -----------------------------------------------------------------------------------
def test_capture_jpeg_decodes_back_to_the_picture(tmp_path: Path, camera_from) -> None:
    cam = camera_from(media.face_image(tmp_path / "face.png"))
    reference = cam.read_frame()
    files_before = sorted(tmp_path.iterdir())
    jpeg = cam.capture_jpeg(quality=90)
    assert jpeg[:2] == b"\xff\xd8"
    picture = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert picture.shape == reference.shape
    assert np.abs(picture.astype(int) - reference.astype(int)).mean() < 4  # the same scene
    assert cam.face_presence(picture).hint == "ok"
    assert len(cam.capture_jpeg(quality=30)) < len(jpeg)
    assert sorted(tmp_path.iterdir()) == files_before  # nothing written to disk
    with pytest.raises(ValueError):
        cam.capture_jpeg(quality=0)
