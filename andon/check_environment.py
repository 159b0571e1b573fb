"""What a configuration file needs from the machine it runs on, for ``andon check-config``:
every secret and certificate file it references readable, and every host name it names
resolvable.

A secret that cannot be read is an error (the hub or the edge would exit on it), and so
is an OPC UA device's certificate or key file (the edge could never connect); a host
name that does not resolve is a warning (the name may resolve on the plant's network but
not where the file is checked, or the resolver may not be up yet at boot).
``check-config --offline`` skips both, to check a plant's files on another machine.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from contract.config.loading import ConfigIssue, issue_at
from contract.config.yaml_source import YamlDocument
from contract.secrets import SecretMissing, resolve_secrets

KeyPath = tuple[str | int, ...]

# Every host name is looked up at once; what has no answer by then is reported as such.
LOOKUP_TIMEOUT_S = 3.0
_URL_KEYS = frozenset({"url", "endpoint"})
_FILE_KEYS = frozenset({"certificate", "private_key"})


def secret_issues(doc: YamlDocument) -> list[ConfigIssue]:
    """An error for each ``{env:...}``/``{file:...}`` reference that cannot be read here."""
    issues = []
    for key_path, value in _strings(doc.data, ()):
        try:
            resolve_secrets(value)
        except SecretMissing as exc:
            issues.append(issue_at(doc, key_path, str(exc)))
    return issues


def file_issues(doc: YamlDocument) -> list[ConfigIssue]:
    """An error for each certificate or key file a device names that cannot be read here
    (paths relative to the file, as the edge reads them)."""
    issues = []
    for key_path, value in _strings(doc.data, ()):
        if len(key_path) != 3 or key_path[0] != "devices" or key_path[2] not in _FILE_KEYS:
            continue
        path = doc.path.parent / value
        try:
            with path.open("rb"):
                pass
        except OSError as exc:
            issues.append(issue_at(doc, key_path, f"cannot read {path}: {exc.strerror}"))
    return issues


def host_warnings(doc: YamlDocument) -> list[ConfigIssue]:
    """A warning for each host name of the file that this machine cannot resolve."""
    hosts = list(_hosts(doc.data))
    problems = _lookup_all({host for _, host in hosts})
    return [
        issue_at(
            doc,
            key_path,
            f"host name {host!r} cannot be resolved on this machine ({problems[host]}); "
            "is it the right name?",
            warning=True,
        )
        for key_path, host in hosts
        if host in problems
    ]


def _strings(data: Any, key_path: KeyPath) -> Iterator[tuple[KeyPath, str]]:
    """Every string value of a YAML document, with its key path."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _strings(value, (*key_path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _strings(value, (*key_path, index))
    elif isinstance(data, str):
        yield key_path, data


def _hosts(data: Any) -> Iterator[tuple[KeyPath, str]]:
    """The host names a file connects to: ``host`` keys, and the host of ``url`` keys."""
    for key_path, value in _strings(data, ()):
        key = key_path[-1] if key_path else None
        host: str | None = None
        if key == "host":
            host = value
        elif key in _URL_KEYS and "://" in value:
            try:
                host = urlsplit(value).hostname
            except ValueError:  # a malformed URL: the schema reports it
                host = None
        if host and "{" not in host:  # a host behind a secret is the secret's business
            yield key_path, host


def _lookup_all(hosts: set[str]) -> dict[str, str]:
    """What went wrong resolving each host of ``hosts`` that did not resolve."""
    problems: dict[str, str] = {}
    done: dict[str, threading.Event] = {}
    for host in sorted(hosts):
        done[host] = threading.Event()
        # Daemon threads: a resolver that hangs must not hold the command's exit.
        threading.Thread(
            target=_lookup, args=(host, problems, done[host]), daemon=True, name=f"lookup {host}"
        ).start()
    deadline = time.monotonic() + LOOKUP_TIMEOUT_S
    for host, event in done.items():
        if not event.wait(max(0.0, deadline - time.monotonic())):
            problems[host] = f"no answer within {LOOKUP_TIMEOUT_S:g} s"
    return dict(problems)


def _lookup(host: str, problems: dict[str, str], done: threading.Event) -> None:
    try:
        socket.getaddrinfo(host, None)
    except (OSError, UnicodeError) as exc:
        problems[host] = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    finally:
        done.set()
