"""Load YAML while remembering the line of every key, so errors can point at it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

KeyPath = tuple[str | int, ...]


@dataclass(frozen=True)
class YamlDocument:
    """Parsed YAML data plus the 1-based line of each key path."""

    path: Path
    data: Any
    lines: dict[KeyPath, int]

    def line_of(self, key_path: KeyPath) -> int:
        """The line of the deepest part of ``key_path`` that exists in the file."""
        for end in range(len(key_path), -1, -1):
            line = self.lines.get(key_path[:end])
            if line is not None:
                return line
        return 1


class YamlSyntaxError(Exception):
    """The file is not valid YAML; ``line`` is 1-based."""

    def __init__(self, path: Path, line: int, problem: str) -> None:
        super().__init__(f"{path}:{line}: YAML syntax error: {problem}")
        self.path = path
        self.line = line
        self.problem = problem


def load_yaml(path: Path) -> YamlDocument:
    """Read ``path``; raise YamlSyntaxError or OSError."""
    text = path.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise YamlSyntaxError(path, line, str(exc.problem or exc.context)) from exc
    lines: dict[KeyPath, int] = {}
    if node is not None:
        _collect_lines(node, (), lines)
    return YamlDocument(path=path, data=data, lines=lines)


def _collect_lines(node: yaml.Node, prefix: KeyPath, lines: dict[KeyPath, int]) -> None:
    lines.setdefault(prefix, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key_path = (*prefix, str(key_node.value))
            lines[key_path] = key_node.start_mark.line + 1
            _collect_lines(value_node, key_path, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _collect_lines(item, (*prefix, index), lines)
