"""Property: whatever a profile turns into, a build ends in a valid draft or in a message — nothing else.

Hypothesis starts from the example profiles (profiles/*.yaml, templates/*/example.yaml — whichever exist
when the test runs — and a minimal jiguan profile built in code) and mutates them: it removes keys,
retypes values (int, str, list, mapping, null, bool, float), puts odd characters into values, duplicates
lines (duplicate keys), inserts odd characters anywhere in the text (full-width punctuation, control
characters, emoji, ``{{``, ``<``, ``&``, tabs, NUL…), deletes stretches of text and re-encodes the file.  Every run must end in exit 0 with a well-formed draft, or
exit 1 with a non-empty message; never a traceback, another exit code, or a file left behind on failure.

The CLI runs in-process (CliRunner), so the compiled pack is reused from one example to the next.
"""

from __future__ import annotations

import copy
import functools
import tempfile
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from conftest import example_profiles
from reportgen.cli import cli
from test_hostile_inputs import docx_problems, jiguan_kit

ODD = [
    "：", "，", "。", "、", "“", "”", "（", "）", "【", "】", "　", "\t", "\x00", "\x0b", "\x07", "\x0c", "\x1b",
    "\ufeff", "\u2028", "\u200b", "\ud800", "😀", "𠀀", "{{", "}}", "{%", "%}", "{#", "<", ">", "&", "'", '"',
    "\\", "[", "]", "{", "}", "- ", ": ", ":", "#", "*", "&a ", "*a", "!!python/name:os.system ", "!x ", "|",
    ">-", "---\n", "...\n", "\r", "\n", "\r\n", "  ", "? ", "%", "@", "`", "<w:t>", "]]>", "{{ 7*7 }}",
]

ODD_VALUES: list[Any] = [
    0, 1, 12, -1, 10**30, 3.5, float("inf"), True, False, None, "", " ", "十二", "12次", "２０２５",
    "{{ 7*7 }}", "<b>&amp;</b>", "2025-02-30", "\x0b", [], ["甲"], [None], [[1]], {}, {"k": "v"},
    {"key": "x", "lead": 1}, "a" * 6000,
]


@functools.cache
def seeds() -> tuple[str, ...]:
    texts = [jiguan_kit().text()]
    for path in example_profiles():
        try:
            texts.append(path.read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError):
            continue
    return tuple(texts)


def node_paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key / index path inside nested dicts and lists."""
    paths: list[tuple[Any, ...]] = []
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, value in items:
        paths.append((*prefix, key))
        paths += node_paths(value, (*prefix, key))
    return paths


def parent_of(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path[:-1]:
        data = data[part]
    return data


@st.composite
def mutated_profile(draw: st.DrawFn) -> bytes:
    text = draw(st.sampled_from(seeds()))
    # -- structural mutations on the parsed data
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        data = None
    if isinstance(data, dict):
        for _ in range(draw(st.integers(0, 3))):
            paths = node_paths(data)
            if not paths:
                break
            path = draw(st.sampled_from(paths))
            parent = parent_of(data, path)
            action = draw(st.sampled_from(["remove", "retype", "spice", "spice"]))
            if action == "spice" and isinstance(parent[path[-1]], str):
                # odd characters inside a value: the draft must show them literally (or drop control chars)
                value = parent[path[-1]]
                position = draw(st.integers(0, len(value)))
                odd = draw(st.one_of(st.sampled_from(ODD), st.text(min_size=1, max_size=3)))
                parent[path[-1]] = value[:position] + odd + value[position:]
            elif action == "remove":
                del parent[path[-1]]
            elif action == "retype":
                value = draw(st.one_of(st.sampled_from(ODD_VALUES), st.text(max_size=12), st.integers(),
                                       st.lists(st.text(max_size=5), max_size=3)))
                parent[path[-1]] = copy.deepcopy(value)  # later mutations must not touch ODD_VALUES
        text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    # -- textual mutations
    for _ in range(draw(st.sampled_from([0, 0, 1, 2, 3]))):
        lines = text.split("\n")
        action = draw(st.sampled_from(["insert", "insert", "duplicate-line", "delete"]))
        if action == "duplicate-line" and lines:
            index = draw(st.integers(0, len(lines) - 1))
            where = draw(st.integers(index, len(lines)))
            lines.insert(where, lines[index])
            text = "\n".join(lines)
        elif action == "delete" and text:
            start = draw(st.integers(0, len(text) - 1))
            text = text[:start] + text[start + draw(st.integers(1, 8)):]
        else:
            position = draw(st.integers(0, len(text)))
            odd = draw(st.one_of(st.sampled_from(ODD), st.text(min_size=1, max_size=3)))
            text = text[:position] + odd + text[position:]
    codec = draw(st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-8-sig", "gb18030", "utf-16"]))
    errors = "surrogatepass" if codec.startswith("utf-8") else "replace"
    return text.encode(codec, errors)


def _leftovers(folder: Path, allowed: set[str]) -> set[str]:
    return {p.name for p in folder.iterdir()} - allowed


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
          print_blob=True)
@given(profile=mutated_profile(), fmt=st.sampled_from(["docx", "docx", "docx", "md"]))
def test_any_profile_ends_in_a_draft_or_a_message(profile: bytes, fmt: str) -> None:
    check_build(profile, fmt)


def check_build(profile: bytes, fmt: str) -> None:
    """Build ``profile`` into a fresh folder and check that the run ended in one of the two allowed ways."""
    with tempfile.TemporaryDirectory(prefix="reportgen-prop-") as name:
        folder = Path(name)
        source = folder / "p.yaml"
        source.write_bytes(profile)
        out = folder / f"out.{fmt}"
        result = CliRunner().invoke(cli, ["build", str(source), "-o", str(out), "--format", fmt])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception  # Hypothesis shows the traceback and the input
        assert "Traceback" not in result.output
        assert result.exit_code in (0, 1), result.output
        event(f"exit {result.exit_code} ({fmt})")
        if result.exit_code == 0:
            assert _leftovers(folder, {"p.yaml", out.name}) == set()
            if fmt == "docx":
                assert docx_problems(out.read_bytes()) == []
            else:
                text = out.read_text(encoding="utf-8")
                assert "<!-- reportgen:fingerprint=" in text.rsplit("\n", 2)[-2]
        else:
            assert result.output.strip()
            assert _leftovers(folder, {"p.yaml"}) == set(), result.output


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="0123456789.-+:_eExXobBnNtTfFyY~<=中 ", max_size=12), st.booleans())
def test_the_quick_tag_resolver_agrees_with_the_safe_loader(value: str, plain: bool) -> None:
    """yamlsource._Loader answers tag questions in fewer steps; the answers must be PyYAML's own."""
    from reportgen.yamlsource import _Loader

    for kind, asked in ((yaml.ScalarNode, value), (yaml.MappingNode, None), (yaml.SequenceNode, None)):
        implicit = (plain, not plain)
        assert _Loader("").resolve(kind, asked, implicit) == yaml.SafeLoader("").resolve(kind, asked, implicit)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.one_of(
    st.characters(min_codepoint=0x3300, max_codepoint=0x4E10),  # around CJK Extension A and the hexagrams
    st.characters(min_codepoint=0x9FF0, max_codepoint=0xFB10),
    st.sampled_from("党建工作，。、“”（）：；0123456789abc 　\n😀𠀀\ud800"))))
def test_han_characters_are_counted_as_the_character_class_says(text: str) -> None:
    import re

    from reportgen.model import HAN_CHARS, count_han

    assert count_han(text) == len(re.findall(f"[{HAN_CHARS}]", text))
