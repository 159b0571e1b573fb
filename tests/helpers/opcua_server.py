"""A real OPC UA server for the tests: asyncua's own, on loopback, on a port of its own.

It holds one variable of every scalar type the edge takes, a station's buttons and its
tower light outputs, all writable, under string NodeIds (``node_id(name)``). A test can
stop it and start it again on the same port (the server vanishing and returning), with
security (Basic256Sha256, SignAndEncrypt) and with a user name and password.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from asyncua import ua
from asyncua.crypto.permission_rules import User, UserRole
from asyncua.server.server import Server

from contract.netutil import free_port

NAMESPACE = "urn:andon:tests"

# name: (initial value, its DataType)
VARIABLES: dict[str, tuple[Any, ua.VariantType]] = {
    "Types.Bool": (True, ua.VariantType.Boolean),
    "Types.SByte": (-5, ua.VariantType.SByte),
    "Types.Byte": (200, ua.VariantType.Byte),
    "Types.Int16": (-1234, ua.VariantType.Int16),
    "Types.UInt16": (54321, ua.VariantType.UInt16),
    "Types.Int32": (-123456, ua.VariantType.Int32),
    "Types.UInt32": (4_000_000_000, ua.VariantType.UInt32),
    "Types.Int64": (-(2**40), ua.VariantType.Int64),
    "Types.UInt64": (2**63 + 5, ua.VariantType.UInt64),
    "Types.Float": (1.5, ua.VariantType.Float),
    "Types.Double": (74.012, ua.VariantType.Double),
    "Types.String": ("SN-0042", ua.VariantType.String),
    "St10.Maintenance": (False, ua.VariantType.Boolean),
    "St10.Quality": (False, ua.VariantType.Boolean),
    "St10.Arrived": (False, ua.VariantType.Boolean),
    "St10.Red": (False, ua.VariantType.Boolean),
    "St10.Amber": (False, ua.VariantType.Boolean),
    "St10.Buzzer": (False, ua.VariantType.Boolean),
    "St10.Green": (0, ua.VariantType.Int16),
    "Press.Force": (10.0, ua.VariantType.Double),
}


class _OneUser:
    """Lets in one user name and password, nobody else (anonymous neither)."""

    def __init__(self, username: str, password: str) -> None:
        self.username = username
        self.password = password

    def get_user(
        self, iserver: Any, username: str | None = None, password: str | None = None, **_: Any
    ) -> User | None:
        del iserver
        if (username, password) == (self.username, self.password):
            return User(role=UserRole.User)
        return None


class OpcUaTestServer:
    """Start with ``start()``, stop with ``stop()``; values are kept across a restart."""

    def __init__(
        self,
        *,
        certificate: Path | None = None,
        private_key: Path | None = None,
        user: tuple[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.endpoint = f"opc.tcp://127.0.0.1:{self.port}/andon"
        self.certificate = certificate
        self.private_key = private_key
        self.user = user
        self.namespace = 2
        self.values: dict[str, Any] = {name: value for name, (value, _) in VARIABLES.items()}
        self._server: Server | None = None
        self._nodes: dict[str, Any] = {}

    def node_id(self, name: str) -> str:
        return f"ns={self.namespace};s={name}"

    async def start(self, *, restarted: bool = False) -> None:
        """Serve the variables (``restarted``: at their initial values, as a PLC that
        restarted has them)."""
        if restarted:
            self.values = {name: value for name, (value, _) in VARIABLES.items()}
        manager = None if self.user is None else _OneUser(*self.user)
        server = Server(user_manager=manager)  # type: ignore[arg-type]
        await server.init()
        server.set_endpoint(self.endpoint)
        server.set_server_name("andon test PLC")
        if self.certificate is not None and self.private_key is not None:
            await server.load_certificate(str(self.certificate))
            await server.load_private_key(str(self.private_key))
            server.set_security_policy([ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt])
        else:
            server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
        self.namespace = await server.register_namespace(NAMESPACE)
        plant = await server.nodes.objects.add_object(self.namespace, "Plant")
        for name, (_, variant_type) in VARIABLES.items():
            node = await plant.add_variable(
                ua.NodeId(ua.String(name), ua.Int16(self.namespace)),
                name,
                ua.Variant(self.values[name], variant_type),
            )
            await node.set_writable()
            self._nodes[name] = node
        await server.start()
        self._server = server

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        for name, node in self._nodes.items():
            self.values[name] = await node.read_value()
        await server.stop()

    async def set(self, name: str, value: Any) -> None:
        """Set a variable as the PLC's program would."""
        variant_type = VARIABLES[name][1]
        await self._nodes[name].write_value(ua.Variant(value, variant_type))
        self.values[name] = value

    async def get(self, name: str) -> Any:
        return await self._nodes[name].read_value()


def make_certificate(folder: Path, name: str, uri: str, *, der: bool = False) -> tuple[Path, Path]:
    """A self-signed certificate and key for ``uri``, made with the openssl command that
    docs/configuration.md gives (``der``: both converted to DER, named .der)."""
    cert, key = folder / f"{name}.crt", folder / f"{name}.key"
    usage = "critical,digitalSignature,nonRepudiation,keyEncipherment,dataEncipherment"
    command = (
        "openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2"
        f" -keyout {key} -out {cert} -subj /CN={name}"
        f" -addext subjectAltName=URI:{uri},DNS:localhost -addext keyUsage={usage}"
        " -addext extendedKeyUsage=serverAuth,clientAuth"
    )
    subprocess.run(command.split(), check=True, capture_output=True)
    if not der:
        return cert, key
    cert_der, key_der = folder / f"{name}-cert.der", folder / f"{name}-key.der"
    subprocess.run(
        ["openssl", "x509", "-in", str(cert), "-outform", "DER", "-out", str(cert_der)],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        ["openssl", "pkey", "-in", str(key), "-outform", "DER", "-out", str(key_der)],
        check=True,
        capture_output=True,
    )
    return cert_der, key_der
