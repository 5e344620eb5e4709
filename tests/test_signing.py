"""Signed envelopes: only a pinned key, an intact payload, an unexpired and newer version pass."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kiosk import signing


@pytest.fixture
def admin():
    key, pub = signing.generate_key()
    return key, {"region": pub}


def test_round_trip_through_json(admin):
    key, pinned = admin
    env = signing.sign("config", b'{"a": 1}', key, "region", version=3)
    again = signing.Envelope.from_json(env.to_json())
    assert signing.verify(again, "config", pinned, current_version=2) == b'{"a": 1}'


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda e: signing.Envelope(e.kind, e.key_id, e.version, e.expires, e.payload + b" ", e.signature), "bad_signature"),
        (lambda e: signing.Envelope(e.kind, e.key_id, e.version + 1, e.expires, e.payload, e.signature), "bad_signature"),
        (lambda e: signing.Envelope(e.kind, "stranger", e.version, e.expires, e.payload, e.signature), "unknown_key"),
        (lambda e: signing.Envelope("content-manifest", e.key_id, e.version, e.expires, e.payload, e.signature), "wrong_kind"),
    ],
)
def test_tampering_is_refused(admin, mutate, code):
    key, pinned = admin
    env = mutate(signing.sign("config", b"payload", key, "region", version=5))
    with pytest.raises(signing.EnvelopeError) as e:
        signing.verify(env, "config", pinned)
    assert e.value.code == code


def test_expired_and_older_versions_are_refused(admin):
    key, pinned = admin
    old = signing.sign("config", b"x", key, "region", version=5, valid_for=timedelta(seconds=-1))
    with pytest.raises(signing.EnvelopeError, match="expired"):
        signing.verify(old, "config", pinned)
    env = signing.sign("config", b"x", key, "region", version=5)
    for current in (5, 6):
        with pytest.raises(signing.EnvelopeError) as e:
            signing.verify(env, "config", pinned, current_version=current)
        assert e.value.code == "not_newer"


def test_unsigned_only_when_allowed(admin):
    _, pinned = admin
    env = signing.unsigned("config", b"dev", version=1)
    with pytest.raises(signing.EnvelopeError) as e:
        signing.verify(env, "config", pinned)
    assert e.value.code == "unsigned"
    assert signing.verify(env, "config", pinned, allow_unsigned=True) == b"dev"


def test_malformed_envelope_is_a_clear_error():
    with pytest.raises(signing.EnvelopeError, match="malformed envelope"):
        signing.Envelope.from_json(b'{"schema": "kiosk.envelope/1", "kind": "config"}')
    with pytest.raises(signing.EnvelopeError, match="not a JSON object"):
        signing.Envelope.from_json(b'["schema"]')
    with pytest.raises(signing.EnvelopeError, match="unknown envelope schema"):
        signing.Envelope.from_json(b'{"schema": "other"}')
