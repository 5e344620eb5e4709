"""`kiosk device scan-qr`: read a QR code from the camera (or a recorded file) and print it."""

from __future__ import annotations

import argparse
import sys

EXIT_NO_CODE = 3
EXIT_NO_SOURCE = 4


def register(dsub: argparse._SubParsersAction) -> None:
    p = dsub.add_parser("scan-qr", help="read a QR code from the camera and print its text")
    p.add_argument("--source", help="camera index or video/image file (default: devices.camera.source)")
    p.add_argument("--timeout", type=float, default=5.0, metavar="S", help="give up after S seconds")
    p.set_defaults(func=_scan_qr)


def _scan_qr(args: argparse.Namespace) -> int:
    import cv2

    from devices.camera.camera import Camera, CameraError

    # OpenCV's own warnings about probing backends would bury the one line a technician needs.
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    source = args.source if args.source is not None else args.cfg.devices.camera.source
    with Camera(source) as camera:
        try:
            camera.open()
        except CameraError:
            print(f"scan-qr: cannot open camera source {source}", file=sys.stderr)
            return EXIT_NO_SOURCE
        text = camera.scan_qr(timeout_s=args.timeout)
    if text is None:
        print(f"scan-qr: no QR code found within {args.timeout:g} s", file=sys.stderr)
        return EXIT_NO_CODE
    print(text)
    return 0
