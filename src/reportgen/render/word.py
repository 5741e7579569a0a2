"""The Word layer: a pack's .docx template + the document model -> a .docx draft.

The Word template carries the look (named styles, page setup, page-number footers) and a few
docxtpl tags; ``{{p body }}`` marks where the report goes.  A template is checked (``packs.safety``),
its tags are cleaned up by docxtpl (Word splits them across runs), compiled in the sandbox once per
run, and each draft renders only the parts with tags.  The package is written with fixed timestamps
and order, so the same profile and pack give the same bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

from jinja2 import Template, nodes
from markupsafe import Markup

from ..content.model import Document
from ..errors import PackError, Problem, UnsafePackError, display_path
from ..inputs.source import XML_INVALID
from ..office_safety import package_problems, rendered_part_problems
from ..ooxml import (
    CORE_PROPS,
    CUSTOM_PROPS,
    PackageProblem,
    UnsafeXml,
    package_problem_to_unsafe,
    parse_xml,
    read_package,
    sealed_package,
    xml_escape,
)
from ..packs.manifest import STYLE_ROLES
from ..packs.safety import PACK_LIMITS
from .sandbox import MAX_OUTPUT_CHARS, TimeLimit, WordSandbox, compile_part, render_part, time_limit

__all__ = ["WordTemplate"]

_TEMPLATED = ("word/document.xml", "word/header", "word/footer")
_BODY = "\ue000reportgen-body\ue000"  # where the body goes, while the template's own output is checked
MAX_TEMPLATED_PARTS = 40
MAX_TAGS = 500  # per part; a real template has a handful (docxtpl's clean-up of more takes long)


def _plain(text: str) -> str:
    return XML_INVALID.sub("", text).replace("\ue000", "")
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_CUSTOM_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties"
_CORE_REL = "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties"
_CUSTOM_CT = "application/vnd.openxmlformats-officedocument.custom-properties+xml"
_CORE_CT = "application/vnd.openxmlformats-package.core-properties+xml"


class WordTemplate:
    """A pack's Word template, checked and compiled once; lays out any number of drafts."""

    def __init__(self, path: Path, styles: Mapping[str, str], shown: str | None = None) -> None:
        self.shown = shown or display_path(path)
        if path.suffix.lower() in (".docm", ".dotm"):
            raise UnsafePackError(Problem("Word 模板是启用宏的文档", self.shown, hint="请另存为普通的 .docx"))
        try:
            package = read_package(path, PACK_LIMITS)
        except PackageProblem as exc:  # as ``packs check`` says it: a file that cannot be read safely is refused
            raise package_problem_to_unsafe(exc, self.shown) from None
        problems = package_problems(package, self.shown)
        if problems:
            raise UnsafePackError(problems)
        if "word/document.xml" not in package.parts:
            raise PackError(Problem("Word 模板里没有正文（word/document.xml）", self.shown))
        self.styles = dict(styles)
        self.style_ids = _style_ids(package.parts.get("word/styles.xml", b""))
        try:
            self.parts: list[tuple[str, bytes]] = _declare_properties([(n, package.parts[n]) for n in package.names])
        except (UnicodeDecodeError, UnsafeXml):
            raise PackError(Problem("Word 模板的部件不是 UTF-8 编码的 XML", self.shown,
                                    hint="请用 Word 或 WPS 打开模板后重新保存为 .docx")) from None
        self.templates: dict[str, Template] = {}
        self.fixed: set[str] = set()  # parts whose XML structure cannot vary with the data: checked once
        self.checked: set[str] = set()
        self.skeletons: set[bytes] = set()  # digests of rendered parts already checked
        env = WordSandbox()
        body_found = False
        for name, data in self.parts:
            if name.startswith(_TEMPLATED) and name.endswith(".xml") and (b"{{" in data or b"{%" in data):
                from docxtpl import (
                    DocxTemplate,  # lazy: about 40 ms of imports, needed only to lay out a draft
                )

                shown = f"{self.shown}:{name}"
                if len(self.templates) >= MAX_TEMPLATED_PARTS or data.count(b"{{") + data.count(b"{%") > MAX_TAGS:
                    raise UnsafePackError(Problem("Word 模板里的标记或带标记的部件太多", shown,
                                                  hint=f"一个模板最多 {MAX_TEMPLATED_PARTS} 个带标记的部件、每个部件 {MAX_TAGS} 个标记"))
                try:
                    text = data.decode("utf-8")
                except UnicodeDecodeError:
                    raise PackError(Problem("Word 模板的部件不是 UTF-8 编码", shown,
                                            hint="请用 Word 或 WPS 打开模板后重新保存为 .docx")) from None
                try:
                    with time_limit():  # docxtpl's clean-up of tags Word split across runs
                        source = str(DocxTemplate.patch_xml(None, text))  # patch_xml does not use self
                except TimeLimit:
                    raise UnsafePackError(Problem("Word 模板整理标记超时，已中止", shown,
                                                  hint="这个模板包可能被人恶意修改过，请勿使用")) from None
                template, ast = compile_part(env, source, shown)
                self.templates[name] = template
                if name == "word/document.xml":
                    body_found = any(node.name == "body" for node in ast.find_all(nodes.Name))
                # Without {% if %} every draft has the same XML structure (values are escaped; the body is
                # made well-formed), unless a value lands in a comment, CDATA or instruction ("--" is not escaped).
                branches = any(True for _ in ast.find_all((nodes.If, nodes.CondExpr)))
                markers = "<!--" in source or "<![CDATA[" in source or source.count("<?") > 1
                if not branches and not markers:
                    self.fixed.add(name)
        if not body_found:
            raise PackError(Problem("Word 模板的正文里缺少“{{p body }}”标记", self.shown,
                                    hint="在模板正文中单独占一段写上 {{p body }}，报告内容会放在那里"))
        text_start = '<w:t xml:space="preserve">'
        self._paragraph = {role: f'<w:p><w:pPr><w:pStyle w:val="{xml_escape(style)}"/></w:pPr>'
                           for role, style in self.styles.items()}
        self._run = {"text": f"<w:r>{text_start}"}
        for kind, style in (("lead2", "lead2"), ("lead3", "lead3"), ("placeholder", "placeholder"), ("blank", "placeholder")):
            highlight = '<w:highlight w:val="yellow"/>' if kind in ("placeholder", "blank") else ""
            self._run[kind] = (f'<w:r><w:rPr><w:rStyle w:val="{xml_escape(self.styles[style])}"/>{highlight}</w:rPr>'
                               f"{text_start}")

    def missing_styles(self) -> list[str]:
        missing = []
        for role, style_id in self.styles.items():
            expected = STYLE_ROLES[role][1] if role in STYLE_ROLES else "paragraph"
            if self.style_ids.get(style_id) != expected:
                missing.append(f"{style_id}（{'段落' if expected == 'paragraph' else '字符'}样式，用于 {role}）")
        return missing

    def body_xml(self, document: Document) -> str:
        """The paragraphs as WordprocessingML: a paragraph style per role, a character style per span kind."""
        out: list[str] = []
        for paragraph in document.paragraphs:
            out.append(self._paragraph.get(paragraph.role) or self._paragraph["body"])
            for span in paragraph.spans:
                out += (self._run.get(span.kind) or self._run["text"], xml_escape(span.text), "</w:t></w:r>")
            out.append("</w:p>")
        return XML_INVALID.sub("", "".join(out))

    def render(self, document: Document) -> bytes:
        """The .docx bytes of ``document``; its properties record where it came from and its fingerprint.

        Each templated part is rendered with a marker for the body, checked as XML and for fetching
        fields (once per distinct result), and only then gets the body: the template's own output is
        what could be hostile, the body is made here from escaped text.
        """
        context = {
            "body": Markup(_BODY),
            "title": _plain(document.title),
            "meta": {key: _plain(value) for key, value in document.meta.items()},
        }
        body = self.body_xml(document)
        parts: dict[str, bytes] = {}
        total = 0
        bodies = 0
        for name, data in self.parts:
            template = self.templates.get(name)
            if template is None:
                parts[name] = data
                continue
            shown = f"{self.shown}:{name}"
            skeleton = render_part(template, context, shown)
            total += len(skeleton)
            bodies += skeleton.count(_BODY)
            if total > MAX_OUTPUT_CHARS or bodies > 2:
                raise UnsafePackError(Problem("Word 模板输出的内容过多，已中止", shown,
                                              hint="这个模板包可能被人恶意修改过，请勿使用"))
            if name not in self.checked:
                digest = hashlib.sha256(skeleton.encode("utf-8")).digest()
                if digest not in self.skeletons:
                    try:
                        root = parse_xml(skeleton.encode("utf-8"))
                    except UnsafeXml:
                        raise PackError(Problem("Word 模板渲染后不是合法的 XML", shown,
                                                hint="检查模板中的 {% %} 标记是否把段落拆坏了")) from None
                    problems = rendered_part_problems(root, name, self.shown)
                    if problems:
                        raise UnsafePackError(problems)
                    if len(self.skeletons) < 1000:
                        self.skeletons.add(digest)
                if name in self.fixed:
                    self.checked.add(name)
            parts[name] = skeleton.replace(_BODY, body).encode("utf-8")
        return sealed_package(parts, (name for name, _ in self.parts), title=document.title,
                              creator=document.meta.get("name") or document.meta.get("unit") or "",
                              created=document.created, properties=document.properties)


def _style_ids(styles: bytes) -> dict[str, str]:
    """styleId -> type ("paragraph", "character", …) of a styles.xml."""
    try:
        root = parse_xml(styles) if styles else None
    except UnsafeXml:
        return {}
    if root is None:
        return {}
    return {style.get(f"{_W}styleId", ""): style.get(f"{_W}type", "paragraph") for style in root.iter(f"{_W}style")}


def _declare_properties(parts: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """The package with docProps/core.xml and custom.xml declared and present (reportgen writes both)."""
    names = {name for name, _ in parts}
    result: list[tuple[str, bytes]] = []
    for name, data in parts:
        if name == "[Content_Types].xml":
            declared = {element.get("PartName") for element in parse_xml(data).iter() if element.get("PartName")}
            extra = "".join(f'<Override PartName="/{part}" ContentType="{kind}"/>'
                            for part, kind in ((CUSTOM_PROPS, _CUSTOM_CT), (CORE_PROPS, _CORE_CT))
                            if f"/{part}" not in declared)
            data = _insert_before_end(data, extra)
        elif name == "_rels/.rels":
            targets = {element.get("Type") for element in parse_xml(data).iter() if element.get("Type")}
            extra = "".join(f'<Relationship Id="rIdReportgen{n}" Type="{kind}" Target="{part}"/>'
                            for n, (part, kind) in enumerate(((CUSTOM_PROPS, _CUSTOM_REL), (CORE_PROPS, _CORE_REL)))
                            if kind not in targets)
            data = _insert_before_end(data, extra)
        result.append((name, data))
    result += [(part, b"") for part in (CORE_PROPS, CUSTOM_PROPS) if part not in names]
    return result


def _insert_before_end(data: bytes, extra: str) -> bytes:
    """``extra`` XML inserted before the root element's end tag (the part was parsed: it is well-formed)."""
    if not extra:
        return data
    text = data.decode("utf-8")
    end = text.rstrip().rfind("</")
    return (text[:end] + extra + text[end:]).encode("utf-8")
