"""TLS: the server's SSLContext from the --ssl-* settings (same meanings as uvicorn's)."""

from __future__ import annotations

import ssl
from typing import Any

from fastasgi.config import ConfigError


def create_ssl_context(config: Any) -> ssl.SSLContext:
    """Build the server context; a bad file or password is a ConfigError with one readable line."""
    version = getattr(config, "ssl_version", None) or ssl.PROTOCOL_TLS_SERVER
    context = ssl.SSLContext(int(version))
    password = getattr(config, "ssl_keyfile_password", None)
    try:
        context.load_cert_chain(
            config.ssl_certfile, getattr(config, "ssl_keyfile", None) or None,
            password=(lambda: password) if password else None,
        )
    except (OSError, ssl.SSLError) as exc:
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
    context.set_alpn_protocols(["http/1.1"])
    return context
