"""The hub's configuration while it runs: reloaded on SIGHUP or by the API, never half-applied.

A file that fails validation leaves the last good configuration running; the errors are
logged, kept for the API (``GET /api/admin/config``) and shown by a metric.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from contract.config.loading import ConfigInvalid
from hub.access.audit import audit_row, record_audit
from hub.config.file import HubConfig, load_hub_config
from hub.db.transactions import Database
from hub.process.metrics import HubMetrics

log = logging.getLogger(__name__)


@dataclass
class ReloadStatus:
    ok: bool = True
    at: datetime | None = None
    errors: list[str] = field(default_factory=list)


class LiveConfig:
    """The current HubConfig; ``reload()`` swaps it only for a valid file."""

    def __init__(
        self, config: HubConfig, *, path: Path | None, store: Database, metrics: HubMetrics
    ) -> None:
        self.current = config
        self.path = path
        self.status = ReloadStatus()
        self._store = store
        self._metrics = metrics
        self._lock = threading.Lock()
        self._listeners: list[Callable[[HubConfig], None]] = []

    def on_change(self, listener: Callable[[HubConfig], None]) -> None:
        """Call ``listener`` with the new configuration after each successful reload."""
        self._listeners.append(listener)

    def reload(self, *, actor: str, now: datetime) -> ReloadStatus:
        """Re-read the file. Settings that need a restart (broker, storage, API) are kept."""
        with self._lock:
            if self.path is None:
                errors = ["this hub was started without a configuration file"]
                return self._failed(errors, actor, now)
            try:
                fresh = load_hub_config(self.path)
            except ConfigInvalid as exc:
                return self._failed([str(issue) for issue in exc.issues], actor, now)
            kept = {"site", "client_id", "broker", "storage", "api"}
            changed_fixed = [
                key for key in sorted(kept) if getattr(fresh, key) != getattr(self.current, key)
            ]
            self.current = fresh.model_copy(update={k: getattr(self.current, k) for k in kept})
            self.status = ReloadStatus(ok=True, at=now)
            for listener in self._listeners:
                listener(self.current)
            self._metrics.config_reload_ok.set(1)
            self._metrics.config_reloads.labels("ok").inc()
            self._audit(actor, now, "config.reloaded", {"restart_needed_for": changed_fixed})
            log.info("configuration reloaded from %s", self.path)
            if changed_fixed:
                log.warning("these settings change only at restart: %s", ", ".join(changed_fixed))
            return self.status

    def _failed(self, errors: list[str], actor: str, now: datetime) -> ReloadStatus:
        for error in errors:
            log.error("reload refused, keeping the running configuration: %s", error)
        self.status = ReloadStatus(ok=False, at=now, errors=errors)
        self._metrics.config_reload_ok.set(0)
        self._metrics.config_reloads.labels("failed").inc()
        self._audit(actor, now, "config.reload_failed", {"errors": errors})
        return self.status

    def _audit(self, actor: str, now: datetime, action: str, detail: dict[str, object]) -> None:
        with self._store.write() as conn:
            record_audit(conn, audit_row(now, actor, action, f"config:{self.path}", detail))
