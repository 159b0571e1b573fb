"""Read configuration files and report every error at once, each pointing at its line.

Validation runs before any I/O: YAML syntax, then the pydantic models (unknown keys are
errors), then cross-checks between fields and, given several files, between files.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from contract.config.yaml_source import KeyPath, YamlDocument, YamlSyntaxError, load_yaml
from contract.wire import NAME_PATTERN

ModelT = TypeVar("ModelT", bound=BaseModel)

Problem = tuple[KeyPath, str]
"""A mistake found after the schema passed: where it is (a key path) and what is wrong."""


@dataclass(frozen=True)
class ConfigIssue:
    """One error in one file."""

    path: Path
    line: int
    key_path: str
    message: str
    warning: bool = False  # worth fixing, but the file works as it is

    def __str__(self) -> str:
        where = f"{self.key_path}: " if self.key_path else ""
        severity = "warning: " if self.warning else ""
        return f"{self.path}:{self.line}: {where}{severity}{self.message}"


class ConfigInvalid(Exception):
    """A configuration file has errors; ``issues`` lists all of them."""

    def __init__(self, issues: Sequence[ConfigIssue]) -> None:
        super().__init__("\n".join(str(issue) for issue in issues))
        self.issues = list(issues)


def load_model(path: Path, model: type[ModelT]) -> ModelT:
    """Any YAML-backed model, with the same line-numbered errors as the config files."""
    return validate_document(read_document(path), model)


def read_document(path: Path) -> YamlDocument:
    """The YAML in ``path`` with the line of every key, or ConfigInvalid saying why not."""
    try:
        return load_yaml(path)
    except YamlSyntaxError as exc:
        raise ConfigInvalid(
            [ConfigIssue(path, exc.line, "", f"YAML syntax error: {exc.problem}")]
        ) from exc
    except OSError as exc:
        raise ConfigInvalid(
            [ConfigIssue(path, 1, "", f"cannot read file: {exc.strerror}")]
        ) from exc


def validate_document(doc: YamlDocument, model: type[ModelT]) -> ModelT:
    """``doc`` validated into ``model``, or ConfigInvalid with every error at its line."""
    if not isinstance(doc.data, dict):
        raise ConfigInvalid([ConfigIssue(doc.path, 1, "", "expected a mapping of keys")])
    try:
        config = model.model_validate(doc.data)
    except ValidationError as exc:
        issues = [_issue_from_pydantic(doc, model, error) for error in exc.errors()]
        # A model may cross-check the parts that are valid alone (a rule file's
        # characteristics), so one schema error does not hide the others' mistakes.
        of_parts = getattr(model, "problems_of_parts", None)
        problems = list(of_parts(doc.data)) if callable(of_parts) else []
        if problems:
            issues += [issue_at(doc, key_path, message) for key_path, message in problems]
            issues.sort(key=lambda issue: issue.line)
        raise ConfigInvalid(issues) from None
    problems = _cross_check(config)
    if problems:
        raise ConfigInvalid([issue_at(doc, key_path, message) for key_path, message in problems])
    return config


def _issue_from_pydantic(
    doc: YamlDocument, model: type[BaseModel], error: ErrorDetails
) -> ConfigIssue:
    key_path = _file_key_path(doc, error["loc"])
    kind = error["type"]
    value = error.get("input")
    if kind == "missing":
        message = "missing required key"
    elif kind == "union_tag_invalid":
        key_path = (*key_path, "kind")
        message = (
            f"unknown kind {error['ctx']['tag']!r}; "
            f"expected one of: {error['ctx']['expected_tags']}"
        )
    elif kind == "string_pattern_mismatch" and error["ctx"]["pattern"] == NAME_PATTERN:
        message = f"expected 1 to 64 letters, digits, '-' or '_'; got {_show(value)}"
    elif kind == "value_error":
        message = str(error["ctx"]["error"])
    elif kind == "extra_forbidden":
        allowed = _allowed_keys(model, error["loc"][:-1])
        message = f"unknown key; expected one of: {', '.join(allowed)}"
    else:
        message = f"{_lowercase_first(error['msg'])}; got {_show(value)}"
    return issue_at(doc, key_path, message)


def _file_key_path(doc: YamlDocument, loc: tuple[int | str, ...]) -> KeyPath:
    """Drop the parts of a pydantic location that are not in the file (union tags)."""
    path: list[str | int] = []
    for index, part in enumerate(loc):
        is_last = index == len(loc) - 1
        if (*path, part) in doc.lines or (is_last and _is_missing_key(doc, tuple(path), part)):
            path.append(part)
    return tuple(path)


def _is_missing_key(doc: YamlDocument, parent: KeyPath, part: str | int) -> bool:
    node = _data_at(doc.data, parent)
    # The last part of an error in a whole union member (a device's cross-field check)
    # is its tag, such as ``opcua``: not a key.
    is_tag = isinstance(node, dict) and node.get("kind") == part
    return isinstance(node, dict) and isinstance(part, str) and part not in node and not is_tag


def _data_at(data: Any, key_path: KeyPath) -> Any:
    for part in key_path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _allowed_keys(model: Any, loc: tuple[int | str, ...]) -> list[str]:
    """The keys the model accepts at pydantic location ``loc`` (a mapping's location)."""
    for part in loc:
        model = _unwrap(model)
        if isinstance(part, int):
            model = get_args(model)[0] if get_args(model) else None
        elif isinstance(model, type) and issubclass(model, BaseModel):
            if part == _tag_of(model):
                continue
            field = model.model_fields.get(part)
            model = field.annotation if field is not None else None
        else:  # a union tag such as a driver kind
            model = next((m for m in get_args(model) if _tag_of(m) == part), None)
    model = _unwrap(model)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    """Strip Annotated[...] and Optional[...] down to the type beneath."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    members = [m for m in get_args(annotation) if m is not type(None)]
    if get_origin(annotation) in (UnionType, Union) and len(members) == 1:
        return members[0]
    return annotation


def _tag_of(model: Any) -> str | None:
    is_model = isinstance(model, type) and issubclass(model, BaseModel)
    field = model.model_fields.get("kind") if is_model else None
    args = get_args(field.annotation) if field is not None else ()
    return str(args[0]) if args else None


def _dotted(key_path: KeyPath) -> str:
    text = ""
    for part in key_path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _show(value: Any) -> str:
    if isinstance(value, dict | list):
        return f"a {'mapping' if isinstance(value, dict) else 'list'}"
    return repr(value)


def _lowercase_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def duplicates(items: Sequence[str]) -> list[int]:
    """Indices of items that repeat an earlier one."""
    counts: Counter[str] = Counter()
    repeated = []
    for index, item in enumerate(items):
        if counts[item]:
            repeated.append(index)
        counts[item] += 1
    return repeated


def _cross_check(config: BaseModel) -> list[Problem]:
    """A model may look further than its schema: its ``problems()`` method, if it has one."""
    check = getattr(config, "problems", None)
    return list(check()) if callable(check) else []


def issue_at(
    doc: YamlDocument, key_path: KeyPath, message: str, *, warning: bool = False
) -> ConfigIssue:
    """An issue (an error unless ``warning``) pointing at the line of ``key_path`` in ``doc``."""
    return ConfigIssue(doc.path, doc.line_of(key_path), _dotted(key_path), message, warning)
