"""The fleet monitor: MQTT ingest, fleet state, alert rules, notifications, dashboard (`kiosk fleet ...`)."""
