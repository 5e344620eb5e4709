"""Camera: QR codes on receipts and phones, face presence for photos, one still at a time."""

from devices.camera.camera import Camera, CameraError
from devices.camera.face import FaceCheck

__all__ = ["Camera", "CameraError", "FaceCheck"]
