"""TLS: the server's SSLContext from the --ssl-* settings (same meanings as uvicorn's)."""

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
