"""The clip studio: recorded speech for a content pack (`kiosk admin clips status|record|import`).

audio.py checks, trims and normalises a take; capture.py gets takes from a microphone or a WAV file;
store.py writes a clip and its sidecar into the pack's sources; status.py says what is missing or stale;
importer.py brings in clips recorded elsewhere; session.py is the recording window's logic (the window
itself is ui/clip_studio); cli.py is the command line.
"""
