"""Signing in through the plant's directory: a real OpenLDAP (slapd) started by the test.

A member of the responders group (``member``) signs in as a responder of line 1, a member
of the admins group (``uniqueMember``) as an admin; a user of no mapped group, a wrong
password and an unknown name are one refusal; a user taken out of the group is refused at
the next sign-in; a directory that is down stops neither local accounts nor the tokens
already given, and a directory user's sign-in then says the directory is unreachable.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from contract.wire import utc_now
from hub.access.accounts import AccountStore
from hub.access.permissions import Role
from hub.config.file import load_hub_config
from hub.process.app import create_app
from testbed.ldap import LdapServer
from tests.helpers.hub import HubUnderTest, hub_settings
from tests.helpers.plant import write_yaml

SERVICE_PASSWORD = "service secret"  # the test directory's own

ENTRIES = (
    f"""\
dn: dc=plant,dc=lan
objectClass: dcObject
objectClass: organization
dc: plant
o: plant

dn: ou=people,dc=plant,dc=lan
objectClass: organizationalUnit
ou: people

dn: ou=services,dc=plant,dc=lan
objectClass: organizationalUnit
ou: services

dn: ou=groups,dc=plant,dc=lan
objectClass: organizationalUnit
ou: groups

dn: cn=andon,ou=services,dc=plant,dc=lan
objectClass: person
cn: andon
sn: andon
userPassword: {SERVICE_PASSWORD}
"""
    + "".join(
        f"""
dn: uid={uid},ou=people,dc=plant,dc=lan
objectClass: inetOrgPerson
uid: {uid}
cn: {uid}
sn: {uid}
userPassword: {uid} password
"""
        for uid in ("li.wei", "chen", "wang", "local-name")
    )
    + """
dn: cn=andon-responders,ou=groups,dc=plant,dc=lan
objectClass: groupOfNames
cn: andon-responders
member: uid=li.wei,ou=people,dc=plant,dc=lan

dn: cn=andon-admins,ou=groups,dc=plant,dc=lan
objectClass: groupOfUniqueNames
cn: andon-admins
uniqueMember: uid=chen,ou=people,dc=plant,dc=lan
"""
)


@pytest.fixture(scope="module")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LdapServer]:
    with LdapServer(tmp_path_factory.mktemp("ldap")) as server:
        server.add(ENTRIES)
        yield server


def _settings(database_url: str, directory: LdapServer, secret: Path) -> dict[str, Any]:
    secret.write_text(SERVICE_PASSWORD + "\n")
    settings = hub_settings(database_url)
    settings["auth"] = {
        "ldap": {
            "url": directory.url,
            "start_tls": False,
            "bind_dn": "cn=andon,ou=services,dc=plant,dc=lan",
            "bind_password": f"{{file:{secret}}}",
            "user_base": "ou=people,dc=plant,dc=lan",
            "user_filter": "(uid={username})",
            "groups": [
                {"dn": "cn=andon-responders,ou=groups,dc=plant,dc=lan", "role": "responder",
                 "lines": ["line1"]},
                {"dn": "cn=andon-admins,ou=groups,dc=plant,dc=lan", "role": "admin"},
            ],
        }
    }  # fmt: skip
    return settings


@pytest_asyncio.fixture
async def hub(
    tmp_path: Path, database_url: str, directory: LdapServer
) -> AsyncIterator[HubUnderTest]:
    settings = _settings(database_url, directory, tmp_path / "ldap.pass")
    config_path = write_yaml(tmp_path / "hub.yaml", settings)
    app = create_app(load_hub_config(config_path), config_path=config_path)
    async with app.router.lifespan_context(app):
        yield HubUnderTest(app, config_path)


def _login(name: str, password: str | None = None) -> dict[str, str]:
    return {"username": name, "password": password or f"{name} password"}


@pytest.mark.asyncio
async def test_group_members_sign_in_with_the_groups_role_and_others_are_refused_alike(
    hub: HubUnderTest, directory: LdapServer
) -> None:
    async with hub.client() as client:
        li = await client.post("/api/login", json=_login("li.wei"))
        assert li.status_code == 200, li.text
        assert (li.json()["role"], li.json()["lines"]) == ("responder", ["line1"])
        chen = await client.post("/api/login", json=_login("chen"))
        assert (chen.json()["role"], chen.json()["lines"]) == ("admin", [])
        refusals = [
            await client.post("/api/login", json=_login("wang")),  # in no mapped group
            await client.post("/api/login", json=_login("li.wei", "not hers")),
            await client.post("/api/login", json=_login("nobody")),
            await client.post("/api/login", json=_login("li.wei", "x)(uid=*")),
            await client.post("/api/login", json=_login("*")),  # a filter, escaped
        ]
        assert {(r.status_code, r.text) for r in refusals} == {(401, refusals[0].text)}, [
            r.text for r in refusals
        ]
        me = {"Authorization": f"Bearer {li.json()['token']}"}
        assert (await client.get("/api/token", headers=me)).json()["name"] == "li.wei"
        call_id = hub.raise_call("st10")
        acknowledged = await client.post(f"/api/calls/{call_id}/acknowledge", headers=me)
        assert acknowledged.status_code == 200
        listed = await client.get("/api/admin/users", headers=_bearer(chen.json()["token"]))
        assert [(a["name"], a["source"]) for a in listed.json()] == [
            ("chen", "ldap"), ("li.wei", "ldap")
        ]  # fmt: skip

        directory.modify(
            "dn: cn=andon-responders,ou=groups,dc=plant,dc=lan\nchangetype: modify\n"
            "delete: member\nmember: uid=li.wei,ou=people,dc=plant,dc=lan\n"
            "-\nadd: member\nmember: uid=wang,ou=people,dc=plant,dc=lan\n"
        )
        try:
            removed = await client.post("/api/login", json=_login("li.wei"))
            assert removed.status_code == 401
            assert (await client.post("/api/login", json=_login("wang"))).status_code == 200
        finally:
            directory.modify(
                "dn: cn=andon-responders,ou=groups,dc=plant,dc=lan\nchangetype: modify\n"
                "replace: member\nmember: uid=li.wei,ou=people,dc=plant,dc=lan\n"
            )


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.asyncio
async def test_a_directory_that_is_down_stops_neither_local_accounts_nor_given_tokens(
    tmp_path: Path,
) -> None:
    database_url = f"sqlite:///{tmp_path / 'hub.sqlite'}"
    with LdapServer(tmp_path / "ldap") as down_soon:
        down_soon.add(ENTRIES)
        settings = _settings(database_url, down_soon, tmp_path / "ldap.pass")
        config_path = write_yaml(tmp_path / "hub.yaml", settings)
        app = create_app(load_hub_config(config_path), config_path=config_path)
        async with app.router.lifespan_context(app):
            hub = HubUnderTest(app, config_path)
            AccountStore(hub.store).create(
                name="local-name", role=Role.RESPONDER, lines=[], person=None,
                password="a local password", actor="test", now=utc_now(),
            )  # fmt: skip
            async with hub.client() as client:
                given = (await client.post("/api/login", json=_login("li.wei"))).json()["token"]
                down_soon.stop()
                local = await client.post(
                    "/api/login", json=_login("local-name", "a local password")
                )
                assert local.status_code == 200, local.text  # the local account comes first
                assert (await client.get("/api/token", headers=_bearer(given))).status_code == 200
                unreachable = await client.post("/api/login", json=_login("chen"))
                assert unreachable.status_code == 503
                assert "directory cannot be reached" in unreachable.json()["detail"]
