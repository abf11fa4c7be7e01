# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The template engine: format, categories, severities, determinism, clock, PIDs, scenarios, bad options.

Generated entries are written as messages.log text and read back with iris_log, so every check
sees what a monitor would see. The catalog's "real:" templates are checked against the real lines
in log_samples/ they claim to come from.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import pytest

from ansible_collections.irisops.iris.plugins.module_utils import iris_log
from ansible_collections.irisops.iris.plugins.module_utils.cpf import CpfDocument
from ansible_collections.irisops.iris.plugins.module_utils.cpf_catalog import estimate_shared_memory
from ansible_collections.irisops.iris.plugins.plugin_utils.errors import ValidationError
from ansible_collections.irisops.iris.plugins.plugin_utils.generator import catalog, engine
from ansible_collections.irisops.iris.plugins.plugin_utils.generator.scenarios import SCENARIOS, Scenario
from ansible_collections.irisops.iris.plugins.plugin_utils.generator.session import PID_RANGE, Session
from ansible_collections.irisops.iris.plugins.plugin_utils.models import MessageCategory

REPO = Path(__file__).resolve().parents[5]
SAMPLES = REPO / "log_samples" / "messages"
# The seed's pattern, verbatim (T026).
SEED_REGEX = re.compile(r"(\d{2}/\d{2}/\d{2}-\d{2}:\d{2}:\d{2}:\d{3})\s+\((\d+)\)\s+(\d)\s+\[([\w.]+)\]\s+(.*)")
START = datetime(2025, 3, 1, 8, 0, 0, tzinfo=timezone.utc)
ALL = frozenset(range(4))


def generate(categories: Sequence[str], count: int, severity: Any = None, seed: Optional[int] = 7,
             **options: Any) -> List[iris_log.LogEntry]:
    spec = engine.build_spec(list(categories), count=count, severity=severity, seed=seed, start_time=START, **options)
    return list(engine.generate(spec, START))


def as_log(entries: Sequence[iris_log.LogEntry]) -> str:
    return "".join(iris_log.format_entry(entry) + "\n" for entry in entries)


def read_back(entries: Sequence[iris_log.LogEntry]) -> List[iris_log.LogEntry]:
    parsed, malformed = iris_log.parse_text(as_log(entries))
    assert malformed == []
    return parsed


def template_pattern(template: catalog.Template) -> "re.Pattern[str]":
    """The template's text as a regex: literal text, any value where a field is."""
    parts = re.split(r"\{[a-z_]+\}", template.text)
    return re.compile("^" + "(.+?)".join(re.escape(part) for part in parts) + "$", re.DOTALL)


PATTERNS = {template.key: template_pattern(template) for template in catalog.TEMPLATES}


def templates_of(entry: iris_log.LogEntry) -> List[str]:
    """Keys of the catalog templates that could have written ``entry``."""
    return [template.key for template in catalog.TEMPLATES
            if template.tag == entry.category and template.severity == entry.severity
            and PATTERNS[template.key].match(entry.text)]


@pytest.mark.parametrize("category", [category.value for category in MessageCategory])
def test_every_entry_reads_back_identically_and_matches_the_seed_regex(category: str) -> None:
    entries = generate([category], 400)
    parsed = read_back(entries)
    assert len(parsed) == len(entries) == 400
    for original, back in zip(entries, parsed):
        assert (back.timestamp, back.pid, back.severity, back.category, back.text, back.continuation) == (
            original.timestamp, original.pid, original.severity, original.category, original.text, original.continuation)
        header = iris_log.format_entry(original).split("\n", 1)[0]
        if original.text:
            assert SEED_REGEX.fullmatch(header), header
        else:
            # The startup banner: real IRIS ends this header right after the tag and writes the text below it,
            # a form the seed's regex (which wants a space and text) cannot express; iris_log reads it.
            assert SEED_REGEX.fullmatch(header + " "), header
            assert original.continuation[0].startswith("Startup of InterSystems IRIS [")


def test_at_least_eight_categories_with_real_facility_event_tags() -> None:
    assert len(MessageCategory) >= 8
    real_tags = {entry.category for path in SAMPLES.glob("*.log")
                 for entry in iris_log.parse_text(path.read_text(encoding="utf-8"))[0]}
    for category in MessageCategory:
        templates = [template for template in catalog.TEMPLATES if template.category == category]
        assert len(templates) >= 4, category
        assert len({template.severity for template in templates}) >= 3, category
        tags = catalog.tags_for(category)
        assert tags & real_tags, "%s messages use no tag seen in a real messages.log: %s" % (category, tags)
        for tag in tags:
            assert re.fullmatch(r"[A-Z][A-Za-z]+\.[A-Z][A-Za-z.]+", tag), tag


@pytest.mark.parametrize("category", [category.value for category in MessageCategory])
def test_generated_entries_come_from_their_category_templates(category: str) -> None:
    allowed = {template.key for template in catalog.TEMPLATES if template.category.value == category}
    scenario_keys = {step.key for scenario in SCENARIOS if scenario.category.value == category for step in scenario.steps
                     if catalog.by_key()[step.key].category.value == category}
    for entry in generate([category], 300, seed=11):
        keys = set(templates_of(entry))
        assert keys & (allowed | scenario_keys), iris_log.format_entry(entry)


def test_real_templates_match_the_real_lines_they_cite() -> None:
    """A template whose source says "real: <file>" must reproduce a line of that file (markdown emphasis aside)."""
    checked = 0
    for template in catalog.TEMPLATES:
        if not template.source.startswith("real:"):
            continue
        files = [name.split(" (")[0].strip() for name in template.source[len("real:"):].split(",")]
        lines = []
        for name in files:
            for raw in (SAMPLES / name).read_text(encoding="utf-8").splitlines():
                # Quoted lines may have lost their timestamp and pid; compare from the tag on.
                tagged = re.search(r"\d \[([\w.]+)\] ?(.*)$", raw.replace("*", ""))
                if tagged:
                    lines.append((tagged.group(1), tagged.group(2)))
        assert any(tag == template.tag and template_pattern(template).match(text) for tag, text in lines), template.key
        checked += 1
    assert checked >= 20


@pytest.mark.parametrize("severity,expected", [
    ("2-3", {2, 3}), ("0", {0}), ([1, 3], {1, 3}), ("warning", {1}), ("severe-fatal", {2, 3}), ("0,2", {0, 2}),
    (None, {0, 1, 2, 3}),
])
def test_severities_are_honoured_and_all_allowed_ones_occur(severity: Any, expected: set[int]) -> None:
    categories = [category.value for category in MessageCategory]
    entries = generate(categories, 600, severity=severity)
    assert {entry.severity for entry in entries} == expected


def test_count_is_split_across_categories_and_all_appear() -> None:
    entries = generate(["lock", "mirror", "network"], 300)
    seen = set()
    for entry in entries:
        categories = {catalog.by_key()[key].category.value for key in templates_of(entry)}
        assert categories & {"lock", "mirror", "network"}, iris_log.format_entry(entry)
        seen |= categories
    assert seen >= {"lock", "mirror", "network"}
    assert len(entries) == 300


def test_same_seed_same_output_and_another_seed_differs() -> None:
    first = as_log(generate(["startup", "license", "lock"], 500, seed=42))
    second = as_log(generate(["startup", "license", "lock"], 500, seed=42))
    other = as_log(generate(["startup", "license", "lock"], 500, seed=43))
    assert first == second
    assert first != other


def test_timestamps_never_go_backwards_and_follow_start_and_rate() -> None:
    entries = generate(["mirror", "memory"], 2000, rate=10.0, jitter=0.5)
    stamps = [entry.timestamp for entry in entries]
    assert stamps[0] >= START
    assert all(later >= earlier for earlier, later in zip(stamps, stamps[1:]))
    assert all(stamp.microsecond % 1000 == 0 for stamp in stamps)
    # Single lines come ~100 ms apart at rate 10; episodes keep their own (longer) pacing on top.
    single_gaps = [later - earlier for earlier, later in zip(stamps, stamps[1:]) if later - earlier <= timedelta(seconds=1)]
    mean_ms = sum(gap.total_seconds() for gap in single_gaps) / len(single_gaps) * 1000
    assert 50 <= mean_ms <= 150


def test_high_rate_still_moves_the_clock() -> None:
    entries = generate(["config"], 5000, severity="2-3", rate=20000.0, jitter=0.0)  # no episode at 2-3
    # 5000 ticks of 0.05 ms: the millisecond clock moves 250 ms in all (249 when float sums fall just short).
    assert entries[-1].timestamp - entries[0].timestamp in (timedelta(milliseconds=249), timedelta(milliseconds=250))
    assert len({entry.timestamp for entry in entries}) >= 249


def test_daemon_pids_are_stable_and_user_pids_are_fresh() -> None:
    # licence + lock + network: no episode restarts the instance, so daemons keep their PID for the whole run.
    entries = generate(["license", "lock", "network"], 1500, seed=5)
    pids_by_process: Dict[str, set[int]] = defaultdict(set)
    user_pids: List[int] = []
    for entry in entries:
        keys = templates_of(entry)
        processes = {catalog.by_key()[key].process for key in keys}
        assert len(processes) == 1, (keys, iris_log.format_entry(entry))
        process = processes.pop()
        assert PID_RANGE[0] <= entry.pid <= PID_RANGE[1]
        if process == catalog.USER_PROCESS:
            user_pids.append(entry.pid)
        else:
            pids_by_process[process].add(entry.pid)
    assert len(pids_by_process) >= 3
    assert all(len(pids) == 1 for pids in pids_by_process.values()), dict(pids_by_process)
    daemons = {pid for pids in pids_by_process.values() for pid in pids}
    assert len(daemons) == len(pids_by_process), "two daemons share a PID"
    assert user_pids and not daemons & set(user_pids)
    assert len(set(user_pids)) > len(user_pids) // 2


def test_lock_escalation_names_its_own_pid() -> None:
    escalations = [entry for entry in generate(["lock"], 300) if entry.text.startswith("Lock escalation")]
    assert escalations
    for entry in escalations:
        assert "process %d escalated" % entry.pid in entry.text


def test_a_million_user_pids_wrap_without_repeating_a_daemon_pid() -> None:
    session = Session(START, seed=1)
    daemon = session.pid("control")
    seen = set()
    for unused in range(400_000):
        pid = session.new_pid()
        assert pid != daemon
        seen.add(pid)
    assert min(seen) < PID_RANGE[0] + 400 and max(seen) > PID_RANGE[1] - 400


def find_episodes(entries: Sequence[iris_log.LogEntry], keys: Sequence[str]) -> List[List[iris_log.LogEntry]]:
    """Runs of consecutive entries written by the templates ``keys`` in order."""
    found = []
    for start in range(len(entries) - len(keys) + 1):
        window = entries[start:start + len(keys)]
        if all(key in templates_of(entry) for key, entry in zip(keys, window)):
            found.append(list(window))
    return found


def kept_steps(scenario: Scenario) -> List[Tuple[str, int, int]]:
    """(key, min gap, max gap) of the steps a request for the scenario's own category keeps."""
    kept = []
    low = high = 0
    for step in scenario.steps:
        low, high = low + step.delay_ms[0], high + step.delay_ms[1]
        if catalog.by_key()[step.key].category == scenario.category:
            kept.append((step.key, low, high))
            low = high = 0
    return kept


def paced(episode: Sequence[iris_log.LogEntry], steps: Sequence[Tuple[str, int, int]]) -> bool:
    """Every gap within the step's range (+-1 ms: the clock keeps fractions, the log shows whole ms)."""
    gaps = [(later.timestamp - earlier.timestamp) / timedelta(milliseconds=1) for earlier, later in zip(episode, episode[1:])]
    return all(low - 1 <= gap <= high + 1 for gap, (unused, low, high) in zip(gaps, steps[1:]))


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[scenario.name for scenario in SCENARIOS])
def test_scenarios_appear_whole_in_order_with_their_pacing(scenario: Scenario) -> None:
    steps = kept_steps(scenario)
    entries = generate([scenario.category.value], 600, seed=3)
    episodes = [episode for episode in find_episodes(entries, [key for key, unused_low, unused_high in steps])
                if paced(episode, steps)]
    assert episodes, "no %s episode in 600 %s lines" % (scenario.name, scenario.category.value)


def test_episodes_are_a_minority_of_the_lines() -> None:
    entries = generate(["startup"], 3000, seed=9)
    banners = sum(1 for entry in entries if entry.continuation and entry.continuation[0].startswith("Startup of"))
    # About 35% of the lines belong to episodes of ~12 startup lines: 3000 * 0.35 / 12 ~ 90 startups.
    assert 40 <= banners <= 150


def test_startup_episode_is_one_control_process_and_a_restart_renews_daemon_pids() -> None:
    entries = generate(["startup"], 1500, seed=4)
    starts = [index for index, entry in enumerate(entries)
              if entry.continuation and entry.continuation[0].startswith("Startup of")]
    assert len(starts) >= 2
    control_pids = []
    for index in starts:
        episode = entries[index:index + 4]  # banner, shared memory, AES-NI, WIJ (startup category only)
        assert [templates_of(entry)[0] for entry in episode] == [
            "startup.banner", "startup.shared_memory", "startup.aes_ni", "startup.wij_file"]
        assert episode[0].pid == episode[1].pid == episode[2].pid != episode[3].pid
        control_pids.append(episode[0].pid)
    assert len(set(control_pids)) == len(control_pids)


def test_a_restart_is_a_shutdown_then_a_startup_with_new_daemons() -> None:
    entries = generate(["startup"], 800, seed=12)
    banners = [index for index, entry in enumerate(entries)
               if entry.continuation and entry.continuation[0].startswith("Startup of")]
    assert banners
    for index in banners:
        if index == 0:
            continue  # a run may begin with the startup itself when the count cuts the shutdown off
        before = entries[index - 1]
        assert before.text == "Shutdown of InterSystems IRIS complete"
        assert (entries[index].timestamp - before.timestamp) >= timedelta(seconds=5)
        assert before.pid != entries[index].pid


def test_lock_table_fills_up_consistently_and_counts_only_grow() -> None:
    entries = generate(["lock", "license"], 2000, seed=13)
    fills = [re.fullmatch(r"Lock table is (\d+)% full \((\d+) of locksiz=(\d+) bytes in use\)", entry.text)
             for entry in entries]
    levels = [(int(m.group(1)), int(m.group(2)), int(m.group(3))) for m in fills if m]
    assert len(levels) >= 5
    for percent, used, locksiz in levels:
        assert 75 <= percent <= 99 and used == locksiz * percent // 100
    rises = sum(1 for (a, unused_u, unused_l), (b, unused_v, unused_m) in zip(levels, levels[1:]) if b > a)
    assert rises >= len(levels) // 2  # it grows until the table is emptied and starts over
    exceeded = [int(m.group(1)) for entry in entries
                for m in [re.fullmatch(r"License limit exceeded (\d+) times since instance start\.", entry.text)] if m]
    assert len(exceeded) >= 5 and exceeded == sorted(exceeded)


def test_profile_values_agree_within_a_run() -> None:
    entries = generate(["memory", "startup"], 1500, seed=8)
    allocations = {entry.text for entry in entries if re.match(r"Allocated \d+MB shared memory: ", entry.text)}
    assert len(allocations) == 1
    huge = [int(m.group(1)) for entry in entries for m in [re.match(r"Allocated (\d+)MB shared memory using", entry.text)] if m]
    breakdown = [sum(int(n) for n in re.findall(r"(\d+)MB", entry.text)) for entry in entries
                 if entry.text.endswith("10MB miscellaneous")]
    assert huge and breakdown and set(huge) == set(breakdown)


@pytest.mark.parametrize("seed", [1, 8, 31])
def test_generated_allocation_is_sized_like_cpf_info_sizes_the_cpf(seed: int) -> None:
    """The generator's shared memory is cpf_catalog's estimate of a CPF with the profile's buffers and heap."""
    profile = Session(datetime(2025, 1, 1, tzinfo=timezone.utc), seed=seed).profile
    doc = CpfDocument.parse(("[config]\nglobals=0,0,%d,0,0,0\nroutines=%d\njrnbufs=%d\ngmheap=%d\n" % (
        profile.global_buffers_mb, profile.routine_buffers_mb, profile.journal_buffers_mb,
        profile.heap_mb * 1024)).encode())
    estimate = estimate_shared_memory(doc)
    assert profile.memory == estimate
    fields = profile.template_fields()
    assert (fields["shared_memory_mb"], fields["buffer_descriptors_mb"]) == (
        str(estimate.total_mb), str(estimate.buffer_descriptors_mb))


def test_journal_switches_name_the_day_and_count_up() -> None:
    entries = generate(["journal"], 800, seed=2, rate=0.01)
    switches = [(entry.timestamp, entry.continuation[0]) for entry in entries if entry.continuation]
    assert len(switches) >= 3
    numbers: Dict[str, List[int]] = defaultdict(list)
    for stamp, line in switches:
        match = re.fullmatch(r"Journaling switched to: \S+/(\d{8})\.(\d{3})", line)
        assert match, line
        assert match.group(1) == stamp.strftime("%Y%m%d")
        numbers[match.group(1)].append(int(match.group(2)))
    assert any(len(values) > 1 for values in numbers.values())
    for values in numbers.values():
        assert values == sorted(values) and len(set(values)) == len(values)


def test_mounted_databases_keep_their_sfn() -> None:
    entries = generate(["startup"], 1000, seed=6)
    sfn_by_dir: Dict[str, set[str]] = defaultdict(set)
    for entry in entries:
        match = re.fullmatch(r"Mounted database (\S+) \(SFN (\d+)\) read-write\.", entry.text)
        if match:
            sfn_by_dir[match.group(1)].add(match.group(2))
    assert len(sfn_by_dir) >= 3
    assert all(len(sfns) == 1 for sfns in sfn_by_dir.values())


@pytest.mark.parametrize("options,path,fragment", [
    (dict(category="disk"), "$.categories[0]", "disk"),
    (dict(category=[]), "category", "empty"),
    (dict(category="lock", count=0), "$.count", "minimum"),
    (dict(category="lock", count=100_001), "$.count", "maximum"),
    (dict(category="lock", severity="5"), "severity", "0-3"),
    (dict(category="lock", severity="3-1"), "severity", "backwards"),
    (dict(category="lock", severity="loud"), "severity", "loud"),
    (dict(category="lock", severity="3"), "severity", "no lock messages exist at severity 3"),
    (dict(category="lock", engine="gpt"), "$.engine", "gpt"),
    (dict(category="lock", rate=0.0), "rate", "> 0"),
    (dict(category="lock", jitter=1.5), "jitter", "0..1"),
    (dict(category="lock", start_time=datetime(2025, 1, 1)), "start_time", "naive"),
    (dict(category="lock", start_time=datetime(2100, 1, 1, tzinfo=timezone.utc)), "start_time", "2-digit"),
    (dict(category="lock", instance="bad name!"), "$.instance", "bad name!"),
    (dict(category="lock", trace_id="xyz"), "$.trace_id", "xyz"),
])
def test_bad_options_name_the_field_and_the_reason(options: Dict[str, Any], path: str, fragment: str) -> None:
    category = options.pop("category")
    with pytest.raises(ValidationError) as raised:
        engine.build_spec(category, **options)
    assert any(error_path == path and fragment in reason for error_path, reason in raised.value.errors), \
        raised.value.errors
    assert path.split(".")[-1].split("[")[0] in str(raised.value)


def test_category_may_be_comma_separated_and_any_case() -> None:
    spec = engine.build_spec(" Lock, MIRROR ", count=5)
    assert [category.value for category in spec.categories] == ["lock", "mirror"]


@pytest.mark.parametrize("options,message", [
    (dict(start=datetime(2025, 1, 1)), "start_time: must carry a timezone offset"),
    (dict(rate=0), "rate: must be > 0"),
    (dict(jitter=-0.1), "jitter: must be between 0 and 1"),
])
def test_session_refuses_impossible_clocks(options: Dict[str, Any], message: str) -> None:
    arguments: Dict[str, Any] = dict(start=START)
    arguments.update(options)
    with pytest.raises(ValueError, match=message):
        Session(**arguments)


def test_engine_refuses_a_request_no_template_can_answer() -> None:
    with pytest.raises(ValidationError, match=r"severity: no template matches categories \['lock'\] at severities \[3\]"):
        engine.TemplateEngine([MessageCategory.LOCK], frozenset({3}), Session(START))


# Configuration values lines name, and the pattern that finds each (issue 17: one instance profile per run).
CONFIGURATION_IN_TEXT = {
    "MaxServerConn": re.compile(r"MaxServerConn=(\d+) ECP clients \((\d+) connected\)"),
    "license units": re.compile(r"License units in use: \d+ of (\d+);"),
    "LockThreshold": re.compile(r"after (\d+) row locks"),
    "QOSTimeout": re.compile(r"QoS timeout \((\d+)ms\)"),
    "ClientReconnectInterval": re.compile(r"reconnecting every (\d+) seconds"),
    "ClientReconnectDuration": re.compile(r"(?:for up to|not restored within) (\d+) seconds"),
    "ServerTroubleDuration": re.compile(r"has not responded for (\d+) seconds"),
}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_one_instance_profile_per_run_configuration_never_varies(seed: int) -> None:
    entries = generate([category.value for category in MessageCategory], 4000, seed=seed)
    seen: Dict[str, set] = defaultdict(set)  # type: ignore[type-arg]
    for entry in entries:
        for name, pattern in CONFIGURATION_IN_TEXT.items():
            for match in pattern.finditer(entry.full_text):
                seen[name].update(match.groups())
    assert set(seen) == set(CONFIGURATION_IN_TEXT), "a run of 4000 lines names every setting"
    assert {name: len(values) for name, values in seen.items()} == {name: 1 for name in CONFIGURATION_IN_TEXT}, seen


def test_maxserverconn_lines_speak_of_ecp_clients_as_the_emulator_does() -> None:
    """MaxServerConn is IRIS's ECP client limit; the lines use the emulator's wording so the remediation loop applies."""
    entries = generate(["config", "network"], 3000, severity="severe", seed=5)
    refused = [entry for entry in entries if "MaxServerConn" in entry.text]
    assert refused and all(entry.text.startswith("ECP connection from application server refused: this data "
                                                 "server already serves MaxServerConn=") for entry in refused)
    assert not any("session" in entry.text for entry in refused)
