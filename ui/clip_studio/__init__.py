"""The clip studio's recording window (`kiosk admin clips record`); its logic is kiosk.clipstudio.session."""
