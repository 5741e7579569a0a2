"""Office Open XML packages (.docx, .xlsx): reading them safely, writing them deterministically.

One place for what every Word or Excel file reportgen reads or writes goes through:
- ``read_package``: a zip read within limits (entries, sizes, compression ratio) — a pack's Word
  template, a user's workbook or last year's report, or a draft about to be replaced;
- ``parse_xml``: a hardened XML parser (no DTD, so no entities; nothing is ever fetched);
- ``write_package``: a zip with fixed timestamps and order, so equal inputs give equal bytes;
- ``core_properties`` / ``custom_properties``: the one writer of docProps;
- ``fingerprint``: what edit detection compares, over every part a user can change.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import xml.parsers.expat
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from xml.etree import ElementTree as ET

from .errors import Problem, UnsafePackError

__all__ = [
    "CUSTOM_PROPS",
    "FINGERPRINT_PROPERTY",
    "FIXED_TIME",
    "OLD_OFFICE",
    "Package",
    "PackageLimits",
    "UnsafeXml",
    "core_properties",
    "custom_properties",
    "fingerprint",
    "parse_xml",
    "read_package",
    "sealed_package",
    "write_package",
    "xml_escape",
]

OLD_OFFICE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # how an old binary .doc/.xls begins (not a zip)
FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # every zip member's timestamp: rebuilds are byte-identical
CUSTOM_PROPS = "docProps/custom.xml"
CORE_PROPS = "docProps/core.xml"
FINGERPRINT_PROPERTY = "reportgen.fingerprint"
NS_CUSTOM = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
NS_VT = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"


class UnsafeXml(ValueError):
    """XML that declares a DTD or entities, or does not parse."""


def xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def parse_xml(data: bytes) -> ET.Element:
    """Parse XML with expat, refusing any DTD: no entity is defined, none expanded, nothing fetched.

    Namespaced names come out as ElementTree writes them (``{uri}local``); comments and processing
    instructions are dropped.  Any encoding expat knows (a UTF-16 part with its BOM) is read.
    """
    builder = ET.TreeBuilder()
    parser = xml.parsers.expat.ParserCreate(namespace_separator="}")

    def refuse(*_: Any) -> None:
        raise UnsafeXml("DTD")

    def name(raw: str) -> str:
        return "{" + raw if "}" in raw else raw

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse  # type: ignore[assignment]
    parser.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartElementHandler = lambda tag, attrs: builder.start(name(tag), {name(k): v for k, v in attrs.items()})
    parser.EndElementHandler = lambda tag: builder.end(name(tag))
    parser.CharacterDataHandler = builder.data
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as exc:
        raise UnsafeXml(str(exc)) from None
    return builder.close()


@dataclass(frozen=True)
class PackageLimits:
    entries: int = 1000
    total_bytes: int = 64 * 1024 * 1024  # uncompressed, all parts
    ratio: int = 200  # a part may inflate to at most this many times its compressed size (+ 1 MB)


@dataclass(frozen=True)
class Package:
    """The parts of a zip package, read within limits; ``names`` in the zip's order."""

    names: tuple[str, ...]
    parts: Mapping[str, bytes]

    def xml(self, name: str) -> ET.Element:
        return parse_xml(self.parts[name])


class PackageProblem(ValueError):
    """A zip that cannot be read within the limits; the message is Chinese."""


def read_package(source: Path | bytes, limits: PackageLimits = PackageLimits()) -> Package:
    """Every member of a zip, refusing what would take unbounded time or memory (a zip bomb, a
    thousand tiny parts) before inflating anything, and counting the bytes as they inflate."""
    stream: IO[bytes] | None = None
    try:
        stream = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")  # noqa: SIM115
        declared = _declared_entries(stream)
        if declared > limits.entries:  # before zipfile reads a directory of a million entries
            raise PackageProblem(f"文件里的部件太多（{declared} 个）")
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, zlib.error) as exc:
        if stream is not None:
            stream.close()
        if isinstance(exc, PackageProblem):
            raise
        raise PackageProblem("不是有效的 Office 文件（无法作为 zip 打开）") from exc
    with archive, stream:
        infos = [info for info in archive.infolist() if not info.is_dir()]
        if len(infos) > limits.entries:
            raise PackageProblem(f"文件里的部件太多（{len(infos)} 个）")
        folded = [info.filename.lower() for info in infos]
        if len(set(folded)) != len(folded):  # Office names parts case-insensitively: which copy would it read?
            raise PackageProblem("文件里有重名的部件")
        if sum(info.file_size for info in infos) > limits.total_bytes:
            raise PackageProblem("文件解压后过大，可能是“压缩炸弹”")
        for info in infos:
            if info.file_size > info.compress_size * limits.ratio + 1024 * 1024:
                raise PackageProblem(f"部件“{info.filename}”的压缩比异常，可能是“压缩炸弹”")
            if info.flag_bits & 0x1:
                raise PackageProblem("文件加了密码")
        parts: dict[str, bytes] = {}
        total = 0
        try:
            for info in infos:
                with archive.open(info) as member:
                    data = member.read(info.file_size + 1)
                if len(data) > info.file_size:
                    raise PackageProblem(f"部件“{info.filename}”比声明的大，可能是“压缩炸弹”")
                total += len(data)
                if total > limits.total_bytes:
                    raise PackageProblem("文件解压后过大，可能是“压缩炸弹”")
                parts[info.filename] = data
        except (zipfile.BadZipFile, EOFError, NotImplementedError, RuntimeError, ValueError, OSError, zlib.error) as exc:
            if isinstance(exc, PackageProblem):
                raise
            raise PackageProblem("文件已损坏或格式不受支持") from exc
    return Package(tuple(info.filename for info in infos), parts)


def _declared_entries(stream: IO[bytes]) -> int:
    """The entry count a zip's end-of-central-directory record declares (0 if it cannot be found)."""
    stream.seek(0, io.SEEK_END)
    size = stream.tell()
    tail_size = min(size, 65_536 + 22)
    stream.seek(size - tail_size)
    tail = stream.read(tail_size)
    stream.seek(0)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(tail):
        return 0
    count = int.from_bytes(tail[at + 10:at + 12], "little")
    if count == 0xFFFF:  # zip64: the count is in the zip64 record just before
        at64 = tail.rfind(b"PK\x06\x06", 0, at)
        return int.from_bytes(tail[at64 + 32:at64 + 40], "little") if at64 >= 0 else count
    return count


def write_package(parts: Iterable[tuple[str, bytes]]) -> bytes:
    """A zip of ``parts`` in the order given, deflated, with fixed timestamps and attributes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts:
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def sealed_package(parts: Mapping[str, bytes], names: Iterable[str], *, title: str, creator: str,
                   created: dt.datetime, properties: Mapping[str, str]) -> bytes:
    """A package reportgen writes: its document properties (never the clock), ``properties`` and the
    fingerprint edit detection compares, the parts written in the order of ``names``."""
    parts = {**parts, CORE_PROPS: core_properties(title=title, creator=creator, created=created),
             CUSTOM_PROPS: custom_properties(properties)}
    parts[CUSTOM_PROPS] = custom_properties({**properties, FINGERPRINT_PROPERTY: fingerprint(parts)})
    return write_package((name, parts[name]) for name in names)


def _w3cdtf(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def core_properties(*, title: str, creator: str, created: dt.datetime) -> bytes:
    """docProps/core.xml; created and modified are ``created`` (from the profile, not the clock)."""
    stamp = _w3cdtf(created)
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:title>{xml_escape(title)}</dc:title><dc:creator>{xml_escape(creator)}</dc:creator>"
        "<cp:lastModifiedBy>reportgen</cp:lastModifiedBy>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified>'
        "</cp:coreProperties>"
    ).encode()


def custom_properties(properties: Mapping[str, str]) -> bytes:
    """docProps/custom.xml: string properties in name order (pid 0 and 1 are reserved)."""
    items = "".join(
        f'<property fmtid="{{D5CDD505-2E9C-101B-9397-08002B2CF9AE}}" pid="{pid}" name="{xml_escape(name)}">'
        f"<vt:lpwstr>{xml_escape(value)}</vt:lpwstr></property>"
        for pid, (name, value) in enumerate(sorted(properties.items()), start=2))
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Properties xmlns="{NS_CUSTOM}" xmlns:vt="{NS_VT}">{items}</Properties>').encode()


def read_custom_properties(data: bytes) -> dict[str, str]:
    """name -> text of docProps/custom.xml's properties (an unreadable part has none)."""
    try:
        root = parse_xml(data)
    except UnsafeXml:
        return {}
    result: dict[str, str] = {}
    for prop in root.iter(f"{{{NS_CUSTOM}}}property"):
        name = prop.get("name")
        if name:
            result[name] = "".join(prop.itertext())
    return result


# Parts that change without the user changing the document: a viewer's thumbnail.
_NOT_CONTENT = ("docProps/thumbnail.",)


def fingerprint(parts: Mapping[str, bytes]) -> str:
    """A digest of everything a user can change in Word, WPS or Excel: every part's content.

    docProps/custom.xml counts by its properties other than the fingerprint itself (a user may add a
    custom property there); a thumbnail a viewer writes does not count.
    """
    digest = hashlib.sha256()
    for name in sorted(parts):
        if name.startswith(_NOT_CONTENT):
            continue
        if name == CUSTOM_PROPS:
            properties = read_custom_properties(parts[name])
            properties.pop(FINGERPRINT_PROPERTY, None)
            data = repr(sorted(properties.items())).encode()
        else:
            data = parts[name]
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    return digest.hexdigest()


def package_problem_to_unsafe(problem: PackageProblem, shown: str) -> UnsafePackError:
    return UnsafePackError(Problem(str(problem), shown, hint="请用 Word、WPS 或 Excel 重新另存后再试"))
