"""The fleet's two certificate authorities and everything they sign, kept in one administrator's folder.

- The device CA signs client certificates only: kiosks (CN = kiosk id), the fleet monitor and the admins'
  push tool (CN = `<role>.<name>`: a dot, which no kiosk id can hold, so no kiosk can ever be enrolled
  under a monitor's or an admin's ACL user name). The broker's `cafile` is this CA alone.
- The server CA signs the broker's certificate only; kiosks and tools trust it to know they talk to our
  broker. Kept apart because Mosquitto accepts any certificate that any CA in `cafile` issued.

Keys are EC P-256 (what every OpenSSL that Mosquitto 2.0 links with accepts for TLS client certificates),
files mode 0600. `ca.json` lists every certificate issued (serial, CN, role, expiry, revocation), so a
stolen kiosk's certificates can be put on the CRL by name.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kiosk import fleet_wire
from kiosk.durable import atomic_write

SCHEMA = "kiosk.provision-ca/1"
ORG = "Township Kiosk"
CA_DAYS = 15 * 365       # outlives the kiosks' hardware
CLIENT_DAYS = 2 * 365    # a kiosk or identity renews by re-enrolment; the agent warns 30 days ahead
SERVER_DAYS = 825
CRL_DAYS = 365           # an expired CRL makes OpenSSL refuse every client: refresh it yearly (`crl`)
ROLES = ("kiosk", "monitor", "admin")
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,40}$")

DEVICE_CA, SERVER_CA, BROKER = "device-ca", "server-ca", "broker"


class ProvisionError(Exception):
    """A refused provisioning step; the message is one line that says what to do."""


@dataclass(frozen=True)
class Issued:
    cn: str
    role: str
    serial: int
    not_after: str
    revoked_at: str | None = None


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    atomic_write(path, key_pem(key), mode=0o600)


def load_cert(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except FileNotFoundError:
        raise ProvisionError(f"{path} not found") from None
    except ValueError:
        raise ProvisionError(f"{path} is not a PEM certificate") from None


def load_key(path: Path) -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise ProvisionError(f"{path} not found") from None
    except (ValueError, TypeError):  # never echo the file: it is a private key
        raise ProvisionError(f"{path} is not an unencrypted PEM private key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ProvisionError(f"{path} is not an EC private key")
    return key


def key_matches(key: ec.EllipticCurvePrivateKey, cert: x509.Certificate) -> bool:
    fmt = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return key.public_key().public_bytes(*fmt) == cert.public_key().public_bytes(*fmt)


def common_name(cert: x509.Certificate) -> str:
    attrs = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(attrs[0].value) if attrs else ""


def identity_cn(role: str, name: str) -> str:
    """The certificate CN (and so the broker's ACL user name) of a monitor or admin identity."""
    if role not in ("monitor", "admin"):
        raise ProvisionError(f"role must be monitor or admin, not {role!r}")
    if not NAME_RE.match(name):
        raise ProvisionError(f"identity name {name!r}: lowercase letters, digits and '-', at most 41")
    return f"{role}.{name}"


def check_kiosk_id(kiosk_id: str) -> None:
    if not fleet_wire.KIOSK_ID_RE.match(kiosk_id) or kiosk_id == fleet_wire.FLEET_ID:
        raise ProvisionError(f"{kiosk_id!r} is not a kiosk id (lowercase letters, digits, '-'; 2-63; "
                             f"not {fleet_wire.FLEET_ID!r})")


class CA:
    """The administrator's folder: both CAs, the broker's certificate, the register, the CRL."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.state_path = directory / "ca.json"

    # --- paths -------------------------------------------------------------------------------------
    def crt(self, name: str) -> Path:
        return self.dir / f"{name}.crt"

    def key(self, name: str) -> Path:
        return self.dir / f"{name}.key"

    @property
    def crl_path(self) -> Path:
        return self.dir / "crl.pem"

    # --- the register ------------------------------------------------------------------------------
    def exists(self) -> bool:
        return self.state_path.exists()

    def state(self) -> dict[str, Any]:
        if not self.exists():
            raise ProvisionError(f"{self.dir} holds no CA; run `kiosk provision ca init --dir {self.dir}`")
        try:
            doc = json.loads(self.state_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise ProvisionError(f"{self.state_path} cannot be read: {e}") from None
        if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
            raise ProvisionError(f"{self.state_path} is not a provisioning register ({SCHEMA})")
        return doc

    def _save(self, doc: dict[str, Any]) -> None:
        atomic_write(self.state_path, json.dumps(doc, indent=1).encode(), mode=0o600)

    def issued(self) -> list[Issued]:
        return [Issued(**i) for i in self.state().get("issued", [])]

    def broker_info(self) -> dict[str, Any]:
        return dict(self.state().get("broker") or {})

    # --- creation ----------------------------------------------------------------------------------
    def init(self) -> None:
        if self.exists() or self.key(DEVICE_CA).exists():
            raise ProvisionError(f"{self.dir} already holds a CA; a CA is never replaced in place")
        self.dir.mkdir(parents=True, exist_ok=True)
        self.dir.chmod(0o700)
        for name, what in ((DEVICE_CA, "Device CA"), (SERVER_CA, "Server CA")):
            key = new_key()
            subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORG),
                                 x509.NameAttribute(NameOID.COMMON_NAME, f"{ORG} {what}")])
            now = _now()
            cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                    .public_key(key.public_key()).serial_number(x509.random_serial_number())
                    .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=CA_DAYS))
                    .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                    .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                                 key_encipherment=False, data_encipherment=False,
                                                 key_agreement=False, key_cert_sign=True, crl_sign=True,
                                                 encipher_only=False, decipher_only=False), critical=True)
                    .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                    .sign(key, hashes.SHA256()))
            write_key(self.key(name), key)
            atomic_write(self.crt(name), cert_pem(cert))
        self._save({"schema": SCHEMA, "created": _now().isoformat(), "broker": {}, "issued": []})
        self.write_crl()

    def _sign(self, ca_name: str, key: ec.EllipticCurvePrivateKey, cn: str, days: int,
              server: x509.SubjectAlternativeName | None = None) -> x509.Certificate:
        ca_cert, ca_key = load_cert(self.crt(ca_name)), load_key(self.key(ca_name))
        now = _now()
        not_after = min(now + timedelta(days=days), ca_cert.not_valid_after_utc)
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        b = (x509.CertificateBuilder()
             .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORG),
                                      x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
             .issuer_name(ca_cert.subject).public_key(key.public_key())
             .serial_number(x509.random_serial_number())
             .not_valid_before(now - timedelta(hours=1)).not_valid_after(not_after)
             .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
             .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                          key_encipherment=False, data_encipherment=False, key_agreement=False,
                                          key_cert_sign=False, crl_sign=False, encipher_only=False,
                                          decipher_only=False), critical=True)
             .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
             .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                            critical=False))
        if server is not None:
            b = b.add_extension(server, critical=False)
        return b.sign(ca_key, hashes.SHA256())

    def issue_client(self, cn: str, role: str, days: int = CLIENT_DAYS
                     ) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        """A new key and client certificate from the device CA, recorded in the register."""
        doc = self.state()
        if role not in ROLES:
            raise ProvisionError(f"unknown role {role!r}")
        if not 1 <= days <= CA_DAYS:
            raise ProvisionError(f"validity of {days} days: 1 to {CA_DAYS}")
        clash = [i for i in doc["issued"] if i["cn"] == cn and i["role"] != role]
        if clash:
            raise ProvisionError(f"{cn!r} is already a {clash[0]['role']} certificate")
        key = new_key()
        cert = self._sign(DEVICE_CA, key, cn, days)
        doc["issued"].append({"cn": cn, "role": role, "serial": cert.serial_number,
                              "not_after": cert.not_valid_after_utc.isoformat(), "revoked_at": None})
        self._save(doc)
        return key, cert

    def issue_broker(self, host: str, ips: list[str], days: int = SERVER_DAYS) -> x509.Certificate:
        doc = self.state()
        names: list[x509.GeneralName] = [x509.DNSName(host)]
        try:
            names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
        except ValueError as e:
            raise ProvisionError(f"not an IP address: {e}") from None
        key = new_key()
        cert = self._sign(SERVER_CA, key, host, days, server=x509.SubjectAlternativeName(names))
        write_key(self.key(BROKER), key)
        atomic_write(self.crt(BROKER), cert_pem(cert))
        doc["broker"] = {"host": host, "ips": ips, "not_after": cert.not_valid_after_utc.isoformat()}
        self._save(doc)
        return cert

    # --- revocation --------------------------------------------------------------------------------
    def revoke(self, cn: str) -> list[int]:
        """Every still-valid certificate ever issued to `cn` goes on the CRL; returns their serials."""
        doc = self.state()
        mine = [i for i in doc["issued"] if i["cn"] == cn]
        if not mine:
            raise ProvisionError(f"no certificate was ever issued to {cn!r} by this CA")
        fresh = [i for i in mine if i["revoked_at"] is None]
        for i in fresh:
            i["revoked_at"] = _now().isoformat()
        self._save(doc)
        self.write_crl()
        return [i["serial"] for i in fresh]

    def write_crl(self) -> x509.CertificateRevocationList:
        """The device CA's CRL of every revoked certificate, valid CRL_DAYS from now."""
        ca_cert, ca_key = load_cert(self.crt(DEVICE_CA)), load_key(self.key(DEVICE_CA))
        now = _now()
        b = (x509.CertificateRevocationListBuilder().issuer_name(ca_cert.subject)
             .last_update(now - timedelta(hours=1)).next_update(now + timedelta(days=CRL_DAYS)))
        for i in self.issued():
            if i.revoked_at is not None:
                b = b.add_revoked_certificate(
                    x509.RevokedCertificateBuilder().serial_number(i.serial)
                    .revocation_date(datetime.fromisoformat(i.revoked_at)).build())
        crl = b.sign(ca_key, hashes.SHA256())
        atomic_write(self.crl_path, crl.public_bytes(serialization.Encoding.PEM))
        return crl
