"""Property: whatever profile a clerk writes, core.build ends in a draft or in Chinese messages — nothing else.

Hypothesis writes profiles from a pack's own schema: random subsets and orders of its catalogue keys
for work/problems/causes/measures (as keys, Chinese titles, or {key, lead, text, points, add, facts,
wording} items), random fact values (right and wrong types, numbers with units, full-width digits,
huge, negative, NaN, None, lists, {label, value, unit, phrase} own facts), random Unicode text in own
items and meta, rectifications, overrides, wording, and random structure options from the format
(title, byline, length, each section's show/heading/numbering/points/intro).

Half the profiles are careful (right types, the pack's keys, as many items as the pack asks for, any
text in the user's own words) so that drafts are written as often as messages; the other half are
careless.  Each build must end in one of two ways:
- a written .docx: a valid zip with its parts, opened by python-docx, no paragraph showing template
  syntax or a Python value ("{{", "{%", "None", "nan") unless the user typed it; what the user wrote
  is in it as written (own leads, an own title) and own text stays a sentence of its own before an
  ``add`` (the shrunk counterexample is written out in the last test);
- a ReportgenError whose every problem is in Chinese and names the profile file, with no draft left.
Any other exception fails the test (Hypothesis prints the profile).

Runs on the mini pack from conftest and on the built-in jiguan pack.
"""

from __future__ import annotations

import math
import tempfile
import unicodedata
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from conftest import HAN_RE, docx_problems, full_meta, load_builtin, make_mini_pack, write_yaml
from reportgen import core
from reportgen.content.numbering import SELF_NUMBERED
from reportgen.errors import ReportgenError
from reportgen.inputs.profile import META_FIELDS, NUMBERING_NAMES, POINT_NAMES, SECTION_KINDS, STATUSES

PROFILE = "p.yaml"
FORBIDDEN = ("{{", "{%", "None", "nan")
PUNCTUATION = "，,。.；;：:、！!？?…"
CATALOGUE_OF = {"work": "topics", "problems": "problems", "causes": "causes", "measures": "measures"}

# ---------------------------------------------------------------- value strategies

# Text a user may type: any printable Unicode (no surrogates), plus pieces that stress the renderer.
TRICKY = ["{{ 7*7 }}", "{% if 1 %}x{% endif %}", "{unit}", "{sessions}", "{nope}", "[可选]", "【待补充】", "<w:t>",
          "&amp;", "\t", "\u3000", "😀", "𠀀", "\u200b", "\ufeff", "一、", "（一）", "一是", "。", "None", "nan", "null",
          "~", "- ", ": ", "#", "%"]
text = st.one_of(
    st.text(st.characters(exclude_categories=("Cs",)), max_size=24),
    st.text(st.sampled_from("党建工作学习支部书记开展情况问题措施，。、；：“”（）0123456789"), min_size=1, max_size=40),
    st.lists(st.sampled_from(TRICKY), min_size=1, max_size=3).map("".join),
)
FULL_WIDTH = str.maketrans("0123456789.%", "０１２３４５６７８９．％")
number = st.one_of(
    st.integers(-10, 500), st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True), st.decimals(0, 1000, places=2).map(float),
)
wrong = st.one_of(st.none(), st.booleans(), st.just(""), st.just([]), st.just({}), st.lists(st.integers(), max_size=3),
                  st.dictionaries(st.sampled_from(["a", "value", "label"]), st.integers(), max_size=2))
fact_value = st.one_of(
    number,
    number.filter(lambda n: not (isinstance(n, float) and not math.isfinite(n))).map(str).map(
        lambda s: s.translate(FULL_WIDTH)),  # full-width digits
    st.tuples(st.integers(-5, 300), st.sampled_from(["次", "个", "名", "人次", "%", "％", "余", "万元", "篇", "期", "元"]))
    .map(lambda t: f"{t[0]}{t[1]}"),  # a number with a unit
    st.sampled_from(["40余", "约30", "十二", "2025-01-01", "3月底前", "95%", "１２次", "1e400", "-0", "0x1F"]),
    text, wrong,
)


def own_fact() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"label": st.one_of(text, wrong)},
        optional={"value": fact_value, "unit": st.one_of(st.sampled_from(["次", "个", "名", ""]), text, wrong),
                  "phrase": st.one_of(st.just("开展{}"), text, wrong), "summary": st.one_of(st.booleans(), text)})


def meta_value(key: str) -> st.SearchStrategy[Any]:
    valid = full_meta()
    good: st.SearchStrategy[Any] = st.just(valid.get(key, "党委"))
    if key == "year":
        special = st.one_of(st.integers(-(10**20), 10**20), st.sampled_from(["２０２５", "2025年", "2025年度", "二〇二五"]))
    elif key == "date":
        special = st.sampled_from(["2026-01-12", "2026年1月12日", "２０２６－０１－１２", "2026-02-30", "昨天", "2026/13/01"])
    else:
        special = text
    return st.one_of(good, good, special, wrong, number)


# ---------------------------------------------------------------- profiles from a pack's schema


class Schema:
    """What the profile format lets a user pick for one pack: catalogue keys and titles, point keys, facts."""

    def __init__(self, pack: Any, request: str) -> None:
        self.request = request
        self.facts = sorted(pack.facts)
        self.keys = {kind: list(pack.catalogues.get(catalogue, {})) for kind, catalogue in CATALOGUE_OF.items()}
        self.titles = {kind: [entry.title for entry in pack.catalogues.get(catalogue, {}).values()]
                       for kind, catalogue in CATALOGUE_OF.items()}
        self.points = sorted({point.key for entry in pack.catalogues.get("topics", {}).values() for point in entry.points})
        self.entry_points = {kind: [[point.key for point in entry.points] for entry in pack.catalogues.get(catalogue, {}).values()]
                             for kind, catalogue in CATALOGUE_OF.items()}
        self.sizes = {section.kind: (section.min_items, section.max_items) for section in pack.skeleton.sections
                      if section.kind in CATALOGUE_OF}
        # a section without a heading of its own (the causes) is left out with the section it follows
        kinds = [section.kind for section in pack.skeleton.sections]
        self.follows = {section.kind: kinds[i - 1] for i, section in enumerate(pack.skeleton.sections)
                        if i and section.heading is None and section.kind not in ("opening", "closing")}
        related = {key for relation in pack.relations for key in (*relation.left, *relation.right)}
        # facts a careful profile fills: not in a relation (a random pair could break it), with their types
        self.plain_facts = {key: spec for key, spec in sorted(pack.facts.items()) if key not in related}


# In a careful profile every value has the right type and every key is the pack's; the text a user
# writes may still be anything.  A careless one mixes in wrong types, unknown keys and odd values.
# Careful text may hold anything but a brace or a bracket, which cite facts and mark optional groups,
# and "{{ 7*7 }}" (which prints as typed).
careful_text = st.one_of(
    st.text(st.sampled_from("党建工作学习支部书记开展情况问题措施，。、；：“”（）0123456789"), min_size=1, max_size=40),
    st.text(st.characters(exclude_categories=("Cs", "Cc"), exclude_characters="{}[]"), min_size=1, max_size=24),
    st.lists(st.sampled_from([t for t in TRICKY if not any(c in t for c in "{}[]")] + ["{{ 7*7 }}", "{unit}"]),
             min_size=1, max_size=3).map("".join),
).filter(str.strip)


def careful_value(spec: Any) -> st.SearchStrategy[Any]:
    """A value of the right type for a fact ``spec`` (within its bounds)."""
    low = int(spec.minimum) if spec.minimum is not None else 0
    high = int(spec.maximum) if spec.maximum is not None else (100 if spec.type == "percent" else 400)
    if spec.type == "integer":
        return st.one_of(st.integers(low, high), st.integers(low, high).map(lambda n: f"{n}余"),
                         st.integers(low, high).map(lambda n: str(n).translate(FULL_WIDTH)))
    if spec.type in ("number", "percent"):
        return st.one_of(st.integers(low, high), st.decimals(low, high, places=1).map(float))
    if spec.type == "list":
        return st.lists(careful_text, min_size=1, max_size=3)
    return careful_text


@st.composite
def item(draw: st.DrawFn, schema: Schema, kind: str, careful: bool) -> Any:
    keys = schema.keys[kind]
    words = careful_text if careful else text
    shapes = ["key", "key", "key", "key", "title", "mapping", "own"] + ([] if careful else ["wrong", "wrong"])
    shape = draw(st.sampled_from(shapes))
    if shape == "key" and keys:
        return draw(st.sampled_from(keys))
    if shape == "title" and schema.titles[kind]:
        return draw(st.sampled_from(schema.titles[kind]))
    if shape == "wrong":
        return draw(st.one_of(wrong, number, st.just("甲项，乙项"), text))
    mapping: dict[str, Any] = {}
    if shape == "mapping" and keys:
        one = st.sampled_from(keys)
        mapping["key"] = draw(st.one_of(one, st.lists(one, min_size=1, max_size=3, unique=True),
                                        *(() if careful else (text,))))
    point_keys = st.sampled_from(schema.points or ["x"])
    fields: dict[str, st.SearchStrategy[Any]] = {
        "lead": words, "text": words,
        "points": st.lists(st.one_of(point_keys, words, st.fixed_dictionaries({"text": words}, optional={"lead": words})),
                           min_size=1, max_size=3),
        "add": st.one_of(words, st.lists(st.fixed_dictionaries(
            {"text": words}, optional={"lead": words, "after": point_keys}), min_size=1, max_size=2)),
        "facts": st.lists(st.sampled_from(schema.facts), min_size=1, max_size=2),
        "wording": st.integers(0, 999) if careful else st.one_of(st.integers(-3, 2000), wrong),
    }
    for field, strategy in fields.items():
        if draw(st.integers(0, 3)) == 0 or (shape == "own" and field in ("lead", "text")):
            mapping[field] = draw(strategy)
    if shape == "own" and kind == "work" and draw(st.booleans()):
        mapping.pop("text")
        mapping["points"] = draw(fields["points"])
    return mapping


@st.composite
def catalogue_entry(draw: st.DrawFn, schema: Schema, kind: str, index: int) -> Any:
    """Catalogue entry ``index`` the ways a careful user names it: key, Chinese title, or a mapping with own words."""
    key, title = schema.keys[kind][index], schema.titles[kind][index]
    shape = draw(st.sampled_from(["key", "key", "title", "mapping"]))
    if shape != "mapping":
        return key if shape == "key" else title
    mapping: dict[str, Any] = {"key": key}
    own_points = st.lists(st.fixed_dictionaries({"text": careful_text}, optional={"lead": careful_text}), min_size=1,
                          max_size=2)
    fields: dict[str, st.SearchStrategy[Any]] = {"lead": careful_text, "text": careful_text,
                                                 "add": st.one_of(careful_text, own_points), "wording": st.integers(0, 999)}
    points = schema.entry_points[kind][index]
    if points:  # some of the entry's points in any order, and points of the user's own
        fields["points"] = st.lists(st.one_of(st.sampled_from(points), careful_text), min_size=1, max_size=4,
                                    unique=True)
    for field, strategy in fields.items():
        if draw(st.integers(0, 3)) == 0:
            mapping[field] = draw(strategy)
    return mapping


def section_layout(careful: bool) -> st.SearchStrategy[Any]:
    if careful:
        return st.one_of(st.booleans(), st.fixed_dictionaries({}, optional={
            "show": st.booleans(), "heading": careful_text, "numbering": st.sampled_from(sorted(NUMBERING_NAMES)),
            "points": st.sampled_from(sorted(POINT_NAMES)), "intro": st.one_of(st.booleans(), careful_text)}))
    numbering = st.one_of(st.sampled_from(sorted(NUMBERING_NAMES)), st.sampled_from(["(1)", "１.", "甲、", "I."]), wrong)
    points = st.one_of(st.sampled_from(sorted(POINT_NAMES)), text)
    return st.one_of(
        st.booleans(), st.sampled_from(["否", "是", "off"]), wrong,
        st.fixed_dictionaries({}, optional={"show": st.one_of(st.booleans(), text), "heading": st.one_of(text, wrong),
                                            "numbering": numbering, "points": points,
                                            "intro": st.one_of(st.booleans(), text, wrong)}))


def structure(careful: bool) -> st.SearchStrategy[dict[str, Any]]:
    lengths = st.sampled_from(["2500-3000", "3000", "3000字以内", "≤2000", "1000-9000", "０-５０００"])
    optional: dict[str, st.SearchStrategy[Any]] = (
        {"title": st.one_of(st.booleans(), careful_text), "byline": st.booleans(), "length": lengths} if careful else
        {"title": st.one_of(st.booleans(), text, wrong), "byline": st.one_of(st.booleans(), text),
         "length": st.one_of(lengths, st.sampled_from(["3000-2000", "五千", "0-0"]), st.integers(-5, 10**9), wrong)})
    optional.update({kind: section_layout(careful) for kind in SECTION_KINDS})
    return st.fixed_dictionaries({}, optional=optional)


@st.composite
def profiles(draw: st.DrawFn, schema: Schema) -> dict[str, Any]:
    careful = draw(st.booleans())
    words = careful_text if careful else text
    data: dict[str, Any] = {"pack": schema.request}
    # meta: complete when careful (with the user's own words in places); else fields odd or missing
    if careful:
        meta = full_meta()
        for key in ("unit", "name", "superior", "basis", "committee"):
            if draw(st.integers(0, 3)) == 0:
                meta[key] = draw(careful_text)
        meta["year"] = draw(st.sampled_from([2025, "2025", "２０２５", "2025年度", 1990, 2100]))
        meta["date"] = draw(st.sampled_from(["2026-01-12", "2026年1月12日", "２０２６-０１-１２"]))
        data["meta"] = meta
    else:
        meta = {key: draw(meta_value(key)) for key in META_FIELDS if draw(st.integers(0, 4)) > 0}
        data["meta"] = draw(st.one_of(st.just(meta), st.just(meta), st.just(meta), wrong, text))
    # facts: a subset of the pack's (and the library's) facts, and some of the unit's own
    facts: dict[str, Any] = {}
    if careful:
        for key in draw(st.lists(st.sampled_from(sorted(schema.plain_facts)), max_size=12, unique=True)):
            facts[key] = draw(careful_value(schema.plain_facts[key]))
    for key in draw(st.lists(st.sampled_from(schema.facts), max_size=0 if careful else 10, unique=True)):
        facts[key] = draw(st.one_of(fact_value, fact_value, fact_value, own_fact()))
    for key in draw(st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True), max_size=2, unique=True)):
        own = {"label": draw(careful_text), "value": draw(st.integers(0, 99)), "unit": "次"} if careful else \
            draw(st.one_of(own_fact(), fact_value))
        facts.setdefault(key, own)
    data["facts"] = facts if careful else draw(st.one_of(st.just(facts), st.just(facts), st.just(facts), wrong))
    # the chosen items, in random order and number
    for kind in CATALOGUE_OF:
        if draw(st.integers(0, 5)) == 0:
            continue  # left out: measures mirror the problems, the rest ask to be chosen
        if careful and not schema.keys[kind]:
            continue  # the pack has no such catalogue (qiye has no causes)
        if careful:  # each catalogue entry once, as many as the pack asks for, in any order
            low, high = schema.sizes.get(kind, (1, 5))
            picked = draw(st.lists(st.sampled_from(range(len(schema.keys[kind]))), min_size=min(low, len(schema.keys[kind])),
                                   max_size=min(high, len(schema.keys[kind])), unique=True))
            data[kind] = [draw(catalogue_entry(schema, kind, index)) for index in picked]
            continue
        choice = draw(st.lists(item(schema, kind, careful), max_size=7))
        data[kind] = draw(st.one_of(st.just(choice), st.just(choice), text, wrong))
    if draw(st.booleans()):
        status = st.sampled_from(STATUSES) if careful else st.one_of(st.sampled_from(STATUSES), text, wrong)
        entry = st.fixed_dictionaries({"problem": words, "action": words},
                                      optional={"measure": words, "source": words, "status": status})
        data["rectification"] = draw(st.lists(entry if careful else st.one_of(entry, text, wrong), max_size=3))
    if draw(st.booleans()):
        data["structure"] = draw(structure(True) if careful else st.one_of(structure(True), structure(False), wrong))
    if draw(st.integers(0, 3)) == 0:
        data["wording"] = draw(st.integers(0, 999) if careful else st.one_of(st.integers(-5, 5000), wrong, text))
    if draw(st.integers(0, 5)) == 0:
        places = st.sampled_from(["title", "opening", "closing", "problems"] + ([] if careful else ["nope", "work.intro"]))
        data["overrides"] = draw(st.dictionaries(places, words if careful else st.one_of(text, wrong), max_size=2))
    if not careful and draw(st.integers(0, 8)) == 0:
        data[draw(st.sampled_from(["extra", "Meta", "工作", "facts "]))] = draw(st.one_of(text, wrong))
    note(f"careful: {careful}")
    return data


# ---------------------------------------------------------------- the property


def typed_strings(data: Any) -> Iterator[str]:
    """Every string (key or value) in the profile: what the user typed, which the draft may show as typed."""
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from typed_strings(key)
            yield from typed_strings(value)
    elif isinstance(data, list):
        for value in data:
            yield from typed_strings(value)


def check_build(data: dict[str, Any], schema: Schema | None = None, *, in_hypothesis: bool = True) -> str:
    """Build ``data`` as a profile; assert the build ended in a draft or in messages; return which."""
    with tempfile.TemporaryDirectory(prefix="reportgen-property-") as name:
        folder = Path(name)
        source = write_yaml(folder / PROFILE, data)
        if in_hypothesis:
            note(source.read_text(encoding="utf-8"))
        target = folder / "out.docx"
        try:
            result = core.build(source, target)
        except ReportgenError as exc:
            assert exc.problems, f"{type(exc).__name__} without problems: {exc}"
            for problem in exc.problems:
                assert HAN_RE.search(problem.message), f"message not in Chinese: {problem.message!r}"
                assert problem.file is not None and Path(problem.file).name == PROFILE, \
                    f"message does not name the profile: {problem.render()}"
                assert PROFILE in problem.render()
            assert not target.exists(), "a failed build left a draft behind"
            if in_hypothesis:
                event("message")
            return "message"
        output = Path(result.output)
        assert output == target and output.is_file()
        data_bytes = output.read_bytes()
        assert zipfile.is_zipfile(output)
        assert docx_problems(data_bytes) == []
        import docx

        paragraphs = [p.text for p in docx.Document(str(output)).paragraphs]
        typed = list(typed_strings(data))
        for token in FORBIDDEN:
            if any(token in s for s in typed):
                continue  # the user typed it: the draft may show it as typed
            shown = [p for p in paragraphs if token in p]
            assert not shown, f"“{token}” in the draft: {shown[0]!r}"
        typed_as_given(data, paragraphs, schema)
        if in_hypothesis:
            event("draft")
        return "draft"


def visible(text: str) -> str:
    """Text without whitespace and invisible characters (format and control characters)."""
    return "".join(c for c in text if not c.isspace() and unicodedata.category(c) not in ("Cf", "Cc"))


def words(text: str) -> str:
    """Visible text without punctuation, which the draft mends at joins (doubled commas, a lead's full stop)."""
    return "".join(c for c in visible(text) if not unicodedata.category(c).startswith("P"))


def unnumbered(text: str) -> str:
    """The text without a number the user typed in front ("1." "（一）" "一是"): the draft numbers items itself."""
    text = "".join(c for c in text if unicodedata.category(c) not in ("Cf", "Cc"))  # dropped when read
    match = SELF_NUMBERED.match(text)
    return text[match.end():] if match is not None and match.end() < len(text) else text


def plain_string(text: str) -> bool:
    """Whether ``text`` stays a string once its invisible characters are gone (unquoted "01\u200b" reads as 1)."""
    try:
        return isinstance(yaml.safe_load(visible(text) or "''"), str)
    except yaml.YAMLError:
        return True


def first_addition(add: Any) -> str | None:
    first = add[0] if isinstance(add, list) and add else add
    text = first.get("text") if isinstance(first, dict) else first
    return text if isinstance(text, str) else None


def hidden(data: dict[str, Any], kind: str, schema: Schema | None) -> bool:
    """Whether the profile's structure leaves section ``kind`` out (or the section it goes with)."""
    layout = data.get("structure")
    if not isinstance(layout, dict):
        return False
    given = layout.get(kind)
    show = given.get("show") if isinstance(given, dict) else given
    if show is False or (isinstance(show, str) and show.strip().lower() in ("false", "no", "off", "否")):
        return True
    follows = schema.follows.get(kind) if schema is not None else None
    return follows is not None and hidden(data, follows, schema)


def typed_as_given(data: dict[str, Any], paragraphs: list[str], schema: Schema | None = None) -> None:
    """What the user wrote shows in the draft as written: own leads, own text as its own sentence, own title."""
    shown, shown_words = visible("".join(paragraphs)), words("".join(paragraphs))
    overrides = data.get("overrides") if isinstance(data.get("overrides"), dict) else {}
    for kind in CATALOGUE_OF:
        if hidden(data, kind, schema) or overrides.get(kind):
            continue  # left out, or replaced as a whole by overrides (the 0.1 way)
        items = data.get(kind)
        for choice in items if isinstance(items, list) else ():
            if not isinstance(choice, dict):
                continue
            lead = choice.get("lead")
            if isinstance(lead, str) and "{" not in lead and words(unnumbered(lead)) and plain_string(lead):
                assert words(unnumbered(lead)) in shown_words, f"{kind}: the lead “{lead}” is not in the draft"
            own, added = choice.get("text"), first_addition(choice.get("add"))
            if isinstance(own, str) and isinstance(added, str) and "{" not in own + added:
                own, added = unnumbered(own), unnumbered(added)
            if isinstance(own, str) and isinstance(added, str) and "{" not in own + added and visible(own) \
                    and words(added) and visible(own)[-1] not in PUNCTUATION:
                # the user's text is a sentence of its own: what is added after it starts a new sentence (an
                # addition of punctuation alone, “。”, merges with the full stop the text gets)
                joined = visible(own) + visible(added)
                if len(joined) >= 3 and not joined.isdigit():
                    assert joined not in shown, f"{kind}: the text “{own}” runs on into the added “{added}”"
    layout = data.get("structure")
    title = layout.get("title") if isinstance(layout, dict) else None
    replaced = overrides.get("title")  # the 0.1 way wins
    if isinstance(title, str) and words(unnumbered(title)) and not replaced \
            and title.strip().lower() not in ("false", "true", "yes", "no", "on", "off", "是", "否"):
        first = next((p for p in paragraphs if p.strip()), "")
        assert words(first) == words(unnumbered(title)), f"title “{title}”, the draft begins with “{first}”"


SETTINGS = settings(max_examples=60, deadline=None, derandomize=False, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def mini_schema(tmp_path_factory: pytest.TempPathFactory) -> Schema:
    root = make_mini_pack(tmp_path_factory.mktemp("property") / "mini")
    from reportgen.packs.lookup import PackFinder

    return Schema(PackFinder().find(str(root)), str(root))


@pytest.fixture(scope="module")
def jiguan_schema() -> Schema:
    return Schema(load_builtin("jiguan"), "jiguan")


@SETTINGS
@given(data=st.data())
def test_any_profile_for_the_mini_pack_ends_in_a_draft_or_messages(mini_schema: Schema, data: st.DataObject) -> None:
    check_build(data.draw(profiles(mini_schema), label="profile"), mini_schema)


@SETTINGS
@given(data=st.data())
def test_any_profile_for_jiguan_ends_in_a_draft_or_messages(jiguan_schema: Schema, data: st.DataObject) -> None:
    check_build(data.draw(profiles(jiguan_schema), label="profile"), jiguan_schema)


def test_the_generator_reaches_both_outcomes(mini_schema: Schema) -> None:
    """The property is only worth something if random profiles both succeed and fail: a fixed sample."""
    seen = set()
    valid = {"pack": mini_schema.request, "meta": full_meta(), "facts": {"sessions": 12},
             "work": mini_schema.keys["work"][:3], "problems": mini_schema.keys["problems"][:2],
             "causes": mini_schema.keys["causes"][:2]}
    seen.add(check_build(valid, in_hypothesis=False))
    seen.add(check_build({**valid, "meta": {**full_meta(), "year": "明年"}, "facts": {"sessions": float("nan")}},
                         in_hypothesis=False))
    assert seen == {"draft", "message"}


@pytest.mark.parametrize("kind", ["work", "problems", "measures"])
def test_own_text_without_a_full_stop_and_an_addition_stay_two_sentences(mini_schema: Schema, kind: str) -> None:
    """The shrunk counterexample of ``typed_as_given``, written out: text and add are two sentences."""
    chosen = {"work": ["alpha", "beta"], "problems": ["p_one", "p_two"], "causes": ["c_one"], "measures": ["m_one"]}
    chosen[kind] = [{"key": chosen[kind][0], "text": "我们按计划推进这项工作", "add": "今年又开展了专项检查"},
                    *chosen[kind][1:]]
    data = {"pack": mini_schema.request, "meta": full_meta(), "facts": {"sessions": 12}, **chosen}
    with tempfile.TemporaryDirectory(prefix="reportgen-property-") as name:
        result = core.build(write_yaml(Path(name) / PROFILE, data), Path(name) / "out.docx")
        import docx

        paragraphs = [p.text for p in docx.Document(str(result.output)).paragraphs]
    shown = next((p for p in paragraphs if "我们按计划推进这项工作" in p), None)
    assert shown is not None, paragraphs
    assert "我们按计划推进这项工作。今年又开展了专项检查。" in shown, shown
