"""The plant's directory (OpenLDAP, Active Directory) through ldap3: who a user is, whether
the password is theirs, and which mapped group (first match wins) gives their role.

The hub's service account finds the user's entry with ``user_filter``; the user's own
bind checks the password; each mapped group is then searched for the user's DN as a
``member`` or ``uniqueMember``, so the directory needs no memberOf overlay.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

with warnings.catch_warnings():
    # ldap3 2.9.1 (its newest) imports names pyasn1 0.6.2 deprecated (tagMap, typeMap):
    # a warning at import, nothing wrong at run time.
    warnings.filterwarnings("ignore", category=DeprecationWarning, message=r".* is deprecated")
    from ldap3 import BASE, SUBTREE, Connection, Server
    from ldap3.core.exceptions import LDAPException
    from ldap3.utils.conv import escape_filter_chars

from contract.secrets import SecretMissing, resolve_secrets
from hub.config.auth import DirectoryGroupConfig, LdapConfig

log = logging.getLogger(__name__)


class DirectoryUnavailable(Exception):
    """The directory could not be asked: down, unreachable, or refusing the hub's account."""


@dataclass(frozen=True)
class DirectoryUser:
    name: str
    dn: str
    group: DirectoryGroupConfig


def authenticate(config: LdapConfig, username: str, password: str) -> DirectoryUser | None:
    """The user if the directory knows them, the password is theirs and a mapped group
    holds them; None otherwise. DirectoryUnavailable when the directory cannot answer."""
    if not password:
        return None  # an empty password is an anonymous bind, which "succeeds"
    try:
        server = Server(config.url, connect_timeout=config.timeout_s)
        hub = _open(server, config, config.bind_dn, resolve_secrets(config.bind_password))
        try:  # ldap3's ``with`` leaves a connection that was open before it open
            dn = _find_user(hub, config, username)
            if dn is None or not _password_is_theirs(server, config, dn, password):
                return None
            group = _first_group(hub, config, dn)
        finally:
            hub.unbind()
    except SecretMissing as exc:
        raise DirectoryUnavailable(f"the directory's bind password: {exc}") from None
    except LDAPException as exc:
        raise DirectoryUnavailable(f"the directory at {config.url}: {exc}") from None
    return None if group is None else DirectoryUser(username, dn, group)


def _open(server: Server, config: LdapConfig, user: str, password: str) -> Connection:
    """A bound connection; DirectoryUnavailable when the hub's own bind is refused."""
    conn = Connection(
        server, user=user, password=password, receive_timeout=config.timeout_s,
        raise_exceptions=False,
    )  # fmt: skip
    _connect(conn)
    if config.start_tls and not conn.start_tls():
        conn.unbind()
        raise DirectoryUnavailable(f"the directory at {config.url} refused StartTLS")
    if not conn.bind():
        description = conn.result.get("description") if conn.result else "no answer"
        conn.unbind()
        raise DirectoryUnavailable(f"the directory refused the hub's bind: {description}")
    return conn


def _connect(conn: Connection) -> None:
    """Open ``conn``; when the directory cannot be reached, ldap3 leaves the socket of its
    failed attempt open: it is closed here, so a directory that is down leaks nothing."""
    try:
        conn.open()
    except LDAPException:
        if conn.socket is not None:
            conn.socket.close()
        raise


def _find_user(conn: Connection, config: LdapConfig, username: str) -> str | None:
    query = config.user_filter.replace("{username}", escape_filter_chars(username))
    conn.search(config.user_base, query, search_scope=SUBTREE, attributes=[], size_limit=2)
    _check_answer(conn)
    found = [entry["dn"] for entry in conn.response or [] if entry.get("type") == "searchResEntry"]
    if len(found) > 1:
        log.warning("directory: %d entries match %s; refusing the sign-in", len(found), query)
    return str(found[0]) if len(found) == 1 else None


def _password_is_theirs(server: Server, config: LdapConfig, dn: str, password: str) -> bool:
    conn = Connection(
        server, user=dn, password=password, receive_timeout=config.timeout_s,
        raise_exceptions=False,
    )  # fmt: skip
    try:
        _connect(conn)
        if config.start_tls and not conn.start_tls():
            raise DirectoryUnavailable(f"the directory at {config.url} refused StartTLS")
        return bool(conn.bind())
    finally:
        conn.unbind()


def _first_group(conn: Connection, config: LdapConfig, dn: str) -> DirectoryGroupConfig | None:
    member = escape_filter_chars(dn)
    query = f"(|(member={member})(uniqueMember={member}))"
    for group in config.groups:
        conn.search(group.dn, query, search_scope=BASE, attributes=[])
        _check_answer(conn)
        if any(entry.get("type") == "searchResEntry" for entry in conn.response or []):
            return group
    return None


# Answers of a search that are not the directory failing: found, no such entry, and more
# entries than asked for (two users of one name: refused above).
_ANSWERS = frozenset({0, 4, 32})


def _check_answer(conn: Connection) -> None:
    code = conn.result.get("result") if conn.result else None
    if code not in _ANSWERS:
        description = conn.result.get("description") if conn.result else "no answer"
        raise DirectoryUnavailable(f"the directory's search failed: {description}")
