"""Start and stop a local OpenLDAP directory (Debian's ``slapd``) on a free port.

The directory is made from a generated ``slapd.conf`` in a folder of its own (an MDB
database, the core, cosine and inetOrgPerson schemas), with a root account whose
password is made afresh; ``add()`` and ``modify()`` feed it LDIF through ``ldapadd`` and
``ldapmodify``, as an administrator would. Used by the sign-in tests of the hub.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
from pathlib import Path

from contract.netutil import free_port, wait_for_port
from contract.processes import stop_process
from testbed.server import LOOPBACK, LocalServer

SLAPD = Path("/usr/sbin/slapd")
SCHEMAS = Path("/etc/ldap/schema")
MODULES = Path("/usr/lib/ldap")

_CONFIG = """\
include {schemas}/core.schema
include {schemas}/cosine.schema
include {schemas}/inetorgperson.schema
pidfile {folder}/slapd.pid
modulepath {modules}
moduleload back_mdb
database mdb
maxsize 67108864
suffix "{suffix}"
rootdn "{root_dn}"
rootpw {root_password}
directory {folder}/data
index objectClass eq
index uid,member,uniqueMember eq
access to attrs=userPassword
  by self write
  by anonymous auth
  by * none
access to *
  by users read
  by * none
"""


def find_ldap_tools() -> tuple[Path, str, str]:
    """slapd, ldapadd and ldapmodify, or FileNotFoundError naming the packages."""
    add, modify = shutil.which("ldapadd"), shutil.which("ldapmodify")
    if not SLAPD.exists() or add is None or modify is None:
        raise FileNotFoundError("OpenLDAP is not installed: apt-get install slapd ldap-utils")
    return SLAPD, add, modify


class LdapServer(LocalServer):
    """One slapd process serving ``suffix`` at ``ldap://127.0.0.1:<port>``."""

    def __init__(self, folder: Path, *, suffix: str = "dc=plant,dc=lan") -> None:
        self.folder = folder
        self.suffix = suffix
        self.root_dn = f"cn=admin,{suffix}"
        self.root_password = secrets.token_urlsafe(16)  # the port is open to local users
        self.port = free_port()
        self.url = f"ldap://{LOOPBACK}:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return self.url

    def _launch(self) -> None:
        slapd, _, _ = find_ldap_tools()
        (self.folder / "data").mkdir(parents=True, exist_ok=True)
        config = self.folder / "slapd.conf"
        config.write_text(
            _CONFIG.format(
                schemas=SCHEMAS, modules=MODULES, folder=self.folder, suffix=self.suffix,
                root_dn=self.root_dn, root_password=self.root_password,
            )
        )  # fmt: skip
        log = (self.folder / "slapd.log").open("ab")
        # -d keeps it in the foreground (our child, stopped by its pid); 0: no debug output.
        self._process = subprocess.Popen(
            [str(slapd), "-d", "0", "-h", f"{self.url}/", "-f", str(config)],
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        log.close()

    def _wait_until_ready(self) -> None:
        if not wait_for_port(LOOPBACK, self.port, timeout=30):
            log = (self.folder / "slapd.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"slapd did not start; its log ends:\n{log}")

    def add(self, ldif: str) -> None:
        """Add the entries of ``ldif`` (as the directory's administrator)."""
        self._run(find_ldap_tools()[1], ldif)

    def modify(self, ldif: str) -> None:
        """Apply the changes of ``ldif`` (``changetype: modify`` records)."""
        self._run(find_ldap_tools()[2], ldif)

    def _run(self, tool: str, ldif: str) -> None:
        command = [tool, "-x", "-H", self.url, "-D", self.root_dn, "-w", self.root_password]
        done = subprocess.run(
            command, input=ldif.encode(), capture_output=True, timeout=60, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"{Path(tool).name} failed: {done.stderr.decode(errors='replace')}")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        stop_process(process, timeout_s=15)
