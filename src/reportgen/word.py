"""The Word layer: a pack's .docx template + the document model -> .docx bytes.

The Word template carries the look (named styles, page setup, page-number footers) and
docxtpl-style tags; ``{{p body }}`` marks where the report goes.  A template is read,
checked, patched (docxtpl's tag clean-up) and compiled once; each draft then renders
only the parts with tags, copies every other part's bytes unchanged and writes a
deterministic zip (fixed timestamps, fixed order), so equal inputs give equal files.
"""

from __future__ import annotations

import hashlib
import io
import re
import struct
import xml.parsers.expat
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Template, nodes
from markupsafe import Markup

from .errors import PackError, Problem, UnsafePackError, display_path
from .model import XML_INVALID, Document
from .sandbox import PackSandbox, compile_cached, render_limited

if TYPE_CHECKING:
    from .cache import PackCache

__all__ = ["DraftInfo", "EntryBuilder", "WordTemplate", "ZipEntry", "check_docx_safety", "core_properties_xml",
           "custom_properties_xml", "read_draft_info", "template_style_ids", "xml_attribute", "zip_bytes", "zip_entry"]

MAX_ENTRIES = 500
MAX_UNCOMPRESSED = 50 * 1024 * 1024
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
TEMPLATED_PART = re.compile(r"^word/(document|header\d*|footer\d*)\.xml$")
CUSTOM_PROPS = "docProps/custom.xml"
CORE_PROPS = "docProps/core.xml"
_CUSTOM_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties"
_CUSTOM_CT = "application/vnd.openxmlformats-officedocument.custom-properties+xml"


def xml_escape(text: str) -> str:
    """``&``, ``<``, ``>`` as entities (xml.sax.saxutils.escape, whose import pulls in urllib and http)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def xml_attribute(text: str) -> str:
    """Any text as a quoted XML attribute value (either quote)."""
    return xml_text(text).replace('"', "&quot;").replace("'", "&apos;")


def xml_text(text: str) -> str:
    """Any text as XML character data: characters XML forbids dropped, the rest escaped."""
    return xml_escape(XML_INVALID.sub("", text))


# ---------------------------------------------------------------- deterministic zip

_DOS_TIME = FIXED_TIME[3] << 11 | FIXED_TIME[4] << 5 | FIXED_TIME[5] // 2
_DOS_DATE = (FIXED_TIME[0] - 1980) << 9 | FIXED_TIME[1] << 5 | FIXED_TIME[2]
_EXTERNAL_ATTR = 0o600 << 16
_LOCAL = struct.Struct("<4s2B4HL2L2H")
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_END = struct.Struct("<4s4H2LH")


@dataclass(frozen=True)
class ZipEntry:
    """One deflated zip member, compressed once and reusable in any number of archives."""

    name: bytes
    flags: int
    crc: int
    size: int
    data: bytes  # raw deflate stream


def zip_entry(name: str, data: bytes, level: int = zlib.Z_DEFAULT_COMPRESSION) -> ZipEntry:
    builder = EntryBuilder(name, level, size=len(data))
    builder.add(data)
    return builder.entry()


class EntryBuilder:
    """A zip member compressed as its content arrives in pieces, so a large part is never whole in memory."""

    def __init__(self, name: str, level: int = zlib.Z_DEFAULT_COMPRESSION, *, size: int | None = None) -> None:
        try:
            self.name, self.flags = name.encode("ascii"), 0
        except UnicodeEncodeError:
            self.name, self.flags = name.encode("utf-8"), 0x800
        # With the size known, the smallest window that still reaches back over all of it (zlib keeps
        # 262 bytes of lookahead): the same compression, with less memory to set up per draft part.
        window = 15 if size is None else max(10, min(15, (size + 262).bit_length()))
        self.compressor = zlib.compressobj(level, zlib.DEFLATED, -window)
        self.crc = self.size = 0
        self.out: list[bytes] = []

    def add(self, piece: bytes) -> None:
        self.crc = zlib.crc32(piece, self.crc)
        self.size += len(piece)
        self.out.append(self.compressor.compress(piece))

    def passing(self, pieces: Iterable[bytes]) -> Iterator[bytes]:
        """``pieces`` unchanged, each added on its way through (for a reader that needs them too)."""
        for piece in pieces:
            self.add(piece)
            yield piece

    def entry(self) -> ZipEntry:
        self.out.append(self.compressor.flush())
        return ZipEntry(self.name, self.flags, self.crc, self.size, b"".join(self.out))


def zip_bytes(entries: Iterable[ZipEntry]) -> bytes:
    """A zip archive of ``entries`` in order, with fixed timestamps.

    The layout is byte for byte what ``zipfile`` writes for ``ZipInfo(name, FIXED_TIME)``
    members with ``create_system = 0`` and ZIP_DEFLATED, but unchanged parts are compressed
    only once (see ``zip_entry``), not for every draft.
    """
    chunks: list[bytes] = []
    central: list[bytes] = []
    offset = 0
    count = 0
    for e in entries:
        if e.size > 0x7FFFFFFF or len(e.data) > 0x7FFFFFFF:
            raise ValueError("zip member too large")
        header = _LOCAL.pack(b"PK\x03\x04", 20, 0, e.flags, zipfile.ZIP_DEFLATED, _DOS_TIME, _DOS_DATE, e.crc,
                             len(e.data), e.size, len(e.name), 0)
        chunks += (header, e.name, e.data)
        central.append(_CENTRAL.pack(b"PK\x01\x02", 20, 0, 20, 0, e.flags, zipfile.ZIP_DEFLATED, _DOS_TIME,
                                     _DOS_DATE, e.crc, len(e.data), e.size, len(e.name), 0, 0, 0, 0,
                                     _EXTERNAL_ATTR, offset) + e.name)
        offset += len(header) + len(e.name) + len(e.data)
        count += 1
    directory = b"".join(central)
    chunks += (directory, _END.pack(b"PK\x05\x06", 0, 0, count, count, len(directory), offset, 0))
    return b"".join(chunks)


def check_docx_safety(names_sizes: list[tuple[str, int]], read: Any, shown: str) -> None:
    """Refuse macros, external links, odd paths and bombs in a Word file from a pack."""
    problems: list[Problem] = []
    if len(names_sizes) > MAX_ENTRIES:
        problems.append(Problem(f"Word 模板里的文件太多（{len(names_sizes)} 个）", shown))
    if sum(size for _, size in names_sizes) > MAX_UNCOMPRESSED:
        problems.append(Problem("Word 模板解压后过大，可能是“压缩炸弹”", shown))
    for name, _ in names_sizes:
        lowered = name.lower()
        if name.startswith(("/", "\\")) or ".." in name.replace("\\", "/").split("/"):
            problems.append(Problem(f"Word 模板里有非法路径“{name}”", shown))
        if lowered.endswith("vbaproject.bin") or lowered.endswith("vbadata.xml") or "activex" in lowered:
            problems.append(Problem("Word 模板含有宏或 ActiveX 控件", shown, hint="模板包只能使用普通 .docx，不能带宏"))
    if problems:
        raise UnsafePackError(problems)
    content_types = read("[Content_Types].xml").decode("utf-8", "replace")
    if "macroEnabled" in content_types or "vbaProject" in content_types:
        problems.append(Problem("Word 模板是启用宏的文档（.docm/.dotm）", shown, hint="请另存为普通的 .docx"))
    for name, _ in names_sizes:
        if name.endswith(".rels"):
            rels = read(name).decode("utf-8", "replace")
            for target in re.findall(r'<Relationship\b[^>]*TargetMode="External"[^>]*>', rels):
                url = re.search(r'Target="([^"]*)"', target)
                kind = re.search(r'Type="[^"]*/([^/"]+)"', target)
                if kind and kind.group(1) == "hyperlink":
                    continue  # a clickable link is harmless; anything Word would fetch is not
                problems.append(Problem(f"Word 模板引用了外部资源“{url.group(1) if url else '?'}”", shown,
                                        hint="模板不能链接外部文件或网址（会在打开时自动下载）"))
    if problems:
        raise UnsafePackError(problems)


def template_style_ids(data: bytes) -> dict[str, str]:
    """styleId -> type ("paragraph", "character", …) of a .docx's styles.xml."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        try:
            styles = zf.read("word/styles.xml").decode("utf-8")
        except KeyError:
            return {}
    result: dict[str, str] = {}
    for match in re.finditer(r"<w:style\b([^>]*)>", styles):
        attrs = match.group(1)
        sid = re.search(r'w:styleId="([^"]+)"', attrs)
        kind = re.search(r'w:type="([^"]+)"', attrs)
        if sid:
            result[sid.group(1)] = kind.group(1) if kind else "paragraph"
    return result


@dataclass(frozen=True)
class DraftInfo:
    """What a .docx says about its origin, read back for edit-safety."""

    properties: Mapping[str, str]
    current_fingerprint: str

    @property
    def made_by_reportgen(self) -> bool:
        return "reportgen.fingerprint" in self.properties

    @property
    def edited(self) -> bool:
        return self.properties.get("reportgen.fingerprint") != self.current_fingerprint


def fingerprint(document_xml: bytes) -> str:
    return hashlib.sha256(document_xml).hexdigest()


def read_draft_info(path: Path) -> DraftInfo | None:
    """None when the file is not a readable .docx."""
    try:
        with zipfile.ZipFile(path) as zf:
            document = zf.read("word/document.xml")
            try:
                custom = zf.read(CUSTOM_PROPS).decode("utf-8")
            except KeyError:
                custom = ""
    except (OSError, zipfile.BadZipFile, KeyError, ValueError):
        return None
    props = {name: html_unescape(value) for name, value in
             re.findall(r'<property\b[^>]*\bname="([^"]+)"[^>]*>\s*<vt:lpwstr>(.*?)</vt:lpwstr>', custom, re.DOTALL)}
    return DraftInfo(props, fingerprint(document))


def html_unescape(text: str) -> str:
    import html

    return html.unescape(text)


class WordTemplate:
    """A pack's Word template, read, checked and compiled once; renders many drafts."""

    def __init__(self, path: Path, env: PackSandbox, styles: Mapping[str, str], cache: PackCache,
                 shown: str | None = None) -> None:
        self.path = path
        self.cache = cache  # the pack's (shared with its prose)
        self.shown = shown or display_path(path)
        self.styles = dict(styles)
        # The opening tags of a paragraph per role and of a run per span kind, made once.
        self._paragraph_start = {role: f'<w:p><w:pPr><w:pStyle w:val="{xml_attribute(style)}"/></w:pPr>'
                                 for role, style in self.styles.items()}
        text_start = '<w:t xml:space="preserve">'
        self._run_start = {"text": f"<w:r>{text_start}"}
        for kind in ("placeholder", "lead2", "lead3"):
            if kind in self.styles:
                highlight = '<w:highlight w:val="yellow"/>' if kind == "placeholder" else ""
                self._run_start[kind] = (f'<w:r><w:rPr><w:rStyle w:val="{xml_attribute(self.styles[kind])}"/>{highlight}'
                                         f"</w:rPr>{text_start}")
        if path.suffix.lower() in (".docm", ".dotm"):
            raise UnsafePackError(Problem("Word 模板是启用宏的文档", self.shown, hint="请另存为普通的 .docx"))
        try:
            with zipfile.ZipFile(path) as zf:
                infos = zf.infolist()
                check_docx_safety([(i.filename, i.file_size) for i in infos], zf.read, self.shown)
                self.parts: list[tuple[str, bytes]] = [(i.filename, zf.read(i)) for i in infos if not i.is_dir()]
        except (zipfile.BadZipFile, OSError, KeyError) as exc:
            raise PackError(Problem(f"Word 模板无法打开（{exc}）", self.shown, hint="请用 Word 或 WPS 另存为 .docx")) from None
        names = [name for name, _ in self.parts]
        if "word/document.xml" not in names:
            raise PackError(Problem("Word 模板里没有正文（word/document.xml）", self.shown))
        self.style_ids = template_style_ids(path.read_bytes())
        self.templates: dict[str, Template] = {}
        # Parts whose XML structure cannot vary with the data: checked to be well-formed once, not per draft.
        self._fixed: set[str] = set()
        self._checked: set[str] = set()
        sources: dict[str, str] = {}
        for name, data in self.parts:
            if TEMPLATED_PART.match(name):
                text = data.decode("utf-8")
                if "{{" in text or "{%" in text:
                    source = sources[name] = _split_paragraph_lines(patch_tags(text, cache))
                    self.templates[name] = compile_cached(env, f"{self.shown}:{name}", source)
                    if _fixed_structure(source, cache):
                        self._fixed.add(name)
        if "word/document.xml" not in sources or "body" not in self._names(sources["word/document.xml"]):
            raise PackError(Problem("Word 模板的正文里缺少“{{p body }}”标记", self.shown,
                                    hint="在模板正文中单独占一段写上 {{p body }}，报告内容会放在那里"))
        self.parts = _with_custom_properties_declared(self.parts)
        # Parts that never change are deflated once here; each draft only copies their bytes.
        dynamic = {*self.templates, CUSTOM_PROPS, CORE_PROPS}
        self._static = {name: zip_entry(name, data) for name, data in self.parts if name not in dynamic}

    def _names(self, source: str) -> set[str]:
        """The names a Word template part's source prints or uses."""

        def compute() -> str:
            from jinja2.meta import find_undeclared_variables

            return "\n".join(sorted(find_undeclared_variables(PackSandbox().parse(source))))

        return set(self.cache.text("docx-names", source, compute).split("\n"))

    def missing_styles(self) -> list[str]:
        from .pack import STYLE_ROLES

        missing = []
        for role, style_id in self.styles.items():
            expected = STYLE_ROLES[role][1] if role in STYLE_ROLES else "paragraph"
            if self.style_ids.get(style_id) != expected:
                missing.append(f"{style_id}（{'段落' if expected == 'paragraph' else '字符'}样式，用于 {role}）")
        return missing

    # -- rendering

    def body_xml(self, document: Document) -> str:
        """The paragraphs as WordprocessingML: a paragraph style per role, a character style per span kind."""
        paragraph_start, run_start = self._paragraph_start, self._run_start
        out: list[str] = []
        for paragraph in document.paragraphs:
            out.append(paragraph_start.get(paragraph.role) or paragraph_start["body"])
            for span in paragraph.spans:
                text = span.text
                if "&" in text or "<" in text or ">" in text:
                    text = xml_escape(text)
                out += (run_start.get(span.kind) or run_start["text"], text, "</w:t></w:r>")
            out.append("</w:p>")
        # Characters XML forbids, dropped in one pass over the whole body (no markup contains them).
        return XML_INVALID.sub("", "".join(out))

    def render(self, document: Document, meta: Mapping[str, Any], properties: Mapping[str, str],
               created: str) -> tuple[bytes, str]:
        """The .docx bytes and the fingerprint of its generated content."""
        context = {
            "body": Markup(self.body_xml(document)),
            "title": XML_INVALID.sub("", document.title),  # escaped when printed; here XML's forbidden characters go
            "meta": {k: "" if v is None else XML_INVALID.sub("", str(v)) for k, v in meta.items()},
        }
        rendered: dict[str, bytes] = {}
        for name, template in self.templates.items():
            xml = render_limited(template, context, f"{self.shown}:{name}")
            data = _join_paragraph_lines(xml).encode("utf-8")
            if name not in self._checked:
                _check_well_formed(data, f"{self.shown}:{name}")
                if name in self._fixed:
                    self._checked.add(name)
            rendered[name] = data
        print_ = fingerprint(rendered["word/document.xml"])
        props = {**properties, "reportgen.fingerprint": print_}
        rendered[CUSTOM_PROPS] = custom_properties_xml(sorted(props.items()))
        creator = str(meta.get("name") or meta.get("unit") or "")
        rendered[CORE_PROPS] = core_properties_xml(document.title, creator, "reportgen", created, created)
        # Per-draft parts are deflated at level 1: a third of the time of the default, ~5 % larger.
        entries = [self._static[name] if name in self._static else zip_entry(name, rendered.get(name, data), 1)
                   for name, data in self.parts]
        return zip_bytes(entries), print_


def patch_tags(xml: str, cache: PackCache) -> str:
    """docxtpl's clean-up of tags Word split across runs, cached on disk by content."""

    def compute() -> str:
        from docxtpl import DocxTemplate

        return str(DocxTemplate.patch_xml(None, xml))  # patch_xml does not use self

    return cache.text("docxtpl-patch", xml, compute)


def _split_paragraph_lines(xml: str) -> str:
    # As docxtpl does: one paragraph a line, so template errors report useful line numbers.
    return re.sub(r"<w:p([ >])", r"\n<w:p\1", xml)


def _fixed_structure(source: str, cache: PackCache) -> bool:
    """Whether a Word template part renders to the same XML structure whatever the data: it only prints
    names, their attributes and literals (escaped text, or the body, which is well-formed as made), has
    no tags, filters or calls, and no comment, CDATA section or processing instruction that a value
    could end early ("--", "]]>", "?>" are not escaped).  Decided once per template text, cached."""
    from .cache import code_digest

    def compute() -> str:
        if "<!--" in source or "<![CDATA[" in source or source.find("<?", 1) != -1:
            return "0"
        simple = (nodes.Template, nodes.Output, nodes.TemplateData, nodes.Name, nodes.Getattr, nodes.Const)
        return "1" if all(isinstance(node, simple) for node in PackSandbox().parse(source).find_all(nodes.Node)) else "0"

    return cache.text("docx-fixed-structure-" + code_digest(_fixed_structure), source, compute) == "1"


def _join_paragraph_lines(xml: str) -> str:
    return re.sub(r"\n<w:p([ >])", r"<w:p\1", xml)


def _check_well_formed(data: bytes, shown: str) -> None:
    parser = xml.parsers.expat.ParserCreate()
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as exc:
        raise PackError(Problem(f"Word 模板渲染后不是合法的 XML（{exc}）", shown,
                                hint="检查模板中的 {% %} 标记是否把段落拆坏了")) from None


def _with_custom_properties_declared(parts: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """Make sure the package declares docProps/custom.xml and core.xml (once, at load)."""
    result: list[tuple[str, bytes]] = []
    names = {name for name, _ in parts}
    for name, data in parts:
        if name == "[Content_Types].xml":
            text = data.decode("utf-8")
            if f'PartName="/{CUSTOM_PROPS}"' not in text:
                text = text.replace("</Types>", f'<Override PartName="/{CUSTOM_PROPS}" ContentType="{_CUSTOM_CT}"/></Types>')
            if f'PartName="/{CORE_PROPS}"' not in text:
                text = text.replace("</Types>", f'<Override PartName="/{CORE_PROPS}" ContentType='
                                    '"application/vnd.openxmlformats-package.core-properties+xml"/></Types>')
            data = text.encode("utf-8")
        elif name == "_rels/.rels":
            text = data.decode("utf-8")
            if _CUSTOM_REL not in text:
                text = text.replace("</Relationships>", f'<Relationship Id="rIdReportgenCustom" Type="{_CUSTOM_REL}" '
                                    f'Target="{CUSTOM_PROPS}"/></Relationships>')
            if "core-properties" not in text:
                text = text.replace("</Relationships>", '<Relationship Id="rIdReportgenCore" Type="http://schemas.'
                                    'openxmlformats.org/package/2006/relationships/metadata/core-properties" '
                                    f'Target="{CORE_PROPS}"/></Relationships>')
            data = text.encode("utf-8")
        result.append((name, data))
    for extra in (CORE_PROPS, CUSTOM_PROPS):
        if extra not in names:
            result.append((extra, b""))
    return result


def custom_properties_xml(properties: Iterable[tuple[str, str]]) -> bytes:
    """docProps/custom.xml: string properties, in the order given (Word and Excel packages alike)."""
    items = "".join(
        f'<property fmtid="{{D5CDD505-2E9C-101B-9397-08002B2CF9AE}}" pid="{pid}" name="{xml_attribute(name)}">'
        f"<vt:lpwstr>{xml_text(value)}</vt:lpwstr></property>"
        for pid, (name, value) in enumerate(properties, start=2)  # pid 0 and 1 are reserved
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
        'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
        f"{items}</Properties>"
    ).encode()


def core_properties_xml(title: str, creator: str, last_modified_by: str, created: str, modified: str) -> bytes:
    """docProps/core.xml; ``created`` and ``modified`` as W3CDTF text ("2026-01-15T00:00:00Z")."""
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:title>{xml_text(title)}</dc:title><dc:creator>{xml_text(creator)}</dc:creator>"
        f"<cp:lastModifiedBy>{xml_text(last_modified_by)}</cp:lastModifiedBy>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{created}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{modified}</dcterms:modified>'
        "</cp:coreProperties>"
    ).encode()
