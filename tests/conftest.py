"""Shared test helpers: isolated reportgen home, profiles built in code, a small pack, .docx read-back.

Tests build their inputs in code.  Built-in packs and example profiles change while content is
written, so nothing here hard-codes catalogue keys: they are read from the pack at test time.
Helpers are plain functions (``from conftest import …``) plus a few fixtures.
"""

from __future__ import annotations

import io
import os
import posixpath
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
TEMPLATES = REPO / "templates"
PROFILES = REPO / "profiles"
SEEDS = REPO / "seeds"

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W = f"{{{W_NS}}}"
HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
CN_DIGITS = "一二三四五六七八九十"


# ---------------------------------------------------------------- environment


@pytest.fixture(scope="session", autouse=True)
def _isolated_reportgen_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No test reads or writes the real user pack store or cache (session-wide, so Hypothesis is happy)."""
    base = tmp_path_factory.mktemp("reportgen-env")
    saved = {key: os.environ.get(key) for key in ("REPORTGEN_HOME", "REPORTGEN_CACHE")}
    os.environ["REPORTGEN_HOME"] = str(base / "home")
    os.environ["REPORTGEN_CACHE"] = str(base / "cache")
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def builtin_pack_names() -> list[str]:
    """Names of the built-in packs present in templates/ right now."""
    if not TEMPLATES.is_dir():
        return []
    return sorted(p.name for p in TEMPLATES.iterdir() if (p / "pack.yaml").is_file())


def example_profiles() -> list[Path]:
    """Every example profile that exists at run time: profiles/*.yaml and templates/*/example.yaml."""
    found = sorted(PROFILES.glob("*.yaml")) + sorted(TEMPLATES.glob("*/example.yaml"))
    return [p for p in found if p.is_file()]


def example_id(path: Path) -> str:
    return str(path.relative_to(REPO))


def seed_front_matter(path: Path) -> dict[str, Any]:
    """The YAML front matter of a seed outline (seeds/0*.md)."""
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n"), f"{path.name} has no front matter"
    head, _, body = text[4:].partition("\n---\n")
    assert body.strip(), f"{path.name} has no outline after the front matter"
    data = yaml.safe_load(head)
    assert isinstance(data, dict)
    return data


def seed_outlines() -> dict[str, dict[str, Any]]:
    """Seed number ("000") -> front matter, for every seeds/0*.md."""
    return {path.stem: seed_front_matter(path) for path in sorted(SEEDS.glob("0*.md"))}


# ---------------------------------------------------------------- profiles built in code


def write_yaml(path: Path, data: Mapping[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(dict(data), allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def full_meta(**changes: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "unit": "市文化旅游局机关党委",
        "name": "周某某",
        "position": "党委书记",
        "year": 2025,
        "superior": "市直机关工委",
        "basis": "市直机关工委关于开展年度述职评议考核的通知要求",
        "date": "2026-01-12",
    }
    meta.update(changes)
    return meta


def _numbers() -> Iterator[int]:
    n = 11
    while True:
        n += 1
        if "49" not in str(n):  # "49" is what {{ 7*7 }} would print: keep it out of real facts
            yield n


def fact_values(pack: Any) -> dict[str, Any]:
    """A plausible value for every fact the pack declares, within its min/max."""
    numbers = _numbers()
    values: dict[str, Any] = {}
    for spec in pack.facts:
        if spec.type == "text":
            values[spec.key] = f"《某某{spec.label}》"
        elif spec.type == "list":
            values[spec.key] = ["甲项示范活动", "乙项示范活动"]
        else:
            value: float = 95 if spec.type == "percent" else next(numbers)
            if spec.type == "number":
                value = value + 0.5
            if spec.maximum is not None and value > spec.maximum:
                value = spec.maximum
            if spec.minimum is not None and value < spec.minimum:
                value = spec.minimum
            values[spec.key] = int(value) if spec.type == "integer" else value
    return values


def pick(pack: Any, kind: str, catalogue: str, wanted: int = 3) -> list[str]:
    """The first catalogue keys, as many as the section allows (``wanted`` if it can)."""
    keys = list(pack.catalogues.get(catalogue, {}))
    section = pack.skeleton.section(kind)
    if section is None:
        return []
    count = max(section.min_items, min(wanted, section.max_items, len(keys)))
    return keys[:count]


def complete_profile(pack: Any, /, **changes: Any) -> dict[str, Any]:
    """A valid profile for ``pack`` with every fact given; measures omitted (they mirror the problems)."""
    data: dict[str, Any] = {
        "pack": pack.name,
        "meta": full_meta(),
        "facts": fact_values(pack),
        "work": pick(pack, "work", "topics"),
        "problems": pick(pack, "problems", "problems"),
        "causes": pick(pack, "causes", "causes"),
    }
    data = {k: v for k, v in data.items() if v != []}
    data.update(changes)
    return data


# ---------------------------------------------------------------- a small pack written in code


MINI_FACTS = [
    {"key": "sessions", "label": "集中学习次数", "type": "integer", "unit": "次"},
    {"key": "rate", "label": "按期换届率", "type": "percent"},
    {"key": "doc_name", "label": "年度工作要点名称", "type": "text"},
]
MINI_TOPICS = {
    "alpha": ("甲项", "抓甲项工作，夯实基础", "甲项正文，全年组织集中学习{{ f.sessions }}。"),
    "beta": ("乙项", "抓乙项工作，补齐短板", "乙项正文，{{ ordinal() }}印发{{ f.doc_name }}，{{ ordinal() }}逐项抓好落实。"),
    "gamma": ("丙项", "抓丙项工作，提升质效", "丙项正文，支部按期换届率达到{{ f.rate }}。"),
    "delta": ("丁项", "抓丁项工作，形成合力", "丁项正文，各支部协同推进。"),
}
MINI_PROBLEMS = {
    "p_one": ("问题一", "第一项问题仍然存在", "问题一正文", "m_one"),
    "p_two": ("问题二", "第二项问题有待解决", "问题二正文", "m_two"),
    "p_three": ("问题三", "第三项问题需要重视", "问题三正文", "m_three"),
}
MINI_CAUSES = {
    "c_one": ("原因一", "第一项原因", "原因一正文"),
    "c_two": ("原因二", "第二项原因", "原因二正文"),
    "c_three": ("原因三", "第三项原因", "原因三正文"),
}
MINI_MEASURES = {
    "m_one": ("措施一", "针对第一项问题持续用力", "措施一正文"),
    "m_two": ("措施二", "针对第二项问题精准施策", "措施二正文"),
    "m_three": ("措施三", "针对第三项问题久久为功", "措施三正文"),
}


def write_word_template(target: Path) -> Path:
    """The GB/T 9704 Word template the built-in packs use (written by tools/make_word_template.py)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_word_template", REPO / "tools" / "make_word_template.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.write_template(target)
    return target


def make_mini_pack(root: Path, *, work: str = "paren_chinese", problems: str = "ordinal_inline",
                   causes: str = "ordinal_inline", measures: str = "arabic",
                   rectification: str = "ordinal_paragraphs") -> Path:
    """Write a small pack with known templates and the given numbering styles; returns its folder."""
    prose = root / "prose"
    prose.mkdir(parents=True, exist_ok=True)
    write_word_template(root / "word" / "template.docx")

    def template(name: str, text: str) -> str:
        (prose / f"{name}.j2").write_text(text + "\n", encoding="utf-8")
        return f"prose/{name}.j2"

    catalogues: dict[str, dict[str, Any]] = {"topics": {}, "problems": {}, "causes": {}, "measures": {}}
    for key, (title, lead, text) in MINI_TOPICS.items():
        catalogues["topics"][key] = {"title": title, "lead": lead, "template": template(key, text)}
    for key, (title, lead, text, measure) in MINI_PROBLEMS.items():
        catalogues["problems"][key] = {"title": title, "lead": lead, "template": template(key, text),
                                       "measure": measure}
    for table, source in (("causes", MINI_CAUSES), ("measures", MINI_MEASURES)):
        for key, (title, lead, text) in source.items():
            catalogues[table][key] = {"title": title, "lead": lead, "template": template(key, text)}
    manifest = {
        "name": "mini",
        "version": "1.0.0",
        "title": "测试用模板包",
        "description": "只用于测试",
        "requires": ">=0.1",
        "word_template": "word/template.docx",
        "facts": MINI_FACTS,
        "catalogues": catalogues,
        "skeleton": {
            "title": "{{ meta.year }}年度述职报告",
            "byline": True,
            "sections": [
                {"kind": "opening", "template": template("opening", "{{ meta.unit }}按照{{ meta.superior }}部署开展工作，现将情况报告如下。")},
                {"kind": "work", "heading": "履职情况", "numbering": work, "min_items": 1, "max_items": 5},
                {"kind": "rectification", "heading": "上年问题整改情况", "numbering": rectification,
                 "intro": template("rectification_intro", "上年查摆的{{ count }}个问题均已整改。")},
                {"kind": "problems", "heading": "存在的问题及原因", "numbering": problems, "min_items": 1, "max_items": 4},
                {"kind": "causes", "numbering": causes, "intro": template("causes_intro", "原因导语。"),
                 "min_items": 1, "max_items": 4},
                {"kind": "measures", "heading": "下一步措施", "numbering": measures,
                 "intro": template("measures_intro", "措施导语。"), "min_items": 1, "max_items": 5},
                {"kind": "closing", "template": template("closing", "结束语。")},
            ],
        },
    }
    write_yaml(root / "pack.yaml", manifest)
    return root


def mini_profile(pack_dir: Path, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "pack": str(pack_dir),
        "meta": full_meta(),
        "facts": {"sessions": 12, "rate": 96, "doc_name": "《年度党建工作要点》"},
        "work": ["alpha", "beta", "gamma"],
        "problems": ["p_one", "p_two", "p_three"],
        "causes": ["c_one", "c_two", "c_three"],
    }
    data.update(changes)
    return data


@pytest.fixture
def mini_pack(tmp_path: Path) -> Path:
    return make_mini_pack(tmp_path / "mini")


# ---------------------------------------------------------------- building and reading drafts


def build_draft(profile: Path, output: Path | None = None, **kwargs: Any) -> Any:
    """core.build (what ``reportgen build`` calls); returns its BuildResult."""
    from reportgen.core import build

    return build(profile, output, **kwargs)


def build_from(tmp_path: Path, data: Mapping[str, Any], name: str = "p.yaml", **kwargs: Any) -> Path:
    """Write ``data`` as a profile under tmp_path and build it to .docx; returns the .docx path."""
    profile = write_yaml(tmp_path / name, data)
    return Path(build_draft(profile, **kwargs).output)


def docx_part(path: Path, name: str) -> str:
    with zipfile.ZipFile(path) as zf:
        return zf.read(name).decode("utf-8")


def docx_paragraphs(path: Path) -> list[Any]:
    """python-docx paragraphs of the body (read back the way a user's tools would)."""
    import docx

    return list(docx.Document(str(path)).paragraphs)


def docx_texts(path: Path) -> list[str]:
    return [p.text for p in docx_paragraphs(path) if p.text.strip()]


def docx_text(path: Path) -> str:
    return "\n".join(docx_texts(path))


def style_id(paragraph: Any) -> str | None:
    ppr = paragraph._p.pPr
    if ppr is None or ppr.pStyle is None:
        return None
    return str(ppr.pStyle.val)


def heading_texts(path: Path) -> list[str]:
    """Texts of the top-level headings: paragraphs in the style used for 一、 headings."""
    paragraphs = docx_paragraphs(path)
    heading_styles = {style_id(p) for p in paragraphs if re.match(f"^[{CN_DIGITS}]+、", p.text)}
    heading_styles.discard(None)
    heading_styles.discard("Normal")
    return [p.text for p in paragraphs if style_id(p) in heading_styles]


def highlighted_runs(path: Path) -> list[tuple[str, str | None]]:
    """(text, highlight colour) of every run that carries a direct highlight."""
    result = []
    for paragraph in docx_paragraphs(path):
        for run in paragraph._p.iter(f"{W}r"):
            highlight = run.find(f"{W}rPr/{W}highlight")
            if highlight is not None:
                text = "".join(t.text or "" for t in run.iter(f"{W}t"))
                result.append((text, highlight.get(f"{W}val")))
    return result


def count_han(text: str) -> int:
    return len(HAN_RE.findall(text))


def han_outside_placeholders(path: Path) -> int:
    """Han characters of the draft, not counting highlighted 【待补充】 runs."""
    total = count_han(docx_text(path))
    return total - sum(count_han(text) for text, _ in highlighted_runs(path))


def chinese_numeral(n: int) -> str:
    """Independent of reportgen.numbering: 1..39 only, enough for tests."""
    tens, ones = divmod(n, 10)
    text = ("" if tens == 1 else CN_DIGITS[tens - 1]) + "十" if tens else ""
    return text + (CN_DIGITS[ones - 1] if ones else "")


# ---------------------------------------------------------------- a .docx is well-formed

REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def docx_problems(data: bytes) -> list[str]:
    """What is wrong with a .docx package: not a zip, a corrupt member, an XML part that does not parse,
    a missing required part, or an internal relationship pointing at a part that is not there."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        return [f"not a zip file: {exc}"]
    problems: list[str] = []
    with zf:
        broken = zf.testzip()
        if broken is not None:
            problems.append(f"corrupt zip member {broken}")
        names = set(zf.namelist())
        for required in ("[Content_Types].xml", "_rels/.rels", "word/document.xml"):
            if required not in names:
                problems.append(f"missing part {required}")
        for name in sorted(names):
            if not name.endswith((".xml", ".rels")):
                continue
            try:
                root = ET.fromstring(zf.read(name))
            except ET.ParseError as exc:
                problems.append(f"{name}: XML does not parse ({exc})")
                continue
            if name.endswith(".rels"):
                folder = posixpath.dirname(posixpath.dirname(name))  # word/_rels/x.rels -> word
                for rel in root.iter(f"{REL_NS}Relationship"):
                    if rel.get("TargetMode") == "External":
                        continue
                    target = rel.get("Target", "")
                    part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
                        posixpath.join(folder, target))
                    if part not in names:
                        problems.append(f"{name}: relationship {rel.get('Id')} points at missing {part}")
    return problems


def assert_docx_well_formed(source: Path | bytes) -> None:
    data = source if isinstance(source, bytes) else source.read_bytes()
    problems = docx_problems(data)
    assert not problems, "\n".join(problems)


def document_text(source: Path | bytes) -> str:
    """The text of every w:t in word/document.xml, XML entities resolved."""
    data = source if isinstance(source, bytes) else source.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        root = ET.fromstring(zf.read("word/document.xml"))
    return "".join(t.text or "" for t in root.iter(f"{W}t"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Every .docx reportgen produced during a test (found under its tmp_path) must be well-formed."""
    result = yield
    folder = getattr(item, "funcargs", {}).get("tmp_path")
    if isinstance(folder, Path) and folder.is_dir():
        from reportgen.word import read_draft_info

        for path in sorted(folder.rglob("*.docx")):
            info = read_draft_info(path) if path.is_file() else None
            if info is not None and info.made_by_reportgen:
                problems = docx_problems(path.read_bytes())
                assert not problems, f"{path.name} is not well-formed:\n" + "\n".join(problems)
    return result


def calc_csv(xlsx: Path, outdir: Path) -> str:
    """The first sheet of ``xlsx`` as LibreOffice Calc reads it (CSV text); skips without Calc, except in CI."""
    import shutil
    import subprocess

    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        if os.environ.get("CI"):
            pytest.fail("LibreOffice is missing in CI: .ci/run must install it")
        pytest.skip("LibreOffice is not installed")

    def convert(source: Path) -> Path | None:
        subprocess.run([soffice, f"-env:UserInstallation={(outdir / 'lo-profile').as_uri()}", "--headless",
                        "--norestore", "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76",
                        "--outdir", str(outdir), str(source)], capture_output=True, timeout=180, check=False)
        csv = outdir / f"{source.stem}.csv"
        return csv if csv.is_file() else None

    csv = convert(xlsx)
    if csv is None:  # Calc itself may be missing (only Writer installed): tell that apart from a bad file
        from openpyxl import Workbook

        plain = Workbook()
        plain.active["A1"] = "x"
        plain.save(outdir / "plain.xlsx")
        if convert(outdir / "plain.xlsx") is None:
            if os.environ.get("CI"):
                pytest.fail("LibreOffice Calc is missing in CI: .ci/run must install libreoffice-calc-nogui")
            pytest.skip("LibreOffice Calc is not installed (libreoffice-calc-nogui)")
        pytest.fail(f"LibreOffice Calc could not open {xlsx.name}")
    return csv.read_text(encoding="utf-8")
