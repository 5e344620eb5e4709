"""Draw the demo pack's service icons (images/*.png): white pictograms on the category colour.

Run from anywhere: `.venv/bin/python content/demo/make_icons.py`. Drawn 4x large and scaled down,
so edges are smooth; no text in the icons, so they read the same in every language.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

SIZE = 192
S = 4 * SIZE  # drawing canvas
WHITE = (255, 255, 255)
AA = cv2.LINE_AA

# category colours (BGR), high contrast against white
BLUE, TEAL, GREEN, ORANGE, PURPLE, SLATE = (161, 91, 31), (120, 130, 0), (80, 140, 30), (0, 110, 211), \
    (140, 55, 120), (100, 75, 55)


def _canvas(color: tuple[int, int, int]) -> np.ndarray:
    img = np.zeros((S, S, 4), np.uint8)
    r = 110  # rounded corners
    body = np.zeros((S, S), np.uint8)
    cv2.rectangle(body, (r, 0), (S - r, S), 255, -1)
    cv2.rectangle(body, (0, r), (S, S - r), 255, -1)
    for cx, cy in ((r, r), (S - r, r), (r, S - r), (S - r, S - r)):
        cv2.circle(body, (cx, cy), r, 255, -1, AA)
    img[..., :3] = color
    img[..., 3] = body
    return img


def _draw(img: np.ndarray, fn: Callable[[np.ndarray], None]) -> None:
    """Draw in white on an opaque layer, then keep the rounded alpha of the background."""
    rgb = np.ascontiguousarray(img[..., :3])
    fn(rgb)
    img[..., :3] = rgb


def elder(c: np.ndarray) -> None:
    cv2.circle(c, (340, 190), 70, WHITE, -1, AA)
    cv2.polylines(c, [np.array([(330, 290), (390, 360), (400, 500)])], False, WHITE, 70, AA)
    cv2.line(c, (400, 500), (330, 650), WHITE, 60, AA)
    cv2.line(c, (400, 500), (460, 650), WHITE, 60, AA)
    cv2.line(c, (385, 370), (500, 440), WHITE, 44, AA)
    cv2.line(c, (520, 420), (540, 660), WHITE, 26, AA)
    cv2.ellipse(c, (490, 420), (30, 30), 0, 180, 360, WHITE, 26, AA)


def face_check(c: np.ndarray) -> None:
    k, m, t = 150, 140, 34  # bracket length, margin, thickness
    for x, y, dx, dy in ((m, m, 1, 1), (S - m, m, -1, 1), (m, S - m, 1, -1), (S - m, S - m, -1, -1)):
        cv2.line(c, (x, y), (x + dx * k, y), WHITE, t, AA)
        cv2.line(c, (x, y), (x, y + dy * k), WHITE, t, AA)
    cv2.circle(c, (S // 2, S // 2), 170, WHITE, 26, AA)
    cv2.circle(c, (320, 350), 22, WHITE, -1, AA)
    cv2.circle(c, (448, 350), 22, WHITE, -1, AA)
    cv2.ellipse(c, (S // 2, 420), (80, 60), 0, 20, 160, WHITE, 22, AA)


def grassland(c: np.ndarray) -> None:
    cv2.circle(c, (560, 210), 70, WHITE, -1, AA)
    cv2.fillPoly(c, [np.array([(110, 560), (330, 250), (470, 450), (540, 380), (660, 560)])], WHITE, AA)
    for x in range(150, 640, 70):
        cv2.line(c, (x, 660), (x - 25, 590), WHITE, 22, AA)
        cv2.line(c, (x, 660), (x + 20, 580), WHITE, 22, AA)
    cv2.line(c, (110, 665), (660, 665), WHITE, 26, AA)


def house(c: np.ndarray) -> None:
    cv2.fillPoly(c, [np.array([(384, 130), (650, 380), (118, 380)])], WHITE, AA)
    cv2.rectangle(c, (190, 370), (578, 640), WHITE, -1)
    color = tuple(int(v) for v in c[20, S // 2])  # the background colour, for the door
    cv2.rectangle(c, (340, 470), (428, 640), color, -1)


def cross(c: np.ndarray) -> None:
    cv2.rectangle(c, (304, 150), (464, 618), WHITE, -1)
    cv2.rectangle(c, (150, 304), (618, 464), WHITE, -1)


def yuan_coin(c: np.ndarray) -> None:
    cv2.circle(c, (S // 2, S // 2), 250, WHITE, 36, AA)
    cv2.line(c, (290, 230), (384, 380), WHITE, 40, AA)
    cv2.line(c, (478, 230), (384, 380), WHITE, 40, AA)
    cv2.line(c, (384, 380), (384, 560), WHITE, 40, AA)
    cv2.line(c, (300, 420), (468, 420), WHITE, 34, AA)
    cv2.line(c, (300, 490), (468, 490), WHITE, 34, AA)


def magnifier(c: np.ndarray) -> None:
    cv2.circle(c, (330, 330), 170, WHITE, 44, AA)
    cv2.line(c, (455, 455), (620, 620), WHITE, 70, AA)
    cv2.polylines(c, [np.array([(250, 335), (310, 395), (415, 270)])], False, WHITE, 36, AA)


ICONS = {
    "old-age-allowance": (ORANGE, elder),
    "pension-certification": (BLUE, face_check),
    "grassland-subsidy": (GREEN, grassland),
    "residence-certificate": (PURPLE, house),
    "medical-reimbursement": (TEAL, cross),
    "insurance-payment-lookup": (BLUE, yuan_coin),
    "progress-lookup": (SLATE, magnifier),
}


def main() -> None:
    out = Path(__file__).resolve().parent / "images"
    out.mkdir(exist_ok=True)
    for name, (color, fn) in ICONS.items():
        img = _canvas(color)
        _draw(img, fn)
        small = cv2.resize(img, (SIZE, SIZE), interpolation=cv2.INTER_AREA)
        cv2.imwrite(str(out / f"{name}.png"), small)
        print(out / f"{name}.png")


if __name__ == "__main__":
    main()
