"""Notifications to maintenance teams: message texts (texts), channels (channels: webhook, WeCom, DingTalk,
SMTP — the inventory's channel fields are documented there), and the dispatcher that sends the rows
db.notifications holds (dispatcher), with channel health (health)."""

from central.fleet.notify.dispatcher import Dispatcher

__all__ = ["Dispatcher"]
