"""TLS: the server's SSLContext from the --ssl-* settings (same meanings as uvicorn's), and what
a TLS connection's scope says about its session (the ASGI ``tls`` extension)."""

from __future__ import annotations

import ssl
from typing import Any

from fastasgi.errors import ConfigError


def create_ssl_context(config: Any) -> ssl.SSLContext:
    """Build the server context; a bad file or password is a ConfigError with one readable line."""
    version = getattr(config, "ssl_version", None) or ssl.PROTOCOL_TLS_SERVER
    context = ssl.SSLContext(int(version))
    password = getattr(config, "ssl_keyfile_password", None)
    try:
        context.load_cert_chain(
            config.ssl_certfile, getattr(config, "ssl_keyfile", None) or None,
            # NOTE: a callable even without a password, so that OpenSSL never stops the server
            # to prompt for one on the terminal.
            password=lambda: password or "",
        )
    except ssl.SSLError as exc:
        keyfile = getattr(config, "ssl_keyfile", None) or config.ssl_certfile
        if _is_encrypted_key(keyfile):
            # OpenSSL says only "PEM lib" when it cannot decrypt the key.
            problem = "the --ssl-keyfile-password is wrong" if password else (
                "it is encrypted and no --ssl-keyfile-password was given")
            raise ConfigError(f"cannot decrypt the TLS key {keyfile!r}: {problem}") from exc
        raise ConfigError(f"cannot load TLS certificate {config.ssl_certfile!r}: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"cannot load TLS certificate {config.ssl_certfile!r}: {exc}") from exc
    cert_reqs = getattr(config, "ssl_cert_reqs", None)
    if cert_reqs is not None:
        context.verify_mode = ssl.VerifyMode(int(cert_reqs))
    ca_certs = getattr(config, "ssl_ca_certs", None)
    if ca_certs:
        context.load_verify_locations(ca_certs)
    ciphers = getattr(config, "ssl_ciphers", None)
    if ciphers:
        context.set_ciphers(ciphers)
    # h2 first: a client that offers both gets HTTP/2 (RFC 7301 leaves the choice to us).
    protocols = (["h2"] if config.serves_http2 else []) + (
        ["http/1.1"] if config.serves_http1 else [])
    context.set_alpn_protocols(protocols)
    return context


def _is_encrypted_key(path: str) -> bool:
    """A PEM key protected by a password (PKCS#8 or the older OpenSSL header form)."""
    try:
        with open(path, "rb") as file:
            text = file.read(1 << 16)
    except OSError:
        return False
    return b"-----BEGIN ENCRYPTED PRIVATE KEY-----" in text or b"Proc-Type: 4,ENCRYPTED" in text


# --- what a TLS connection's scope says about it (the ASGI "tls" extension) --------------------

_TLS_VERSIONS = {"TLSv1": 0x0301, "TLSv1.1": 0x0302, "TLSv1.2": 0x0303, "TLSv1.3": 0x0304}
# RFC 4514 §3: the short names of the attribute types every DN uses; others go by dotted OID.
_RFC4514_NAMES = {
    "commonName": "CN", "localityName": "L", "stateOrProvinceName": "ST",
    "organizationName": "O", "organizationalUnitName": "OU", "countryName": "C",
    "streetAddress": "STREET", "domainComponent": "DC", "userId": "UID",
}
# OpenSSL's cipher names to their IANA numbers, learnt from the contexts that use them.
_cipher_numbers: dict[str, int] = {}


def first_certificate(certfile: str) -> str | None:
    """The first PEM certificate of ``certfile`` (the server's own, before its chain)."""
    begin, end = "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"
    with open(certfile, encoding="ascii", errors="replace") as file:
        text = file.read()
    start = text.find(begin)
    stop = text.find(end, start)
    if start < 0 or stop < 0:
        return None
    return text[start:stop + len(end)] + "\n"


def tls_extension(ssl_object: ssl.SSLObject, server_cert: str | None) -> dict[str, Any]:
    """The scope's ``tls`` extension for one TLS connection (the ASGI TLS spec). A client
    certificate that fails verification never gets this far: the handshake refuses it, so
    ``client_cert_error`` is always None."""
    chain = _client_chain(ssl_object)
    cipher = ssl_object.cipher()
    return {
        "server_cert": server_cert,
        "client_cert_chain": chain,
        "client_cert_name": _rfc4514_name(ssl_object.getpeercert()) if chain else None,
        "client_cert_error": None,
        "tls_version": _TLS_VERSIONS.get(ssl_object.version() or ""),
        "cipher_suite": _cipher_number(ssl_object, cipher[0]) if cipher else None,
    }


def _client_chain(ssl_object: ssl.SSLObject) -> list[str]:
    """The client's certificates as PEM, its own first; [] when it sent none."""
    unverified_chain = getattr(ssl_object, "get_unverified_chain", None)  # Python 3.13+
    if unverified_chain is not None:
        return [ssl.DER_cert_to_PEM_cert(der) for der in unverified_chain()]
    der = ssl_object.getpeercert(binary_form=True)
    return [ssl.DER_cert_to_PEM_cert(der)] if der else []


def _rfc4514_name(certificate: Any) -> str | None:
    """RFC 4514's string for the subject of a verified certificate (getpeercert()'s form): the
    relative names last first, each attribute TYPE=value with the specials escaped."""
    subject = certificate.get("subject") if certificate else None
    if not subject:
        return None
    relative_names = []
    for relative in reversed(subject):
        relative_names.append("+".join(
            f"{_RFC4514_NAMES.get(kind, kind)}={_rfc4514_escape(value)}" for kind, value in relative))
    return ",".join(relative_names)


def _rfc4514_escape(value: str) -> str:
    escaped = "".join("\\" + c if c in ',+"\\<>;=' else c for c in value)
    if escaped[:1] in ("#", " "):
        escaped = "\\" + escaped
    if escaped.endswith(" ") and not escaped.endswith("\\ "):
        escaped = escaped[:-1] + "\\ "
    return escaped


def _cipher_number(ssl_object: ssl.SSLObject, name: str) -> int | None:
    number = _cipher_numbers.get(name)
    if number is None:
        for cipher in ssl_object.context.get_ciphers():
            # OpenSSL's id is 0x0300XXXX for a TLS suite: the low 16 bits are IANA's number.
            _cipher_numbers[cipher["name"]] = cipher["id"] & 0xFFFF
        number = _cipher_numbers.get(name)
    return number
