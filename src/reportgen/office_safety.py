"""Whether an Office file from someone else (a pack's Word template, a fill-in workbook) is safe to use,
decided on parsed XML only.

It must not make a draft fetch or run anything when opened: no macros, ActiveX, OLE objects or
embedded old-format files, no altChunk or subdocument, no relationship that points outside the
package except a plain hyperlink, no field that includes or fetches (INCLUDEPICTURE, INCLUDETEXT,
LINK, DDEAUTO…).  Every part and every relationship is parsed — any encoding, any namespace prefix,
any quoting, any part name — so a check cannot be dodged by spelling.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree as ET

from .errors import Problem
from .ooxml import Package, PackageLimits, PackageProblem, UnsafeXml, read_package

__all__ = ["OFFICE_LIMITS", "office_problems", "package_problems", "rendered_part_problems"]

OFFICE_LIMITS = PackageLimits(entries=500, total_bytes=50 * 1024 * 1024)
_HINT = "模板包只能使用普通的 .docx；这个文件可能被人恶意修改过，请向发放单位核实"
# Relationship types (the last part of the Type URI) that embed or run something, whatever their target.
_REFUSED_RELATIONSHIPS = {
    "oleobject": "嵌入的 OLE 对象", "package": "嵌入的文件", "control": "ActiveX 控件", "activexcontrol": "ActiveX 控件",
    "activexcontrolbinary": "ActiveX 控件", "vbaproject": "宏", "afchunk": "嵌入的外部文档（altChunk）",
    "subdocument": "子文档", "frame": "框架引用的外部文档", "wordvbadata": "宏", "externallink": "外部链接的工作簿",
    "externallinkpath": "外部链接的工作簿", "attachedtemplate": "附加模板",
}
_REFUSED_CONTENT = ("macroenabled", "vbaproject", "activex", "oleobject", "msword", "ms-excel", "ms-powerpoint",
                    "vnd.ms-office.vba", "externallink")
_REFUSED_NAMES = ("vbaproject.bin", "vbadata.xml", "activex", "oleobject", "embeddings/", "externallinks/")
_FETCHING_FIELDS = {"INCLUDEPICTURE", "INCLUDETEXT", "INCLUDE", "LINK", "DDE", "DDEAUTO", "IMPORT", "DATABASE",
                    "RD", "AUTOTEXTLIST"}
_REFUSED_ELEMENTS = {"altChunk": "嵌入的外部文档（altChunk）", "control": "ActiveX 控件", "OLEObject": "嵌入的 OLE 对象",
                     "subDoc": "子文档", "attachedTemplate": "附加模板", "mailMerge": "邮件合并的数据源"}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _attributes(element: ET.Element) -> dict[str, str]:
    """An element's attributes by local name, lower case (relationships and content types are written
    with any prefix and any case)."""
    return {_local(key).lower(): value.strip() for key, value in element.attrib.items()}


def office_problems(source: Path | bytes, shown: str, *, limits: PackageLimits = OFFICE_LIMITS,
                    hint: str = _HINT) -> list[Problem]:
    """Why an Office file (.docx/.xlsx) may not be used; empty when it is safe.  ``hint`` says what to
    do about a refused part (a pack's and a fill-in workbook's advice differ)."""
    try:
        package = read_package(source, limits)
    except PackageProblem as exc:
        return [Problem(str(exc), shown, hint="请用 Word、WPS 或 Excel 重新另存为 .docx / .xlsx")]
    return package_problems(package, shown, hint=hint)


def package_problems(package: Package, shown: str, *, hint: str = _HINT) -> list[Problem]:
    problems: list[Problem] = []

    def refuse(message: str) -> None:
        problems.append(Problem(message, shown, hint=hint))

    roots: dict[str, ET.Element | None] = {}  # each part parsed once (a part's .rels is read for it too)

    def root_of(name: str) -> ET.Element | None:
        if name not in roots:
            try:
                roots[name] = package.xml(name)
            except UnsafeXml:
                roots[name] = None
        return roots[name]

    types = _content_types(package, root_of)
    for name in package.names:
        lowered = name.lower().replace("\\", "/")
        content_type = types.get(name, "")
        lowered_type = content_type.lower()
        if lowered.startswith("/") or ".." in lowered.split("/"):
            refuse(f"文件里有非法路径“{name}”")
        if any(marker in lowered for marker in _REFUSED_NAMES):
            refuse(f"文件里有宏、ActiveX、嵌入对象或外部链接（{name}）")
        elif lowered.endswith((".doc", ".xls", ".ppt", ".exe", ".dll", ".js", ".vbs")) or (
                lowered.endswith(".bin") and "printersettings" not in lowered_type):  # Excel keeps print setup in .bin
            refuse(f"文件里嵌有其他格式的文件（{name}）")
        if any(marker in lowered_type for marker in _REFUSED_CONTENT):
            refuse(f"文件声明了不允许的内容类型“{content_type}”（宏、嵌入对象或外部链接）")
        # Office reads a part by its declared type, not its name: every part that is or claims to be XML is checked.
        declared_xml = lowered_type.endswith("xml") or lowered.endswith((".xml", ".rels"))
        if not (declared_xml or _looks_like_xml(package.parts[name])):
            continue
        root = root_of(name)
        if root is None:
            refuse(f"部件“{name}”不是合法的 XML，或含有 DTD/实体声明")
            continue
        if lowered.endswith(".rels"):
            problems.extend(_relationship_problems(root, name, shown, hint))
        elif lowered != "[content_types].xml":
            problems.extend(_part_problems(root, name, shown, hint))
            problems.extend(_external_references(root, name, _external_ids(package, name, root_of), shown, hint))
    seen: set[tuple[str, str | None]] = set()
    unique = []
    for problem in problems:
        if (problem.message, problem.file) not in seen:
            seen.add((problem.message, problem.file))
            unique.append(problem)
    return unique


_R_NAMESPACES = ("http://schemas.openxmlformats.org/officeDocument/2006/relationships",
                 "http://purl.oclc.org/ooxml/officeDocument/relationships")
_LINK_ELEMENTS = {"hyperlink", "hlinkClick", "hlinkHover", "hlinkMouseOver"}  # where a click opens it


def _external_ids(package: Package, part: str, root_of: Callable[[str], ET.Element | None]) -> set[str]:
    """The ids of the external relationships of ``part`` (its ``_rels/NAME.rels``)."""
    folder, _, base = part.rpartition("/")
    wanted = f"{folder}/_rels/{base}.rels".lstrip("/").lower()
    rels = next((name for name in package.names if name.lower() == wanted), None)
    root = root_of(rels) if rels is not None else None
    if root is None:
        return set()  # none, or unreadable (reported as a part of its own)
    found = set()
    for element in root.iter():
        attributes = _attributes(element)
        if _local(element.tag) == "Relationship" and attributes.get("targetmode", "").lower() == "external":
            found.add(attributes.get("id", ""))
    return found


def _external_references(root: ET.Element, part: str, external: set[str], shown: str, hint: str) -> list[Problem]:
    """An external relationship used by anything but a hyperlink (a picture's r:link, an object) is fetched
    when the file is opened, whatever the relationship's type says."""
    if not external:
        return []
    for element in root.iter():
        for key, value in element.attrib.items():
            namespace = key[1:].partition("}")[0] if key.startswith("{") else ""
            if namespace in _R_NAMESPACES and value.strip() in external and _local(element.tag) not in _LINK_ELEMENTS:
                return [Problem(f"文件把外部资源（网址或文件）当作图片或对象引用（{part}：{_local(element.tag)}），打开时会自动访问",
                                shown, hint="不能链接外部文件或网址（普通的可点击超链接除外）；" + hint)]
    return []


def _content_types(package: Package, root_of: Callable[[str], ET.Element | None]) -> dict[str, str]:
    """Each part's declared content type, from [Content_Types].xml's overrides and defaults."""
    source = next((name for name in package.names if name.lower() == "[content_types].xml"), None)
    root = root_of(source) if source is not None else None
    if root is None:
        return {}
    defaults: dict[str, str] = {}
    overrides: dict[str, str] = {}
    for element in root.iter():
        attributes = _attributes(element)
        content_type = attributes.get("contenttype", "")
        if _local(element.tag) == "Default":
            defaults[attributes.get("extension", "").lower()] = content_type
        elif _local(element.tag) == "Override":
            overrides[attributes.get("partname", "").lstrip("/").lower()] = content_type
    return {name: overrides.get(name.lower(), defaults.get(PurePosixPath(name).suffix.lstrip(".").lower(), ""))
            for name in package.names}


def _looks_like_xml(data: bytes) -> bool:
    for bom in (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"):
        data = data.removeprefix(bom)
    head = data[:64].replace(b"\0", b"").lstrip()
    return head.startswith(b"<")


def _relationship_problems(root: ET.Element, part: str, shown: str, hint: str) -> list[Problem]:
    problems: list[Problem] = []
    for element in root.iter():
        if _local(element.tag) != "Relationship":
            continue
        attributes = _attributes(element)
        kind = attributes.get("type", "").rstrip("/").rsplit("/", 1)[-1].lower()
        target = attributes.get("target", "")
        external = attributes.get("targetmode", "").lower() == "external"
        looks_remote = "://" in target or target.startswith(("\\\\", "//")) or target.lower().startswith(("file:", "mhtml:"))
        if kind in _REFUSED_RELATIONSHIPS:
            problems.append(Problem(f"文件含有{_REFUSED_RELATIONSHIPS[kind]}（{part}：{target}）", shown, hint=hint))
        elif (external or looks_remote) and kind != "hyperlink":
            problems.append(Problem(f"文件引用了外部资源“{target}”（{part}），打开时会自动访问", shown,
                                    hint="不能链接外部文件或网址（普通的可点击超链接除外）；" + hint))
    return problems


def rendered_part_problems(root: ET.Element, part: str, shown: str) -> list[Problem]:
    """What a Word template part is after its tags ran (with the body left out): a template can spell a
    field's name out of pieces ({{ 'INCLUDE' }}PICTURE, {% if %}…), so the output is checked too."""
    return _part_problems(root, part, shown, _HINT)


def _part_problems(root: ET.Element, part: str, shown: str, hint: str) -> list[Problem]:
    """Fields that include or fetch, and elements that embed, in one XML part."""
    problems: list[Problem] = []
    instructions: list[str] = []
    open_fields: list[list[str] | None] = []  # per field begun and not ended: its code so far, None once past it
    named_by_field = False  # { { QUOTE "INCLUDEPICTURE" } "http://…" }: a field whose name another field makes
    for element in root.iter():
        local = _local(element.tag)
        if local in _REFUSED_ELEMENTS:
            problems.append(Problem(f"文件含有{_REFUSED_ELEMENTS[local]}（{part}）", shown, hint=hint))
        elif local == "fldSimple":
            instructions.append(next((v for k, v in element.attrib.items() if _local(k) == "instr"), ""))
        elif local == "fldChar":
            kind = next((v for k, v in element.attrib.items() if _local(k) == "fldCharType"), "")
            if kind == "begin":  # a field may begin inside another's code: INCLUDEPICTURE "{ QUOTE … }"
                outer = open_fields[-1] if open_fields else None
                if outer is not None and not "".join(outer).strip():
                    named_by_field = True
                open_fields.append([])
            elif open_fields:
                code = open_fields[-1]
                if code is not None:
                    instructions.append("".join(code))
                if kind == "end":
                    open_fields.pop()
                else:
                    open_fields[-1] = None
        elif local == "instrText":
            code = open_fields[-1] if open_fields else None
            if code is None:
                instructions.append(element.text or "")
            else:
                code.append(element.text or "")
        elif local == "f" and part.startswith("xl/") and (element.text or "").strip():
            problems.append(Problem(f"工作表里有公式（{part}）", shown, hint="请把公式换成数值（复制后“选择性粘贴—数值”）"))
    instructions.extend("".join(code) for code in open_fields if code)
    if named_by_field:
        problems.append(Problem(f"文件里有名称由另一个域生成的域代码（{part}）", shown,
                                hint="这是隐藏 INCLUDEPICTURE、DDE 等域的手法；模板里不能有这样的域，请删掉它"))
    for instruction in instructions:
        words = instruction.replace('"', " ").split()
        if words and words[0].lstrip("\\").upper() in _FETCHING_FIELDS:
            problems.append(Problem(f"文件里有会读取外部内容的域代码“{words[0].upper()}”（{part}）", shown,
                                    hint="模板里不能有 INCLUDEPICTURE、INCLUDETEXT、LINK、DDE 等域；请删掉它"))
    return problems
