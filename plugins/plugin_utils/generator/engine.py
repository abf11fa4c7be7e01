# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The template engine (offline default) and the validated generation spec shared with the LLM backend.

``build_spec`` turns user options into a ``GenerationSpec`` (the published MessageGenerationRequest
contract plus the options only the engines need) or raises ValidationError naming the field.
``TemplateEngine.entries`` is a generator: memory stays constant whatever the count.
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

from ansible_collections.irisops.iris.plugins.module_utils import iris_log
from ansible_collections.irisops.iris.plugins.plugin_utils import contracts
from ansible_collections.irisops.iris.plugins.plugin_utils.errors import ValidationError
from ansible_collections.irisops.iris.plugins.plugin_utils.generator import catalog
from ansible_collections.irisops.iris.plugins.plugin_utils.generator.scenarios import SCENARIOS, Scenario
from ansible_collections.irisops.iris.plugins.plugin_utils.generator.session import Session
from ansible_collections.irisops.iris.plugins.plugin_utils.models import MessageCategory, MessageGenerationRequest

# Share of the generated lines that belong to scenario episodes (the rest are single lines): enough that
# every run of a few dozen lines shows episodes, few enough that a startup does not follow every other line.
SCENARIO_LINE_SHARE = 0.35
# A scenario filtered down to fewer lines than this is no longer an episode.
MIN_SCENARIO_STEPS = 2

SeverityOption = Union[int, str, Sequence[Union[int, str]], None]


@dataclass(frozen=True)
class EpisodeStep:
    """A scenario step as one request plays it: the template, the gap before it, whether the instance restarts."""

    template: catalog.Template
    min_delay_ms: int
    max_delay_ms: int
    restart: bool


@dataclass(frozen=True)
class GenerationSpec:
    request: MessageGenerationRequest
    severities: frozenset[int]
    rate: float = 1.0
    jitter: float = 0.5

    @property
    def categories(self) -> List[MessageCategory]:
        return list(self.request.categories)

    def session(self, default_start: datetime) -> Session:
        return Session(self.request.start_time or default_start, seed=self.request.seed, rate=self.rate,
                       jitter=self.jitter, instance=self.request.instance)


def parse_severities(value: SeverityOption) -> frozenset[int]:
    """``"2-3"``, ``2``, ``"severe"``, ``[0, 2]`` or ``"0,2"`` -> the set of allowed severities."""
    if value is None or value == "":
        return frozenset(range(iris_log.MIN_SEVERITY, iris_log.MAX_SEVERITY + 1))
    items: Iterable[Union[int, str]]
    if isinstance(value, (list, tuple)):
        items = value
    elif isinstance(value, str) and "," in value:
        items = value.split(",")
    else:
        items = [value]  # type: ignore[list-item]
    allowed: set[int] = set()
    try:
        for item in items:
            if isinstance(item, str) and "-" in item.strip().lstrip("-"):
                low, high = (iris_log.parse_severity(part) for part in item.split("-", 1))
                if low > high:
                    raise ValidationError("severity: range %r runs backwards (write it low-high)" % item,
                                          [("severity", "range %r runs backwards" % item)])
                allowed.update(range(low, high + 1))
            else:
                allowed.add(iris_log.parse_severity(item))
    except iris_log.LogFormatError as exc:
        raise ValidationError(str(exc), [("severity", str(exc))]) from None
    return frozenset(allowed)


def parse_categories(value: Union[str, Sequence[str], None]) -> List[str]:
    names = value.split(",") if isinstance(value, str) else list(value or [])
    categories = [str(name).strip().lower() for name in names if str(name).strip()]
    if not categories:
        raise ValidationError("category: at least one of %s is required" % ", ".join(c.value for c in MessageCategory),
                              [("category", "empty")])
    return categories


def build_spec(
    category: Union[str, Sequence[str], None],
    count: int = 10,
    severity: SeverityOption = None,
    engine: str = "template",
    seed: Optional[int] = None,
    start_time: Optional[datetime] = None,
    instance: Optional[str] = None,
    trace_id: Optional[str] = None,
    rate: float = 1.0,
    jitter: float = 0.5,
) -> GenerationSpec:
    """Validate the options against the MessageGenerationRequest contract; ValidationError names each field."""
    severities = parse_severities(severity)
    if rate <= 0:
        raise ValidationError("rate: must be > 0 messages per second, got %r" % rate, [("rate", "must be > 0")])
    if not 0 <= jitter <= 1:
        raise ValidationError("jitter: must be between 0 and 1, got %r" % jitter, [("jitter", "must be 0..1")])
    if start_time is not None and start_time.tzinfo is None:
        raise ValidationError("start_time: must carry a timezone", [("start_time", "naive datetime")])
    if start_time is not None and not iris_log.FIRST_YEAR <= start_time.year <= iris_log.LAST_YEAR:
        reason = "year %d cannot be written as a 2-digit IRIS year (%d-%d)" % (
            start_time.year, iris_log.FIRST_YEAR, iris_log.LAST_YEAR)
        raise ValidationError("start_time: %s" % reason, [("start_time", reason)])
    document: dict[str, Any] = {
        "categories": parse_categories(category),
        "count": count,
        "severity_min": min(severities),
        "severity_max": max(severities),
        "engine": engine,
    }
    optional = {"seed": seed, "start_time": start_time.isoformat() if start_time else None,
                "instance": instance, "trace_id": trace_id}
    document.update((key, value) for key, value in optional.items() if value is not None)
    request = contracts.validate("message_generation_request", document, MessageGenerationRequest)
    if not catalog.select(list(request.categories), severities):
        reason = "no %s messages exist at severity %s" % (
            "/".join(c.value for c in request.categories), ",".join(str(s) for s in sorted(severities)))
        raise ValidationError("severity: %s" % reason, [("severity", reason)])
    return GenerationSpec(request, severities, rate, jitter)


class TemplateEngine(object):
    """Draws single lines and scenario episodes from the catalog; deterministic for a seeded session."""

    def __init__(self, categories: Sequence[MessageCategory], severities: frozenset[int], session: Session) -> None:
        self.session = session
        self.renderer = catalog.Renderer(session)
        self.templates = [template for template in catalog.select(list(categories), severities) if template.standalone]
        self._cumulative_weights = list(itertools.accumulate(template.weight for template in self.templates))
        known = catalog.by_key()
        wanted = set(categories)
        self.episodes: List[Tuple[Scenario, Tuple[EpisodeStep, ...]]] = []
        for scenario in SCENARIOS:
            steps = self._eligible_steps(scenario, known, wanted, severities)
            if scenario.category in wanted and len(steps) >= MIN_SCENARIO_STEPS:
                self.episodes.append((scenario, steps))
        if not self.templates and not self.episodes:
            raise ValidationError("severity: no template matches categories %s at severities %s"
                                  % ([c.value for c in categories], sorted(severities)), [("severity", "no match")])
        self.episode_chance = self._episode_chance()

    def _episode_chance(self) -> float:
        """Chance that a draw starts an episode, so that episodes make up SCENARIO_LINE_SHARE of the lines."""
        if not self.episodes:
            return 0.0
        if not self.templates:
            return 1.0
        mean_length = sum(len(steps) for unused, steps in self.episodes) / len(self.episodes)
        share = SCENARIO_LINE_SHARE
        return share / (mean_length * (1 - share) + share)

    @staticmethod
    def _eligible_steps(scenario: Scenario, known: dict[str, catalog.Template], wanted: set[MessageCategory],
                        severities: frozenset[int]) -> Tuple[EpisodeStep, ...]:
        """The steps the request allows; a left-out step's delay (and restart) goes to the next step, so pacing stays real."""
        picked = []
        carried_low = carried_high = 0
        carried_restart = False
        for step in scenario.steps:
            template = known[step.key]
            low, high = carried_low + step.delay_ms[0], carried_high + step.delay_ms[1]
            restart = carried_restart or step.restart
            if template.category in wanted and template.severity in severities:
                picked.append(EpisodeStep(template, low, high, restart))
                carried_low = carried_high = 0
                carried_restart = False
            else:
                carried_low, carried_high, carried_restart = low, high, restart
        return tuple(picked)

    def entry(self, template: catalog.Template, timestamp: datetime) -> iris_log.LogEntry:
        session = self.session
        pid = session.new_pid() if template.process == catalog.USER_PROCESS else session.pid(template.process)
        text, continuation = self.renderer.render(template, pid)
        return iris_log.LogEntry.build(timestamp, pid, template.severity, template.tag, text, continuation)

    def entries(self, count: int) -> Iterator[iris_log.LogEntry]:
        """``count`` entries in time order: single lines at the session's rate, episodes at their own pace."""
        session = self.session
        # Bound once: this loop runs per line, and attribute lookups were a visible share of its cost.
        random, tick, entry = session.rng.random, session.tick, self.entry
        templates, weights, episodes, chance = self.templates, self._cumulative_weights, self.episodes, self.episode_chance
        total_weight = weights[-1] if weights else 0.0
        produced = 0
        while produced < count:
            if episodes and random() < chance:
                unused_scenario, episode = session.rng.choice(episodes)
                first = True
                for step in episode[:count - produced]:
                    timestamp = tick() if first else session.advance(step.min_delay_ms, step.max_delay_ms)
                    first = False
                    if step.restart:
                        session.restart()
                    yield entry(step.template, timestamp)
                    produced += 1
                continue
            yield entry(templates[bisect.bisect(weights, random() * total_weight)], tick())
            produced += 1


def generate(spec: GenerationSpec, default_start: datetime) -> Iterator[iris_log.LogEntry]:
    """The template engine's entries for ``spec`` (its own session)."""
    session = spec.session(default_start)
    return TemplateEngine(spec.categories, spec.severities, session).entries(spec.request.count)
