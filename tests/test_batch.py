"""Batch builds (issue 4) and crash safety of batches (issue 5, point 4).

Every test builds its own small pack (conftest.make_mini_pack, with two facts marked for the
summary) and profiles in tmp_path, so content work on the built-in packs cannot break them.
"""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from conftest import calc_csv, docx_text, make_mini_pack, mini_profile, write_yaml
from reportgen.batch import SUMMARY_NAME, build_many, summary_state
from reportgen.cli import cli

UNITS = ["市财政局机关党委", "市教育局机关党委", "市审计局机关党支部", "县水利局机关党支部", "区商务局机关党委",
         "市统计局机关党支部", "县林业局机关党委", "区医保局机关党支部", "市信访局机关党支部", "县民政局机关党委",
         "市人社局机关党委", "区城管局机关党支部"]


@pytest.fixture(scope="module")
def pack_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mini pack, with two facts shown in 汇总.xlsx."""
    root = make_mini_pack(tmp_path_factory.mktemp("batchpack") / "mini")
    manifest = yaml.safe_load((root / "pack.yaml").read_text(encoding="utf-8"))
    for fact in manifest["facts"]:
        if fact["key"] in ("sessions", "rate"):
            fact["summary"] = True
    write_yaml(root / "pack.yaml", manifest)
    return root


def make_profiles(folder: Path, pack: Path, count: int, *, broken: tuple[int, ...] = ()) -> list[Path]:
    paths = []
    for i in range(count):
        unit = UNITS[i % len(UNITS)] + ("" if i < len(UNITS) else f"第{i}支部")
        data = mini_profile(pack, meta={**mini_profile(pack)["meta"], "unit": unit, "name": f"李{i}"},
                            facts={"sessions": 10 + i, "rate": 90, "doc_name": "《年度党建工作要点》"})
        if i in broken:
            data["facts"]["sessions"] = "很多"
        paths.append(write_yaml(folder / f"u{i:02d}.yaml", data))
    return paths


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def assert_valid_docx(path: Path) -> None:
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None, path
        assert "word/document.xml" in zf.namelist(), path


def summary_rows(path: Path) -> list[tuple[Any, ...]]:
    from openpyxl import load_workbook

    return [tuple(row) for row in load_workbook(path).active.iter_rows(values_only=True)]


# ---------------------------------------------------------------- the batch itself


def test_batch_writes_every_good_profile_and_reports_the_broken_one(tmp_path: Path, pack_dir: Path) -> None:
    profiles = tmp_path / "资料"
    make_profiles(profiles, pack_dir, 12, broken=(5,))
    out = tmp_path / "初稿"  # does not exist yet: created
    result = run("build", str(profiles), "-o", str(out), "-j", "2")
    assert result.exit_code == 1
    drafts = sorted(out.glob("*.docx"))
    assert [p.name for p in drafts] == [f"u{i:02d}.docx" for i in range(12) if i != 5]
    texts = set()
    for draft in drafts:
        assert_valid_docx(draft)
        texts.add(docx_text(draft))
    assert len(texts) == 11  # distinct drafts, one per unit
    assert UNITS[0] in docx_text(out / "u00.docx") and UNITS[6] in docx_text(out / "u06.docx")
    lines = result.output.splitlines()
    broken = next(line for line in lines if "u05.yaml" in line and "失败" in line)
    assert UNITS[5] in broken and "集中学习次数" in broken and "应为整数" in broken
    good = next(line for line in lines if "u00.yaml" in line)
    assert re.search(r"u00\.docx\s+\d+\s+0$", good), good
    assert "共 12 份资料文件：已生成 11 份，失败 1 份。" in result.output
    assert "正在生成" not in result.output  # no progress bar when stderr is not a terminal
    assert (out / SUMMARY_NAME).is_file()


def test_a_committee_batch_of_300_with_two_processes(tmp_path: Path, pack_dir: Path) -> None:
    """Issue 4, "Done when": 300 profiles, -j 2, as a user runs it: 299 valid distinct drafts, the broken
    one reported in the table while the others are written, and 汇总.xlsx with a row per unit."""
    make_profiles(tmp_path / "p", pack_dir, 300, broken=(137,))
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "reportgen", "build", str(tmp_path / "p"), "-o", str(out), "-j", "2"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    drafts = sorted(out.glob("*.docx"))
    assert len(drafts) == 299 and not (out / "u137.docx").exists()
    texts = set()
    for draft in drafts:
        assert_valid_docx(draft)
        texts.add(docx_text(draft))
    assert len(texts) == 299
    broken = next(line for line in done.stdout.splitlines() if "u137.yaml" in line)
    assert "失败" in broken
    assert "共 300 份资料文件：已生成 299 份，失败 1 份。" in done.stdout
    rows = summary_rows(out / SUMMARY_NAME)
    assert len(rows) == 301  # the header and one row per unit, the failed one included


def test_all_good_exits_0_and_the_table_gives_han_count_and_placeholders(tmp_path: Path, pack_dir: Path) -> None:
    from reportgen.core import build

    profiles = tmp_path / "p"
    paths = make_profiles(profiles, pack_dir, 3)
    data = yaml.safe_load(paths[1].read_text(encoding="utf-8"))
    del data["facts"]["rate"]  # one placeholder left
    write_yaml(paths[1], data)
    result = run("build", str(profiles), "-o", str(tmp_path / "out"), "-j", "1")
    assert result.exit_code == 0, result.output
    single = build(paths[1], tmp_path / "single.docx")
    line = next(line for line in result.output.splitlines() if "u01.yaml" in line)
    assert line.split()[-2:] == [str(single.han_count), str(len(single.missing))]
    assert len(single.missing) == 1
    assert "共 3 份资料文件：已生成 3 份。" in result.output


def test_files_and_folders_can_be_mixed_and_a_missing_one_is_reported(tmp_path: Path, pack_dir: Path) -> None:
    make_profiles(tmp_path / "a", pack_dir, 2)
    extra = make_profiles(tmp_path / "b", pack_dir, 1)[0].rename(tmp_path / "b" / "另一个.yml")
    (tmp_path / "a" / "说明.txt").write_text("不是资料文件", encoding="utf-8")
    report = build_many([tmp_path / "a", extra, tmp_path / "没有这个.yaml"], tmp_path / "out", jobs=1)
    assert [item.profile.name for item in report.items] == ["u00.yaml", "u01.yaml", "另一个.yml", "没有这个.yaml"]
    assert [item.ok for item in report.items] == [True, True, True, False]
    assert report.items[3].brief == "找不到这个资料文件或文件夹"
    assert report.failed == 1


def test_a_profile_wrong_everywhere_lists_its_first_problems_only(tmp_path: Path, pack_dir: Path) -> None:
    data = mini_profile(pack_dir)
    data["facts"] = {f"unknown_{i}": i for i in range(30)}
    write_yaml(tmp_path / "p" / "bad.yaml", data)
    make_profiles(tmp_path / "p", pack_dir, 1)
    report = build_many([tmp_path / "p"], tmp_path / "out", jobs=1)
    bad = report.items[0]
    assert not bad.ok and report.items[1].ok
    assert "（共 30 处，下面列出前 10 处）" in (bad.error or "")
    assert "unknown_9" in (bad.error or "") and "unknown_10" not in (bad.error or "")
    assert bad.brief is not None and bad.brief.endswith("（共 30 处问题）")


def test_a_folder_without_profiles_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "空").mkdir()
    result = run("build", str(tmp_path / "空"), "-o", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert "没有找到资料文件（.yaml）" in result.output


def test_output_must_be_a_folder(tmp_path: Path, pack_dir: Path) -> None:
    make_profiles(tmp_path / "p", pack_dir, 2)
    (tmp_path / "out.txt").write_text("x", encoding="utf-8")
    result = run("build", str(tmp_path / "p"), "-o", str(tmp_path / "out.txt"))
    assert result.exit_code == 1 and "应指定一个文件夹" in result.output
    result = run("build", str(tmp_path / "p"), "-o", str(tmp_path / "汇总.docx"))
    assert result.exit_code == 1 and "应指定一个文件夹" in result.output
    assert not (tmp_path / "汇总.docx").exists()


def test_same_name_in_two_folders_gives_two_drafts(tmp_path: Path, pack_dir: Path) -> None:
    first = make_profiles(tmp_path / "一支部", pack_dir, 1)[0]
    second = make_profiles(tmp_path / "二支部", pack_dir, 2)[1].rename(tmp_path / "二支部" / "u00.yaml")
    report = build_many([first, second], tmp_path / "out", jobs=1)
    assert report.failed == 0
    outputs = [item.output for item in report.items]
    assert [p.name for p in outputs if p] == ["一支部-u00.docx", "二支部-u00.docx"]
    assert docx_text(tmp_path / "out" / "一支部-u00.docx") != docx_text(tmp_path / "out" / "二支部-u00.docx")


def test_without_output_drafts_go_beside_their_profiles(tmp_path: Path, pack_dir: Path) -> None:
    make_profiles(tmp_path / "p", pack_dir, 2)
    report = build_many([tmp_path / "p"], None, jobs=1)
    assert report.failed == 0
    assert (tmp_path / "p" / "u00.docx").is_file() and (tmp_path / "p" / SUMMARY_NAME).is_file()


def test_markdown_batch(tmp_path: Path, pack_dir: Path) -> None:
    make_profiles(tmp_path / "p", pack_dir, 2)
    report = build_many([tmp_path / "p"], tmp_path / "out", fmt="md", jobs=1)
    assert report.failed == 0
    assert UNITS[1] in (tmp_path / "out" / "u01.md").read_text(encoding="utf-8")


def test_progress_bar_on_a_terminal(tmp_path: Path, pack_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_profiles(tmp_path / "p", pack_dir, 2)
    build_many([tmp_path / "p"], tmp_path / "out", jobs=1, progress=True)
    assert "正在生成 [" in capsys.readouterr().err
    build_many([tmp_path / "p"], tmp_path / "out", jobs=1, progress=False)
    assert capsys.readouterr().err == ""


# ---------------------------------------------------------------- determinism


_REAL_BUILD_TASK: list[Any] = []  # (main process id, the real build_task), for the stand-in below


def _dies_on_profile_u03(task: Any, *args: Any) -> Any:
    """build_task, except that a worker process given u03 dies (as if killed for lack of memory)."""
    main_pid, real = _REAL_BUILD_TASK
    if os.getpid() != main_pid and task.profile.endswith("u03.yaml"):
        os._exit(1)
    return real(task, *args)


@pytest.mark.parametrize("forked", [True, False], ids=["forked", "pool"])
def test_a_worker_that_dies_fails_only_its_groups(tmp_path: Path, pack_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                                  forked: bool) -> None:
    from reportgen import batch

    make_profiles(tmp_path / "p", pack_dir, 40)
    _REAL_BUILD_TASK[:] = [os.getpid(), batch.build_task]
    monkeypatch.setattr(batch, "build_task", _dies_on_profile_u03)
    monkeypatch.setattr(batch, "FORK_WORKERS", forked)
    report = build_many([tmp_path / "p"], tmp_path / "out", jobs=2)
    failed = [item for item in report.items if not item.ok]
    assert any(item.profile.name == "u03.yaml" for item in failed)
    assert all(item.brief == "生成进程意外退出（可能是内存不足）" and "请用 -j 1 重新运行" in (item.error or "")
               for item in failed)
    built = [item for item in report.items if item.ok]
    assert len(built) + len(failed) == 40 and len(built) >= 20  # this process built the rest
    assert all((tmp_path / "out" / f"{item.profile.stem}.docx").is_file() for item in built)
    assert not [p.name for p in (tmp_path / "out").iterdir() if p.suffix == ".tmp"]
    assert (tmp_path / "out" / SUMMARY_NAME).is_file()


@pytest.mark.parametrize("forked", [True, False], ids=["forked", "pool"])
def test_both_ways_of_running_workers_build_every_profile_once(tmp_path: Path, pack_dir: Path,
                                                                monkeypatch: pytest.MonkeyPatch, forked: bool) -> None:
    from reportgen import batch

    make_profiles(tmp_path / "p", pack_dir, 37)
    monkeypatch.setattr(batch, "FORK_WORKERS", forked)
    report = build_many([tmp_path / "p"], tmp_path / "out", jobs=3)
    assert report.failed == 0
    assert [item.profile.name for item in report.items] == [f"u{i:02d}.yaml" for i in range(37)]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted([f"u{i:02d}.docx" for i in range(37)]
                                                                          + [SUMMARY_NAME])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="drafts are committed in groups on Linux")
@pytest.mark.parametrize("jobs", [1, 2])
def test_a_draft_that_cannot_be_put_in_place_is_reported_and_the_others_are(tmp_path: Path, pack_dir: Path,
                                                                             monkeypatch: pytest.MonkeyPatch,
                                                                             jobs: int) -> None:
    """Groups of drafts are synced in a background thread while the next group is built; a rename that
    fails there (u05 in the first group, u40 in the second) fails that profile only."""
    make_profiles(tmp_path / "p", pack_dir, 70)
    real_replace = os.replace

    def replace(source: Any, target: Any) -> None:
        if os.path.basename(target) in ("u05.docx", "u40.docx"):
            raise PermissionError(13, "Permission denied")
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace)
    report = build_many([tmp_path / "p"], tmp_path / "out", jobs=jobs)
    failed = {item.profile.name: item for item in report.items if not item.ok}
    assert sorted(failed) == ["u05.yaml", "u40.yaml"]
    assert (failed["u05.yaml"].brief or "").endswith("u05.docx：没有权限写入这个位置，或文件正在 Word/WPS 中打开")
    assert failed["u05.yaml"].unit == UNITS[5]
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == sorted([f"u{i:02d}.docx" for i in range(70) if i not in (5, 40)] + [SUMMARY_NAME])


def test_batch_and_single_builds_are_byte_identical(tmp_path: Path, pack_dir: Path) -> None:
    from reportgen.core import build

    paths = make_profiles(tmp_path / "p", pack_dir, 9)
    build(paths[3], tmp_path / "one.docx")
    first = (tmp_path / "one.docx").read_bytes()
    build(paths[3], tmp_path / "one.docx")
    assert (tmp_path / "one.docx").read_bytes() == first
    build_many([tmp_path / "p"], tmp_path / "a", jobs=1)
    build_many([tmp_path / "p"], tmp_path / "b", jobs=2)
    assert (tmp_path / "a" / "u03.docx").read_bytes() == first
    for i in range(9):
        assert (tmp_path / "a" / f"u{i:02d}.docx").read_bytes() == (tmp_path / "b" / f"u{i:02d}.docx").read_bytes()
    assert (tmp_path / "a" / SUMMARY_NAME).read_bytes() == (tmp_path / "b" / SUMMARY_NAME).read_bytes()
    with zipfile.ZipFile(tmp_path / "a" / SUMMARY_NAME) as zf:
        assert {info.date_time for info in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_zip_writer_lays_out_archives_as_zipfile_does() -> None:
    from reportgen.word import FIXED_TIME, zip_bytes, zip_entry

    parts = [("[Content_Types].xml", b"<Types/>" * 50), ("word/document.xml", "<w:t>述职</w:t>".encode() * 99),
             ("目录/名称.xml", b""), ("docProps/custom.xml", os.urandom(300))]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts:
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0
            zf.writestr(info, data)
    assert zip_bytes(zip_entry(name, data) for name, data in parts) == buffer.getvalue()
    with zipfile.ZipFile(io.BytesIO(zip_bytes(zip_entry(n, d, 1) for n, d in parts))) as zf:
        assert zf.testzip() is None
        assert [zf.read(n) for n, _ in parts] == [d for _, d in parts]


# ---------------------------------------------------------------- 汇总.xlsx


def test_summary_has_one_row_per_unit_with_the_pack_summary_facts(tmp_path: Path, pack_dir: Path) -> None:
    from openpyxl import load_workbook

    make_profiles(tmp_path / "p", pack_dir, 3, broken=(2,))
    report = build_many([tmp_path / "p"], tmp_path / "out", jobs=1)
    path = tmp_path / "out" / SUMMARY_NAME
    rows = summary_rows(path)
    assert rows[0] == ("单位", "姓名", "职务", "年度", "集中学习次数（次）", "按期换届率（%）", "待补充数", "汉字数",
                       "输出文件", "资料文件", "状态", "错误")
    assert len(rows) == 4
    first = report.items[0]
    assert rows[1] == (UNITS[0], "李0", "党委书记", 2025, 10, 90, 0, first.han_count, "u00.docx",
                       os.path.join("..", "p", "u00.yaml"), "已生成", None)
    assert rows[3][0] == UNITS[2]  # the unit of a profile that failed, read from its raw meta
    assert rows[3][6:9] == (None, None, None) and rows[3][10] == "未生成"
    assert "应为整数" in rows[3][11]
    sheet = load_workbook(path).active
    assert sheet.freeze_panes == "B2"
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.column_dimensions["A"].width >= 2 * len(UNITS[0])
    # A fact column of two-digit numbers: its long header (18 columns wide) wraps at 16 instead of widening it.
    assert sheet.column_dimensions["E"].width == 16 + 2 and sheet["E1"].alignment.wrap_text
    assert summary_state(path) == "untouched"


@pytest.mark.libreoffice
def test_libreoffice_reads_the_summary(tmp_path: Path, pack_dir: Path) -> None:
    make_profiles(tmp_path / "p", pack_dir, 2)
    build_many([tmp_path / "p"], tmp_path / "out", jobs=1)
    (tmp_path / "csv").mkdir()
    text = calc_csv(tmp_path / "out" / SUMMARY_NAME, tmp_path / "csv")
    assert text.splitlines()[0].startswith("单位,姓名,职务,年度,集中学习次数（次）,按期换届率（%）,待补充数")
    assert f"{UNITS[1]},李1,党委书记,2025,11,90,0," in text


def test_an_edited_summary_is_kept_unless_force(tmp_path: Path, pack_dir: Path) -> None:
    from openpyxl import load_workbook

    make_profiles(tmp_path / "p", pack_dir, 2)
    out = tmp_path / "out"
    assert run("build", str(tmp_path / "p"), "-o", str(out)).exit_code == 0
    book = load_workbook(out / SUMMARY_NAME)
    book.active["L2"] = "已电话核实"
    book.save(out / SUMMARY_NAME)
    edited = (out / SUMMARY_NAME).read_bytes()
    result = run("build", str(tmp_path / "p"), "-o", str(out))
    assert result.exit_code == 1
    assert "汇总表生成后已经被修改过" in result.output and "各单位的稿子已照常生成" in result.output
    assert (out / SUMMARY_NAME).read_bytes() == edited
    result = run("build", str(tmp_path / "p"), "-o", str(out), "--force")
    assert result.exit_code == 0, result.output
    backups = list(out.glob("汇总.备份-*.xlsx"))
    assert len(backups) == 1 and backups[0].read_bytes() == edited
    assert summary_state(out / SUMMARY_NAME) == "untouched"


# ---------------------------------------------------------------- edit safety and crash safety


def _edit_docx(path: Path) -> None:
    with zipfile.ZipFile(path) as zf:
        parts = [(info, zf.read(info)) for info in zf.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in parts:
            if info.filename == "word/document.xml":
                data = data.replace(b"</w:body>", "<w:p><w:r><w:t>我加的一段</w:t></w:r></w:p></w:body>".encode())
            zf.writestr(info, data)


def test_an_edited_draft_is_refused_and_the_others_are_rebuilt(tmp_path: Path, pack_dir: Path) -> None:
    make_profiles(tmp_path / "p", pack_dir, 3)
    out = tmp_path / "out"
    assert build_many([tmp_path / "p"], out, jobs=1).failed == 0
    _edit_docx(out / "u01.docx")
    edited = (out / "u01.docx").read_bytes()
    (out / "u02.docx").write_bytes(b"not a draft")
    report = build_many([tmp_path / "p"], out, jobs=1)
    assert [item.ok for item in report.items] == [True, False, False]
    assert "已经被修改过" in (report.items[1].error or "")
    assert "不是 reportgen 生成的" in (report.items[2].error or "")
    assert (out / "u01.docx").read_bytes() == edited
    report = build_many([tmp_path / "p"], out, jobs=1, force=True)
    assert report.failed == 0
    assert report.items[1].backup is not None and report.items[1].backup.read_bytes() == edited
    assert_valid_docx(out / "u01.docx")


def test_stale_temporary_files_of_a_killed_run_are_removed(tmp_path: Path, pack_dir: Path) -> None:
    make_profiles(tmp_path / "p", pack_dir, 2)
    out = tmp_path / "out"
    out.mkdir()
    stale = [out / ".u00.k3j9x_a1.tmp", out / ".汇总.abc123.tmp"]
    for path in stale:
        path.write_bytes(b"PK\x03\x04 half")
    unrelated = out / ".notes.tmp"
    unrelated.write_text("keep", encoding="utf-8")
    assert build_many([tmp_path / "p"], out, jobs=1).failed == 0
    assert not any(path.exists() for path in stale)
    assert unrelated.exists()


# Runs the CLI with every sync slowed down, so that a kill lands while drafts are being written.
SLOW_CLI = """
import os, sys, time
def slow(*args, _sync=os.sync):
    time.sleep(0.3)
    return _sync(*args)
def slow_fsync(fd, _fsync=os.fsync):
    time.sleep(0.02)
    return _fsync(fd)
os.sync = slow
os.fsync = slow_fsync
from reportgen.cli import main
sys.argv[0] = "reportgen"
main()
"""


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_killed_batch_leaves_only_complete_drafts_and_a_rerun_finishes(tmp_path: Path, pack_dir: Path,
                                                                         jobs: str) -> None:
    count = 70
    make_profiles(tmp_path / "p", pack_dir, count)
    out = tmp_path / "out"
    command = [sys.executable, "-c", SLOW_CLI, "build", str(tmp_path / "p"), "-o", str(out), "-j", jobs]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not list(out.glob("*.docx")):
            assert process.poll() is None, "the batch ended before any draft appeared"
            assert time.monotonic() < deadline, "no draft appeared"
            time.sleep(0.005)
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # the whole batch, workers included
        process.wait()
    time.sleep(0.2)
    drafts = sorted(out.glob("*.docx"))
    assert 0 < len(drafts) < count  # killed part-way
    for draft in drafts:
        assert_valid_docx(draft)  # nothing truncated under a final name
    assert not (out / SUMMARY_NAME).exists()
    result = run("build", str(tmp_path / "p"), "-o", str(out), "-j", jobs)
    assert result.exit_code == 0, result.output
    drafts = sorted(out.glob("*.docx"))
    assert len(drafts) == count
    for draft in drafts:
        assert_valid_docx(draft)
    assert not list(out.glob(".*.tmp"))
    assert (out / SUMMARY_NAME).is_file()


# ---------------------------------------------------------------- caches behind "compile once"


def test_a_pack_is_resolved_and_compiled_once_per_process(tmp_path: Path, pack_dir: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import reportgen.batch as batch
    import reportgen.pack as pack_module

    calls: list[Path] = []
    original = pack_module.load_pack

    def counting(root: Path, source: str = "local") -> Any:
        calls.append(root)
        return original(root, source)

    monkeypatch.setattr(pack_module, "load_pack", counting)
    monkeypatch.setattr(batch, "_PACKS", {})
    make_profiles(tmp_path / "p", pack_dir, 5)
    assert build_many([tmp_path / "p"], tmp_path / "out", jobs=1).failed == 0
    assert len(calls) == 1


def test_cached_template_code_is_only_reused_for_the_same_source(monkeypatch: pytest.MonkeyPatch) -> None:
    from reportgen.cache import PackCache
    from reportgen.errors import UnsafePackError
    from reportgen.prose import compile_cached
    from reportgen.sandbox import PackSandbox

    def env() -> PackSandbox:
        sandbox = PackSandbox()
        sandbox.bytecode_cache = PackCache("test-namespace")
        return sandbox

    first = env()
    assert compile_cached(first, "t", "你好{{ name }}").render(name="甲") == "你好甲"
    cache = first.bytecode_cache
    assert isinstance(cache, PackCache)
    cache.save()
    assert cache.path.is_file() and cache.path.parent == Path(os.environ["REPORTGEN_CACHE"]) / "packs"

    def no_compiling(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("compiled again")

    second = env()
    monkeypatch.setattr(second, "compile", no_compiling)
    assert compile_cached(second, "t", "你好{{ name }}").render(name="乙") == "你好乙"  # from the file
    with pytest.raises(UnsafePackError):
        compile_cached(env(), "t", "{{ name.__class__ }}")  # same name, new source: checked again


def _compile_all(engine: Any) -> None:
    """Compile and analyse every template of the engine's pack, and keep the results on disk."""
    from reportgen.prose import iter_templates

    for file, source in iter_templates(engine.pack):
        engine._prepare(file, source)
    engine.cache.save()


def test_template_analysis_comes_from_the_cache_and_survives_a_damaged_file(pack_dir: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """What a template reads is kept on disk in the pack's cache file (a new process needs no parse);
    a damaged file means analysing again, and the entries' kind changes with the analysing code."""
    from reportgen.cache import code_digest
    from reportgen.pack import load_pack
    from reportgen.prose import TEMPLATE_NAMES, ProseEngine, _Dependencies, template_dependencies

    engine = ProseEngine(load_pack(pack_dir))
    _compile_all(engine)
    first = dict(engine._dependencies)
    assert any(isinstance(found, _Dependencies) and found.facts for found in first.values())
    assert engine.cache.path.is_file()
    kind = "prose-dependencies-" + code_digest(template_dependencies, extra=",".join(sorted(TEMPLATE_NAMES)))
    assert {key[1] for key in engine.cache.entries if key[0] == "text" and key[1].startswith("prose-")} == {kind}

    again = ProseEngine(load_pack(pack_dir))
    monkeypatch.setattr(again.env, "parse", lambda *args, **kwargs: pytest.fail("parsed again"))
    monkeypatch.setattr(again.env, "compile", lambda *args, **kwargs: pytest.fail("compiled again"))
    _compile_all(again)
    assert again._dependencies == first  # read back from the cache
    monkeypatch.undo()

    engine.cache.path.write_bytes(b"\xe3garbage")
    damaged = ProseEngine(load_pack(pack_dir))
    _compile_all(damaged)
    assert damaged._dependencies == first
    assert code_digest(template_dependencies) != code_digest(lambda ast: None)


@pytest.mark.parametrize("requires", [">=0.1", ">=0.1,<1", "<0.1", "==0.1", "!=0.1.0", ">0.0.9,<=0.1.0", "<1"])
def test_simple_version_requirements_agree_with_packaging(requires: str) -> None:
    from packaging.specifiers import SpecifierSet
    from packaging.version import Version

    from reportgen.pack import simple_requirement_met

    for version in ("0.1.0", "0.1", "1.0", "0.0.9", "2.3.4"):
        assert simple_requirement_met(requires, version) == (Version(version) in SpecifierSet(requires))


@pytest.mark.parametrize("requires", ["~=0.1", ">=0.1rc1", "==0.1.*", "", ">=0.1;"])
def test_other_version_requirements_are_left_to_packaging(requires: str) -> None:
    from reportgen.pack import simple_requirement_met

    assert simple_requirement_met(requires, "0.1.0") is None
