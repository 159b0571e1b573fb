"""Sending one message through one channel: apprise URLs, and the hub's signed webhook.

``andon+https://SECRET@host/path`` posts the message's JSON body with two headers a
receiver checks (docs/escalation.md): ``X-Andon-Timestamp`` (Unix seconds) and
``X-Andon-Signature: v1=<hex>``, the HMAC-SHA256 of ``"<timestamp>.<body>"`` under
SECRET; ``Idempotency-Key`` is the same on every attempt of one message.
``andon+http://`` is the same over plain HTTP, for receivers on loopback only.
Everything else goes to apprise (json://, form://, dingtalk://, mailto://, ...).
Secret references in a URL are resolved here, at the moment of sending.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import unquote, urlsplit

import apprise

from contract.secrets import SecretMissing, resolve_secrets

log = logging.getLogger(__name__)

SIGNED_SCHEMES = ("andon+https://", "andon+http://")


class SendFailed(Exception):
    """The channel did not take the message; the text says why (no secrets in it)."""


def has_idempotency_key(url: str) -> bool:
    """Whether a receiver can tell a repeated attempt from a new message."""
    return url.lower().startswith(SIGNED_SCHEMES)


def send(url: str, body: dict[str, Any], *, key: str, timeout_s: float) -> None:
    """Send ``body`` through ``url`` (secret references unresolved); SendFailed if not."""
    try:
        resolved = resolve_secrets(url)
    except SecretMissing as exc:
        raise SendFailed(str(exc)) from None
    if has_idempotency_key(resolved):
        _send_signed(resolved, body, key=key, timeout_s=timeout_s)
    else:
        _send_apprise(resolved, body, timeout_s=timeout_s)


def signature(secret: str, timestamp: str, payload: bytes) -> str:
    """The ``X-Andon-Signature`` value for a body sent at ``timestamp``."""
    signed = timestamp.encode() + b"." + payload
    return "v1=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def _send_signed(url: str, body: dict[str, Any], *, key: str, timeout_s: float) -> None:
    parts = urlsplit(url)
    scheme = parts.scheme.removeprefix("andon+")
    host = parts.hostname or ""
    if scheme == "http" and not _is_loopback(host):
        raise SendFailed("andon+http:// is for receivers on loopback; use andon+https://")
    secret = unquote(parts.username or "")
    if not secret:
        raise SendFailed("a signed webhook needs its secret: andon+https://SECRET@host/path")
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    target = f"{scheme}://{netloc}{parts.path or '/'}" + (f"?{parts.query}" if parts.query else "")
    payload = json.dumps(body, separators=(",", ":")).encode()
    stamp = str(int(time.time()))
    request = urllib.request.Request(  # noqa: S310 (the scheme is http or https, checked above)
        target,
        data=payload,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-Andon-Timestamp": stamp,
            "X-Andon-Signature": signature(secret, stamp, payload),
            "Idempotency-Key": key,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
            response.read()
    except urllib.error.HTTPError as exc:
        raise SendFailed(f"HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SendFailed(f"cannot reach {netloc}: {reason}") from None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _send_apprise(url: str, body: dict[str, Any], *, timeout_s: float) -> None:
    notifier = apprise.Apprise()
    if not notifier.add(url):
        raise SendFailed("apprise does not know this URL (its scheme or its form)")
    with apprise.LogCapture(level=logging.WARNING) as captured:  # type: ignore[no-untyped-call]
        sent = notifier.notify(body=str(body["text"]), title=str(body["title"]))
        problems = captured.getvalue().strip()
    if not sent:
        # apprise logs the reason (the status code, a refused connection); keep its last line.
        last = problems.splitlines()[-1] if problems else "the service refused the message"
        raise SendFailed(last.split(" - ")[-1])
