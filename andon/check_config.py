"""``andon check-config``: validate hub, edge and SPC rule files, and their agreement."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from andon.check_environment import file_issues, host_warnings, secret_issues
from contract.config.loading import ConfigInvalid, ConfigIssue, issue_at, read_document
from contract.config.loading import validate_document as validate
from contract.config.yaml_source import YamlDocument
from contract.secrets import is_clear_text
from drivers import OpcUaConfig
from edge.config import EdgeConfig, check_edge_document
from hub.config.file import HubConfig, validate_hub_document
from rules.spc.rulefile import RuleFile


def check_files(paths: Iterable[Path], *, offline: bool = False) -> list[ConfigIssue]:
    """Every error in ``paths``, each file on its own and the edges against their hub.

    A file with an ``edge_id`` key is an edge file, one with ``characteristics`` an SPC
    rule file, any other a hub file. Unless ``offline``, every secret a file references
    must be readable here, and a host name that does not resolve is a warning."""
    issues: list[ConfigIssue] = []
    hubs: list[tuple[YamlDocument, HubConfig]] = []
    edges: list[tuple[YamlDocument, EdgeConfig]] = []
    for path in paths:
        try:
            doc = read_document(path)
            keys = doc.data if isinstance(doc.data, dict) else {}
            if "edge_id" in keys:
                edge, edge_issues = check_edge_document(doc)
                issues.extend(edge_issues)
                if edge is not None:
                    edges.append((doc, edge))
            elif "characteristics" in keys:
                validate(doc, RuleFile)
            else:
                hubs.append((doc, validate_hub_document(doc)))
            if not offline:
                found = secret_issues(doc) + file_issues(doc) + host_warnings(doc)
                issues.extend(sorted(found, key=lambda issue: issue.line))
        except ConfigInvalid as exc:
            issues.extend(sorted(exc.issues, key=lambda issue: issue.line))
    for hub_doc, hub in hubs:
        issues.extend(_clear_text_secrets(hub_doc, hub))
        issues.extend(
            issue_at(hub_doc, key_path, message, warning=True)
            for key_path, message in hub.warnings()
        )
    for edge_doc, edge in edges:
        issues.extend(_clear_text_secrets(edge_doc, edge))
    for edge_doc, edge in edges:
        same_site = [(doc, hub) for doc, hub in hubs if hub.site == edge.site]
        if hubs and not same_site:
            sites = ", ".join(f"{hub.site!r} ({doc.path})" for doc, hub in hubs)
            issues.append(
                issue_at(
                    edge_doc, ("site",), f"site {edge.site!r} is not a hub's site; given: {sites}"
                )
            )
        for hub_doc, hub in same_site:
            issues.extend(_edge_against_hub(edge_doc, edge, hub_doc, hub))
    return issues


_PASSWORD_IN_URL = re.compile(r"://[^:/@]+:([^@]+)@")


def _clear_text_secrets(doc: YamlDocument, config: HubConfig | EdgeConfig) -> list[ConfigIssue]:
    """A warning for each secret written out in the file instead of referenced."""
    found: list[tuple[tuple[str | int, ...], str]] = [
        (("broker", "password"), config.broker.password or "")
    ]
    if isinstance(config, EdgeConfig):
        found += [
            (("devices", index, "password"), device.password or "")
            for index, device in enumerate(config.devices)
            if isinstance(device, OpcUaConfig)
        ]
    if isinstance(config, HubConfig):
        found.append((("api", "metrics_token"), config.api.metrics_token or ""))
        if config.auth.ldap is not None:
            found.append((("auth", "ldap", "bind_password"), config.auth.ldap.bind_password))
        for key_path, url in [
            (("storage", "url"), config.storage.url or ""),
            *_notify_urls(config),
        ]:
            in_url = _PASSWORD_IN_URL.search(url)
            found.append((key_path, in_url[1] if in_url else ""))
    return [
        issue_at(
            doc,
            key_path,
            'a secret in clear text; write "{env:NAME}" or "{file:PATH}" instead',
            warning=True,
        )
        for key_path, value in found
        if is_clear_text(value)
    ]


def _notify_urls(config: HubConfig) -> list[tuple[tuple[str | int, ...], str]]:
    """Every notification URL in the hub file, with its key path."""
    urls: list[tuple[tuple[str | int, ...], str]] = [
        (("people", p, "notify", n), url)
        for p, person in enumerate(config.people)
        for n, url in enumerate(person.notify)
    ]
    policies = config.escalation.policies if config.escalation is not None else []
    urls += [
        (("escalation", "policies", p, "levels", n, "notify", t), target)
        for p, policy in enumerate(policies)
        for n, level in enumerate(policy.levels)
        for t, target in enumerate(level.notify)
        if "://" in target
    ]
    return urls


def _edge_against_hub(
    edge_doc: YamlDocument, edge: EdgeConfig, hub_doc: YamlDocument, hub: HubConfig
) -> list[ConfigIssue]:
    stations = hub.station_keys()
    lines = {(area, line) for area, line, _ in stations}
    if (edge.area, edge.line) not in lines:
        return [
            issue_at(
                edge_doc,
                ("line",),
                f"line {edge.area}/{edge.line} is not declared in {hub_doc.path}",
            )
        ]
    issues = []
    served = hub.line_edges().get((edge.area, edge.line))
    if served is not None and edge.edge_id not in served:
        issues.append(
            issue_at(
                edge_doc,
                ("edge_id",),
                f"edge {edge.edge_id!r} is not among the edges of line {edge.area}/{edge.line} "
                f"in {hub_doc.path} ({', '.join(sorted(served))}): the hub refuses its events",
            )
        )
    for index, button in enumerate(edge.buttons):
        if (edge.area, edge.line, button.station) not in stations:
            issues.append(
                issue_at(
                    edge_doc,
                    ("buttons", index, "station"),
                    f"station {button.station!r} is not declared on line {edge.line} "
                    f"in {hub_doc.path}",
                )
            )
        named: list[tuple[tuple[str | int, ...], str | None]] = [
            (("buttons", index, "call_type"), button.call_type)
        ]
        if button.long_press is not None:
            long_type = button.long_press.call_type
            named.append((("buttons", index, "long_press", "call_type"), long_type))
        for path, call_type in named:
            if call_type is not None and call_type not in hub.call_type_ids:
                issues.append(
                    issue_at(
                        edge_doc,
                        path,
                        f"unknown call type {call_type!r}; expected one of: "
                        f"{', '.join(hub.call_type_ids)}",
                    )
                )
    issues += _machines_against_hub(edge_doc, edge, hub_doc, hub)
    return issues


def _machines_against_hub(
    edge_doc: YamlDocument, edge: EdgeConfig, hub_doc: YamlDocument, hub: HubConfig
) -> list[ConfigIssue]:
    """A machine's station, its faults' call type and reason codes are the hub's."""
    stations = hub.station_keys()
    reasons = hub.reason_code_ids
    issues = []
    for index, machine in enumerate(edge.machines):
        where: tuple[str | int, ...] = ("machines", index)
        if (edge.area, edge.line, machine.station) not in stations:
            message = (
                f"station {machine.station!r} is not declared on line {edge.line} in {hub_doc.path}"
            )
            issues.append(issue_at(edge_doc, (*where, "station"), message))
        faults = machine.faults
        if faults is None:
            continue
        if faults.call_type not in hub.call_type_ids:
            message = (
                f"unknown call type {faults.call_type!r}; expected one of: "
                f"{', '.join(hub.call_type_ids)}"
            )
            issues.append(issue_at(edge_doc, (*where, "faults", "call_type"), message))
        named: list[tuple[tuple[str | int, ...], str]] = [
            (("codes", code), meaning.id) for code, meaning in faults.codes.items()
        ]
        named.append((("unknown",), faults.unknown.id))
        for path, reason in named:
            if reason not in reasons:
                message = (
                    f"fault id {reason!r} is not a reason code of {hub_doc.path}; "
                    f"expected one of: {', '.join(reasons)}"
                )
                issues.append(issue_at(edge_doc, (*where, "faults", *path, "id"), message))
    return issues
