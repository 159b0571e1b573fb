"""A simulated PLC that serves OPC UA: asyncua's own server in a thread of its own.

It holds ``bits`` Boolean variables (``Bit.0`` ...) and ``words`` UInt16 variables
(``Word.0`` ...), all writable, under string NodeIds in one namespace (``bit_node(i)``,
``word_node(i)``). It answers the calls the benchmarks and the demo make on the Modbus
``SimulatedPlc`` (``set_coil``, ``coil``, ``set_registers``, ``register``), bit i standing
for coil i and word i for holding register i, so one workload drives either PLC; an edge
subscribes to the variables, and its writes (the tower lights) are read back here.

Besides, it can hold named variables of any scalar type (``variables``, e.g.
``STATION_VARIABLES``: one of every type the edge takes, a station's buttons and its
tower light outputs), set and read by name (``set``, ``get``, ``node_id``); serve with
Basic256Sha256 SignAndEncrypt only, on a certificate of its own (``make_certificate``);
and let in one user name and password, nobody else. Stopped and started again, it comes
back on the same port with the values it had (``forget()`` between the two: at their
initial values, as a PLC that restarted cold).

The server runs on an event loop of its own, so whoever drives it (a benchmark's
threads, a test's event loop) and the edge under test never share its loop.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
import threading
from collections.abc import Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Any

from asyncua import ua
from asyncua.crypto.permission_rules import User, UserRole
from asyncua.server.server import Server

from contract.netutil import free_port, wait_for_port
from testbed.server import LOOPBACK, LocalServer

NAMESPACE = "urn:andon:simulated-plc"
START_TIMEOUT_S = 60.0  # a few thousand variables on a busy machine

# name: (initial value, its DataType)
Variables = Mapping[str, tuple[Any, ua.VariantType]]

STATION_VARIABLES: Variables = {
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


class _NoSecurityWarnings(logging.Filter):
    """Drops asyncua's warnings that a server without security policies cannot check
    certificates or protect passwords: this one serves loopback only, on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not message.startswith(("No signing policy", "No encrypting policy"))


_NO_SECURITY_WARNINGS = _NoSecurityWarnings()


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


class SimulatedOpcUaPlc(LocalServer):
    """Bits and words 0..n-1, all starting at zero (false), and ``variables`` by name."""

    def __init__(
        self,
        *,
        bits: int = 256,
        words: int = 256,
        variables: Variables | None = None,
        port: int | None = None,
        certificate: Path | None = None,
        private_key: Path | None = None,
        user: tuple[str, str] | None = None,
    ) -> None:
        if (certificate is None) != (private_key is None):
            raise ValueError("a certificate and its private key go together")
        self.host = LOOPBACK
        self.port = port or free_port()
        self.endpoint = f"opc.tcp://{self.host}:{self.port}/andon"
        self.namespace = 2  # the first namespace a server registers; checked at start
        self._bits = bits
        self._words = words
        self._variables = dict(variables or {})
        self._certificate = certificate
        self._private_key = private_key
        self._user = user
        self._kept: dict[str, Any] = {}  # every variable's value when it last stopped
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None

    @property
    def address(self) -> str:
        return self.endpoint

    def bit_node(self, index: int) -> str:
        """The NodeId string of bit ``index``, as an edge's configuration names it."""
        return f"ns={self.namespace};s=Bit.{index}"

    def word_node(self, index: int) -> str:
        return f"ns={self.namespace};s=Word.{index}"

    def node_id(self, name: str) -> str:
        """The NodeId string of the variable ``name`` (one of ``variables``)."""
        return f"ns={self.namespace};s={name}"

    def bit_of(self, node_id: str) -> int:
        """The bit that ``node_id`` (an address in an edge's configuration) names."""
        _, found, index = node_id.rpartition(";s=Bit.")
        if not found or not index.isdigit() or int(index) >= self._bits:
            raise ValueError(f"not a bit of this PLC: {node_id!r}")
        return int(index)

    # -- what a line does to it ------------------------------------------------------------

    def set_coil(self, address: int, value: bool) -> None:
        """Set bit ``address`` (the Modbus PLC's coil of that number)."""
        self._write([(self.bit_node(address), ua.Variant(value, ua.VariantType.Boolean))])

    def coil(self, address: int) -> bool:
        return bool(self._read(self.bit_node(address)))

    def set_registers(self, table: str, address: int, values: list[int]) -> None:
        """Set words ``address`` onward (``table`` is the Modbus PLC's; words are one table)."""
        del table
        self._write(
            [
                (self.word_node(address + offset), ua.Variant(value, ua.VariantType.UInt16))
                for offset, value in enumerate(values)
            ]
        )

    def register(self, address: int) -> int:
        return int(self._read(self.word_node(address)))

    def set(self, name: str, value: Any) -> None:
        """Set the variable ``name`` as the PLC's program would, in its own DataType."""
        self._write([(self.node_id(name), ua.Variant(value, self._type_of(name)))])

    def get(self, name: str) -> Any:
        self._type_of(name)
        return self._read(self.node_id(name))

    def forget(self) -> None:
        """Start next at the initial values, as a PLC that restarted cold."""
        self._kept.clear()

    def _type_of(self, name: str) -> ua.VariantType:
        if name not in self._variables:
            raise ValueError(f"not a variable of this PLC: {name!r}")
        return self._variables[name][1]

    # -- the server ------------------------------------------------------------------------

    def _write(self, values: Sequence[tuple[str, ua.Variant]]) -> None:
        """Write the variables in one pass on the server's loop, as a PLC's scan would."""
        server = self._server_or_fail()

        async def write() -> None:
            for node_id, variant in values:
                nodeid = ua.NodeId.from_string(node_id)
                await server.write_attribute_value(nodeid, ua.DataValue(variant))

        self._call(write())

    def _read(self, node_id: str) -> Any:
        # A dictionary lookup in the address space, safe from another thread.
        value = self._server_or_fail().read_attribute_value(ua.NodeId.from_string(node_id))
        return None if value.Value is None else value.Value.Value

    def _server_or_fail(self) -> Server:
        if self._server is None:
            raise RuntimeError("the simulated OPC UA PLC is not running")
        return self._server

    def _call(self, coro: Coroutine[Any, Any, Any]) -> Any:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=5)

    def _launch(self) -> None:
        self._ready.clear()
        self._failure = None
        self._thread = threading.Thread(target=self._serve, name="simulated-opcua-plc", daemon=True)
        self._thread.start()

    def _wait_until_ready(self) -> None:
        self._ready.wait(timeout=START_TIMEOUT_S)
        if self._server is None:
            raise RuntimeError(f"simulated OPC UA PLC did not start: {self._failure!r}")
        if not wait_for_port(self.host, self.port, timeout=10):
            raise RuntimeError(f"simulated OPC UA PLC did not start on port {self.port}")

    def stop(self) -> None:
        loop, server, thread = self._loop, self._server, self._thread
        if loop is None or thread is None:
            return
        if server is not None:
            asyncio.run_coroutine_threadsafe(self._keep_and_stop(server), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        self._loop = self._server = self._thread = None

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            self._server = loop.run_until_complete(self._start_server())
        except Exception as exc:  # reported by _wait_until_ready, which stops the loop
            self._failure = exc
        finally:
            self._ready.set()
        loop.run_forever()
        loop.close()

    def _every_variable(self) -> dict[str, tuple[Any, ua.VariantType]]:
        """Name: (initial value, DataType) of the bits, the words and the named ones."""
        every: dict[str, tuple[Any, ua.VariantType]] = {
            f"Bit.{i}": (False, ua.VariantType.Boolean) for i in range(self._bits)
        }
        every |= {f"Word.{i}": (0, ua.VariantType.UInt16) for i in range(self._words)}
        return every | self._variables

    async def _keep_and_stop(self, server: Server) -> None:
        """Keep every value (a PLC's retained memory), then stop serving."""
        for name in self._every_variable():
            value = server.read_attribute_value(ua.NodeId.from_string(self.node_id(name)))
            self._kept[name] = None if value.Value is None else value.Value.Value
        await server.stop()

    async def _start_server(self) -> Server:
        logging.getLogger("asyncua.server.server").addFilter(_NO_SECURITY_WARNINGS)
        manager = None if self._user is None else _OneUser(*self._user)
        server = Server(user_manager=manager)  # type: ignore[arg-type]  # asyncua's protocol
        await server.init()
        server.set_endpoint(self.endpoint)
        server.set_server_name("andon simulated PLC")
        if self._certificate is not None and self._private_key is not None:
            await server.load_certificate(str(self._certificate))
            await server.load_private_key(str(self._private_key))
            server.set_security_policy([ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt])
        else:
            server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
        self.namespace = await server.register_namespace(NAMESPACE)
        plc = await server.nodes.objects.add_object(self.namespace, "Plc")
        for name, (initial, variant_type) in self._every_variable().items():
            value = self._kept.get(name, initial)
            nodeid = ua.NodeId(ua.String(name), ua.Int16(self.namespace))
            node = await plc.add_variable(nodeid, name, ua.Variant(value, variant_type))
            await node.set_writable()
        await server.start()
        return server


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
    for kind, source, target in (("x509", cert, cert_der), ("pkey", key, key_der)):
        subprocess.run(
            ["openssl", kind, "-in", str(source), "-outform", "DER", "-out", str(target)],
            check=True,
            capture_output=True,
        )
    return cert_der, key_der
