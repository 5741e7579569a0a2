"""Shared test helpers: an isolated reportgen home, profiles and a small pack built in code, .docx read-back.

Tests build their inputs in code.  Built-in packs change as content is written, so nothing here
hard-codes their catalogues beyond the keys old profiles rely on: they are read from the pack.
Helpers are plain functions (``from conftest import …``) plus a few fixtures.
"""

from __future__ import annotations

import hashlib
import io
import os
import posixpath
import re
import shutil
import subprocess
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
BUILTIN = ("jiguan", "qiye", "xitong")

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"  # also the relationship types' base
W = f"{{{W_NS}}}"
REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
CN_DIGITS = "一二三四五六七八九十"


# ---------------------------------------------------------------- environment


@pytest.fixture(scope="session", autouse=True)
def _isolated_reportgen_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No test reads or writes the real user pack store (session-wide, so Hypothesis is happy)."""
    base = tmp_path_factory.mktemp("reportgen-env")
    saved = os.environ.get("REPORTGEN_HOME")
    os.environ["REPORTGEN_HOME"] = str(base / "home")
    yield
    if saved is None:
        os.environ.pop("REPORTGEN_HOME", None)
    else:
        os.environ["REPORTGEN_HOME"] = saved


def example_profiles() -> list[Path]:
    """Every example profile that exists at run time: profiles/*.yaml and templates/*/example.yaml."""
    found = sorted(PROFILES.glob("*.yaml")) + sorted(TEMPLATES.glob("*/example.yaml"))
    return [p for p in found if p.is_file()]


def example_id(path: Path) -> str:
    return str(path.relative_to(REPO))


def load_builtin(name: str) -> Any:
    from reportgen.packs.lookup import PackFinder

    return PackFinder().find(name)


# ---------------------------------------------------------------- profiles built in code


def jiguan_copy(base: Path, name: str) -> Any:
    """A copy of the built-in jiguan named ``name`` in ``base``, made as a user makes one (``packs new``)."""
    from reportgen import core

    saved = Path.cwd()
    os.chdir(base)
    try:
        return core.new_pack(base / name, "jiguan", base)
    finally:
        os.chdir(saved)


def write_yaml(path: Path, data: Mapping[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(dict(data), allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def full_meta(**changes: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "unit": "市文化旅游局机关党委",
        "name": "周某某",
        "position": "书记",
        "year": 2025,
        "superior": "市直机关工委",
        "basis": "市直机关工委关于开展年度述职评议考核的通知",
        "date": "2026-01-12",
    }
    meta.update(changes)
    return meta


def example_data(pack: str) -> dict[str, Any]:
    data = yaml.safe_load((TEMPLATES / pack / "example.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


# ---------------------------------------------------------------- a small pack written in code

MINI_FACTS: dict[str, dict[str, Any]] = {
    "sessions": {"label": "集中学习次数", "unit": "次", "required": True, "compare": True,
                 "phrase": ["组织集中学习{}"]},
    "rate": {"label": "按期换届率", "type": "percent", "phrase": ["按期换届率达到{}"]},
    "doc_name": {"label": "年度工作要点名称", "type": "text", "phrase": ["印发《{}》"]},
    "extra": {"label": "专题调研次数", "unit": "次", "phrase": ["开展专题调研{}"]},
}


def mini_prose() -> dict[str, dict[str, Any]]:
    """The mini pack's prose: one variant each, so tests know every sentence."""
    topics = {
        "alpha": {"title": "甲项", "lead": ["抓甲项工作，夯实基础"], "points": {
            "a1": {"lead": ["甲一要点"], "facts": ["sessions"], "text": [["甲项第一要点正文。"]]},
            "a2": {"lead": ["甲二要点"], "text": [["甲项第二要点正文[，按期换届率{rate}]。"]]},
        }},
        "beta": {"title": "乙项", "lead": ["抓乙项工作，补齐短板"], "points": {
            "b1": {"lead": ["乙一要点"], "facts": ["doc_name"], "text": [["乙项第一要点正文。"]]},
            "b2": {"lead": ["乙二要点"], "text": [["乙项第二要点正文。"]]},
        }},
        "gamma": {"title": "丙项", "lead": ["抓丙项工作，提升质效"], "points": {
            "g1": {"lead": ["丙一要点"], "facts": ["extra"], "text": [["丙项正文。"]]},
        }},
        "delta": {"title": "丁项", "lead": ["抓丁项工作，形成合力"], "points": {
            "d1": {"lead": ["丁一要点"], "text": [["丁项正文，各支部协同推进。"]]},
        }},
    }
    problems = {key: {"title": title, "lead": [lead], "text": [[f"{title}正文。"]], "measure": measure}
                for key, title, lead, measure in (("p_one", "问题一", "第一项问题仍然存在", "m_one"),
                                                   ("p_two", "问题二", "第二项问题有待解决", "m_two"),
                                                   ("p_three", "问题三", "第三项问题需要重视", "m_three"))}
    causes = {key: {"title": title, "lead": [lead], "text": [[f"{title}正文。"]]}
              for key, title, lead in (("c_one", "原因一", "第一项原因"), ("c_two", "原因二", "第二项原因"),
                                       ("c_three", "原因三", "第三项原因"))}
    measures = {key: {"title": title, "lead": [lead], "text": [[f"{title}正文。"]]}
                for key, title, lead in (("m_one", "措施一", "针对第一项问题持续用力"),
                                         ("m_two", "措施二", "针对第二项问题精准施策"),
                                         ("m_three", "措施三", "针对第三项问题久久为功"))}
    frame = {
        "opening": [["{unit}按照{superior}部署开展工作，现将情况报告如下："]],
        "intro": {"rectification": [["上年查摆的问题整改情况如下："]], "causes": [["原因导语："]],
                  "measures": [["措施导语："]], "problems": [["问题导语："]], "work": [["工作导语。"]]},
        "closing": [["结束语。"]],
        "facts": {"openers": ["全年"], "plan_openers": ["下一步"]},
        "rectification": {"action": ["整改情况："], "status": {"已完成": ["该问题已整改到位。"],
                                                           "基本完成": ["该问题已基本整改。"],
                                                           "持续推进": ["该问题正在持续整改。"]},
                          "carried": ["该问题仍需持续整改。"]},
    }
    return {"topics": topics, "problems": problems, "causes": causes, "measures": measures, "frame": frame}


def write_word_template(target: Path) -> Path:
    """The GB/T 9704 Word template the built-in packs use (written by tools/make_word_template.py)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_word_template", REPO / "tools" / "make_word_template.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.write_template(target)
    return target


def make_mini_pack(root: Path, *, work: str = "paren_chinese", points: str = "sentences",
                   problems: str = "ordinal_inline", causes: str = "ordinal_inline", measures: str = "arabic",
                   rectification: str = "ordinal_paragraphs", skeleton: Mapping[str, Any] | None = None,
                   manifest: Mapping[str, Any] | None = None) -> Path:
    """Write a small format-2 pack with known prose and the given numbering styles; returns its folder."""
    write_word_template(root / "word" / "template.docx")
    prose = mini_prose()
    for kind, content in prose.items():
        write_yaml(root / "prose" / f"{kind}.yaml", content)
    data: dict[str, Any] = {
        "format": 2, "name": "mini", "version": "1.0.0", "title": "测试用模板包", "description": "只用于测试",
        "requires": ">=0.2", "word_template": "word/template.docx",
        "prose": {kind: f"prose/{kind}.yaml" for kind in prose},
        "facts": MINI_FACTS,
        "skeleton": {
            "title": "{year}年度述职报告", "byline": True,
            "sections": [
                {"kind": "opening"},
                {"kind": "work", "heading": "履职情况", "numbering": work, "points": points, "min_items": 1,
                 "max_items": 5},
                {"kind": "rectification", "heading": "上年问题整改情况", "numbering": rectification, "intro": True},
                {"kind": "problems", "heading": "存在的问题及原因", "numbering": problems, "min_items": 1, "max_items": 4},
                {"kind": "causes", "numbering": causes, "intro": True, "min_items": 1, "max_items": 4},
                {"kind": "measures", "heading": "下一步措施", "numbering": measures, "intro": True, "min_items": 1,
                 "max_items": 5},
                {"kind": "closing"},
            ],
            **(skeleton or {}),
        },
        **(manifest or {}),
    }
    write_yaml(root / "pack.yaml", data)
    return root


def mini_profile(pack_dir: Path, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "pack": str(pack_dir),
        "meta": full_meta(),
        "facts": {"sessions": 12, "rate": 96, "doc_name": "年度党建工作要点"},
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


def draft_of(path: Path, **kwargs: Any) -> Any:
    """core.check: the draft in memory (what ``reportgen check`` sees)."""
    from reportgen.core import check

    return check(path, **kwargs)


def text_of(tmp_path: Path, data: Mapping[str, Any], name: str = "p.yaml") -> str:
    """The text of the draft of ``data`` (written as a profile under tmp_path)."""
    return str(draft_of(write_yaml(tmp_path / name, data)).document.text)


def build_from(tmp_path: Path, data: Mapping[str, Any], name: str = "p.yaml", **kwargs: Any) -> Path:
    """Write ``data`` as a profile under tmp_path and build it to .docx; returns the .docx path."""
    from reportgen.core import build

    profile = write_yaml(tmp_path / name, data)
    return Path(build(profile, **kwargs).output)


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


# ---------------------------------------------------------------- a .docx is well-formed


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
                folder = posixpath.dirname(posixpath.dirname(name))
                for rel in root.iter(f"{REL_NS}Relationship"):
                    if rel.get("TargetMode") == "External":
                        continue
                    target = rel.get("Target", "")
                    part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
                        posixpath.join(folder, target))
                    if part not in names:
                        problems.append(f"{name}: relationship {rel.get('Id')} points at missing {part}")
    return problems


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
        from reportgen.outputs.guard import State, state_of

        for path in sorted(folder.rglob("*.docx")):
            if path.is_file() and state_of(path) is State.UNTOUCHED:
                problems = docx_problems(path.read_bytes())
                assert not problems, f"{path.name} is not well-formed:\n" + "\n".join(problems)
    return result


# ---------------------------------------------------------------- LibreOffice


def soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("LibreOffice is missing in CI: .ci/run must install it")
        pytest.skip("LibreOffice is not installed")
    return found


def convert(source: Path, outdir: Path, target: str) -> Path:
    """``source`` converted by LibreOffice (headless) to ``target`` (e.g. "pdf", "csv:…", "xlsx")."""
    subprocess.run([soffice(), f"-env:UserInstallation={(outdir / 'lo-profile').as_uri()}", "--headless",
                    "--norestore", "--convert-to", target, "--outdir", str(outdir), str(source)],
                   capture_output=True, timeout=240, check=False)
    result = outdir / f"{source.stem}.{target.split(':')[0]}"
    assert result.is_file(), f"LibreOffice could not convert {source.name} to {target}"
    return result


def calc_csv(xlsx: Path, outdir: Path) -> str:
    """The first sheet of ``xlsx`` as LibreOffice Calc reads it (CSV text)."""
    return convert(xlsx, outdir, "csv:Text - txt - csv (StarCalc):44,34,76").read_text(encoding="utf-8")


# ---------------------------------------------------------------- zips and folders


def rewrite_zip(data: bytes, changes: Mapping[str, bytes | str | None]) -> bytes:
    """A copy of a zip (.docx) with members replaced, added (new names) or removed (None)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in source.infolist():
            if info.filename in changes:
                replacement = changes[info.filename]
                if replacement is not None:
                    zf.writestr(info.filename, replacement)
            else:
                zf.writestr(info.filename, source.read(info))
        for name, replacement in changes.items():
            if name not in source.namelist() and replacement is not None:
                zf.writestr(name, replacement)
    return out.getvalue()


def member(data: bytes, name: str) -> str:
    """One member of a zip (.docx), as text."""
    return zipfile.ZipFile(io.BytesIO(data)).read(name).decode("utf-8")


def tree_digest(root: Path) -> str:
    """Every folder, file name, link and file content under root ("absent" if it does not exist)."""
    if not root.exists():
        return "absent"
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            digest.update(f"L {rel} {os.readlink(path)}\n".encode())
        elif path.is_dir():
            digest.update(f"D {rel}\n".encode())
        else:
            digest.update(f"F {rel} {hashlib.sha256(path.read_bytes()).hexdigest()}\n".encode())
    return digest.hexdigest()
