"""Reading sources.yaml safely: part of :mod:`crawler.config` (the only YAML reader).

Owns the file's bounds (a regular file, at most :data:`MAX_SOURCES_FILE` bytes, UTF-8), the strict
loader (PyYAML's safe loader that refuses a key given twice and aliases that expand past
:data:`MAX_YAML_NODES` values) and YAML errors as one line.  It hands plain data to
:func:`crawler.config.parse_sources`, which checks what the data means.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml

from crawler.errors import ConfigError

MAX_YAML_NODES = 50_000  # values in sources.yaml once aliases are expanded (the shipped one: ~300)
MAX_SOURCES_FILE = 1 << 20  # bytes; a sources file is a few KiB


class _DuplicateKey(yaml.YAMLError):
    def __init__(self, key: object, line: int, first_line: int) -> None:
        super().__init__(f"duplicate key {key!r} (first at line {first_line})")
        self.line = line


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader, except that a key given twice in one mapping is an error.

    (Plain YAML keeps the last value silently: a source pasted twice would lose its first block.)
    Keys brought in by a ``<<`` merge may be overridden, as YAML intends.
    """

    def compose_document(self) -> yaml.Node | None:
        node: yaml.Node | None = super().compose_document()
        if node is not None:
            _check_expansion(node)
        return node

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[object, int] = {}
        for key_node, _value in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                if key in seen:
                    raise _DuplicateKey(key, line, seen[key])
                seen[key] = line
            except TypeError:  # unhashable: the base class reports it
                continue
        return super().construct_mapping(node, deep)


class _TooManyNodes(yaml.YAMLError):
    def __init__(self, line: int) -> None:
        super().__init__(f"more than {MAX_YAML_NODES:,} values, aliases expanded (a sources file has a few hundred)")
        self.line = line


def _check_expansion(root: yaml.Node) -> None:
    """Refuse a document whose aliases expand to more than MAX_YAML_NODES nodes (billion laughs).

    An alias shares its anchor's node, so the composed document stays small, but everything that
    walks the values (validation, messages that quote one) sees every copy.  The count stops at the
    limit, so this costs at most MAX_YAML_NODES steps, cycles included.
    """
    count, stack = 0, [root]
    while stack:
        node = stack.pop()
        count += 1
        if count > MAX_YAML_NODES:
            raise _TooManyNodes(node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.append(key)
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


def _yaml_problem(err: yaml.YAMLError, text: str) -> str:
    """A YAML error on one line: ``line L, column C: problem (context)``."""
    if isinstance(err, (_DuplicateKey, _TooManyNodes)):
        return f"line {err.line}: {err}"
    if isinstance(err, yaml.reader.ReaderError):
        line = text.count("\n", 0, err.position) + 1
        return f"line {line}: character {err.character!r} is not allowed in YAML"
    if isinstance(err, yaml.MarkedYAMLError):
        mark = err.problem_mark or err.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        context = f" ({err.context})" if err.context else ""
        return f"{where}{err.problem or 'invalid'}{context}"
    return " ".join(str(err).split())


def read_sources_file(path: Path) -> object:
    """The plain data of a sources file (read by :func:`crawler.config.load_sources`); any problem is a
    :class:`~crawler.errors.ConfigError` naming the file (and the line, for YAML)."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(f"sources file {path} is not a regular file")
        if info.st_size > MAX_SOURCES_FILE:
            raise ConfigError(f"sources file {path} is larger than {MAX_SOURCES_FILE} bytes")
        raw = path.read_bytes()
    except OSError as err:
        raise ConfigError(f"cannot read sources file {path}: {err.strerror or err}") from err
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        raise ConfigError(f"{path}, line {line}: not UTF-8 text (byte {raw[err.start]:#04x} at offset "
                          f"{err.start})") from None
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass: plain data only
    except yaml.YAMLError as err:
        raise ConfigError(f"{path} is not valid YAML: {_yaml_problem(err, text)}") from None
    except RecursionError:
        raise ConfigError(f"{path} is not valid YAML: nested too deeply") from None
    return data
