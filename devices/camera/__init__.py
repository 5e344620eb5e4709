"""Camera: QR codes on receipts and phones (qr), face presence for photos (face), one still at a time
(camera). Import the module you need: nothing is loaded here."""
