"""Notifications to maintenance teams: message texts (texts), channels (channels: webhook, WeCom, DingTalk,
SMTP — the inventory's channel fields are documented there), and the dispatcher that sends the rows
db.notifications holds (dispatcher), with channel health (health)."""

from central.fleet.notify.channels import ChannelError, check_channel, make_channel
from central.fleet.notify.dispatcher import Dispatcher
from central.fleet.notify.health import failing_channels
from central.fleet.notify.texts import Message, render

__all__ = ["ChannelError", "Dispatcher", "Message", "check_channel", "failing_channels", "make_channel", "render"]
