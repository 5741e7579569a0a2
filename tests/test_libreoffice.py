"""Issue 2, points 7 and 9: a real client.  LibreOffice turns drafts into PDF; poppler reads the pages.

Skipped only on a developer machine without LibreOffice/poppler; under CI (env ``CI`` set) a
missing tool is a failure, because .ci/run installs them.  Every conversion uses its own
LibreOffice profile folder so parallel runs do not clash.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from conftest import (
    build_draft,
    build_from,
    complete_profile,
    docx_paragraphs,
    example_id,
    example_profiles,
    heading_texts,
)
from reportgen.pack import find_pack
from reportgen.prose import paragraph_ids

pytestmark = pytest.mark.libreoffice

TOOLS = ("soffice", "pdftotext", "pdfinfo")
A4_PT = (595.3, 841.9)
DASH_NUMBER = re.compile(r"—\s*(\d+)\s*—")


@pytest.fixture(scope="session")
def tools() -> dict[str, str]:
    found = {name: shutil.which(name) for name in TOOLS}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        message = f"缺少 {'、'.join(missing)}（apt-get install libreoffice-writer-nogui poppler-utils fonts-noto-cjk）"
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail(f"CI 环境必须能运行 LibreOffice 测试：{message}")
        pytest.skip(message)
    return {name: str(path) for name, path in found.items()}


def to_pdf(tools: dict[str, str], docx: Path, workdir: Path) -> Path:
    """Convert with a private LibreOffice profile; returns the PDF path."""
    profile_dir = workdir / f"lo-profile-{uuid.uuid4().hex}"
    outdir = docx.parent
    command = [tools["soffice"], f"-env:UserInstallation={profile_dir.as_uri()}", "--headless", "--norestore",
               "--convert-to", "pdf", "--outdir", str(outdir), str(docx)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False,
                              env={**os.environ, "HOME": str(workdir)})
    finally:
        shutil.rmtree(profile_dir, ignore_errors=True)
    pdf = outdir / f"{docx.stem}.pdf"
    assert done.returncode == 0 and pdf.is_file(), f"LibreOffice failed:\n{done.stdout}\n{done.stderr}"
    return pdf


def pdftotext(tools: dict[str, str], pdf: Path, *args: str) -> str:
    done = subprocess.run([tools["pdftotext"], "-enc", "UTF-8", *args, str(pdf), "-"], capture_output=True,
                          timeout=60, check=True)
    return done.stdout.decode("utf-8")


def page_count_and_sizes(tools: dict[str, str], pdf: Path) -> list[tuple[float, float]]:
    info = subprocess.run([tools["pdfinfo"], "-f", "1", "-l", "9999", str(pdf)], capture_output=True, timeout=60,
                          check=True).stdout.decode("utf-8")
    sizes = re.findall(r"^Page\s+\d+\s+size:\s+([\d.]+) x ([\d.]+) pts", info, re.M)
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))  # type: ignore[union-attr]
    assert len(sizes) == pages
    return [(float(w), float(h)) for w, h in sizes]


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


# ---------------------------------------------------------------- every example draft


@pytest.fixture(scope="module")
def example_pdfs(tools: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[Path, tuple[Path, Path]]:
    """Example profile -> (draft .docx, its PDF)."""
    result = {}
    for n, profile in enumerate(example_profiles()):
        workdir = tmp_path_factory.mktemp(f"lo-example-{n}")
        docx = Path(build_draft(profile, workdir / f"{profile.stem}.docx").output)
        result[profile] = (docx, to_pdf(tools, docx, workdir))
    return result


@pytest.mark.parametrize("profile", example_profiles(), ids=example_id)
def test_example_pdf_shows_title_and_every_heading_on_a4(tools: dict[str, str], example_pdfs: Any,
                                                         profile: Path) -> None:
    docx, pdf = example_pdfs[profile]
    text = squeeze(pdftotext(tools, pdf))
    paragraphs = docx_paragraphs(docx)
    title = paragraphs[0].text
    assert title and squeeze(title) in text, f"title “{title}” not in the PDF"
    headings = heading_texts(docx)
    assert len(headings) >= 3
    for heading in headings:
        assert squeeze(heading) in text, f"heading “{heading}” not in the PDF"
    sizes = page_count_and_sizes(tools, pdf)
    assert len(sizes) >= 2
    for width, height in sizes:
        assert width == pytest.approx(A4_PT[0], abs=1.5) and height == pytest.approx(A4_PT[1], abs=1.5)
    # Every page carries its number, — 1 —, — 2 —, …
    pages = pdftotext(tools, pdf).split("\f")
    for number, page in enumerate(pages[: len(sizes)], start=1):
        assert [int(n) for n in DASH_NUMBER.findall(page)] == [number], (number, page[-80:])


# ---------------------------------------------------------------- the page grid


@pytest.fixture(scope="module")
def long_draft(tools: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A draft whose opening is one long paragraph of Han text, so pages 2 and 3 are full body pages."""
    pack = find_pack("jiguan")
    assert "opening" in paragraph_ids(pack)
    filler = "坚持把学习成果转化为推动工作的实际成效切实做到知行合一" * 110  # 2,970 characters: 106 lines
    workdir = tmp_path_factory.mktemp("lo-grid")
    docx = build_from(workdir, complete_profile(pack, overrides={"opening": filler}))
    return to_pdf(tools, docx, workdir)


def body_lines(tools: dict[str, str], pdf: Path, page: int) -> list[str]:
    text = pdftotext(tools, pdf, "-layout", "-f", str(page), "-l", str(page))
    lines = [squeeze(line) for line in text.replace("\f", "").splitlines()]
    return [line for line in lines if line and not DASH_NUMBER.fullmatch(line)]


@pytest.mark.parametrize("page", [2, 3])
def test_full_page_has_22_lines_of_28_characters(tools: dict[str, str], long_draft: Path, page: int) -> None:
    lines = body_lines(tools, long_draft, page)
    assert 21 <= len(lines) <= 23, f"page {page}: {len(lines)} lines"
    lengths = [len(line) for line in lines]
    assert all(27 <= n <= 29 for n in lengths), f"page {page}: characters per line {lengths}"


def _words(tools: dict[str, str], pdf: Path, page: int) -> list[tuple[float, float, float, str]]:
    xml = pdftotext(tools, pdf, "-bbox", "-f", str(page), "-l", str(page))
    root = etree.fromstring(xml.encode("utf-8"), etree.XMLParser(recover=True))
    return [(float(w.get("xMin")), float(w.get("xMax")), float(w.get("yMin")), w.text or "")
            for w in root.iter("{http://www.w3.org/1999/xhtml}word")]


@pytest.mark.parametrize(("page", "side"), [(1, "right"), (2, "left"), (3, "right")])
def test_page_numbers_odd_right_even_left(tools: dict[str, str], long_draft: Path, page: int, side: str) -> None:
    words = _words(tools, long_draft, page)
    bottom = max(y for _, _, y, _ in words)
    footer = sorted((w for w in words if w[2] == bottom), key=lambda w: w[0])
    assert " ".join(w[3] for w in footer) == f"— {page} —"
    left, right = footer[0][0], footer[-1][1]
    if side == "right":
        assert left > A4_PT[0] / 2, footer
        # One character (14 pt) in from the right edge of the text block (26 mm margin).
        assert right == pytest.approx(A4_PT[0] - 26 / 25.4 * 72 - 14, abs=6)
    else:
        assert right < A4_PT[0] / 2, footer
        assert left == pytest.approx(28 / 25.4 * 72 + 14, abs=6)


def test_body_text_starts_at_the_left_margin(tools: dict[str, str], long_draft: Path) -> None:
    words = [w for w in _words(tools, long_draft, 2) if len(w[3]) >= 20]
    assert words
    assert min(w[0] for w in words) == pytest.approx(28 / 25.4 * 72, abs=3)  # 28 mm
    assert max(w[1] for w in words) <= A4_PT[0] - 26 / 25.4 * 72 + 3  # within the 26 mm right margin
