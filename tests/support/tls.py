"""A test certificate authority and HTTPS servers on 127.0.0.1 that it vouches for.

`TestCA(tmp)` writes `ca.pem` (the trust anchor a server under test is given, through the
standard `SSL_CERT_FILE` variable) and issues certificates for 127.0.0.1; `serve_https(app, ca)`
serves an ASGI app with one of them. Nothing here is trusted by anything but the tests.
"""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from starlette.types import ASGIApp

from . import net

__all__ = ["TestCA", "serve_https"]


def _name(text: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])


class TestCA:
    """A throw-away CA; `bundle` is the PEM file to trust."""

    __test__ = False  # not a pytest test class

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(_name("mcpgen test CA"))
            .issuer_name(_name("mcpgen test CA"))
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        self.bundle = directory / "ca.pem"
        self.bundle.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))

    def issue(self, host: str = "127.0.0.1") -> tuple[Path, Path]:
        """(certificate file, key file) for `host` (an IP address or a DNS name)."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        try:
            alt: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(host))
        except ValueError:
            alt = x509.DNSName(host)
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(host))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([alt]), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        cert_file = self.directory / f"{host}.pem"
        key_file = self.directory / f"{host}.key"
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return cert_file, key_file


@contextmanager
def serve_https(app: ASGIApp, ca: TestCA, *, timeout: float = 10.0) -> Iterator[str]:
    """Serve `app` over HTTPS on 127.0.0.1 with a certificate from `ca`; yield its base URL."""
    with net.serve_in_thread(app, timeout=timeout, tls=ca.issue("127.0.0.1")) as base:
        yield base
