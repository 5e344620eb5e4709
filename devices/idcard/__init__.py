"""Resident ID-card reader (GA 467 SAM module on a serial port).

Import from the modules: `devices.idcard.reader` (CardReader), `.watcher` (CardWatcher), `.errors`,
`.protocol`, `.textblock`. The package itself imports nothing, so `kiosk --help` stays fast.
"""
