"""An OPC UA client's certificate and key: read as PEM or DER, whatever the file is called.

asyncua tells PEM from DER by the file's suffix (``.pem`` or not); a plant's files are
named ``client.crt``, ``client.key``, ``client.der``. So the files are read here, their
content decides, and asyncua gets DER bytes. The client's ApplicationUri must be the URI
in its certificate (servers refuse a client whose certificate names another one): it is
read from the certificate's subjectAltName.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from drivers.errors import DeviceMisconfigured

PEM_START = b"-----BEGIN"


@dataclass(frozen=True)
class ClientIdentity:
    """A client certificate and key as DER bytes, and the URI its certificate names."""

    certificate_der: bytes
    private_key_der: bytes
    application_uri: str


def load_identity(certificate: Path, private_key: Path) -> ClientIdentity:
    """The identity in ``certificate`` and ``private_key`` (PEM or DER); DeviceMisconfigured
    when a file cannot be read or holds no certificate, key or URI."""
    cert_bytes = _read(certificate)
    key_bytes = _read(private_key)
    try:
        cert = (
            x509.load_pem_x509_certificate(cert_bytes)
            if cert_bytes.lstrip().startswith(PEM_START)
            else x509.load_der_x509_certificate(cert_bytes)
        )
    except ValueError as exc:
        raise DeviceMisconfigured(f"{certificate}: not a certificate (PEM or DER): {exc}") from None
    try:
        key = (
            serialization.load_pem_private_key(key_bytes, password=None)
            if key_bytes.lstrip().startswith(PEM_START)
            else serialization.load_der_private_key(key_bytes, password=None)
        )
    except (ValueError, TypeError) as exc:
        raise DeviceMisconfigured(f"{private_key}: not an unencrypted private key: {exc}") from None
    return ClientIdentity(
        certificate_der=cert.public_bytes(serialization.Encoding.DER),
        private_key_der=key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        application_uri=certificate_uri(cert, certificate),
    )


def certificate_uri(cert: x509.Certificate, path: Path) -> str:
    """The first URI of the certificate's subjectAltName: the client's ApplicationUri."""
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        names = None
    uris = [] if names is None else names.value.get_values_for_type(x509.UniformResourceIdentifier)
    if not uris:
        raise DeviceMisconfigured(
            f"{path}: the certificate names no URI in its subjectAltName "
            "(an OPC UA client's ApplicationUri, such as URI:urn:plant1:andon:edge-line1)"
        )
    return uris[0]


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DeviceMisconfigured(f"cannot read {path}: {exc.strerror}") from None
