"""Batch builds (outputs/batch.py): many profiles -> one draft each, 汇总.xlsx, the console table.

Every profile is attempted: a bad one is reported (file and line) while the others are written; a
worker process that dies fails its own profile only; a batch killed with kill -9 leaves complete
drafts only and a rerun finishes.  Batches give the same bytes as single builds, whatever -j.
Every test builds its own small pack (conftest.make_mini_pack, two facts marked for the summary)
and its profiles in tmp_path; the mixed-pack summary test uses the built-in packs' examples.
"""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from conftest import (
    MINI_FACTS,
    calc_csv,
    docx_text,
    example_data,
    load_builtin,
    make_mini_pack,
    mini_profile,
    write_yaml,
)
from proc_hooks import REPORTGEN, hook_env, reap, reaping_orphans, run_reportgen
from reportgen.cli import cli
from reportgen.errors import display_width
from reportgen.outputs.batch import build_batch
from reportgen.outputs.guard import State, state_of

SUMMARY = "汇总.xlsx"
UNITS = ["市财政局机关党委", "市教育局机关党委", "市审计局机关党支部", "县水利局机关党支部", "区商务局机关党委",
         "市统计局机关党支部", "县林业局机关党委", "区医保局机关党支部", "市信访局机关党支部", "县民政局机关党委",
         "市人社局机关党委", "区城管局机关党支部"]
SESSIONS_HEADER = "集中学习次数（次）"
RATE_HEADER = "按期换届率（%）"


@pytest.fixture(scope="module")
def pack_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mini pack, with two facts shown in 汇总.xlsx."""
    facts = {key: dict(spec) for key, spec in MINI_FACTS.items()}
    facts["sessions"]["summary"] = True
    facts["rate"]["summary"] = True
    return make_mini_pack(tmp_path_factory.mktemp("batchpack") / "mini", manifest={"facts": facts})


def unit_of(i: int) -> str:
    return UNITS[i % len(UNITS)] + ("" if i < len(UNITS) else f"第{i}支部")


def make_profiles(folder: Path, pack: Path, count: int, *, broken: tuple[int, ...] = (), start: int = 0) -> list[Path]:
    paths = []
    for i in range(start, start + count):
        data = mini_profile(pack, meta={**mini_profile(pack)["meta"], "unit": unit_of(i), "name": f"李{i}"},
                            facts={"sessions": 10 + i, "rate": 90, "doc_name": "年度党建工作要点"})
        if i in broken:
            data["facts"]["sessions"] = "很多"
        paths.append(write_yaml(folder / f"u{i:02d}.yaml", data))
    return paths


def line_of(path: Path, text: str) -> int:
    """The 1-based line of ``path`` that contains ``text``."""
    return next(n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1) if text in line)


def run(*args: str, **env: str) -> Result:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False, env=env or None)
    assert "Traceback" not in result.output
    return result


def assert_valid_docx(path: Path) -> None:
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None, path
        assert "word/document.xml" in zf.namelist(), path
    assert state_of(path) is State.UNTOUCHED, path


def temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def summary_table(path: Path) -> tuple[list[str], list[dict[str, Any]]]:
    """The headers and body rows (as header -> value) of the first sheet of 汇总.xlsx."""
    from openpyxl import load_workbook

    rows = list(load_workbook(path).worksheets[0].iter_rows(values_only=True))
    at = next(i for i, row in enumerate(rows) if "单位" in row)
    headers = [str(h) if h is not None else "" for h in rows[at]]
    body = [dict(zip(headers, row, strict=True)) for row in rows[at + 1:] if any(v is not None for v in row)]
    return headers, body


# ---------------------------------------------------------------- the batch itself


def test_batch_writes_every_good_profile_and_reports_the_broken_one(tmp_path: Path, pack_dir: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    paths = make_profiles(tmp_path / "资料", pack_dir, 12, broken=(5,))
    result = run("build", "资料", "-o", "初稿", "-j", "2")  # 初稿 does not exist yet: created
    assert result.exit_code == 1, result.output
    out = tmp_path / "初稿"
    drafts = sorted(out.glob("*.docx"))
    assert [p.name for p in drafts] == [f"u{i:02d}.docx" for i in range(12) if i != 5]
    texts = set()
    for draft in drafts:
        assert_valid_docx(draft)
        texts.add(docx_text(draft))
    assert len(texts) == 11  # distinct drafts, one per unit
    assert UNITS[0] in docx_text(out / "u00.docx") and UNITS[6] in docx_text(out / "u06.docx")
    line = line_of(paths[5], "sessions:")
    assert f"u05.yaml:{line}:" in result.output, result.output  # the broken one: its file and line
    assert "应为整数" in result.output and "很多" in result.output
    assert "12 份资料，成功 11 份，失败 1 份" in result.output
    assert "正在生成" not in result.output  # no progress bar when stderr is not a terminal
    assert (out / SUMMARY).is_file()


def test_a_committee_batch_of_300_with_two_processes(tmp_path: Path, pack_dir: Path) -> None:
    """300 profiles, -j 2, as a user runs it: 299 valid distinct drafts, the broken one reported, and
    汇总.xlsx with a row per unit."""
    paths = make_profiles(tmp_path / "p", pack_dir, 300, broken=(137,))
    done = run_reportgen("build", "p", "-o", "out", "-j", "2", cwd=tmp_path, timeout=300)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    out = tmp_path / "out"
    drafts = sorted(out.glob("*.docx"))
    assert len(drafts) == 299 and not (out / "u137.docx").exists()
    texts = set()
    for draft in drafts:
        assert_valid_docx(draft)
        texts.add(docx_text(draft))
    assert len(texts) == 299
    assert f"u137.yaml:{line_of(paths[137], 'sessions:')}:" in done.stdout
    assert "300 份资料，成功 299 份，失败 1 份" in done.stdout
    _, rows = summary_table(out / SUMMARY)
    assert len(rows) == 300  # one row per unit, the failed one included
    in_file_order = sorted(range(300), key=lambda i: f"u{i:02d}.yaml")
    assert [row["单位"] for row in rows] == [unit_of(i) for i in in_file_order]
    assert temporaries(out) == []


def test_all_good_exits_0_and_the_table_gives_han_count_and_placeholders(tmp_path: Path, pack_dir: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from reportgen.core import build

    monkeypatch.chdir(tmp_path)
    paths = make_profiles(tmp_path / "p", pack_dir, 3)
    data = yaml.safe_load(paths[1].read_text(encoding="utf-8"))
    del data["facts"]["sessions"]  # a required fact: one placeholder left
    write_yaml(paths[1], data)
    result = run("build", "p", "-o", "out", "-j", "1")
    assert result.exit_code == 0, result.output
    single = build(paths[1], tmp_path / "single.docx")
    assert len(single.draft.missing) == 1
    line = next(line for line in result.output.splitlines() if UNITS[1] in line)
    counts = re.search(r"(\d+) 字\s+待补充\s+(\d+)", line)
    assert counts, line
    assert (int(counts[1]), int(counts[2])) == (single.han_count, 1)
    assert "3 份资料，成功 3 份，失败 0 份" in result.output


def test_files_and_folders_can_be_mixed_and_a_missing_one_is_reported(tmp_path: Path, pack_dir: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    make_profiles(tmp_path / "a", pack_dir, 2)
    extra = make_profiles(tmp_path / "b", pack_dir, 1, start=2)[0].rename(tmp_path / "b" / "另一个.yml")
    (tmp_path / "a" / "说明.txt").write_text("不是资料文件", encoding="utf-8")
    report = build_batch([Path("a"), Path("b/另一个.yml"), Path("没有这个.yaml")], Path("out"), jobs=1)
    assert [Path(item.label).name for item in report.items] == ["u00.yaml", "u01.yaml", "另一个.yml"]
    assert all(item.ok for item in report.items)
    assert sorted(p.name for p in (tmp_path / "out").glob("*.docx")) == ["u00.docx", "u01.docx", "另一个.docx"]
    assert UNITS[2] in docx_text(tmp_path / "out" / "另一个.docx")
    assert [p for p in report.problems if "没有这个.yaml" in p and "找不到" in p]
    assert report.failed == 1
    assert extra.is_file()
    result = run("build", "a", "b/另一个.yml", "没有这个.yaml", "-o", "out2", "-j", "1")
    assert result.exit_code == 1
    assert re.search(r"没有这个\.yaml：找不到这个文件或文件夹", result.output), result.output


def test_a_profile_wrong_everywhere_lists_its_first_problems_only(tmp_path: Path, pack_dir: Path) -> None:
    data = mini_profile(pack_dir)
    data["facts"] = {f"unknown_{i}": i for i in range(30)}
    write_yaml(tmp_path / "p" / "bad.yaml", data)
    make_profiles(tmp_path / "p", pack_dir, 1)
    report = build_batch([tmp_path / "p"], tmp_path / "out", jobs=1)
    bad = report.items[0]
    assert not bad.ok and report.items[1].ok
    assert "共 30 处，下面列出前 10 处" in (bad.error or "")
    assert "unknown_9" in (bad.error or "") and "unknown_10" not in (bad.error or "")


def test_a_folder_without_profiles_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "空").mkdir()
    result = run("build", str(tmp_path / "空"), "-o", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert "没有 .yaml 资料文件" in result.output


def test_output_of_a_batch_must_be_a_folder(tmp_path: Path, pack_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    make_profiles(tmp_path / "p", pack_dir, 2)
    (tmp_path / "out.txt").write_text("x", encoding="utf-8")
    result = run("build", "p", "-o", "out.txt")
    assert result.exit_code == 1 and "应是一个文件夹" in result.output
    assert (tmp_path / "out.txt").read_text(encoding="utf-8") == "x"
    # A name that reads as a Word file is not made into a folder full of drafts.
    result = run("build", "p", "-o", "汇总.docx")
    assert result.exit_code == 1, result.output
    assert "应是一个文件夹" in result.output
    assert not (tmp_path / "汇总.docx").exists()


def test_same_name_in_two_folders_gives_two_drafts(tmp_path: Path, pack_dir: Path) -> None:
    first = make_profiles(tmp_path / "一支部", pack_dir, 1)[0]
    second = make_profiles(tmp_path / "二支部", pack_dir, 1, start=1)[0].rename(tmp_path / "二支部" / "u00.yaml")
    report = build_batch([first, second], tmp_path / "out", jobs=1)
    assert report.failed == 0
    outputs = [Path(item.output) for item in report.items if item.output]
    assert len(outputs) == 2 and len({p.name for p in outputs}) == 2
    assert sorted(p.name for p in (tmp_path / "out").glob("*.docx")) == sorted(p.name for p in outputs)
    assert UNITS[0] in docx_text(outputs[0]) and UNITS[1] not in docx_text(outputs[0])
    assert UNITS[1] in docx_text(outputs[1]) and UNITS[0] not in docx_text(outputs[1])


def test_without_output_drafts_go_beside_their_profiles(tmp_path: Path, pack_dir: Path) -> None:
    make_profiles(tmp_path / "p", pack_dir, 2)
    report = build_batch([tmp_path / "p"], None, jobs=1)
    assert report.failed == 0
    assert (tmp_path / "p" / "u00.docx").is_file() and (tmp_path / "p" / SUMMARY).is_file()


def test_markdown_batch(tmp_path: Path, pack_dir: Path) -> None:
    make_profiles(tmp_path / "p", pack_dir, 2)
    report = build_batch([tmp_path / "p"], tmp_path / "out", fmt="md", jobs=2)
    assert report.failed == 0
    assert sorted(p.name for p in (tmp_path / "out").glob("*.md")) == ["u00.md", "u01.md"]
    text = (tmp_path / "out" / "u01.md").read_text(encoding="utf-8")
    assert UNITS[1] in text and "<!-- reportgen:fingerprint=" in text
    assert state_of(tmp_path / "out" / "u01.md") is State.UNTOUCHED
    assert not list((tmp_path / "out").glob("*.docx"))


def read_pty(master: int, process: subprocess.Popen[bytes], timeout: float = 120) -> bytes:
    """Everything written to the terminal side until the process ends."""
    chunks = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                data = os.read(master, 4096)
            except OSError:  # the other side closed (Linux: EIO)
                break
            if not data:
                break
            chunks.append(data)
        elif process.poll() is not None:
            break
    return b"".join(chunks)


def test_progress_bar_only_on_a_terminal(tmp_path: Path, pack_dir: Path) -> None:
    make_profiles(tmp_path / "p", pack_dir, 4)
    master, slave = pty.openpty()
    try:
        process = subprocess.Popen([REPORTGEN, "build", "p", "-o", "out", "-j", "1"], cwd=tmp_path,
                                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        terminal = read_pty(master, process).decode("utf-8", "replace")
        stdout = process.communicate(timeout=120)[0].decode("utf-8")
    finally:
        os.close(master)
    assert process.returncode == 0, terminal + stdout
    assert "正在生成" in terminal
    assert "正在生成" not in stdout  # the bar goes to the terminal only
    piped = run_reportgen("build", "p", "-o", "out2", "-j", "1", cwd=tmp_path)
    assert piped.returncode == 0
    assert "正在生成" not in piped.stderr + piped.stdout


# ---------------------------------------------------------------- determinism


def test_batch_and_single_builds_are_byte_identical(tmp_path: Path, pack_dir: Path) -> None:
    from reportgen.core import build

    paths = make_profiles(tmp_path / "p", pack_dir, 9)
    build(paths[3], tmp_path / "one.docx")
    first = (tmp_path / "one.docx").read_bytes()
    build(paths[3], tmp_path / "one.docx")
    assert (tmp_path / "one.docx").read_bytes() == first
    assert build_batch([tmp_path / "p"], tmp_path / "a", jobs=1).failed == 0
    assert build_batch([tmp_path / "p"], tmp_path / "b", jobs=2).failed == 0
    assert (tmp_path / "a" / "u03.docx").read_bytes() == first
    for i in range(9):
        assert (tmp_path / "a" / f"u{i:02d}.docx").read_bytes() == (tmp_path / "b" / f"u{i:02d}.docx").read_bytes()
    assert (tmp_path / "a" / SUMMARY).read_bytes() == (tmp_path / "b" / SUMMARY).read_bytes()
    with zipfile.ZipFile(tmp_path / "a" / SUMMARY) as zf:
        assert {info.date_time for info in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_a_batch_in_the_pool_finds_the_same_similar_drafts_as_one_process(tmp_path: Path, pack_dir: Path) -> None:
    """60 drafts (more than one chunk of comparisons): -j 2 hashes and compares in several processes, -j 1
    in one; both give the same 汇总.xlsx, and each 复制比 is the exact one of the pair it names."""
    from reportgen.outputs.similarity import compare, normalize

    make_profiles(tmp_path / "p", pack_dir, 60)
    assert build_batch([tmp_path / "p"], tmp_path / "a", fmt="md", jobs=1).failed == 0
    assert build_batch([tmp_path / "p"], tmp_path / "b", fmt="md", jobs=2).failed == 0
    assert (tmp_path / "a" / SUMMARY).read_bytes() == (tmp_path / "b" / SUMMARY).read_bytes()
    texts = {}
    for i in range(60):
        markdown = (tmp_path / "b" / f"u{i:02d}.md").read_text(encoding="utf-8")
        plain = re.sub(r"<!--.*?-->|<[^>]+>|[#*]", "", markdown, flags=re.S)
        texts[f"u{i:02d}.md"] = normalize(f"u{i:02d}.md", plain, (unit_of(i), f"李{i}"))
    _, rows = summary_table(tmp_path / "b" / SUMMARY)
    named = 0
    for i, row in enumerate(rows):
        other = row["最相似的稿子"]
        if other is None:
            continue
        named += 1
        assert other != f"u{i:02d}.md"
        exact = compare(texts[f"u{i:02d}.md"], texts[other]).ratio
        assert row["复制比"] == pytest.approx(exact, abs=0.011), (i, other)
    assert named == 60


def test_without_a_temporary_folder_the_drafts_are_written_and_the_user_is_told_why(
        tmp_path: Path, pack_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    make_profiles(tmp_path / "p", pack_dir, 3)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no-such-folder"))
    report = build_batch([tmp_path / "p"], tmp_path / "out", jobs=1)
    assert sorted(p.name for p in (tmp_path / "out").glob("*.docx")) == ["u00.docx", "u01.docx", "u02.docx"]
    for item in report.items:
        assert item.ok and item.ratio is None
        assert any(note.startswith("没有计算复制比，也没有查别的单位名称：无法建立临时文件夹（") for note in item.warnings), item.warnings
    # openpyxl needs the temporary folder too: the summary is not written, and the user is told why
    assert report.summary is None and report.failed == 1
    assert "无法生成表格：临时文件夹不能写入" in str(report.summary_error) and "TMPDIR" in str(report.summary_error)
    assert not (tmp_path / "out" / SUMMARY).exists()


def test_a_full_disk_while_noting_a_draft_loses_only_its_ratio(tmp_path: Path, pack_dir: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    from reportgen.outputs.batch_similarity import Notebook

    real = Notebook.write

    def write(self: Notebook, text: str, normalized: str) -> Any:
        if "市教育局" in text:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, text, normalized)

    monkeypatch.setattr(Notebook, "write", write)
    make_profiles(tmp_path / "p", pack_dir, 3)
    report = build_batch([tmp_path / "p"], tmp_path / "out", jobs=1)
    assert report.failed == 0 and len(list((tmp_path / "out").glob("*.docx"))) == 3
    _, rows = summary_table(tmp_path / "out" / SUMMARY)
    by_unit = {row["单位"]: row for row in rows}
    assert "没有计算复制比，也没有查别的单位名称：无法写临时文件（" in by_unit["市教育局机关党委"]["状态和提醒"]
    assert by_unit["市教育局机关党委"]["复制比"] is None
    assert by_unit["市财政局机关党委"]["最相似的稿子"] == "u02.docx"  # the other two still compared
    assert by_unit["市审计局机关党支部"]["最相似的稿子"] == "u00.docx"


def test_a_scratch_folder_cleaned_away_mid_batch_loses_only_the_ratios(tmp_path: Path, pack_dir: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from reportgen.outputs import batch_similarity

    def lost(note: object) -> Any:
        raise FileNotFoundError(2, "No such file or directory")

    monkeypatch.setattr(batch_similarity, "read_note", lost)
    make_profiles(tmp_path / "p", pack_dir, 3)
    report = build_batch([tmp_path / "p"], tmp_path / "out", jobs=1)
    assert report.failed == 0 and len(list((tmp_path / "out").glob("*.docx"))) == 3
    _, rows = summary_table(tmp_path / "out" / SUMMARY)
    for row in rows:
        assert row["复制比"] is None and "没有计算复制比，也没有查别的单位名称：临时文件读不出（" in row["状态和提醒"], row


def test_a_full_disk_shows_when_a_draft_is_noted_and_the_next_records_still_read_back(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The disk fills half-way through a record: that draft is not noted (OSError from ``write``, not later
    from ``close``), and records written after space was freed read back whole."""
    import errno

    from reportgen.outputs import batch_similarity
    from reportgen.outputs.batch_similarity import Notebook, read_note

    real_write = os.write
    calls = []

    def full(handle: int, data: Any) -> int:
        calls.append(len(data))
        if len(calls) == 1:
            return real_write(handle, bytes(data)[: len(data) // 2])  # half the record fits
        raise OSError(errno.ENOSPC, "No space left on device")

    with Notebook(str(tmp_path)) as notebook:  # nothing buffered: closing cannot fail for the record that did not fit
        first, _ = notebook.write("甲" * 40, "甲" * 40)
        monkeypatch.setattr(batch_similarity.os, "write", full)
        with pytest.raises(OSError):
            notebook.write("乙" * 40, "乙" * 40)
        monkeypatch.setattr(batch_similarity.os, "write", real_write)
        third, _ = notebook.write("丙" * 40, "丙" * 40)
    assert read_note(first).text == "甲" * 40 and read_note(third).text == "丙" * 40


def test_comparisons_in_the_pool_without_the_scratch_folder_say_why(tmp_path: Path) -> None:
    from concurrent.futures import ProcessPoolExecutor

    from reportgen.outputs.batch_similarity import Drafted, Note, compare_drafts
    from reportgen.outputs.similarity import Index

    drafts = [Drafted(i, Note(str(tmp_path / "gone" / "x.notes"), 0, 10), "", (f"单位{i}", "")) for i in range(60)]
    with ProcessPoolExecutor(max_workers=2) as pool:
        found = compare_drafts(drafts, Index(), {}, [], pool, 2, str(tmp_path / "gone"))
    assert len(found) == 60 and all(f.problem and f.ratio is None for f in found)


def test_runs_hash_alike_in_every_process() -> None:
    """A batch's workers hash runs for one index and one another: the hashes must not depend on the
    process (Python salts the hash of a string per process; on Windows every worker is a new one)."""
    script = ("from reportgen.outputs.similarity import grams;"
              "print(list(grams('全面从严治党向纵深推进，党支部标准化规范化建设持续加强')))")
    outputs = {subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2", "random")}
    assert len(outputs) == 1 and outputs.pop().count(",") == 27 - 13


# ---------------------------------------------------------------- a worker that dies


@pytest.fixture(scope="module")
def died(tmp_path_factory: pytest.TempPathFactory, pack_dir: Path) -> dict[str, Any]:
    """A batch of 24 (-j 2) in which the worker given u05 dies before drafting it, and the worker given
    u13 dies right after its draft was written (each time either is tried)."""
    root = tmp_path_factory.mktemp("died")
    paths = make_profiles(root / "p", pack_dir, 24)
    env = hook_env(root, die_before=["u05"], die_after=["u13"])
    done = run_reportgen("build", "p", "-o", "out", "-j", "2", cwd=root, env=env, timeout=300)
    return {"root": root, "out": root / "out", "paths": paths, "done": done}


def test_a_worker_that_dies_fails_only_its_own_profile(died: dict[str, Any]) -> None:
    done, out = died["done"], died["out"]
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 1, done.stdout + done.stderr
    assert sorted(p.name for p in out.glob("*.docx")) == [f"u{i:02d}.docx" for i in range(24) if i != 5]
    for i in range(24):
        if i != 5:
            assert_valid_docx(out / f"u{i:02d}.docx")
            assert unit_of(i) in docx_text(out / f"u{i:02d}.docx")
    failed = [line for line in done.stdout.splitlines() if line.startswith("✗")]
    assert len(failed) == 1 and (UNITS[5] in failed[0] or "u05" in failed[0]), done.stdout
    assert "24 份资料，成功 23 份，失败 1 份" in done.stdout
    assert "意外退出" in done.stdout
    assert temporaries(out) == []
    assert state_of(out / SUMMARY) is State.UNTOUCHED


def test_a_draft_written_before_its_worker_died_is_reported_as_written(died: dict[str, Any]) -> None:
    done, out = died["done"], died["out"]
    assert_valid_docx(out / "u13.docx")
    assert unit_of(13) in docx_text(out / "u13.docx")
    lines = done.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("✓") and ("u13" in line or unit_of(13) in line))
    assert "中断前写出" in "\n".join(lines[at:at + 4]), done.stdout
    _, rows = summary_table(out / SUMMARY)
    row = rows[13]
    assert str(row["状态和提醒"]).startswith("已生成"), row


def test_the_summary_rows_of_profiles_whose_worker_died_name_their_units(died: dict[str, Any]) -> None:
    """汇总.xlsx has one row per unit: the unit's name, not a file path, also when its worker died; a draft
    written before the death is counted like any other."""
    from reportgen.core import check

    table = [line for line in died["done"].stdout.splitlines() if line.startswith(("✓", "✗"))]
    assert len(table) == 24
    assert unit_of(5) in table[5] and unit_of(13) in table[13], "\n".join(table)
    _, rows = summary_table(died["out"] / SUMMARY)
    assert len(rows) == 24
    assert rows[5]["单位"] == unit_of(5), rows[5]
    assert str(rows[5]["状态和提醒"]).startswith("未生成"), rows[5]
    assert rows[13]["单位"] == unit_of(13), rows[13]
    assert rows[13]["正文字数"] == check(died["paths"][13]).document.han_count(), rows[13]
    assert rows[13][SESSIONS_HEADER] == 10 + 13, rows[13]


# ---------------------------------------------------------------- a batch killed with kill -9


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_killed_batch_leaves_only_complete_drafts_and_a_rerun_finishes(tmp_path: Path, pack_dir: Path,
                                                                         jobs: str) -> None:
    count = 300
    make_profiles(tmp_path / "p", pack_dir, count)
    out = tmp_path / "out"
    scratch = tmp_path / "tmp"  # the system's temporary folder, as this batch sees it
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}
    with reaping_orphans():
        process = subprocess.Popen([REPORTGEN, "build", "p", "-o", "out", "-j", jobs], cwd=tmp_path, env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            deadline = time.monotonic() + 120
            while not (out.is_dir() and list(out.glob("*.docx"))):
                assert process.poll() is None, "the batch ended before any draft appeared"
                assert time.monotonic() < deadline, "no draft appeared"
                time.sleep(0.005)
        finally:
            os.killpg(process.pid, signal.SIGKILL)  # the whole batch, workers included
            process.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # the killed workers, orphaned, end too
            reap()
            try:
                os.killpg(process.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
    drafts = sorted(out.glob("*.docx"))
    assert 0 < len(drafts) < count  # killed part-way
    for draft in drafts:
        assert_valid_docx(draft)  # nothing truncated under a final name
    assert not (out / SUMMARY).exists()
    assert [p.name.split("-")[1] for p in scratch.glob("reportgen-*")] == [str(process.pid)]  # its texts stay…
    rerun = run_reportgen("build", "p", "-o", "out", "-j", jobs, cwd=tmp_path, env=env, timeout=300)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert list(scratch.iterdir()) == []  # … until the next batch removes them
    drafts = sorted(out.glob("*.docx"))
    assert len(drafts) == count
    for draft in drafts:
        assert_valid_docx(draft)
    assert temporaries(out) == []
    assert state_of(out / SUMMARY) is State.UNTOUCHED


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_batch_ended_by_a_signal_cleans_up_like_ctrl_c(tmp_path: Path, pack_dir: Path, signum: int) -> None:
    """Closing the terminal (SIGHUP) or a system shutdown (SIGTERM): complete drafts only, no lock file, and
    no scratch folder (it holds every draft's text) left in the temporary folder."""
    make_profiles(tmp_path / "p", pack_dir, 300)
    out, scratch = tmp_path / "out", tmp_path / "tmp"
    scratch.mkdir()
    process = subprocess.Popen([REPORTGEN, "build", "p", "-o", "out", "-j", "2"], cwd=tmp_path, text=True,
                               env={**os.environ, "TMPDIR": str(scratch)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not (out.is_dir() and list(out.glob("*.docx"))):
        assert process.poll() is None, "the batch ended before any draft appeared"
        assert time.monotonic() < deadline, "no draft appeared"
        time.sleep(0.005)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "已取消。" in stderr and "Traceback" not in stderr, stderr  # as after Ctrl-C
    assert list(scratch.iterdir()) == []
    assert sorted(p.name for p in out.iterdir() if not p.name.endswith(".docx")) == []  # no lock, no temporary
    for draft in out.glob("*.docx"):
        assert_valid_docx(draft)


# ---------------------------------------------------------------- 汇总.xlsx


def test_summary_has_one_row_per_unit_with_the_pack_summary_facts(tmp_path: Path, pack_dir: Path) -> None:
    make_profiles(tmp_path / "p", pack_dir, 3, broken=(2,))
    report = build_batch([tmp_path / "p"], tmp_path / "out", jobs=1)
    headers, rows = summary_table(tmp_path / "out" / SUMMARY)
    assert headers.count(SESSIONS_HEADER) == 1 and headers.count(RATE_HEADER) == 1
    assert not [h for h in headers if "年度工作要点名称" in h]  # doc_name is not a summary fact
    assert len(rows) == 3
    assert [row["单位"] for row in rows] == UNITS[:3]  # the failed one's unit too, read from its raw meta
    assert [row[SESSIONS_HEADER] for row in rows[:2]] == [10, 11]
    assert [row[RATE_HEADER] for row in rows[:2]] == [90, 90]
    assert rows[0]["正文字数"] == report.items[0].han_count > 0
    assert str(rows[0]["状态和提醒"]).startswith("已生成")
    assert str(rows[2]["状态和提醒"]).startswith("未生成")
    assert rows[2]["正文字数"] is None
    assert state_of(tmp_path / "out" / SUMMARY) is State.UNTOUCHED


def test_the_printed_summary_says_why_a_unit_has_no_draft(tmp_path: Path, pack_dir: Path) -> None:
    """The committee prints the first sheet: a failed unit's row says what is wrong, not only that
    something is."""
    make_profiles(tmp_path / "p", pack_dir, 2, broken=(1,))
    build_batch([tmp_path / "p"], tmp_path / "out", jobs=1)
    _, rows = summary_table(tmp_path / "out" / SUMMARY)
    status = str(rows[1]["状态和提醒"])
    assert status.startswith("未生成"), status
    assert "集中学习次数" in status and "应为整数" in status, status


def test_facts_of_two_packs_with_the_same_key_share_one_column(tmp_path: Path) -> None:
    jiguan, qiye = example_data("jiguan"), example_data("qiye")
    jiguan["meta"] = {**jiguan["meta"], "unit": "某市某局机关党委"}
    qiye["meta"] = {**qiye["meta"], "unit": "某集团某公司党支部"}
    write_yaml(tmp_path / "p" / "a.yaml", jiguan)
    write_yaml(tmp_path / "p" / "b.yaml", qiye)
    report = build_batch([tmp_path / "p"], tmp_path / "out", jobs=1)
    assert report.failed == 0, [item.error for item in report.items]
    spec = load_builtin("jiguan").facts["branch_count"]
    assert load_builtin("qiye").facts["branch_count"].summary and spec.summary
    headers, rows = summary_table(tmp_path / "out" / SUMMARY)
    columns = [h for h in headers if h.startswith(spec.label)]
    assert len(columns) == 1, headers  # branch_count appears once
    assert [row[columns[0]] for row in rows] == [jiguan["facts"]["branch_count"], qiye["facts"]["branch_count"]]
    assert len(headers) == len(set(headers))


def test_each_profile_is_compared_with_its_own_packs_example(tmp_path: Path) -> None:
    """Two units of one folder using different packs, each a copy of its pack's example: each draft's
    复制比 against the example is that of its own pack's example (about 100 %)."""
    from openpyxl import load_workbook

    jiguan, qiye = example_data("jiguan"), example_data("qiye")
    write_yaml(tmp_path / "p" / "a.yaml", jiguan)
    write_yaml(tmp_path / "p" / "b.yaml", qiye)
    report = build_batch([tmp_path / "p"], tmp_path / "out", jobs=1)
    assert report.failed == 0
    assert [item.example_ratio for item in report.items] == [pytest.approx(1, abs=0.05)] * 2
    files = load_workbook(tmp_path / "out" / SUMMARY).worksheets[1]
    rows = list(files.iter_rows(values_only=True))
    at = next(i for i, row in enumerate(rows) if "资料文件" in row)
    column = next(i for i, header in enumerate(rows[at]) if "示例稿" in str(header))
    assert [row[column] for row in rows[at + 1:at + 3]] == [pytest.approx(1, abs=0.05)] * 2


def test_summary_print_setup(tmp_path: Path, pack_dir: Path) -> None:
    """A4 landscape, one page wide, the header row repeated on every page, text wrapped."""
    from openpyxl import load_workbook

    make_profiles(tmp_path / "p", pack_dir, 3, broken=(1,))
    build_batch([tmp_path / "p"], tmp_path / "out", jobs=1)
    sheet = load_workbook(tmp_path / "out" / SUMMARY).worksheets[0]
    assert int(sheet.page_setup.paperSize) == int(sheet.PAPERSIZE_A4) == 9
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert int(sheet.page_setup.fitToWidth) == 1
    assert int(sheet.page_setup.fitToHeight or 0) == 0  # as many pages long as needed
    header_row = next(row[0].row for row in sheet.iter_rows() if any(cell.value == "单位" for cell in row))
    assert sheet.print_title_rows == f"${header_row}:${header_row}"
    assert all(cell.alignment.wrap_text for cell in sheet[header_row] if cell.value)
    texts = [cell for row in sheet.iter_rows(min_row=header_row + 1) for cell in row if isinstance(cell.value, str)]
    assert texts and all(cell.alignment.wrap_text for cell in texts), [c.coordinate for c in texts
                                                                        if not c.alignment.wrap_text]


def test_file_paths_are_on_the_second_sheet(tmp_path: Path, pack_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from openpyxl import load_workbook

    monkeypatch.chdir(tmp_path)
    make_profiles(tmp_path / "资料" / "机关", pack_dir, 2)
    assert run("build", "资料/机关", "-o", "初稿", "-j", "1").exit_code == 0
    book = load_workbook(tmp_path / "初稿" / SUMMARY)
    first, files = book.worksheets[0], book.worksheets[1]
    printed = [str(cell.value) for row in first.iter_rows() for cell in row if cell.value is not None]
    assert not [value for value in printed if "/" in value or "\\" in value or ".yaml" in value], printed
    listed = [str(cell.value) for row in files.iter_rows() for cell in row if cell.value is not None]
    for i in range(2):
        assert [v for v in listed if v.replace("\\", "/").endswith(f"资料/机关/u{i:02d}.yaml")], listed
        assert [v for v in listed if v.replace("\\", "/").endswith(f"u{i:02d}.docx")], listed
        assert UNITS[i] in listed


def test_libreoffice_reads_the_summary(tmp_path: Path, pack_dir: Path) -> None:
    make_profiles(tmp_path / "p", pack_dir, 2)
    build_batch([tmp_path / "p"], tmp_path / "out", jobs=1)
    (tmp_path / "csv").mkdir()
    text = calc_csv(tmp_path / "out" / SUMMARY, tmp_path / "csv")
    lines = text.splitlines()
    header = next(line for line in lines if "单位" in line and SESSIONS_HEADER in line)
    columns = header.split(",")
    assert RATE_HEADER in columns
    for i in range(2):
        row = next(line for line in lines if UNITS[i] in line).split(",")
        assert row[columns.index(SESSIONS_HEADER)] == str(10 + i)
        assert row[columns.index(RATE_HEADER)] == "90"


# ---------------------------------------------------------------- the console table


def test_the_console_table_fits_80_columns(tmp_path: Path, pack_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """At 80 columns no line is wider than the terminal, except a long path standing on a line by itself."""
    monkeypatch.chdir(tmp_path)
    deep = Path("各基层党组织报送的资料文件（二〇二五年度）") / "机关工委所属单位-first-batch-of-profiles"
    long_units = [f"某某省某某市某某区某某街道某某社区第{i}党支部委员会" for i in range(4)]
    for i, unit in enumerate(long_units):
        data = mini_profile(pack_dir, meta={**mini_profile(pack_dir)["meta"], "unit": unit, "name": f"王{i}"})
        if i == 2:
            data["facts"]["sessions"] = "很多"
        if i == 3:
            data["facts"]["extra"] = 5  # a fact no chosen item uses: a note
        write_yaml(deep / f"profile-number-{i}.yaml", data)
    out = deep / "输出的述职报告初稿（请勿手工修改本文件夹）"
    result = run("build", str(deep), "-o", str(out), "-j", "1", COLUMNS="80")
    assert result.exit_code == 1, result.output
    paths = {str(deep / f"profile-number-{i}.yaml") for i in range(4)}
    paths |= {str(out), str(out / SUMMARY)} | {str(out / f"profile-number-{i}.docx") for i in range(4)}
    path_alone = re.compile("^(?:" + "|".join(re.escape(p) for p in sorted(paths, key=len, reverse=True))
                            + r")(?::\d+(?::\d+)?)?[：:]?$")
    too_wide = [line for line in result.output.splitlines()
                if display_width(line) > 80 and not path_alone.match(line.strip())]
    assert not too_wide, "\n".join(too_wide)


def test_a_refused_hand_edited_draft_in_a_batch_gets_a_batch_hint(tmp_path: Path, pack_dir: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """In a batch there is no -o per draft: the hint must not tell the user to use one."""
    monkeypatch.chdir(tmp_path)
    make_profiles(tmp_path / "p", pack_dir, 2)
    assert run("build", "p", "-o", "out", "-j", "1").exit_code == 0
    draft = tmp_path / "out" / "u01.docx"
    with zipfile.ZipFile(draft) as zf:
        parts = [(info, zf.read(info)) for info in zf.infolist()]
    with zipfile.ZipFile(draft, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in parts:
            if info.filename == "word/document.xml":
                data = data.replace(b"</w:body>", "<w:p><w:r><w:t>我加的一段</w:t></w:r></w:p></w:body>".encode())
            zf.writestr(info, data)
    edited = draft.read_bytes()
    result = run("build", "p", "-o", "out", "-j", "1")
    assert result.exit_code == 1
    assert "已经被修改过" in result.output
    assert "用 -o 另存为新文件" not in result.output
    assert "--force" in result.output
    assert draft.read_bytes() == edited
