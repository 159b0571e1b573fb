"""Counters the hub exposes in Prometheus' text format at /metrics."""

from __future__ import annotations

from collections import Counter


class HubMetrics:
    """Plain counters; labels are a single ``reason`` or ``outcome`` per family."""

    def __init__(self) -> None:
        self.messages_received = 0
        self.rejected: Counter[str] = Counter()
        self.ingested: Counter[str] = Counter()

    def render(self) -> str:
        lines = [
            "# HELP andon_hub_messages_received_total MQTT messages received by the hub.",
            "# TYPE andon_hub_messages_received_total counter",
            f"andon_hub_messages_received_total {self.messages_received}",
            "# HELP andon_hub_messages_rejected_total Messages rejected, by reason.",
            "# TYPE andon_hub_messages_rejected_total counter",
            *(
                f'andon_hub_messages_rejected_total{{reason="{reason}"}} {count}'
                for reason, count in sorted(self.rejected.items())
            ),
            "# HELP andon_hub_events_ingested_total Valid events applied, by outcome.",
            "# TYPE andon_hub_events_ingested_total counter",
            *(
                f'andon_hub_events_ingested_total{{outcome="{outcome}"}} {count}'
                for outcome, count in sorted(self.ingested.items())
            ),
        ]
        return "\n".join(lines) + "\n"
