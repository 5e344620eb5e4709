"""Township Kiosk domain core: config, content model, flows, session, wire formats, CLI."""

__version__ = "0.1.0"
