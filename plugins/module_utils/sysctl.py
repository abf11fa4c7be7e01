# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Kernel parameters: runtime access through a proc root and a lossless sysctl.d file editor (stdlib only).

Runtime values are read and written like ``cat``/``echo`` on ``<proc_root>/<name with dots as slashes>``
(the kernel's own interface, so a temp directory laid out like /proc/sys works the same in tests).
A runtime write is read back and undone when the kernel kept something else. The huge page size and
the transparent huge pages mode are read beside the proc root (``../meminfo``, ``../../sys/kernel/mm``),
as on a host. The file editor only ever touches the line of the key it edits: comments, other keys,
duplicates, spacing style, line endings, a BOM and a missing final newline all survive byte for byte.
"""

from __future__ import annotations

import errno
import os
import re
import tempfile
from dataclasses import dataclass
from typing import Callable, List, Optional, Tuple

from ansible_collections.irisops.iris.plugins.module_utils.durable import error_chain

NAME_PATTERN = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_-]+)+$")
# Real proc/sys files are a few bytes; the bound keeps a wrong path (a device, a huge file) harmless.
MAX_RUNTIME_BYTES = 65536
UTF8_BOM = b"\xef\xbb\xbf"
# sysctl.d(5): "key = value", optional leading "-" (ignore errors), "/" or "." as separator.
ASSIGNMENT_PATTERN = re.compile(r"^(?P<lead>\s*-?)(?P<key>[^=\s#;]+)(?P<sep>[ \t]*=[ \t]*)(?P<value>.*?)(?P<trail>[ \t]*)$")
COMMENT_PREFIXES = ("#", ";")
DEFAULT_SEPARATOR = " = "
ROOT_HINT = "changing kernel parameters needs root or CAP_SYS_ADMIN (use become: true)"
# The kernel's huge page size when meminfo does not say (x86-64 and most arm64 kernels).
DEFAULT_HUGEPAGE_KB = 2048


class SysctlError(Exception):
    """A kernel parameter cannot be read, written or persisted; the message names path and reason."""


class SysctlPermissionError(SysctlError):
    """The write was refused for lack of privilege."""


def validate_name(name: str) -> None:
    """Accept only dotted sysctl names, so a name can never address a path outside the proc root."""
    if not NAME_PATTERN.fullmatch(name):
        raise ValueError("name: %r is not a dotted kernel parameter name like 'vm.nr_hugepages' "
                         "(lowercase letters, digits, '_' and '-' separated by dots; never a path)" % name)


def validate_value(field: str, value: str) -> None:
    if not value.strip():
        raise ValueError("%s: must not be empty" % field)
    # TAB separates the fields of multi-value parameters (kernel.sem); any other C0, DEL or C1 control is refused.
    if any((ord(char) < 32 and char != "\t") or 127 <= ord(char) < 160 for char in value):
        raise ValueError("%s: must be a single line without control characters, got %r" % (field, value))


def normalise(value: str) -> str:
    """Compare like the kernel does: whitespace-separated tokens, integers by value (tabs in kernel.sem, '010')."""
    tokens = []
    for token in value.split():
        tokens.append(str(int(token)) if re.match(r"^[+-]?\d+$", token) else token)
    return " ".join(tokens)


def values_equal(left: Optional[str], right: Optional[str]) -> bool:
    if left is None or right is None:
        return left is right
    return normalise(left) == normalise(right)


def as_integer(field: str, value: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise ValueError("%s: %r is not an integer" % (field, value)) from None


def proc_path(proc_root: str, name: str) -> str:
    validate_name(name)
    return os.path.join(proc_root, *name.split("."))


def _describe_os_error(action: str, path: str, exc: OSError) -> SysctlError:
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return SysctlPermissionError("%s %s: %s; %s" % (action, path, exc.strerror, ROOT_HINT))
    if exc.errno == errno.ENOENT:
        return SysctlError("%s %s: no such kernel parameter on this host (missing file)" % (action, path))
    if exc.errno == errno.EISDIR:
        return SysctlError("%s %s: is a directory, not a kernel parameter; name a leaf like 'vm.swappiness'" % (action, path))
    if exc.errno == errno.EINVAL:
        return SysctlError("%s %s: the kernel rejected the value as invalid (EINVAL)" % (action, path))
    return SysctlError("%s %s: %s" % (action, path, exc.strerror or exc))


def read_runtime(path: str) -> str:
    """The live value with the kernel's trailing newline removed."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_RUNTIME_BYTES)
    except OSError as exc:
        raise _describe_os_error("cannot read", path, exc) from None
    return data.decode("utf-8", "replace").rstrip("\n")


def write_runtime(path: str, value: str) -> None:
    """One write of ``value`` + newline, as ``echo value > path`` does; the kernel parses it on write."""
    try:
        with open(path, "wb") as handle:
            handle.write(value.encode("utf-8") + b"\n")
    except OSError as exc:
        raise _describe_os_error("cannot write", path, exc) from None


def restore_runtime(path: str, previous: Optional[str]) -> str:
    """Write ``previous`` back after a failed change; returns what happened, for the failure message."""
    if previous is None:
        return "runtime value left as the kernel reports it"
    try:
        write_runtime(path, previous)
    except SysctlError as exc:
        return "restoring the runtime value %r failed too: %s" % (previous, exc)
    return "runtime value restored to %r" % previous


def write_runtime_verified(path: str, value: str, previous: Optional[str], hint: str = "") -> None:
    """Write, read back, and put ``previous`` back when the kernel did not keep ``value``.

    ``hint`` (with its leading space) says why the kernel may keep less for this parameter.
    """
    write_runtime(path, value)
    observed = read_runtime(path)
    if values_equal(observed, value):
        return
    restored = restore_runtime(path, previous)
    raise SysctlError("read-back mismatch for %s: wrote %r but the kernel reports %r%s; %s" % (path, value, observed, hint, restored))


def _beside_proc_root(proc_root: str, *relative: str) -> str:
    return os.path.normpath(os.path.join(proc_root, *relative))


def hugepage_size_kb(proc_root: str) -> int:
    """``Hugepagesize`` from the meminfo beside the proc root (``/proc/meminfo`` for ``/proc/sys``)."""
    try:
        with open(_beside_proc_root(proc_root, "..", "meminfo"), "r") as handle:
            for line in handle:
                if line.startswith("Hugepagesize:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return DEFAULT_HUGEPAGE_KB


def transparent_hugepages(proc_root: str) -> Optional[str]:
    """The selected THP mode ('always', 'madvise', 'never') from the sysfs beside the proc root, None when absent."""
    try:
        with open(_beside_proc_root(proc_root, "..", "..", "sys", "kernel", "mm", "transparent_hugepage", "enabled")) as handle:
            match = re.search(r"\[(\w+)\]", handle.read())
    except OSError:
        return None
    return match.group(1) if match else None


def _split_ending(line: bytes) -> Tuple[bytes, bytes]:
    for ending in (b"\r\n", b"\n", b"\r"):
        if line.endswith(ending):
            return line[:-len(ending)], ending
    return line, b""


def _key_of(text: str) -> str:
    return text.replace("/", ".")


@dataclass
class _Line:
    text: str
    ending: bytes

    def assignment(self) -> Optional["re.Match[str]"]:
        if self.text.lstrip().startswith(COMMENT_PREFIXES):
            return None
        return ASSIGNMENT_PATTERN.match(self.text)

    def render(self) -> bytes:
        return self.text.encode("utf-8", "surrogateescape") + self.ending


class SysctlFile(object):
    """A sysctl.d file as lines; ``render()`` is byte-identical until ``set`` changes one line."""

    def __init__(self, data: bytes = b"") -> None:
        self.bom = UTF8_BOM if data.startswith(UTF8_BOM) else b""
        body = data[len(self.bom):]
        self._lines = []
        for raw in body.splitlines(keepends=True):
            text, ending = _split_ending(raw)
            self._lines.append(_Line(text.decode("utf-8", "surrogateescape"), ending))

    def _assignments(self, name: str) -> List[int]:
        indexes = []
        for index, line in enumerate(self._lines):
            match = line.assignment()
            if match is not None and _key_of(match.group("key")) == name:
                indexes.append(index)
        return indexes

    def get(self, name: str) -> Optional[str]:
        """The effective value: sysctl applies lines in order, so the last assignment wins."""
        indexes = self._assignments(name)
        if not indexes:
            return None
        match = self._lines[indexes[-1]].assignment()
        return match.group("value") if match is not None else None

    def duplicates(self, name: str) -> int:
        """How many earlier assignments of ``name`` the effective one overrides."""
        return max(len(self._assignments(name)) - 1, 0)

    def set(self, name: str, value: str) -> None:
        """Change the effective line's value in its own style, or append ``name = value`` in the file's style."""
        validate_name(name)
        validate_value("value", value)
        indexes = self._assignments(name)
        if indexes:
            line = self._lines[indexes[-1]]
            match = line.assignment()
            if match is not None and not values_equal(match.group("value"), value):
                line.text = match.group("lead") + match.group("key") + match.group("sep") + value + match.group("trail")
            return
        ending = self._dominant_ending()
        new_line = _Line(name + self._separator_style() + value, ending)
        if self._lines and not self._lines[-1].ending:
            # Keep the file's "no final newline" style: the old last line gets the ending, the new one goes without.
            self._lines[-1].ending = ending
            new_line.ending = b""
        self._lines.append(new_line)

    def _dominant_ending(self) -> bytes:
        endings = [line.ending for line in self._lines if line.ending]
        return max(set(endings), key=endings.count) if endings else b"\n"

    def _separator_style(self) -> str:
        for line in reversed(self._lines):
            match = line.assignment()
            if match is not None:
                return match.group("sep")
        return DEFAULT_SEPARATOR

    def render(self) -> bytes:
        return self.bom + b"".join(line.render() for line in self._lines)


def read_file(path: str) -> Optional[bytes]:
    """The file's bytes, or None when it does not exist yet."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _describe_os_error("cannot read", path, exc) from None


def write_temp_beside(path: str, data: bytes) -> str:
    """Write ``data`` to a new temp file in ``path``'s directory (same filesystem, so the move is atomic).

    Creating it is where a missing privilege shows, before anything is replaced.
    """
    directory = os.path.dirname(path) or "."
    try:
        handle, temp_path = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), dir=directory)
    except OSError as exc:
        raise _describe_os_error("cannot write in", directory, exc) from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
    except OSError as exc:
        os.unlink(temp_path)
        raise _describe_os_error("cannot write", temp_path, exc) from None
    return temp_path


def replace_file(path: str, data: bytes, move: Callable[[str, str], None],
                 backup: Optional[Callable[[str], str]] = None) -> Optional[str]:
    """Replace ``path``'s target with ``data`` through a temp file beside it; returns ``backup``'s path, if any.

    ``move`` is AnsibleModule.atomic_move (it keeps owner, mode and SELinux context), ``backup`` its backup_local.
    A symlink keeps pointing where it did: its target is replaced. Not durable.replace_file: a directory that refuses
    the temp file is reported as a SysctlError naming it (and root, when the refusal is a permission), and the backup
    is taken only once the new content is safely written.
    """
    real_path = os.path.realpath(path)
    temp_path = write_temp_beside(real_path, data)
    try:
        backup_file = backup(real_path) if backup is not None else None
        move(temp_path, real_path)
    except Exception as exc:  # ansible-core raises a bare Exception with the OSError as its cause
        raise SysctlError("cannot replace %s: %s" % (real_path, error_chain(exc))) from None
    finally:
        if os.path.lexists(temp_path):
            os.unlink(temp_path)
    return backup_file or None


def later_definitions(sysctl_dir: str, file_name: str, name: str) -> List[str]:
    """Files in ``sysctl_dir`` that sort after ``file_name`` and set ``name``: they win at boot."""
    try:
        candidates = sorted(entry for entry in os.listdir(sysctl_dir) if entry.endswith(".conf") and entry > file_name)
    except OSError:
        return []
    overriding = []
    for entry in candidates:
        path = os.path.join(sysctl_dir, entry)
        try:
            data = read_file(path)
        except SysctlError:
            continue
        if data is not None and SysctlFile(data).get(name) is not None:
            overriding.append(path)
    return overriding
