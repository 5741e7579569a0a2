"""Write the built-in packs' Word template: GB/T 9704-2012 page setup and named styles.

Run from the repository root:  python tools/make_word_template.py
It writes templates/<pack>/word/template.docx for every built-in pack.  Pack authors do
not need this script: they edit the .docx in Word or WPS (styles, margins) and keep the
{{p body }} paragraph.

Numbers (GUIDE §3): A4 11906×16838 twips; margins top 37 mm, bottom 35 mm, left 28 mm,
right 26 mm; 22 lines of 28.95 pt (linePitch 579) and 28 characters a line.
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

MM = 1440 / 25.4  # twips per millimetre
PAGE_W, PAGE_H = 11906, 16838
TOP, BOTTOM, LEFT, RIGHT = round(37 * MM), round(35 * MM), round(28 * MM), round(26 * MM)
TEXT_W = PAGE_W - LEFT - RIGHT  # 8845 twips = 156 mm
LINE_PITCH = 579  # twips: 22 lines in the 225 mm text block
CHARS_PER_LINE = 28
BODY_PT = 16
# 28 characters of 16 pt (448 pt) do not fit the 156 mm (442.2 pt) line, so every character is
# condensed by 0.25 pt (w:spacing, in twentieths of a point): 28 × 15.75 pt = 441 pt.  A Word
# character grid (docGrid linesAndChars + charSpace) would do the same in Word, but LibreOffice
# reads that grid differently (about 18 characters a line), so the grid only fixes the lines.
CHAR_SPACING = -5
assert CHARS_PER_LINE * (BODY_PT + CHAR_SPACING / 20) <= TEXT_W / 20

W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" ' \
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def fonts(east_asia: str, latin: str = "Times New Roman") -> str:
    return (f'<w:rFonts w:ascii="{latin}" w:hAnsi="{latin}" w:eastAsia="{east_asia}" '
            f'w:cs="{latin}" w:hint="eastAsia"/>')


def size(points: float) -> str:
    half = round(points * 2)
    return f'<w:sz w:val="{half}"/><w:szCs w:val="{half}"/>'


def paragraph_style(style_id: str, name: str, ppr: str, rpr: str, *, based: str | None = "Normal",
                    default: bool = False, next_style: str = "Normal", extra: str = "") -> str:
    based_on = f'<w:basedOn w:val="{based}"/>' if based else ""
    flag = ' w:default="1"' if default else ""
    return (f'<w:style w:type="paragraph"{flag} w:styleId="{style_id}"><w:name w:val="{name}"/>{based_on}'
            f'<w:next w:val="{next_style}"/>{extra}<w:qFormat/><w:pPr>{ppr}</w:pPr><w:rPr>{rpr}</w:rPr></w:style>')


def character_style(style_id: str, name: str, rpr: str) -> str:
    return (f'<w:style w:type="character" w:customStyle="1" w:styleId="{style_id}"><w:name w:val="{name}"/>'
            f'<w:basedOn w:val="DefaultParagraphFont"/><w:qFormat/><w:rPr>{rpr}</w:rPr></w:style>')


INDENT_2 = '<w:ind w:firstLineChars="200" w:firstLine="640"/>'
NO_INDENT = '<w:ind w:firstLineChars="0" w:firstLine="0"/>'
BODY_SPACING = f'<w:spacing w:before="0" w:after="0" w:line="{LINE_PITCH}" w:lineRule="exact"/>'

STYLES = HEAD + f'<w:styles {W}>' + (
    '<w:docDefaults><w:rPrDefault><w:rPr>' + fonts("仿宋_GB2312") + f'<w:spacing w:val="{CHAR_SPACING}"/>'
    + size(BODY_PT) + '<w:lang w:val="en-US" w:eastAsia="zh-CN" w:bidi="ar-SA"/></w:rPr></w:rPrDefault>'
    '<w:pPrDefault><w:pPr><w:widowControl w:val="0"/><w:jc w:val="both"/>' + BODY_SPACING
    + '</w:pPr></w:pPrDefault></w:docDefaults>'
    + paragraph_style("Normal", "Normal", INDENT_2 + '<w:snapToGrid w:val="1"/>', "", based=None, default=True)
    + paragraph_style("ReportTitle", "报告标题",
                      '<w:keepNext/><w:spacing w:before="0" w:after="0" w:line="700" w:lineRule="exact"/>'
                      + NO_INDENT + '<w:jc w:val="center"/><w:outlineLvl w:val="0"/>',
                      fonts("方正小标宋简体") + '<w:spacing w:val="0"/>' + size(22))
    + paragraph_style("Byline", "署名", NO_INDENT + '<w:jc w:val="center"/>', fonts("楷体_GB2312"))
    + paragraph_style("Heading1", "heading 1", '<w:keepNext/>' + INDENT_2 + '<w:outlineLvl w:val="1"/>',
                      fonts("黑体"), extra='<w:uiPriority w:val="9"/>')
    + paragraph_style("Footer", "footer", NO_INDENT + '<w:spacing w:line="240" w:lineRule="auto"/>'
                      '<w:snapToGrid w:val="0"/>', "", next_style="Footer")
    + '<w:style w:type="character" w:default="1" w:styleId="DefaultParagraphFont">'
      '<w:name w:val="Default Paragraph Font"/><w:uiPriority w:val="1"/><w:semiHidden/></w:style>'
    + character_style("Lead2", "二级标题（楷体）", fonts("楷体_GB2312"))
    + character_style("Lead3", "三级标题（仿宋加粗）", "<w:b/><w:bCs/>")
    + character_style("Placeholder", "待补充", '<w:highlight w:val="yellow"/>')
    + character_style("PageNumber", "页码", fonts("宋体", "宋体") + '<w:spacing w:val="0"/>' + size(14))
) + "</w:styles>"


def footer(align: str, indent: str) -> str:
    run = '<w:r><w:rPr><w:rStyle w:val="PageNumber"/></w:rPr>{}</w:r>'
    return (HEAD + f'<w:ftr {W}><w:p><w:pPr><w:pStyle w:val="Footer"/><w:jc w:val="{align}"/>{indent}</w:pPr>'
            + run.format('<w:t xml:space="preserve">— </w:t>')
            + run.format('<w:fldChar w:fldCharType="begin"/>')
            + run.format('<w:instrText xml:space="preserve"> PAGE </w:instrText>')
            + run.format('<w:fldChar w:fldCharType="separate"/>')
            + run.format("<w:t>1</w:t>")
            + run.format('<w:fldChar w:fldCharType="end"/>')
            + run.format('<w:t xml:space="preserve"> —</w:t>')
            + "</w:p></w:ftr>")


# One character (14 pt) in from the edge of the text block: odd pages right, even pages left.
FOOTER_ODD = footer("right", '<w:ind w:right="280"/>')
FOOTER_EVEN = footer("left", '<w:ind w:left="280"/>')

SECT = (f'<w:sectPr><w:footerReference w:type="default" r:id="rIdFooterOdd"/>'
        f'<w:footerReference w:type="even" r:id="rIdFooterEven"/>'
        f'<w:pgSz w:w="{PAGE_W}" w:h="{PAGE_H}"/>'
        f'<w:pgMar w:top="{TOP}" w:right="{RIGHT}" w:bottom="{BOTTOM}" w:left="{LEFT}" '
        f'w:header="851" w:footer="{round(21 * MM)}" w:gutter="0"/>'
        f'<w:cols w:space="425"/>'
        f'<w:docGrid w:type="lines" w:linePitch="{LINE_PITCH}"/></w:sectPr>')

DOCUMENT = (HEAD + f'<w:document {W}><w:body>'
            '<w:p><w:pPr><w:pStyle w:val="Normal"/></w:pPr><w:r><w:t>{{p body }}</w:t></w:r></w:p>'
            + SECT + "</w:body></w:document>")

SETTINGS = (HEAD + f'<w:settings {W}><w:zoom w:percent="100"/><w:evenAndOddHeaders/>'
            '<w:defaultTabStop w:val="420"/><w:characterSpacingControl w:val="compressPunctuation"/>'
            '<w:compat><w:compatSetting w:name="compatibilityMode" w:uri="http://schemas.microsoft.com/office/word"'
            ' w:val="15"/></w:compat></w:settings>')

FONT_TABLE = HEAD + f'<w:fonts {W}>' + "".join(
    f'<w:font w:name="{name}"><w:charset w:val="{charset}"/><w:family w:val="{family}"/></w:font>'
    for name, charset, family in (
        ("Times New Roman", "00", "roman"), ("仿宋_GB2312", "86", "modern"), ("方正小标宋简体", "86", "script"),
        ("黑体", "86", "modern"), ("楷体_GB2312", "86", "modern"), ("宋体", "86", "auto"),
    )) + "</w:fonts>"

CONTENT_TYPES = (
    HEAD + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    'wordprocessingml.document.main+xml"/>'
    '<Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    'wordprocessingml.styles+xml"/>'
    '<Override PartName="/word/settings.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    'wordprocessingml.settings+xml"/>'
    '<Override PartName="/word/fontTable.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    'wordprocessingml.fontTable+xml"/>'
    '<Override PartName="/word/footer1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    'wordprocessingml.footer+xml"/>'
    '<Override PartName="/word/footer2.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    'wordprocessingml.footer+xml"/>'
    '<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    'extended-properties+xml"/>'
    "</Types>"
)

PACKAGE_RELS = (
    HEAD + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="word/document.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'extended-properties" Target="docProps/app.xml"/>'
    "</Relationships>"
)

DOCUMENT_RELS = (
    HEAD + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    + "".join(f'<Relationship Id="{rid}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
              f'relationships/{kind}" Target="{target}"/>'
              for rid, kind, target in (("rIdStyles", "styles", "styles.xml"), ("rIdSettings", "settings", "settings.xml"),
                                        ("rIdFonts", "fontTable", "fontTable.xml"),
                                        ("rIdFooterOdd", "footer", "footer1.xml"),
                                        ("rIdFooterEven", "footer", "footer2.xml")))
    + "</Relationships>"
)

APP = (HEAD + '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
       "<Application>reportgen</Application></Properties>")

PARTS = (
    ("[Content_Types].xml", CONTENT_TYPES), ("_rels/.rels", PACKAGE_RELS), ("docProps/app.xml", APP),
    ("word/document.xml", DOCUMENT), ("word/_rels/document.xml.rels", DOCUMENT_RELS), ("word/styles.xml", STYLES),
    ("word/settings.xml", SETTINGS), ("word/fontTable.xml", FONT_TABLE), ("word/footer1.xml", FOOTER_ODD),
    ("word/footer2.xml", FOOTER_EVEN),
)


def write_template(target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in PARTS:
            zf.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), text.encode("utf-8"),
                        compress_type=zipfile.ZIP_DEFLATED)


def main() -> int:
    root = Path(__file__).resolve().parent.parent / "templates"
    packs = [p for p in sorted(root.iterdir()) if (p / "pack.yaml").is_file()] if root.is_dir() else []
    for pack in packs:
        write_template(pack / "word" / "template.docx")
        print(f"wrote {pack / 'word' / 'template.docx'}")
    if len(sys.argv) > 1:
        write_template(Path(sys.argv[1]))
        print(f"wrote {sys.argv[1]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
