# SPDX-License-Identifier: GPL-3.0-or-later
"""Make the repo importable as ``ansible_collections.irisops.iris`` (tests/conftest.py calls ``prepare()`` first).

The collection tree is a symlink under build/collections (the same tree ansible-playbook uses
through ANSIBLE_COLLECTIONS_PATH), so tests import exactly the files in this repository.
"""

from __future__ import annotations

import gzip
import sys

from tests.support.paths import COLLECTIONS_ROOT, FIXTURES, REPO


def link_collection() -> None:
    namespace_dir = COLLECTIONS_ROOT / "ansible_collections" / "irisops"
    namespace_dir.mkdir(parents=True, exist_ok=True)
    link = namespace_dir / "iris"
    if not link.is_symlink():
        link.symlink_to(REPO, target_is_directory=True)


def unpack_compressed_fixtures() -> None:
    """CRLF fixtures are stored gzip-compressed: text tooling (ansible-test's line-endings check,
    editors, git settings) would otherwise rewrite the very bytes the round-trip tests compare."""
    for packed in FIXTURES.rglob("*.gz"):
        unpacked = packed.with_suffix("")
        data = gzip.decompress(packed.read_bytes())
        if not unpacked.exists() or unpacked.read_bytes() != data:
            unpacked.write_bytes(data)


def prepare() -> None:
    """Link, unpack, and install Ansible's collection loader before the first import of the collection."""
    from ansible.plugins.loader import init_plugin_loader
    from ansible.utils.collection_loader import AnsibleCollectionConfig

    link_collection()
    unpack_compressed_fixtures()
    if str(COLLECTIONS_ROOT) not in sys.path:
        sys.path.insert(0, str(COLLECTIONS_ROOT))
    # As ansible-playbook does: action plugin tests resolve plugins through the loader, and it cannot be installed
    # after the collection was imported another way.
    if AnsibleCollectionConfig.collection_finder is None:
        init_plugin_loader([str(COLLECTIONS_ROOT)])
