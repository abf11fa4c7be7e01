# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Lossless model of an IRIS configuration parameter file (CPF) and merge files (stdlib only).

The document keeps every line exactly as read (text and line ending), so ``render()`` of an
unedited document is byte-identical to the input: CRLF or LF, a UTF-8 BOM, trailing spaces,
comments (``;``, ``#``, ``//``, ``/* ... */``), no final newline. Edits rewrite only the line they
target, keep its style (spacing around ``=``, trailing spaces, an inline ``//`` comment) and put
new keys where IRIS puts them: in ASCII order when the section is sorted, else after the last key.

Section names are matched case-insensitively (IRIS writes ``[config]`` and ``[Startup]``);
parameter names exactly first, then case-insensitively when that is unambiguous.
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Dict, Iterator, List, Optional, Tuple

from ansible_collections.irisops.iris.plugins.module_utils.durable import replace_file, wait_for_lock
from ansible_collections.irisops.iris.plugins.module_utils.secret_keys import MASK, is_secret_key

BOM = "\ufeff"
ENCODING = "utf-8"
# surrogateescape keeps bytes that are not UTF-8 intact through decode/encode.
ERRORS = "surrogateescape"
ACTIONS_SECTION = "Actions"
# The order in which an instance writes its sections; new sections are slotted into it.
SECTION_ORDER = (
    "ConfigFile", "ECPServers", "Databases", "Namespaces", "Map.*", "MirrorMember", "Journal", "Startup",
    "WorkQueues", "Gateways", "DeviceSubTypes", "Devices", "MagTapes", "config", "Miscellaneous", "ECP",
    "Cluster", "LicenseServers", "Monitor", "IO", "SQL", "SqlSysDatatypes", "Telnet", "Conversions",
)
_SECTION_HEADER = re.compile(r"^\s*\[([^\[\]]+)\]\s*$")
# "dumpstyle=2 // then, specify a value": a // comment needs whitespace before it.
_INLINE_COMMENT = re.compile(r"\s+//(\s.*)?$")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# "//" at a value's start or after a space would be read back as the start of an inline comment.
_COMMENT_IN_VALUE = re.compile(r"(^|\s)//")
_EOL = re.compile(r"\r\n|\n|\r")
# "CreateDatabase:Name=APPA,Directory=/data/APPA": a verb, a colon, comma-separated properties ("..." may hold commas).
_ACTION_VERB = re.compile(r"^([A-Za-z][A-Za-z0-9]*):(.*)$")
_ACTION_PROPERTY = re.compile(r'\s*([A-Za-z%][A-Za-z0-9_.%]*)=("(?:[^"]|"")*"|[^,"][^,]*|)\s*(?:,|$)')


class CpfError(ValueError):
    """The CPF text or a requested edit is invalid; the message names the line or field."""


class CpfTimeout(CpfError):
    """The operation did not finish within its time limit; nothing was written."""


@dataclass(frozen=True)
class MergeAction(object):
    """One ``[Actions]`` line of a merge file: ``Verb:Property=Value,...`` (IRIS runs the matching Config class method)."""

    verb: str
    properties: Tuple[Tuple[str, str], ...]

    def get(self, name: str) -> Optional[str]:
        """A property's value (name case-insensitive), or None."""
        for key, value in self.properties:
            if key.lower() == name.lower():
                return value
        return None

    @property
    def name(self) -> Optional[str]:
        return self.get("Name")

    def render(self, masked: bool = False) -> str:
        """The action as a merge-file line; ``masked`` hides secret properties (for results and logs)."""
        parts = []
        for key, value in self.properties:
            if masked and is_secret_key(key):  # CreateUser:Name=x,Password=...
                value = MASK
            elif "," in value or '"' in value:
                value = '"%s"' % value.replace('"', '""')
            parts.append("%s=%s" % (key, value))
        return "%s:%s" % (self.verb, ",".join(parts))


def parse_action(text: str) -> MergeAction:
    """Parse one ``[Actions]`` line; CpfError names the line's problem."""
    check_text("action", text)
    verb = _ACTION_VERB.match(text.strip())
    if not verb:
        raise CpfError("action %r must look like Verb:Name=Value,..." % text.strip())
    body = verb.group(2).strip()
    properties: List[Tuple[str, str]] = []
    position = 0
    while position < len(body):
        found = _ACTION_PROPERTY.match(body, position)
        if not found or found.end() == position:
            raise CpfError("action %r: cannot read the properties from %r" % (text.strip(), body[position:]))
        value = found.group(2).strip()
        if len(value) >= 2 and value.startswith('"') and value.endswith('"'):
            value = value[1:-1].replace('""', '"')
        properties.append((found.group(1), value))
        position = found.end()
    return MergeAction(verb.group(1), tuple(properties))


class _Line(object):
    __slots__ = ("text", "eol")

    def __init__(self, text: str, eol: str) -> None:
        self.text = text
        self.eol = eol


class _Section(object):
    """Where one section header sits and which parameter lines follow it."""

    __slots__ = ("name", "header", "end", "params", "actions")

    def __init__(self, name: str, header: int) -> None:
        self.name = name
        self.header = header
        self.end = header + 1  # one past the last line belonging to the section
        self.params: List[Tuple[str, int]] = []  # (key as written, line index)
        self.actions: List[int] = []  # line indexes of an [Actions] section's verbs


def check_text(field: str, value: str) -> None:
    """Refuse line breaks and control characters: they would split or corrupt a CPF line."""
    found = _CONTROL.search(value)
    if found:
        raise CpfError("%s must not contain line breaks or control characters (found %r)" % (field, found.group()))


def check_value(field: str, value: str) -> None:
    """A value must read back as itself: no line break or control character, and nothing the CPF reads as a comment."""
    check_text(field, value)
    if _COMMENT_IN_VALUE.search(value.strip()):
        raise CpfError("%s must not contain '//' at its start or after a space: the CPF would read the rest as a "
                       "comment (got %r)" % (field, value))


def _check_section_name(section: str) -> None:
    check_text("section", section)
    if not section.strip() or "[" in section or "]" in section:
        raise CpfError("section %r must be a non-empty name without '[' or ']'" % section)


def _check_parameter_name(section: str, parameter: str) -> None:
    check_text("parameter", parameter)
    if not parameter.strip() or "=" in parameter or parameter != parameter.strip():
        raise CpfError("parameter %r in [%s] must be non-empty, without '=' and without surrounding spaces" % (
            parameter, section))
    if parameter.startswith(("[", ";", "#", "//", "/*")):
        raise CpfError("parameter %r in [%s] would read as a section header or comment" % (parameter, section))


def split_value(raw: str) -> Tuple[str, str, str]:
    """Split the text after '=' into (leading spaces, effective value, trailing spaces and inline comment)."""
    comment = _INLINE_COMMENT.search(raw)
    body, tail = (raw[:comment.start()], raw[comment.start():]) if comment else (raw, "")
    stripped = body.strip()
    if not stripped:
        return body, "", tail
    lead = body[:len(body) - len(body.lstrip())]
    trail = body[len(body.rstrip()):]
    return lead, stripped, trail + tail


class CpfDocument(object):
    """A CPF as lines; query and edit it by section and parameter, render it back losslessly."""

    def __init__(self, lines: List[_Line], bom: bool) -> None:
        self._lines = lines
        self._bom = bom
        self._sections: List[_Section] = []
        self._reindex()

    @classmethod
    def parse(cls, data: bytes) -> "CpfDocument":
        text = data.decode(ENCODING, ERRORS)
        bom = text.startswith(BOM)
        if bom:
            text = text[1:]
        lines: List[_Line] = []
        position = 0
        for match in _EOL.finditer(text):
            lines.append(_Line(text[position:match.start()], match.group()))
            position = match.end()
        if position < len(text):
            lines.append(_Line(text[position:], ""))
        return cls(lines, bom)

    def render(self) -> bytes:
        text = "".join(line.text + line.eol for line in self._lines)
        return ((BOM if self._bom else "") + text).encode(ENCODING, ERRORS)

    def render_masked(self, is_secret: Callable[[str], bool], mask: str) -> bytes:
        """``render()`` with the non-empty value of every parameter whose name ``is_secret`` replaced by ``mask``
        (for diffs and previews; the document itself is not changed)."""
        copy = CpfDocument([_Line(line.text, line.eol) for line in self._lines], self._bom)
        for section in copy._sections:
            for key, index in section.params:
                if is_secret(key) and copy._value_at(index):
                    copy._replace_value(index, mask)
        return copy.render()

    # ---------------------------------------------------------------- structure
    def _reindex(self) -> None:
        sections: List[_Section] = []
        current: Optional[_Section] = None
        in_block_comment = False
        for index, line in enumerate(self._lines):
            stripped = line.text.strip()
            if in_block_comment:
                in_block_comment = "*/" not in stripped
                continue
            if stripped.startswith("/*"):
                in_block_comment = "*/" not in stripped[2:]
                continue
            header = _SECTION_HEADER.match(line.text)
            if header:
                current = _Section(header.group(1).strip(), index)
                sections.append(current)
                continue
            if current is None or not stripped or stripped.startswith((";", "#", "//")):
                continue
            current.end = index + 1
            # [Actions] lines are verbs ("CreateDatabase:Name=X,..."), not key=value parameters.
            if current.name.lower() == ACTIONS_SECTION.lower():
                current.actions.append(index)
            elif "=" in line.text:
                current.params.append((line.text.split("=", 1)[0].strip(), index))
        self._sections = sections

    @property
    def eol(self) -> str:
        """The line ending new lines get: the file's first one, CRLF (the documented one) when there is none."""
        for line in self._lines:
            if line.eol:
                return line.eol
        return "\r\n"

    def _matching_sections(self, section: str) -> List[_Section]:
        wanted = section.strip().lower()
        return [candidate for candidate in self._sections if candidate.name.lower() == wanted]

    def sections(self) -> List[str]:
        """Section names as written, in file order, each once."""
        seen: Dict[str, str] = {}
        for candidate in self._sections:
            seen.setdefault(candidate.name.lower(), candidate.name)
        return list(seen.values())

    def section_name(self, section: str) -> Optional[str]:
        """The spelling the file uses for ``section``, or None when the file has no such section."""
        found = self._matching_sections(section)
        return found[0].name if found else None

    def has_section(self, section: str) -> bool:
        return bool(self._matching_sections(section))

    def action_lines(self) -> List[str]:
        """The lines of ``[Actions]`` sections, comments and blank lines left out.

        Only the exact spelling counts: IRIS silently ignores ``[actions]`` (a documented quirk of ``iris merge``).
        """
        return [self._lines[index].text.strip()
                for candidate in self._sections if candidate.name == ACTIONS_SECTION for index in candidate.actions]

    def _param_lines(self, section: str, parameter: str) -> List[int]:
        entries = [entry for found in self._matching_sections(section) for entry in found.params]
        exact = [index for key, index in entries if key == parameter]
        if exact:
            return exact
        folded = parameter.lower()
        return [index for key, index in entries if key.lower() == folded]

    def _value_at(self, index: int) -> str:
        return split_value(self._lines[index].text.split("=", 1)[1])[1]

    def parameters(self, section: str) -> List[Tuple[str, str]]:
        """(parameter, value) pairs of a section in file order; values as ``get`` returns them."""
        return [(key, self._value_at(index))
                for found in self._matching_sections(section) for key, index in found.params]

    def items(self) -> Iterator[Tuple[str, List[Tuple[str, str]]]]:
        for name in self.sections():
            yield name, self.parameters(name)

    def get(self, section: str, parameter: str) -> Optional[str]:
        """The value of ``parameter``: the text after the first '=', without the surrounding spaces and a
        trailing ``//`` comment that IRIS ignores. None when absent; the last one wins when repeated."""
        found = self._param_lines(section, parameter)
        return self._value_at(found[-1]) if found else None

    def parameter_name(self, section: str, parameter: str) -> Optional[str]:
        """The spelling the file uses for ``parameter`` in ``section``, or None when absent."""
        found = self._param_lines(section, parameter)
        return self._lines[found[-1]].text.split("=", 1)[0].strip() if found else None

    def line_number(self, section: str, parameter: str) -> Optional[int]:
        """1-based line number of the parameter (for messages), or None."""
        found = self._param_lines(section, parameter)
        return found[-1] + 1 if found else None

    # ---------------------------------------------------------------- edits
    def _single_line(self, section: str, parameter: str) -> Optional[int]:
        found = self._param_lines(section, parameter)
        if len(found) > 1:
            raise CpfError("parameter %r appears %d times in [%s] (lines %s); refusing to guess which one to edit" % (
                parameter, len(found), section, ", ".join(str(index + 1) for index in found)))
        return found[0] if found else None

    def set(self, section: str, parameter: str, value: str) -> bool:
        """Set ``parameter`` to ``value``, adding the key (and section) when missing. Returns whether the text changed."""
        _check_section_name(section)
        _check_parameter_name(section, parameter)
        check_value("value of %s in [%s]" % (parameter, section), value)
        if section.strip().lower() == ACTIONS_SECTION.lower():
            raise CpfError("section [%s] holds merge actions, not parameters; it cannot be edited here" % section)
        index = self._single_line(section, parameter)
        if index is not None:
            return self._replace_value(index, value)
        self._insert(section, parameter, value)
        return True

    def _replace_value(self, index: int, value: str) -> bool:
        line = self._lines[index]
        key_part, raw = line.text.split("=", 1)
        lead, current, tail = split_value(raw)
        if current == value:
            return False
        line.text = "%s=%s%s%s" % (key_part, lead, value, tail)
        return True

    def _insert(self, section: str, parameter: str, value: str) -> None:
        new_line = "%s=%s" % (parameter, value)
        found = self._matching_sections(section)
        if not found:
            self._insert_section(section.strip(), new_line)
            return
        target = found[-1]
        keys = [key for key, _index in target.params]
        position = target.end
        if keys and keys == sorted(keys):
            following = [index for key, index in target.params if key > parameter]
            if following:
                position = following[0]
        self._insert_lines(position, [new_line])

    def _insert_lines(self, position: int, texts: List[str]) -> None:
        eol = self.eol
        if position == len(self._lines) and self._lines and not self._lines[-1].eol:
            # Keep "no final newline": the old last line gets one, the new last line does not.
            self._lines[-1].eol = eol
            new = [_Line(text, eol) for text in texts]
            new[-1].eol = ""
        else:
            new = [_Line(text, eol) for text in texts]
        self._lines[position:position] = new
        self._reindex()

    def _insert_section(self, section: str, first_line: str) -> None:
        """Add ``[section]`` where the instance would write it, separated by a blank line like its neighbours."""
        rank = _section_rank(section)
        position = len(self._lines)
        for candidate in self._sections:
            candidate_rank = _section_rank(candidate.name)
            if rank is not None and candidate_rank is not None and candidate_rank > rank:
                position = candidate.header
                break
        if position == len(self._lines):
            prefix = [""] if self._lines and self._lines[-1].text.strip() else []
            self._insert_lines(position, prefix + ["[%s]" % section, first_line])
        else:
            self._insert_lines(position, ["[%s]" % section, first_line, ""])

    def remove(self, section: str, parameter: str) -> bool:
        """Delete the parameter's line. Returns whether it was there."""
        index = self._single_line(section, parameter)
        if index is None:
            return False
        removed = self._lines.pop(index)
        if index == len(self._lines) and self._lines and not removed.eol:
            self._lines[-1].eol = ""
        self._reindex()
        return True


def _section_rank(section: str) -> Optional[int]:
    name = "Map.*" if section.lower().startswith("map.") else section
    for rank, known in enumerate(SECTION_ORDER):
        if known.lower() == name.lower():
            return rank
    return None


# ----------------------------------------------------------------------------- files
def check_cpf_path(path: str) -> str:
    """The real path of an existing regular CPF file; refuses '..' traversal and non-regular files."""
    check_text("path", path)
    if not os.path.isabs(path):
        raise CpfError("path %r must be absolute" % path)
    if ".." in path.split(os.sep):
        raise CpfError("path %r must not contain '..' components" % path)
    real = os.path.realpath(path)
    if not os.path.lexists(real):
        raise CpfError("path %s does not exist" % path)
    if not os.path.isfile(real):
        raise CpfError("path %s is not a regular file" % path)
    return real


@contextmanager
def directory_lock(path: str, deadline: float) -> Iterator[None]:
    """Hold an exclusive flock on the CPF's directory so concurrent editors queue; give up at ``deadline``.

    The directory, not the file, is locked because an atomic rename replaces the file's inode.
    """
    fd = os.open(os.path.dirname(path) or ".", os.O_RDONLY)
    try:
        if not wait_for_lock(fd, deadline):
            raise CpfTimeout("timed out waiting for another editor of %s to finish; nothing was changed" % path)
        yield
    finally:
        os.close(fd)


def replace_file_verified(path: str, old: bytes, new: bytes, move: Callable[[str, str], None],
                          verify: Callable[[bytes], None], fallback_dir: Optional[str] = None) -> None:
    """Replace the file with ``new``; when ``verify`` (given the bytes read back) raises, put ``old`` back and re-raise.

    ``fallback_dir``: see durable.replace_file (unsafe_writes into a directory that refuses new files).
    """
    replace_file(path, new, move, fallback_dir)
    try:
        with open(path, "rb") as handle:
            verify(handle.read())
    except Exception:
        replace_file(path, old, move, fallback_dir)
        raise
