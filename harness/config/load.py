"""Read scenario and SLO files into typed records; every error names file and field."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from harness import paths
from harness.config.model import Scenario, SloSpec
from harness.errors import ConfigError

__all__ = [
    "bundled_scenarios",
    "check_locustfile",
    "load_scenario",
    "load_slo",
    "parse_yaml",
    "read_yaml",
    "resolve_scenario",
]

M = TypeVar("M", bound=BaseModel)


class _UniqueKeyLoader(yaml.SafeLoader):
    """safe_load that refuses a key given twice in one mapping: YAML says keys are unique, and
    PyYAML's silent last-one-wins would quietly drop the first value."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *anchor`: the base class merges it, explicit keys overriding
            key = self.construct_object(key_node, deep=True)  # type: ignore[no-untyped-call]
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:  # an unhashable key; the base class reports it
                continue
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark,
                    f"duplicate key {key!r}", key_node.start_mark)
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: Path, missing: str = "file not found") -> Any:
    """The YAML document in `path`; ConfigError naming the file (and line) when it cannot be
    read, is not YAML or repeats a key; `missing` says why an absent file matters."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), None, missing) from None
    except IsADirectoryError:
        raise ConfigError(str(path), None, "is a directory, not a file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), None, f"cannot read: {exc}") from None
    return parse_yaml(text, path)


def parse_yaml(text: str, path: Path) -> Any:
    """The YAML document in `text`, read from `path`; ConfigError naming the line if it is not
    YAML or repeats a key."""
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "syntax"
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(str(path), where, f"invalid YAML: {problem}") from None


def _allowed_for(error: Mapping[str, Any]) -> str | None:
    ctx = error.get("ctx") or {}
    if "expected" in ctx:
        return str(ctx["expected"])
    if error.get("type") == "extra_forbidden":
        return None
    return None


def parse_model(model: type[M], data: Any, source: Path) -> M:
    if not isinstance(data, dict):
        raise ConfigError(str(source), None, "expected a mapping at the top level")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        loc = tuple(first.get("loc", ()))
        message = str(first.get("msg", "invalid value"))
        if first.get("type") == "extra_forbidden":
            allowed = _known_fields(model, loc[:-1])
            raise ConfigError(str(source), loc, "unknown field", allowed) from None
        if first.get("type") == "missing":
            raise ConfigError(str(source), loc, "required field is missing") from None
        value = first.get("input")
        shown = f" (got {value!r})" if isinstance(value, str | int | float | bool) else ""
        raise ConfigError(str(source), loc, f"{message}{shown}", _allowed_for(first)) from None


def _known_fields(model: type[BaseModel], loc: tuple[Any, ...]) -> str | None:
    """The field names allowed where an unknown one was found, to say what would fit."""
    current: Any = model
    for part in loc:
        is_model = isinstance(current, type) and issubclass(current, BaseModel)
        if isinstance(part, int) or not is_model:
            continue
        field = current.model_fields.get(part)
        if field is None:
            return None
        current = _inner_model(field.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return ", ".join(sorted(n for n, f in current.model_fields.items() if not f.exclude))
    return None


def _inner_model(annotation: Any) -> Any:
    args = getattr(annotation, "__args__", None)
    if args:
        for arg in args:
            found = _inner_model(arg)
            if isinstance(found, type) and issubclass(found, BaseModel):
                return found
        return None
    return annotation


def load_slo(path: Path | None = None) -> SloSpec:
    source = path or paths.slo_spec_path()
    return parse_model(SloSpec, read_yaml(source), source)


def bundled_scenarios() -> dict[str, Path]:
    folder = paths.scenarios_dir()
    return {p.stem: p for p in sorted(folder.glob("*.yaml"))}


def resolve_scenario(name_or_path: str) -> Path:
    """A bundled scenario name (`peak`) or a path to a scenario file."""
    candidate = Path(name_or_path)
    if candidate.suffix in (".yaml", ".yml") or candidate.exists():
        if candidate.is_dir():
            raise ConfigError(str(candidate), None, "is a directory; --scenario takes a "
                              "scenario file or a bundled scenario's name")
        if not candidate.is_file():
            raise ConfigError(str(candidate), None, "scenario file not found")
        return candidate.resolve()
    bundled = bundled_scenarios()
    if name_or_path in bundled:
        return bundled[name_or_path]
    raise ConfigError(
        "--scenario",
        None,
        f"unknown scenario {name_or_path!r}",
        ", ".join(bundled) or "none bundled",
    )


def load_scenario(name_or_path: str) -> Scenario:
    source = resolve_scenario(name_or_path)
    scenario = parse_model(Scenario, read_yaml(source), source)
    locustfile = scenario.locustfile
    if locustfile is not None:
        if not locustfile.is_absolute():
            locustfile = (source.parent / locustfile).resolve()
        if not locustfile.is_file():
            raise ConfigError(str(source), "locustfile", f"{locustfile} does not exist")
        check_locustfile(locustfile)
    return scenario.model_copy(update={"source": source, "locustfile": locustfile})


def check_locustfile(path: Path) -> None:
    """Compile the locustfile now, so a syntax error stops the run before the stack comes up
    (Locust itself would find it only after the stack is up), naming file:line."""
    try:
        source = path.read_bytes()
        compile(source, str(path), "exec", dont_inherit=True)
    except OSError as exc:
        raise ConfigError(str(path), None, f"cannot read: {exc.strerror or exc}") from None
    except SyntaxError as exc:  # IndentationError and TabError are SyntaxErrors
        where = f"{path}:{exc.lineno}" if exc.lineno else str(path)
        raise ConfigError(where, None, f"{type(exc).__name__}: {exc.msg}") from None
    except ValueError as exc:  # null bytes in the source
        raise ConfigError(str(path), None, f"SyntaxError: {exc}") from None
