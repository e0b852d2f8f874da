"""HTTPS with --ssl-certfile/--ssl-keyfile: the scope says https and the body arrives intact."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support import apps
from tests.support.server import serve
from tests.support.tls import self_signed_certificate


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed_certificate(tmp_path_factory.mktemp("tls"))


def test_https_request_has_https_scheme(certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    context = ssl.create_default_context(cafile=str(cert))
    context.check_hostname = False
    with serve(apps.echo_scope, ssl_certfile=str(cert), ssl_keyfile=str(key)) as srv:
        scope = httpx.get(f"https://127.0.0.1:{srv.port}/secure", verify=context).json()
    assert scope["scheme"] == "https"
    assert scope["path"] == "/secure"


def test_https_upload_round_trips(certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    context = ssl.create_default_context(cafile=str(cert))
    context.check_hostname = False
    payload = b"t" * (3 << 20)
    with serve(apps.echo_body, ssl_certfile=str(cert), ssl_keyfile=str(key)) as srv:
        result = httpx.post(f"https://127.0.0.1:{srv.port}/", content=payload, verify=context,
                            timeout=30).json()
    assert result["size"] == len(payload)


def test_unreadable_certificate_is_a_one_line_error(tmp_path: Path) -> None:
    missing = tmp_path / "missing.pem"
    result = subprocess.run(
        [sys.executable, "-m", "fastasgi", "examples.hello:app", "--port", "0",
         "--ssl-certfile", str(missing), "--ssl-keyfile", str(missing)],
        capture_output=True, text=True, timeout=30, check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "certificate" in result.stderr or "ssl" in result.stderr.lower()


@pytest.fixture(scope="module")
def encrypted_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    assert openssl
    folder = tmp_path_factory.mktemp("tls-encrypted")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-passout", "pass:right-password",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1", "-days", "2"],
        check=True, capture_output=True, timeout=60,
    )
    return cert, key


def _start_with_key(cert: Path, key: Path, *password: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fastasgi", "examples.hello:app", "--port", "0",
         "--ssl-certfile", str(cert), "--ssl-keyfile", str(key), *password],
        capture_output=True, text=True, timeout=30, check=False,
        cwd=Path(__file__).resolve().parents[2],
    )


def test_wrong_key_password_is_named_as_such(encrypted_key: tuple[Path, Path]) -> None:
    result = _start_with_key(*encrypted_key, "--ssl-keyfile-password", "wrong")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "--ssl-keyfile-password is wrong" in result.stderr


def test_missing_key_password_is_named_as_such(encrypted_key: tuple[Path, Path]) -> None:
    result = _start_with_key(*encrypted_key)
    assert result.returncode != 0
    assert "no --ssl-keyfile-password was given" in result.stderr


def test_right_key_password_serves_https(encrypted_key: tuple[Path, Path]) -> None:
    cert, key = encrypted_key
    context = ssl.create_default_context(cafile=str(cert))
    context.check_hostname = False
    with serve(apps.hello, ssl_certfile=str(cert), ssl_keyfile=str(key),
               ssl_keyfile_password="right-password") as srv:
        assert httpx.get(f"https://127.0.0.1:{srv.port}/", verify=context).status_code == 200
