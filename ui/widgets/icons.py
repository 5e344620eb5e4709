"""Icons drawn with QPainter: simple, bold shapes that read at a glance, no image files to ship.

Every state the UI shows carries one of these next to a word, so colour is never the only cue.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen, QPixmap, QPolygonF

Draw = Callable[[QPainter, float], None]  # painter on a unit square scaled to s x s


def _pen(p: QPainter, s: float, w: float = 0.08) -> None:
    pen = QPen(p.brush().color() if p.brush().style() != Qt.NoBrush else p.pen().color(), s * w)
    pen.setCapStyle(Qt.RoundCap)
    pen.setJoinStyle(Qt.RoundJoin)
    p.setPen(pen)


def _home(p: QPainter, s: float) -> None:
    _pen(p, s)
    p.drawPolyline(QPolygonF([QPointF(s * .1, s * .5), QPointF(s * .5, s * .12), QPointF(s * .9, s * .5)]))
    p.drawRect(QRectF(s * .22, s * .46, s * .56, s * .42))
    p.drawRect(QRectF(s * .43, s * .62, s * .14, s * .26))


def _arrow(direction: int) -> Draw:
    def draw(p: QPainter, s: float) -> None:
        _pen(p, s, .1)
        x0, x1 = (s * .8, s * .2) if direction < 0 else (s * .2, s * .8)
        p.drawLine(QPointF(x0, s * .5), QPointF(x1, s * .5))
        p.drawLine(QPointF(x1, s * .5), QPointF(x1 - direction * s * .25, s * .25))
        p.drawLine(QPointF(x1, s * .5), QPointF(x1 - direction * s * .25, s * .75))
    return draw


def _chevron(direction: int) -> Draw:
    """A page turn: up (-1) for the previous page, down (1) for the next, over a line of text;
    unlike the sideways arrows that move through the steps of a service."""
    def draw(p: QPainter, s: float) -> None:
        _pen(p, s, .1)
        tip, base = (s * .12, s * .42) if direction < 0 else (s * .88, s * .58)
        p.drawPolyline(QPolygonF([QPointF(s * .18, base), QPointF(s * .5, tip), QPointF(s * .82, base)]))
        for y in ((.62, .78) if direction < 0 else (.22, .38)):
            p.drawLine(QPointF(s * .25, s * y), QPointF(s * .75, s * y))
    return draw


def _speaker(p: QPainter, s: float, waves: int = 2) -> None:
    _pen(p, s)
    p.drawPolygon(QPolygonF([QPointF(s * .12, s * .38), QPointF(s * .3, s * .38), QPointF(s * .5, s * .18),
                             QPointF(s * .5, s * .82), QPointF(s * .3, s * .62), QPointF(s * .12, s * .62)]))
    for i in range(waves):
        r = s * (.18 + .14 * i)
        p.drawArc(QRectF(s * .5 - r, s * .5 - r, 2 * r, 2 * r), -45 * 16, 90 * 16)


def _repeat(p: QPainter, s: float) -> None:
    _pen(p, s)
    p.drawArc(QRectF(s * .18, s * .18, s * .64, s * .64), 90 * 16, 270 * 16)
    p.drawLine(QPointF(s * .5, s * .18), QPointF(s * .62, s * .06))
    p.drawLine(QPointF(s * .5, s * .18), QPointF(s * .62, s * .3))


def _stop(p: QPainter, s: float) -> None:
    p.drawRect(QRectF(s * .22, s * .22, s * .56, s * .56))


def _plus(p: QPainter, s: float) -> None:
    _pen(p, s, .12)
    p.drawLine(QPointF(s * .2, s * .5), QPointF(s * .8, s * .5))
    p.drawLine(QPointF(s * .5, s * .2), QPointF(s * .5, s * .8))


def _minus(p: QPainter, s: float) -> None:
    _pen(p, s, .12)
    p.drawLine(QPointF(s * .2, s * .5), QPointF(s * .8, s * .5))


def _language(p: QPainter, s: float) -> None:
    _pen(p, s, .06)
    p.setBrush(Qt.NoBrush)
    p.drawEllipse(QRectF(s * .1, s * .1, s * .8, s * .8))
    p.drawEllipse(QRectF(s * .32, s * .1, s * .36, s * .8))
    p.drawLine(QPointF(s * .1, s * .5), QPointF(s * .9, s * .5))


def _text_size(p: QPainter, s: float) -> None:
    _pen(p, s, .09)
    p.drawPolyline(QPolygonF([QPointF(s * .08, s * .85), QPointF(s * .3, s * .3), QPointF(s * .52, s * .85)]))
    p.drawPolyline(QPolygonF([QPointF(s * .5, s * .85), QPointF(s * .7, s * .12), QPointF(s * .92, s * .85)]))


def _card(p: QPainter, s: float) -> None:
    _pen(p, s, .06)
    p.setBrush(Qt.NoBrush)
    p.drawRoundedRect(QRectF(s * .08, s * .22, s * .84, s * .56), s * .06, s * .06)
    p.drawEllipse(QRectF(s * .16, s * .34, s * .2, s * .26))
    for y in (.38, .5, .62):
        p.drawLine(QPointF(s * .46, s * y), QPointF(s * .82, s * y))


def _qr(p: QPainter, s: float) -> None:
    for x, y in ((.1, .1), (.6, .1), (.1, .6)):
        p.drawRect(QRectF(s * x, s * y, s * .3, s * .3))
    for x, y in ((.62, .62), (.78, .78), (.62, .82), (.82, .6), (.48, .48)):
        p.drawRect(QRectF(s * x, s * y, s * .1, s * .1))


def _camera(p: QPainter, s: float) -> None:
    _pen(p, s, .06)
    p.setBrush(Qt.NoBrush)
    p.drawRoundedRect(QRectF(s * .08, s * .3, s * .84, s * .52), s * .06, s * .06)
    p.drawRect(QRectF(s * .35, s * .2, s * .3, s * .1))
    p.drawEllipse(QRectF(s * .34, s * .4, s * .32, s * .32))


def _printer(p: QPainter, s: float) -> None:
    _pen(p, s, .06)
    p.setBrush(Qt.NoBrush)
    p.drawRect(QRectF(s * .28, s * .1, s * .44, s * .25))
    p.drawRoundedRect(QRectF(s * .1, s * .35, s * .8, s * .35), s * .05, s * .05)
    p.drawRect(QRectF(s * .28, s * .6, s * .44, s * .3))


def _printer_fault(p: QPainter, s: float) -> None:
    """A printer with a warning triangle on it: the receipt did not come out (a printer problem)."""
    colour = p.pen().color()
    p.save()
    p.scale(.78, .78)
    _printer(p, s)
    p.restore()
    tri = QPolygonF([QPointF(s * .66, s * .42), QPointF(s * .98, s * .96), QPointF(s * .34, s * .96)])
    p.setPen(Qt.NoPen)
    p.setBrush(colour)
    p.drawPolygon(tri)
    # the mark is cut out of the filled triangle, so it reads on any background
    p.setCompositionMode(QPainter.CompositionMode_Clear)
    p.setPen(QPen(colour, s * .07, Qt.SolidLine, Qt.RoundCap))
    p.drawLine(QPointF(s * .66, s * .58), QPointF(s * .66, s * .78))
    p.drawPoint(QPointF(s * .66, s * .88))
    p.setCompositionMode(QPainter.CompositionMode_SourceOver)


def _receipt(p: QPainter, s: float) -> None:
    """A paper slip with a torn edge and lines: take your receipt."""
    _pen(p, s, .06)
    p.setBrush(Qt.NoBrush)
    edge = [QPointF(s * (.22 + .08 * i), s * (.9 if i % 2 == 0 else .84)) for i in range(8)]
    p.drawPolygon(QPolygonF([QPointF(s * .22, s * .08), QPointF(s * .78, s * .08), *reversed(edge)]))
    for y in (.26, .4, .54):
        p.drawLine(QPointF(s * .32, s * y), QPointF(s * .68, s * y))


def _check(p: QPainter, s: float) -> None:
    _pen(p, s, .13)
    p.drawPolyline(QPolygonF([QPointF(s * .15, s * .52), QPointF(s * .4, s * .78), QPointF(s * .85, s * .25)]))


def _cross(p: QPainter, s: float) -> None:
    _pen(p, s, .13)
    p.drawLine(QPointF(s * .2, s * .2), QPointF(s * .8, s * .8))
    p.drawLine(QPointF(s * .8, s * .2), QPointF(s * .2, s * .8))


def _warning(p: QPainter, s: float) -> None:
    _pen(p, s, .07)
    p.setBrush(Qt.NoBrush)
    p.drawPolygon(QPolygonF([QPointF(s * .5, s * .08), QPointF(s * .94, s * .88), QPointF(s * .06, s * .88)]))
    p.drawLine(QPointF(s * .5, s * .36), QPointF(s * .5, s * .62))
    p.drawPoint(QPointF(s * .5, s * .76))


def _clock(p: QPainter, s: float) -> None:
    _pen(p, s, .07)
    p.setBrush(Qt.NoBrush)
    p.drawEllipse(QRectF(s * .1, s * .1, s * .8, s * .8))
    p.drawLine(QPointF(s * .5, s * .5), QPointF(s * .5, s * .24))
    p.drawLine(QPointF(s * .5, s * .5), QPointF(s * .7, s * .6))


def _search(p: QPainter, s: float) -> None:
    _pen(p, s, .09)
    p.setBrush(Qt.NoBrush)
    p.drawEllipse(QRectF(s * .12, s * .12, s * .5, s * .5))
    p.drawLine(QPointF(s * .55, s * .55), QPointF(s * .88, s * .88))


def _document(p: QPainter, s: float) -> None:
    _pen(p, s, .06)
    p.setBrush(Qt.NoBrush)
    p.drawRect(QRectF(s * .2, s * .08, s * .6, s * .84))
    for y in (.3, .45, .6, .75):
        p.drawLine(QPointF(s * .3, s * y), QPointF(s * .7, s * y))


def _people(p: QPainter, s: float) -> None:
    _pen(p, s, .06)
    p.setBrush(Qt.NoBrush)
    for cx in (.32, .68):
        p.drawEllipse(QRectF(s * (cx - .11), s * .14, s * .22, s * .22))
        p.drawArc(QRectF(s * (cx - .2), s * .44, s * .4, s * .6), 0, 180 * 16)


def _medical(p: QPainter, s: float) -> None:
    p.drawRect(QRectF(s * .38, s * .12, s * .24, s * .76))
    p.drawRect(QRectF(s * .12, s * .38, s * .76, s * .24))


def _sprout(p: QPainter, s: float) -> None:
    _pen(p, s, .07)
    p.drawLine(QPointF(s * .5, s * .9), QPointF(s * .5, s * .4))
    path = QPainterPath(QPointF(s * .5, s * .5))
    path.cubicTo(QPointF(s * .2, s * .5), QPointF(s * .12, s * .25), QPointF(s * .15, s * .15))
    path.cubicTo(QPointF(s * .4, s * .15), QPointF(s * .5, s * .3), QPointF(s * .5, s * .5))
    p.drawPath(path)
    path2 = QPainterPath(QPointF(s * .5, s * .4))
    path2.cubicTo(QPointF(s * .8, s * .4), QPointF(s * .88, s * .15), QPointF(s * .85, s * .08))
    path2.cubicTo(QPointF(s * .6, s * .08), QPointF(s * .5, s * .2), QPointF(s * .5, s * .4))
    p.drawPath(path2)


def _building(p: QPainter, s: float) -> None:
    _pen(p, s, .06)
    p.setBrush(Qt.NoBrush)
    p.drawPolygon(QPolygonF([QPointF(s * .1, s * .3), QPointF(s * .5, s * .08), QPointF(s * .9, s * .3)]))
    for x in (.2, .4, .6, .78):
        p.drawLine(QPointF(s * x, s * .36), QPointF(s * x, s * .78))
    p.drawLine(QPointF(s * .08, s * .88), QPointF(s * .92, s * .88))


def _face(mood: int) -> Draw:
    """Five faces from very unhappy (1) to very happy (5), each unlike its neighbours at a glance:
    a deep frown with raised brows, a small frown, a straight mouth, a smile, and a wide open laugh
    with smiling eyes. A word is always shown under each face as well."""
    def draw(p: QPainter, s: float) -> None:
        colour = p.pen().color()
        _pen(p, s, .06)
        p.setBrush(Qt.NoBrush)
        p.drawEllipse(QRectF(s * .06, s * .06, s * .88, s * .88))
        if mood == 5:  # eyes closed in a smile: upward arcs
            for cx in (.35, .65):
                p.drawArc(QRectF(s * (cx - .09), s * .33, s * .18, s * .14), 0, 180 * 16)
        else:
            _pen(p, s, .13)
            for cx in (.35, .65):
                p.drawPoint(QPointF(s * cx, s * .4))
            _pen(p, s, .06)
        if mood == 1:  # brows raised in the middle: unhappy
            p.drawLine(QPointF(s * .24, s * .3), QPointF(s * .42, s * .23))
            p.drawLine(QPointF(s * .76, s * .3), QPointF(s * .58, s * .23))
        if mood == 5:  # a wide open mouth, filled
            mouth = QPainterPath(QPointF(s * .26, s * .58))
            mouth.quadTo(QPointF(s * .5, s * .58), QPointF(s * .74, s * .58))
            mouth.quadTo(QPointF(s * .72, s * .86), QPointF(s * .5, s * .86))
            mouth.quadTo(QPointF(s * .28, s * .86), QPointF(s * .26, s * .58))
            p.setBrush(colour)
            p.drawPath(mouth)
            return
        # corners and middle of the mouth: 1 deep frown, 2 small frown, 3 straight, 4 smile
        corner, middle, half = {1: (.8, .6, .24), 2: (.76, .62, .18), 3: (.68, .68, .18),
                                4: (.6, .76, .22)}[mood]
        mouth = QPainterPath(QPointF(s * (.5 - half), s * corner))
        mouth.quadTo(QPointF(s * .5, s * (2 * middle - corner)), QPointF(s * (.5 + half), s * corner))
        p.drawPath(mouth)
    return draw


def _lock(p: QPainter, s: float) -> None:
    _pen(p, s, .07)
    p.setBrush(Qt.NoBrush)
    p.drawArc(QRectF(s * .3, s * .12, s * .4, s * .44), 0, 180 * 16)
    p.drawLine(QPointF(s * .3, s * .34), QPointF(s * .3, s * .45))
    p.drawLine(QPointF(s * .7, s * .34), QPointF(s * .7, s * .45))
    p.drawRect(QRectF(s * .2, s * .45, s * .6, s * .42))


def _spinner(p: QPainter, s: float) -> None:
    _pen(p, s, .1)
    for i in range(8):
        a = math.radians(i * 45)
        p.drawLine(QPointF(s * (.5 + .22 * math.cos(a)), s * (.5 + .22 * math.sin(a))),
                   QPointF(s * (.5 + .4 * math.cos(a)), s * (.5 + .4 * math.sin(a))))


_ICONS: dict[str, Draw] = {
    "home": _home, "back": _arrow(-1), "next": _arrow(1), "speaker": _speaker, "repeat": _repeat,
    "stop": _stop, "plus": _plus, "minus": _minus, "language": _language, "text_size": _text_size,
    "card": _card, "qr": _qr, "camera": _camera, "printer": _printer, "check": _check, "cross": _cross,
    "warning": _warning, "clock": _clock, "search": _search, "document": _document, "lock": _lock,
    "spinner": _spinner, "people": _people, "medical": _medical, "sprout": _sprout, "building": _building,
    "printer_fault": _printer_fault, "receipt": _receipt, "page_previous": _chevron(-1), "page_next": _chevron(1),
    "face_1": _face(1), "face_2": _face(2), "face_3": _face(3), "face_4": _face(4), "face_5": _face(5),
}

# Service categories (kiosk.content_model.CATEGORIES) to icons.
CATEGORY_ICONS = {"social_security": "people", "medical": "medical", "agriculture": "sprout",
                  "civil_affairs": "building", "household": "home", "employment": "document",
                  "education": "document"}


def names() -> list[str]:
    return list(_ICONS)


def pixmap(name: str, size: int, colour: str = "#1A1A1A") -> QPixmap:
    """The icon `name` (unknown names draw a document) as a transparent pixmap of size x size."""
    pm = QPixmap(size, size)
    pm.fill(Qt.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.Antialiasing)
    c = QColor(colour)
    p.setPen(QPen(c, max(2.0, size * .07)))
    p.setBrush(c)
    _ICONS.get(name, _document)(p, float(size))
    p.end()
    return pm
