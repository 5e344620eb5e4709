"""Camera frames on screen: the one numpy frame -> QImage converter, and a frame scaled into a preview.

The converter runs on the camera worker thread (the resident screens) and on the maintenance
screen's worker: its QImage owns its pixels, so handing it to the GUI thread is safe.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QLabel

if TYPE_CHECKING:
    import numpy as np


def to_qimage(frame: np.ndarray) -> QImage:
    """BGR (OpenCV's order), BGRA or grey uint8 frame -> an independent QImage copy."""
    import numpy as np  # here, not at the top: the shell imports this module before home is shown

    if frame.dtype != np.uint8 or frame.ndim not in (2, 3):
        raise ValueError(f"unsupported camera frame: dtype {frame.dtype}, shape {frame.shape}")
    frame = np.ascontiguousarray(frame)
    h, w = frame.shape[:2]
    if frame.ndim == 2:
        fmt = QImage.Format.Format_Grayscale8
    elif frame.shape[2] == 3:
        fmt = QImage.Format.Format_BGR888
    elif frame.shape[2] == 4:
        frame = np.ascontiguousarray(frame[:, :, [2, 1, 0, 3]])  # BGRA -> RGBA
        fmt = QImage.Format.Format_RGBA8888
    else:
        raise ValueError(f"unsupported camera frame: shape {frame.shape}")
    return QImage(frame.data, w, h, frame.strides[0], fmt).copy()  # copy: the array may be reused


def show_frame(preview: QLabel, image: QImage) -> None:
    """A camera frame scaled into `preview`, in proportion; none before the preview has been laid out."""
    if preview.width() > 10:
        preview.setPixmap(QPixmap.fromImage(image).scaled(preview.size(), Qt.KeepAspectRatio, Qt.SmoothTransformation))
