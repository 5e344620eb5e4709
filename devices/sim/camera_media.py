"""Camera input for tests and demos: real images and videos that OpenCV reads like a camera.

QR codes come from `segno.make_qr` (never `segno.make`, which may pick Micro QR that OpenCV cannot
read), printed on a paper card lying on a desk, seen at a slight angle with sensor noise.

Faces are drawn, not photographed: a head with soft shading (dark brows and eye sockets over
bright cheeks, a lighter nose bridge, a darker mouth) is what the Haar frontal-face cascade keys
on; a flat cartoon face with hard outlines is not. tests/test_camera_media.py checks that the
cascade shipped in the OpenCV 4.x wheel finds these faces at every size and offset the tests use,
and finds nothing in `blank_image`. Everything here is generated, so it carries no licence or
privacy question.

Video is written as Motion-JPEG in .avi (or MPEG-4 part 2 in .mp4): both are written and read
back by the opencv-python-headless wheel's bundled FFmpeg; H.264 is not (no encoder in the wheel).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import segno

Size = tuple[int, int]  # (width, height)

DEFAULT_SIZE: Size = (640, 480)
# Face height as a share of the frame height at scale=1.0: a resident at arm's length.
FACE_HEIGHT_FRACTION = 0.45


# -- backgrounds ------------------------------------------------------------------------------
def _wall(size: Size, rng: np.random.Generator) -> np.ndarray:
    """A hall wall: a smooth light gradient with a little plaster texture."""
    w, h = size
    y = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None]
    x = np.linspace(0.0, 1.0, w, dtype=np.float32)[None, :]
    base = 150 + 40 * (1 - y) + 15 * x  # brighter near the ceiling light
    img = np.dstack([base * 0.97, base, base * 0.95])
    texture = cv2.GaussianBlur(rng.normal(0, 6, (h, w)).astype(np.float32), (0, 0), 2)
    return img + texture[..., None]


def _desk(size: Size, rng: np.random.Generator) -> np.ndarray:
    """A wooden desk top: warm brown with grain running across."""
    w, h = size
    grain = cv2.GaussianBlur(rng.normal(0, 18, (h, 1)).astype(np.float32), (0, 0), 3)
    grain = np.repeat(grain, w, axis=1) + rng.normal(0, 4, (h, w)).astype(np.float32)
    b, g, r = 60 + grain * 0.5, 100 + grain * 0.8, 150 + grain
    return np.dstack([b, g, r])


def _finish(img: np.ndarray, rng: np.random.Generator, noise: float = 4.0) -> np.ndarray:
    """Sensor noise and clipping: what a cheap USB camera adds to any scene."""
    return np.clip(img + rng.normal(0, noise, img.shape), 0, 255).astype(np.uint8)


def _write_image(img: np.ndarray, path: Path | str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), img):
        raise ValueError(f"cannot write image {path} (unknown extension?)")
    return path


# -- QR codes ---------------------------------------------------------------------------------
def qr_card(text: str, module_px: int = 6, mode: str | None = None) -> np.ndarray:
    """The code printed black on white with its 4-module quiet zone, as a grey image.

    Non-ASCII text goes in byte mode as UTF-8, as the kiosk prints it; left to itself segno
    would put text that fits Shift JIS (e.g. 日本) in kanji mode. mode="kanji" forces that,
    to test readers against such codes.
    """
    if mode is None and not text.isascii():
        qr = segno.make_qr(text, mode="byte", encoding="utf-8")
    else:
        qr = segno.make_qr(text, mode=mode)  # full-size QR only: OpenCV cannot read Micro QR
    modules = np.array([list(row) for row in qr.matrix], dtype=np.uint8)
    modules = np.pad(modules, 4)
    card = np.where(modules == 1, 20, 245).astype(np.uint8)
    return cv2.resize(card, None, fx=module_px, fy=module_px, interpolation=cv2.INTER_NEAREST)


def qr_frame(text: str, size: Size = DEFAULT_SIZE, *, code_px: int | None = None, tilt: float = 0.06,
             seed: int = 0, mode: str | None = None) -> np.ndarray:
    """A BGR frame of the code on a desk: perspective tilt, uneven light, slight blur, noise.

    code_px is the printed code's width in the frame (default: 45 % of the frame height).
    """
    rng = np.random.default_rng(seed)
    w, h = size
    scene = _desk(size, rng)
    card = qr_card(text, mode=mode).astype(np.float32)
    side = code_px or int(h * 0.45)
    src = np.float32([[0, 0], [card.shape[1], 0], [card.shape[1], card.shape[0]], [0, card.shape[0]]])
    cx, cy = w / 2 + rng.uniform(-0.05, 0.05) * w, h / 2 + rng.uniform(-0.05, 0.05) * h
    half = side / 2
    d = tilt * side  # how far the far edge shrinks: the card is seen at an angle
    dst = np.float32([[cx - half + d, cy - half], [cx + half - d, cy - half],
                      [cx + half, cy + half], [cx - half, cy + half]])
    m = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(card, m, size, flags=cv2.INTER_LINEAR, borderValue=-1)
    mask = cv2.warpPerspective(np.ones_like(card), m, size, flags=cv2.INTER_NEAREST) > 0
    paper = np.dstack([warped * 0.96, warped * 0.98, warped])
    scene[mask] = paper[mask]
    light = np.linspace(1.05, 0.85, w, dtype=np.float32)[None, :, None]  # window on one side
    scene = cv2.GaussianBlur(scene * light, (0, 0), 0.8)
    return _finish(scene, rng)


def qr_image(text: str, path: Path | str, size: Size = DEFAULT_SIZE, *, code_px: int | None = None,
             seed: int = 0) -> Path:
    """Write `qr_frame` to an image file (.png, .jpg ...) and return its path."""
    return _write_image(qr_frame(text, size, code_px=code_px, seed=seed), path)


def blank_frame(size: Size = DEFAULT_SIZE, seed: int = 0) -> np.ndarray:
    """An empty hall: wall and noise, no face and no code."""
    rng = np.random.default_rng(seed)
    return _finish(_wall(size, rng), rng)


def blank_image(path: Path | str, size: Size = DEFAULT_SIZE, seed: int = 0) -> Path:
    return _write_image(blank_frame(size, seed), path)


def _fourcc(path: Path) -> int:
    codecs = {".avi": "MJPG", ".mp4": "mp4v"}
    if path.suffix.lower() not in codecs:
        raise ValueError(f"{path}: write .avi (Motion-JPEG) or .mp4 (MPEG-4 part 2)")
    return cv2.VideoWriter_fourcc(*codecs[path.suffix.lower()])


def qr_video(text: str, path: Path | str, frames: int = 20, *, blank_frames: int = 5, fps: int = 10,
             size: Size = DEFAULT_SIZE) -> Path:
    """A resident holding a code up: `blank_frames` of empty desk, then the code (slightly moving)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), _fourcc(path), fps, size)
    if not writer.isOpened():
        raise ValueError(f"cannot write video {path}")
    try:
        for i in range(frames):
            if i < blank_frames:
                rng = np.random.default_rng(i)
                writer.write(_finish(_desk(size, rng), rng))
            else:
                writer.write(qr_frame(text, size, seed=i))
    finally:
        writer.release()
    return path


# -- faces ------------------------------------------------------------------------------------
_SKIN = np.array([120, 160, 205], np.float32)  # BGR, a warm mid skin tone
_HAIR = np.array([25, 25, 30], np.float32)
_CLOTH = np.array([90, 50, 40], np.float32)


def _blend(img: np.ndarray, mask: np.ndarray, colour: np.ndarray, soft: float) -> None:
    """Paint `colour` where mask is set, with edges softened over `soft` pixels (in place)."""
    alpha = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), max(soft, 0.5))[..., None]
    img[:] = img * (1 - alpha) + colour * alpha


def _shade(img: np.ndarray, mask: np.ndarray, factor: float, soft: float) -> None:
    """Darken (factor < 1) or lighten (factor > 1) the area under mask, softly (in place)."""
    alpha = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), max(soft, 0.5))[..., None]
    img[:] = img * (1 + (factor - 1) * alpha)


def _ellipse_mask(shape: tuple[int, int], centre: tuple[float, float], axes: tuple[float, float]) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    cv2.ellipse(mask, (round(centre[0]), round(centre[1])), (max(1, round(axes[0])), max(1, round(axes[1]))),
                0, 0, 360, 1, -1)
    return mask


def draw_face(img: np.ndarray, centre: tuple[float, float], face_h: float) -> None:
    """Paint a head and shoulders into a float32 BGR image (in place); the face is face_h tall."""
    shape = img.shape[:2]
    cx, cy = centre
    fw, fh = face_h * 0.78, face_h  # face width to height of an adult
    u = face_h / 100.0  # feature positions below are in hundredths of the face height

    def at(dx: float, dy: float) -> tuple[float, float]:
        return cx + dx * u, cy + dy * u

    _blend(img, _ellipse_mask(shape, at(0, 120), (fw * 1.35, fh * 0.55)), _CLOTH, 3 * u)  # shoulders
    neck = np.zeros(shape, np.uint8)
    cv2.rectangle(neck, (round(cx - 18 * u), round(cy + 30 * u)), (round(cx + 18 * u), round(cy + 75 * u)), 1, -1)
    _blend(img, neck, _SKIN * 0.8, 2 * u)
    _blend(img, _ellipse_mask(shape, at(0, -10), (fw * 0.58, fh * 0.56)), _HAIR, 2 * u)
    _blend(img, _ellipse_mask(shape, at(0, 2), (fw / 2, fh / 2)), _SKIN, 2 * u)
    _shade(img, _ellipse_mask(shape, at(0, -30), (28 * u, 10 * u)), 1.12, 6 * u)  # lit forehead
    for side in (-1, 1):
        _shade(img, _ellipse_mask(shape, at(side * 19, 17), (10 * u, 8 * u)), 1.1, 4 * u)  # cheeks
        _shade(img, _ellipse_mask(shape, at(side * 17, -6), (11 * u, 6 * u)), 0.55, 3 * u)  # eye sockets
        _blend(img, _ellipse_mask(shape, at(side * 17, -16), (11 * u, 2.5 * u)), _HAIR, 1.2 * u)  # brows
        _blend(img, _ellipse_mask(shape, at(side * 17, -5), (5 * u, 2.5 * u)), _HAIR + 20, 1 * u)  # eyes
    _shade(img, _ellipse_mask(shape, at(0, 2), (4 * u, 12 * u)), 1.08, 2 * u)  # nose bridge
    _shade(img, _ellipse_mask(shape, at(0, 14), (7 * u, 3 * u)), 0.7, 2 * u)  # nostrils
    _blend(img, _ellipse_mask(shape, at(0, 27), (12 * u, 3.5 * u)), np.array([70, 70, 150], np.float32),
           1.5 * u)  # mouth


def face_frame(offset: tuple[int, int] = (0, 0), scale: float = 1.0, size: Size = DEFAULT_SIZE,
               seed: int = 0, extra_faces: tuple[tuple[int, int], ...] = ()) -> np.ndarray:
    """A BGR frame of a resident in front of the kiosk camera.

    offset: the face centre's shift from the frame centre in pixels, in image coordinates
    (negative x = left side of the raw camera image). scale 1.0 = face 45 % of the frame height.
    extra_faces: offsets of more people standing behind at the same scale (for "one at a time").
    """
    rng = np.random.default_rng(seed)
    w, h = size
    img = _wall(size, rng)
    face_h = FACE_HEIGHT_FRACTION * h * scale
    for dx, dy in (*extra_faces, offset):
        draw_face(img, (w / 2 + dx, h / 2 + dy), face_h)
    return _finish(img, rng, noise=3.0)


def face_image(path: Path | str, offset: tuple[int, int] = (0, 0), scale: float = 1.0,
               size: Size = DEFAULT_SIZE, seed: int = 0) -> Path:
    """Write `face_frame` to an image file and return its path."""
    return _write_image(face_frame(offset, scale, size, seed), path)
