"""Every protocol names its sources; every published number says what it is (issue #29, item 3).

A task's protocol (the docstring of its package, `Task.protocol`) has a "Sources" section: one
bullet per group of defaults, each saying where the default comes from and where that was read
("read", "not read at the source") or that it is ntkbench's own choice, and every budget field is
named in it. Every published entry's `source` says whether its value is an average and over what
("value: mean ...", "value: one run ...") or that this was "not read at the source".
"""

from __future__ import annotations

import dataclasses
import re

import pytest

from ntkbench.orchestration.reproduce import registry
from ntkbench.tasks import all_tasks

# Tasks whose protocol is being traced by another change, with what is missing. A task stays here
# only while it is incomplete: `test_pending_tasks_are_still_pending` fails once it is done.
PENDING = {"adversarial": "its Sources section and its published entries' `value:` clauses (issue #29 item 3)"}

# "Sources" opening a paragraph (it may run over several lines), then its bullets up to a blank line.
SECTION = re.compile(r"^Sources\b(?:[^\n]+\n)*?(?=- )((?:[- ][^\n]*\n?)+)", re.M)
# How a bullet says where its default comes from.
TRACED = re.compile(r"\bread\b|not read at the source|ntkbench's own|no external source", re.I)
VALUE = re.compile(r"\bvalue: (mean|one run|not read at the source)\b")


def sources_section(protocol: str) -> str | None:
    match = SECTION.search(protocol)
    return match.group(1) if match else None


def bullets(section: str) -> list[str]:
    """The section's bullets, each with its continuation lines joined."""
    items: list[str] = []
    for line in section.splitlines():
        if line.startswith("- "):
            items.append(line[2:])
        elif items and line.startswith("  "):
            items[-1] += " " + line.strip()
    return items


def tasks() -> dict:
    return {t.name: t for t in all_tasks()}


def traced_tasks() -> list[str]:
    return sorted(set(tasks()) - set(PENDING))


def test_the_helpers_read_a_sources_section():
    doc = "Intro.\nSources (where read):\n- `a` 1: X 2020, read: repo/a.py.\n  more of a.\n- `b`: ntkbench's own.\n"
    section = sources_section(doc)
    assert section is not None and bullets(section) == [
        "`a` 1: X 2020, read: repo/a.py. more of a.",
        "`b`: ntkbench's own.",
    ]
    assert bullets(sources_section("Sources (a header over\ntwo lines):\n- `a`: read.\n\nAfter.\n") or "") == [
        "`a`: read."
    ]
    assert sources_section("Intro.\nNo section here.\n") is None
    assert VALUE.search("Paper, Table 1; value: mean over 5 runs") and not VALUE.search("Paper, Table 1")


@pytest.mark.parametrize("name", traced_tasks())
def test_protocol_has_a_sources_section_tracing_every_default(name):
    task = tasks()[name]
    section = sources_section(task.protocol)
    assert section, f"{name}: the protocol docstring has no 'Sources ...:' section"
    items = bullets(section)
    assert items, f"{name}: the Sources section has no bullets"
    untraced = [b[:80] for b in items if not TRACED.search(b)]
    assert not untraced, (
        f"{name}: Sources bullets that say neither where they were read nor 'ntkbench's own': {untraced}"
    )
    fields = [f.name for f in dataclasses.fields(task.Budget)]
    unnamed = [f for f in fields if f"`{f}`" not in section]
    assert not unnamed, f"{name}: budget fields whose default the Sources section does not trace: {unnamed}"


def test_every_published_number_names_its_source_and_says_what_it_is():
    entries = [e for e in registry() if e["task"] not in PENDING]
    assert entries, "no published entries outside the pending tasks"
    for e in entries:
        source = str(e["source"]).strip()
        assert len(source) > 20, f"{e['name']}: the source {source!r} names no paper, table or repository"
        assert VALUE.search(source), (
            f"{e['name']}: the source does not say whether its value is an average "
            f"('value: mean ...', 'value: one run ...' or 'value: not read at the source ...'): {source!r}"
        )


@pytest.mark.parametrize("name", sorted(PENDING))
def test_pending_tasks_are_still_pending(name):
    """A pending task that is complete must leave PENDING, so that the checks above cover it."""
    task = tasks()[name]
    section = sources_section(task.protocol)
    complete_section = section is not None and all(TRACED.search(b) for b in bullets(section))
    entries = [e for e in registry() if e["task"] == name]
    complete_entries = all(VALUE.search(str(e["source"])) for e in entries)
    assert not (complete_section and complete_entries), f"{name} is traced now: remove it from PENDING"
