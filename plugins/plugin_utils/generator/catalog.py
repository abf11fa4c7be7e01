# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The catalog of IRIS messages.log templates, per category.

Each template names where its wording comes from (``source``):
- ``real: <file>``  the line shape was copied from log_samples/messages/<file> (a captured line);
- ``emulator``      the bundled emulator's wording, the same text (module_utils/iris_events.py) so the
                    closed loop reacts to it;
- ``docs: ...``     no captured line exists in public sources for this event (lock table full, ECP,
                    mirror, journal freeze); the wording follows what the InterSystems documentation
                    describes, it is NOT a copy of a real line.
Fields in ``{braces}`` come from the session (profile values, PIDs, journal files) or from ``params``.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Mapping, MutableMapping, Optional, Tuple

from ansible_collections.irisops.iris.plugins.module_utils import iris_events as E
from ansible_collections.irisops.iris.plugins.module_utils import iris_log
from ansible_collections.irisops.iris.plugins.plugin_utils.generator.session import Session
from ansible_collections.irisops.iris.plugins.plugin_utils.models import MessageCategory

# A parameter value from the session; it may also fill companion fields (a database's dir and SFN).
ValueFn = Callable[[Session, MutableMapping[str, str]], str]
# Process roles whose PID stays fixed in a session; any other role gets a fresh PID per line.
USER_PROCESS = "user"


@dataclass(frozen=True)
class Template:
    key: str
    category: MessageCategory
    tag: str
    severity: int
    text: str
    source: str
    continuation: Tuple[str, ...] = ()
    process: str = "control"
    weight: float = 1.0
    params: Mapping[str, ValueFn] = field(default_factory=dict)
    # False for lines that only make sense inside their scenario (a startup banner without the startup).
    standalone: bool = True


def _ints(low: int, high: int) -> ValueFn:
    return lambda session, _values: str(session.draw(low, high))


def _choice(*options: str) -> ValueFn:
    return lambda session, _values: session.rng.choice(options)


def _role_pid(role: str) -> ValueFn:
    return lambda session, _values: str(session.pid(role))


def _user_pid(session: Session, _values: MutableMapping[str, str]) -> str:
    return str(session.new_pid())


def _job_id(session: Session, _values: MutableMapping[str, str]) -> str:
    return "%08x" % (0x00020000 + session.draw(1, 0x3ff))


def _journal_file(session: Session, _values: MutableMapping[str, str]) -> str:
    return session.journal_file()


def _next_journal_file(session: Session, _values: MutableMapping[str, str]) -> str:
    return session.journal_file(switch=True)


def _db_dir(session: Session, values: MutableMapping[str, str]) -> str:
    directory, sfn = session.database()
    values["sfn"] = str(sfn)
    return directory


def _license_use(session: Session, values: MutableMapping[str, str]) -> str:
    units = session.profile.license_units
    return str(units - session.draw(0, max(1, units // 10)))


def _lock_demand(session: Session, values: MutableMapping[str, str]) -> str:
    return str(session.profile.locksiz + session.draw(1, 64) * 1024)


def _counter(name: str, start: Tuple[int, int], step: Tuple[int, int], maximum: int) -> ValueFn:
    return lambda session, _values: str(session.count_up(name, start, step, maximum))


def _lock_used_bytes(session: Session, values: MutableMapping[str, str]) -> str:
    return str(session.profile.locksiz * int(values["percent"]) // 100)


def _heap_kb(session: Session, values: MutableMapping[str, str]) -> str:
    return str(session.profile.heap_mb * 1024)


def _max_server_conn(session: Session, _values: MutableMapping[str, str]) -> str:
    # The refusal happens with exactly MaxServerConn clients connected.
    return str(session.profile.max_server_conn)


def _too_few_huge_pages(session: Session, _values: MutableMapping[str, str]) -> str:
    # Fewer 2MB pages than the allocation needs: why the start failed.
    return str(session.draw(0, session.profile.memory.total_mb // 2 - 1))


def _heap_request_kb(session: Session, values: MutableMapping[str, str]) -> str:
    return str(session.draw(64, 4096))


COMMON_PARAMS: Dict[str, ValueFn] = {
    "journal_file": _journal_file,
    "next_journal_file": _next_journal_file,
    "db_dir": _db_dir,  # also fills {sfn}: templates name the directory first
    "user_pid": _user_pid,
    "job_id": _job_id,
    "control_pid": _role_pid("control"),
}

C = MessageCategory
TEMPLATES: Tuple[Template, ...] = (
    # --- startup / shutdown -----------------------------------------------------------------
    Template("startup.banner", C.STARTUP, "Generic.Event", 0, "",
             "docs: layout of the startup block in shared/samples/messages/SOURCES.md (variant 3); "
             "no captured banner, wording as the emulator writes it",
             continuation=(
                 "Startup of InterSystems IRIS [IRIS for UNIX (Ubuntu Server LTS for x86-64) {major} (Build {build}U)]",
                 "        in {install_dir}bin/",
                 "        with mgr: {mgr_dir}",
                 "        with wij: {wij_dir}IRIS.WIJ",
                 "        from: {mgr_dir}",
                 "  OS=[Linux], version=[#1 SMP], release=[5.15.0], machine=[x86_64]",
                 "  nodename=[{hostname}], cpus=[{cpus}], cores=[{cpus}], threads per core=[1], sockets=[1]",
                 "  numasyncwijbuf: 0, wdwrite_asyncio_max: 64, wijdirectio: on, synctype: 3",
                 "  System Initialized.",
             ), standalone=False),
    Template("startup.shared_memory", C.STARTUP, "Generic.Event", 0,
             E.SHARED_MEMORY_ALLOCATED + ": {global_buffers_mb}MB global buffers, {routine_buffers_mb}MB routine buffers",
             "real: shared-memory-allocation-kubernetes.log, wij-recovery-after-snapshot-restore.log"),
    Template("startup.aes_ni", C.STARTUP, "Crypto.IntelSandyBridgeAESNI", 0,
             "Intel Sandy Bridge AES-NI instructions detected.", "real: wij-recovery-after-snapshot-restore.log",
             weight=0.3),
    Template("startup.wij_file", C.STARTUP, "WriteDaemon.UsingWIJFile", 0, "Using WIJ file: {wij_dir}IRIS.WIJ",
             "emulator (the tag is real, see shared/samples/messages/SOURCES.md; the text is not captured)",
             process="write_daemon", weight=0.3),
    Template("startup.write_daemon", C.STARTUP, "WriteDaemon.Started", 0, "Write daemon started.",
             "emulator (the tag is real; the text is not captured)", process="write_daemon", weight=0.3),
    Template("startup.mounted", C.STARTUP, "Database.MountedRW", 0, E.MOUNTED_READ_WRITE,
             "real: backup-freeze-thaw-journal-switch.log"),
    Template("startup.webserver", C.STARTUP, "Utility.Event", 0, E.WEBSERVER_STARTED,
             "real: container-startup.log", process="web_server", weight=0.3),
    Template("startup.logons", C.STARTUP, "Utility.Event", 0, E.ENABLING_LOGONS,
             "real: container-startup.log, sharding-node-startup.log", weight=0.5),
    Template("startup.interoperability", C.STARTUP, "Utility.Event", 0,
             "Initializing Interoperability during system startup", "real: sharding-node-startup.log", weight=0.3),
    Template("startup.work_queue", C.STARTUP, "Utility.Event", 0,
             "WorkQueue: Starting work queue daemon parent={control_pid}", "real: sharding-node-startup.log",
             process="work_queue", weight=0.3),
    Template("startup.data_directory_failure", C.STARTUP, "Utility.Event", 3,
             "Error while moving data directories ERROR #5001: Cannot create target: {data_dir}config/",
             "real: startup-failure-moving-data-directories.log (the README's markdown emphasis dropped)", weight=0.2),
    Template("startup.shutdown_requested", C.STARTUP, "Generic.Event", 0,
             E.SHUTDOWN_REQUESTED,
             "emulator (no captured shutdown line)", params={"sessions": _ints(0, 12)}, weight=0.2),
    Template("startup.logons_disabled", C.STARTUP, "Utility.Event", 0, E.DISABLING_LOGONS,
             "emulator (the counterpart of the real 'Enabling logons')", weight=0.2),
    Template("startup.dismounted", C.STARTUP, "Database.Dismounted", 0, E.DISMOUNTED,
             "emulator (no captured shutdown line)", standalone=False),
    Template("startup.journaling_stopped", C.STARTUP, "Generic.Event", 0, E.JOURNALING_STOPPED,
             "emulator (no captured shutdown line)", process="journal_daemon", standalone=False),
    Template("startup.shutdown_complete", C.STARTUP, "Generic.Event", 0, E.SHUTDOWN_COMPLETE,
             "emulator (no captured shutdown line)", standalone=False),
    Template("startup.shutdown_forced", C.STARTUP, "Generic.Event", 1,
             E.SHUTDOWN_FORCED,
             "emulator (no captured shutdown line)", params={"sessions": _ints(1, 40)}, weight=0.2),
    # --- config -----------------------------------------------------------------------------
    Template("config.data_directory", C.CONFIG, "Utility.Event", 0, "ISC_DATA_DIRECTORY={data_dir}",
             "real: durable-sys-first-boot.log", standalone=False),
    Template("config.qlist", C.CONFIG, "Utility.Event", 0, "Executing {install_dir}bin/iris qlist",
             "real: durable-sys-first-boot.log", standalone=False),
    Template("config.update", C.CONFIG, "Utility.Event", 0,
             "Executing {install_dir}bin/iris update {instance} directory={install_dir} datadir={data_dir} "
             "versionid={version}com", "real: durable-sys-first-boot.log", standalone=False),
    Template("config.versions_same", C.CONFIG, "Utility.Event", 0, "Versions are the same",
             "real: durable-sys-first-boot.log", standalone=False),
    Template("config.version_source", C.CONFIG, "Utility.Event", 0, "Source {install_dir}: {version}com",
             "real: durable-sys-first-boot.log", standalone=False),
    Template("config.version_destination", C.CONFIG, "Utility.Event", 0, "Destination {data_dir}: {version}com",
             "real: durable-sys-first-boot.log", standalone=False),
    Template("config.global_buffers_auto", C.CONFIG, "Generic.Event", 1,
             "Global buffer setting requires attention.  Auto-selected 25% of total memory.",
             "real text of 'iris start' console output (unattributed zh article); its severity in messages.log "
             "is inferred from the '1 alert(s) during startup' that follows it"),
    Template("config.max_server_conn", C.CONFIG, "Generic.Event", 2, E.ECP_CLIENT_REFUSED,
             "emulator (the MaxServerConn fault the remediation loop fixes: MaxServerConn is the ECP client limit)",
             process="superserver", params={"connected": _max_server_conn}),
    Template("config.data_directory_failure", C.CONFIG, "Utility.Event", 3,
             "Error while moving data directories ERROR #5001: Cannot create target: {data_dir}config/",
             "real: startup-failure-moving-data-directories.log", weight=0.3),
    # --- license ----------------------------------------------------------------------------
    Template("license.validate", C.LICENSE, "Generic.Event", 0,
             "InterSystems IRIS license file (iris.key) must be validated with License Server.",
             "real: wij-recovery-after-snapshot-restore.log"),
    Template("license.lmfmon_exit", C.LICENSE, "Generic.Event", 0, "LMFMON exited due to halt command executed",
             "real: malformed/timestamp-and-pid-stripped.log (timestamp and pid restored by us)", process="license"),
    Template("license.send_failed", C.LICENSE, "Utility.Event", 2,
             "LMF Error:  Could not send startup message to license server",
             "real: alerts-large-pages-journal-license.log (double space is real)", process="license", weight=2.0),
    Template("license.connect_failed", C.LICENSE, "Utility.Event", 2,
             "LMF error:  Could not connect to license server ({license_server},{license_port}).",
             "real: alerts-large-pages-journal-license.log", process="license"),
    Template("license.invalid_key", C.LICENSE, "Utility.Event", 2,
             "LMF Error: License Server replied 'Invalid Key' to startup message. Server is incompatible with "
             "this product or key.", "real: malformed/timestamp-and-pid-stripped.log (timestamp and pid restored by us)",
             process="license", weight=0.5),
    Template("license.units_low", C.LICENSE, "Generic.Event", 1,
             "License units in use: {used} of {license_units}; new logins will fail when all units are consumed",
             "docs: license unit consumption ($SYSTEM.License.LUConsumed); no captured line",
             params={"used": _license_use}),
    Template("license.limit_exceeded", C.LICENSE, "Generic.Event", 2,
             "License limit exceeded {times} times since instance start.",
             "docs: licence exhaustion as described for the License Server; no captured line; the count only grows",
             params={"times": _counter("license_limit_exceeded", (1, 3), (1, 4), 10 ** 6)}),
    # --- memory / resources -----------------------------------------------------------------
    Template("memory.huge_pages", C.MEMORY, "Generic.Event", 0, E.SHARED_MEMORY_ALLOCATED + E.HUGE_PAGES_SUFFIX,
             "real: huge-pages-allocation.log (the README's markdown emphasis dropped)"),
    Template("memory.breakdown", C.MEMORY, "Generic.Event", 0,
             E.SHARED_MEMORY_BREAKDOWN,
             "real: huge-pages-allocation.log (follows the allocation line in the same millisecond)", standalone=False),
    Template("memory.large_pages_fallback", C.MEMORY, "Generic.Event", 2,
             E.LARGE_PAGES_FALLBACK,
             "real: alerts-large-pages-journal-license.log (double space is real)"),
    Template("memory.abnormal_termination", C.MEMORY, "Generic.Event", 2,
             "Process terminated abnormally (pid {user_pid}, jobid 0x{job_id})",
             "real: alerts-large-pages-journal-license.log", process="clean_daemon"),
    Template("memory.heap_exhausted", C.MEMORY, "Generic.Event", 2,
             E.HEAP_EXHAUSTED,
             "emulator (the gmheap fault the remediation loop fixes)", process=USER_PROCESS,
             params={"gmheap_kb": _heap_kb, "request_kb": _heap_request_kb}),
    Template("memory.allocation_failed", C.MEMORY, "Generic.Event", 3,
             E.LARGE_PAGES_REQUIRED,
             "docs: memlock 64 (large pages required) makes startup fail instead of falling back; no captured line, "
             "wording as the emulator writes it", params={"nr_hugepages": _too_few_huge_pages}, weight=0.3),
    # --- lock table -------------------------------------------------------------------------
    Template("lock.escalation", C.LOCK, "Generic.Event", 0,
             E.LOCK_ESCALATION,
             "docs: LockThreshold (default 1000) lock escalation; no captured line", process=USER_PROCESS,
             params={"table": _choice("SQLUser.Orders", "Sample.Person", "HS_Local.Encounter", "Ens.MessageHeader")}),
    Template("lock.filling", C.LOCK, "Generic.Event", 1,
             "Lock table is {percent}% full ({used} of locksiz={locksiz} bytes in use)",
             "docs: lock table bounded by locksiz/gmheap; no captured line; the fill level only grows until it resets",
             params={"percent": _counter("lock_fill_percent", (75, 85), (1, 6), 99), "used": _lock_used_bytes}),
    Template("lock.full", C.LOCK, "Generic.Event", 2, E.LOCK_TABLE_FULL,
             "docs: an InterSystems FAQ article states that messages.log records this line; no captured line",
             process=USER_PROCESS, weight=1.5),
    Template("lock.full_detail", C.LOCK, "Generic.Event", 2,
             E.LOCK_TABLE_FULL_DETAIL,
             "emulator (the locksiz fault the remediation loop fixes)", params={"demand": _lock_demand}),
    # --- journal ----------------------------------------------------------------------------
    Template("journal.switch", C.JOURNAL, "Generic.Event", 0, "INTERSYSTEMS IRIS JOURNALING SYSTEM MESSAGE",
             "real: backup-freeze-thaw-journal-switch.log (two-line entry)",
             continuation=("Journaling switched to: {next_journal_file}",), process="journal_daemon"),
    Template("journal.freeze_suspending", C.JOURNAL, "Utility.Event", 0, "Backup.General.ExternalFreeze: Suspending system",
             "real: backup-freeze-thaw-journal-switch.log", process="backup"),
    Template("journal.freeze_not_journalled", C.JOURNAL, "Utility.Event", 1,
             "Backup.General.ExternalFreeze: Warning, {db_dir} is not being journalled",
             "real: backup-freeze-thaw-journal-switch.log", process="backup"),
    Template("journal.freeze_count", C.JOURNAL, "Utility.Event", 1,
             "Backup.General.ExternalFreeze: Warning, {databases} databases are not journalled, data will be lost in "
             "them if system crashes while suspended", "real: backup-freeze-thaw-journal-switch.log", process="backup",
             params={"databases": _ints(1, 3)}),
    Template("journal.freeze_restore", C.JOURNAL, "Utility.Event", 0,
             "Backup.General.ExternalFreeze: Start a journal restore for this backup with journal file: {journal_file}",
             "real: backup-freeze-thaw-journal-switch.log", process="backup"),
    Template("journal.freeze_suspended", C.JOURNAL, "Utility.Event", 0, "Backup.General.ExternalFreeze: System suspended",
             "real: backup-freeze-thaw-journal-switch.log", process="backup"),
    Template("journal.thaw_resuming", C.JOURNAL, "Utility.Event", 0, "Backup.General.ExternalThaw: Resuming system",
             "real: backup-freeze-thaw-journal-switch.log", process="backup_thaw"),
    Template("journal.thaw_resumed", C.JOURNAL, "Utility.Event", 0, "Backup.General.ExternalThaw: System resumed",
             "real: backup-freeze-thaw-journal-switch.log", process="backup_thaw"),
    Template("journal.preserving", C.JOURNAL, "Utility.Event", 2,
             "Preserving journal files {journal_file} and later for journal recovery and transaction rollback",
             "real: alerts-large-pages-journal-license.log"),
    Template("journal.io_error", C.JOURNAL, "Generic.Event", 3,
             "Journal I/O error writing {journal_file}; journaled global updates are frozen until it is resolved "
             "(FreezeOnError=1)",
             "docs: FreezeOnError=1 posts severity-3 alerts while the journal daemon retries; no captured line",
             process="journal_daemon", weight=0.3),
    Template("journal.disable_pending", C.JOURNAL, "Generic.Event", 2,
             "Journal I/O error writing {journal_file}; journaling will be disabled if it persists (FreezeOnError=0)",
             "docs: with FreezeOnError=0 the journal daemon retries for about 150 s, then disables journaling; "
             "no captured line", process="journal_daemon", weight=0.3),
    # --- mirror (no captured lines: every wording follows the Mirroring documentation) --------
    Template("mirror.backup_active", C.MIRROR, "Generic.Event", 0,
             "MirrorServer: Connected to primary {mirror_peer} of mirror {mirror_name} as backup failover member",
             "docs: Mirroring chapter (backup failover member states); no captured line", process="mirror"),
    Template("mirror.becoming_primary", C.MIRROR, "Generic.Event", 0, "Becoming primary mirror server",
             "docs: Mirroring chapter (automatic failover); no captured line", process="mirror", weight=0.5),
    Template("mirror.arbiter_lost", C.MIRROR, "Generic.Event", 1,
             "Mirror {mirror_name}: lost contact with the arbiter; automatic failover needs the backup to stay connected",
             "docs: Mirroring chapter (arbiter); no captured line", process="mirror"),
    Template("mirror.backup_lost", C.MIRROR, "Generic.Event", 2,
             "Mirror {mirror_name}: backup {mirror_peer} did not respond within the QoS timeout ({mirror_qos_ms}ms); "
             "continuing without it", "docs: QOSTimeout (default 8000ms) in [Mirrors]; no captured line",
             process="mirror"),
    Template("mirror.journal_behind", C.MIRROR, "Generic.Event", 1,
             "Mirror {mirror_name}: async member {mirror_peer} is {files} journal files behind the primary",
             "docs: Mirror Monitor (databases caught up on backup and async members); no captured line",
             process="mirror", params={"files": _ints(2, 40)}),
    Template("mirror.no_primary", C.MIRROR, "Generic.Event", 3,
             "Mirror {mirror_name}: this member cannot become primary and no other primary is reachable; "
             "mirrored databases remain read-only",
             "docs: Mirroring chapter (failover rules); no captured line", process="mirror", weight=0.3),
    # --- ECP / network (no captured lines: wording follows the [ECP] section documentation) ---
    Template("network.ecp_connected", C.NETWORK, "Generic.Event", 0,
             "ECP connection to data server {ecp_server} ({ecp_address}:{superserver_port}) established",
             "docs: [ECPServers] Name=Address,Port; no captured line", process="ecp"),
    Template("network.ecp_lost", C.NETWORK, "Generic.Event", 1,
             "ECP connection to data server {ecp_server} ({ecp_address}:{superserver_port}) lost; reconnecting every "
             "{ecp_reconnect_interval} seconds for up to {ecp_reconnect_duration} seconds",
             "docs: [ECP] ClientReconnectInterval (5 s) / ClientReconnectDuration (1200 s); no captured line",
             process="ecp"),
    Template("network.ecp_trouble", C.NETWORK, "Generic.Event", 2,
             "ECP data server {ecp_server} has not responded for {ecp_trouble_seconds} seconds; connection is in "
             "trouble state", "docs: [ECP] ServerTroubleDuration (default 60 s); no captured line", process="ecp"),
    Template("network.ecp_failed", C.NETWORK, "Generic.Event", 3,
             "ECP connection to data server {ecp_server} not restored within {ecp_reconnect_duration} seconds; "
             "outstanding requests failed", "docs: [ECP] ClientReconnectDuration; no captured line", process="ecp",
             weight=0.3),
    Template("network.license_server_unreachable", C.NETWORK, "Utility.Event", 2,
             "LMF error:  Could not connect to license server ({license_server},{license_port}).",
             "real: alerts-large-pages-journal-license.log", process="license", weight=0.5),
    Template("network.ecp_clients_refused", C.NETWORK, "Generic.Event", 2, E.ECP_CLIENT_REFUSED,
             "emulator (the MaxServerConn fault the remediation loop fixes: MaxServerConn is the ECP client limit)",
             process="superserver", params={"connected": _max_server_conn}),
)


class _ProfileOnly(Dict[str, str]):
    """Fills the session's profile fields and writes every other field back as ``{name}`` for later."""

    def __missing__(self, key: str) -> str:
        return "{%s}" % key


class Renderer(object):
    """Renders templates for one session.

    The profile is fixed for a session, so its fields are filled in once per template; what is
    left (params, PIDs, journal files) is filled per line. Rendering is the engine's hot path.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        # Every rendered line is valid by construction (check_catalog proves each template; params are digits,
        # fixed choices and these fields), so writers need not validate each line again: check the fields once.
        for name, value in session.fields.items():
            reason = iris_log.unprintable_reason(value)
            if reason:
                raise ValueError("%s: %s" % (name, reason))
        # Braces inside profile values must not be read as fields in the second pass.
        self._profile = _ProfileOnly((key, value.replace("{", "{{").replace("}", "}}"))
                                     for key, value in session.fields.items())
        self._prepared: Dict[str, Prepared] = {}

    def _prepare(self, template: Template) -> "Prepared":
        text = template.text.format_map(self._profile)
        continuation = tuple(line.format_map(self._profile) for line in template.continuation)
        if "{" in text or any("{" in line for line in continuation):
            prepared: Prepared = (text, continuation, (_compile(text),) + tuple(_compile(line) for line in continuation))
        else:  # undo the escaping: these lines are final
            prepared = (text.replace("{{", "{").replace("}}", "}"),
                        tuple(line.replace("{{", "{").replace("}}", "}") for line in continuation), None)
        self._prepared[template.key] = prepared
        return prepared

    def render(self, template: Template, pid: int) -> Tuple[str, Tuple[str, ...]]:
        """The template's text and continuation lines with every field filled (``{pid}``: the writer's PID)."""
        text, continuation, compiled = self._prepared.get(template.key) or self._prepare(template)
        if compiled is None:
            return text, continuation
        # Fields are filled left to right, each once per line: a value may also fill a companion (db_dir: sfn).
        values: Dict[str, str] = {"pid": str(pid)}
        params, session = template.params, self.session
        lines = []
        for parts in compiled:
            pieces = []
            for literal, name in parts:
                pieces.append(literal)
                if name is not None:
                    value = values.get(name)
                    if value is None:
                        value = values[name] = (params.get(name) or COMMON_PARAMS[name])(session, values)
                    pieces.append(value)
            lines.append("".join(pieces))
        return lines[0], tuple(lines[1:])


# A template line after the profile pass: literal text and the dynamic field after it (None at the end).
CompiledLine = Tuple[Tuple[str, Optional[str]], ...]
# Per template: text, continuation and, when fields are left, each line compiled (None: the lines are final).
Prepared = Tuple[str, Tuple[str, ...], Optional[Tuple[CompiledLine, ...]]]


def _compile(line: str) -> CompiledLine:
    """``"a {x} b"`` -> ``(("a ", "x"), (" b", None))``, parsed once per template and session (not per line)."""
    parts = []
    for literal, name, spec, conversion in string.Formatter().parse(line):
        if spec or conversion:
            raise ValueError("template field {%s} has a format spec or conversion; fields are plain names" % name)
        parts.append((literal, name or None))
    return tuple(parts)


def by_key() -> Dict[str, Template]:
    return {template.key: template for template in TEMPLATES}


def select(categories: List[MessageCategory], severities: frozenset[int]) -> List[Template]:
    """Templates of the requested categories whose severity is allowed, in catalog order."""
    wanted = set(categories)
    return [template for template in TEMPLATES if template.category in wanted and template.severity in severities]


def tags_for(category: MessageCategory) -> frozenset[str]:
    """The ``[Facility.Event]`` tags this category's messages are written with."""
    return frozenset(template.tag for template in TEMPLATES if template.category == category)


def check_catalog(seed: int = 0) -> None:
    """Render every template once and prove it writes a valid entry (run at import; cheap)."""
    from datetime import datetime, timezone

    session = Session(datetime(2025, 1, 1, tzinfo=timezone.utc), seed=seed)
    renderer = Renderer(session)
    for template in TEMPLATES:
        clash = set(template.params) & set(session.fields)
        if clash:  # the profile is filled in first, so it would silently win
            raise ValueError("template %s: params %s shadow profile fields" % (template.key, sorted(clash)))
        pid = session.pid(template.process)
        text, continuation = renderer.render(template, pid)
        iris_log.make_entry(session.now, pid, template.severity, template.tag, text, continuation)


check_catalog()
