"""Command line: parses arguments, calls one core function, maps errors to exit codes.

Exit codes: 0 done, 1 bad input (a Chinese message, never a traceback), 2 wrong usage.  Help and
usage are Chinese through click's own extension points: a help formatter, command classes that
format usage and sections, parameter types with Chinese messages, and usage errors told from their
type and attributes (never from click's English text).
"""

from __future__ import annotations

import contextlib
import errno
import functools
import json
import os
import re
import shutil
import signal
import sys
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from . import __version__

__all__ = ["main"]

F = TypeVar("F", bound=Callable[..., Any])
MAX_SHOWN_PROBLEMS = 50  # a file wrong everywhere: list the first ones, not a flood


# ---------------------------------------------------------------- Chinese help and usage


class ChineseFormatter(click.HelpFormatter):
    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, prefix="用法：" if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{heading}：\n")

    def write_text(self, text: str) -> None:
        """Paragraphs wrapped in terminal columns; a paragraph starting with \b is kept as written."""
        indent = " " * self.current_indent
        for paragraph in text.split("\n\n"):
            if paragraph.startswith("\b"):
                self.write("".join(indent + line + "\n" for line in paragraph[1:].strip("\n").splitlines()))
            else:
                self.write("".join(indent + line + "\n" for line in _wrap(paragraph, self.width - self.current_indent)))
            self.write("\n")
        self.buffer.pop()  # no blank line after the last paragraph

    def write_dl(self, rows: Iterable[tuple[str, str]], col_max: int = 30, col_spacing: int = 2) -> None:
        """Two columns measured in terminal columns (click counts characters; a Chinese one takes two)."""
        from .errors import display_width

        rows = list(rows)
        first_width = min(max((display_width(first) for first, _ in rows), default=0), col_max) + col_spacing
        indent = " " * self.current_indent
        room = max(self.width - self.current_indent - first_width, 20)
        for first, second in rows:
            self.write(indent + first)
            if not second:
                self.write("\n")
                continue
            if display_width(first) + col_spacing <= first_width:
                self.write(" " * (first_width - display_width(first)))
            else:
                self.write("\n" + indent + " " * first_width)
            lines = _wrap(second, room)
            self.write(lines[0] + "\n")
            for line in lines[1:]:
                self.write(indent + " " * first_width + line + "\n")


_NO_LINE_START = frozenset("。，、；：？！）》」』”’…")


def _wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` terminal columns, breaking between Chinese characters or
    at spaces, never inside a word of Latin letters (an option name, a path)."""
    from .errors import display_width

    lines: list[str] = []
    line = ""
    for token in re.findall(r"[\x21-\x7e]+|\s+|.", " ".join(text.split())):
        # closing punctuation stays on its line (禁则): it may stick out by one character
        if display_width(line + token) > width and line.strip() and token not in _NO_LINE_START:
            lines.append(line.rstrip())
            line = "" if token.isspace() else token
        else:
            line += token
    return [*lines, line.rstrip()] if line.strip() or not lines else lines


class ChineseContext(click.Context):
    formatter_class = ChineseFormatter


class _Chinese:
    """Usage, sections and the help option of a command, in Chinese."""

    context_class: type[click.Context] = ChineseContext

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        pieces = self.collect_usage_pieces(ctx)  # type: ignore[attr-defined]
        formatter.write_usage(ctx.command_path, " ".join(pieces), "用法：")

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        records = [record for param in self.get_params(ctx)  # type: ignore[attr-defined]
                   if isinstance(param, click.Option) and (record := param.get_help_record(ctx)) is not None]
        if records:
            with formatter.section("选项"):
                formatter.write_dl(records)

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        names = ctx.help_option_names
        if not names or not getattr(self, "add_help_option", True):
            return None

        def show_help(ctx: click.Context, param: click.Parameter, value: bool) -> None:
            if value and not ctx.resilient_parsing:
                click.echo(ctx.get_help(), color=ctx.color)
                ctx.exit()

        return click.Option(names, is_flag=True, is_eager=True, expose_value=False, callback=show_help,
                            help="显示这份帮助并退出。")

    def invoke(self, ctx: click.Context) -> Any:
        if ctx.args and not isinstance(self, click.Group):
            raise click.UsageError(f"多余的参数：{' '.join(ctx.args)}", ctx)
        return super().invoke(ctx)  # type: ignore[misc]


class ChineseCommand(_Chinese, click.Command):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", "[选项]")
        super().__init__(*args, **kwargs)


class ChineseGroup(_Chinese, click.Group):
    command_class = ChineseCommand
    group_class = type

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", "[选项]")
        kwargs.setdefault("subcommand_metavar", "命令 [参数]...")
        super().__init__(*args, **kwargs)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_options(ctx, formatter)
        self.format_commands(ctx, formatter)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, command.get_short_help_str(60)) for name in self.list_commands(ctx)
                if (command := self.get_command(ctx, name)) is not None and not command.hidden]
        if rows:
            with formatter.section("命令"):
                formatter.write_dl(rows)

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0]
        if self.get_command(ctx, name) is None and not ctx.resilient_parsing:
            import difflib

            close = difflib.get_close_matches(name, self.list_commands(ctx), n=1)
            hint = f"是不是“{close[0]}”？" if close else f"可用的命令：{'、'.join(self.list_commands(ctx))}"
            raise click.UsageError(f"没有“{name}”这个命令。{hint}", ctx)
        return super().resolve_command(ctx, args)


class Whole(click.ParamType):  # type: ignore[type-arg,unused-ignore]
    """A whole number in a range, with a Chinese message."""

    name = "整数"

    def __init__(self, low: int, high: int) -> None:
        self.low, self.high = low, high

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        try:
            number = int(str(value).strip())
        except ValueError:
            self.fail(f"“{value}”不是整数", param, ctx)
        if not self.low <= number <= self.high:
            self.fail(f"应在 {self.low} 到 {self.high} 之间，实际是 {number}", param, ctx)
        return number


class Ratio(click.ParamType):  # type: ignore[type-arg,unused-ignore]
    name = "比例"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        try:
            number = float(str(value).strip().removesuffix("%"))
        except ValueError:
            self.fail(f"“{value}”不是数字", param, ctx)
        number = number / 100 if number > 1 else number
        if not 0 < number <= 1:
            self.fail("应在 0 到 1 之间（或写成百分数，如 30%）", param, ctx)
        return number


class OneOf(click.ParamType):  # type: ignore[type-arg,unused-ignore]
    name = "选项"

    def __init__(self, *choices: str) -> None:
        self.choices = choices

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        if value not in self.choices:
            self.fail(f"“{value}”不可用，只能是 {'、'.join(self.choices)}", param, ctx)
        return str(value)


CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100, "allow_extra_args": True}


def _param_name(param: click.Parameter | None) -> str:
    if param is None:
        return "参数"
    if isinstance(param, click.Option):
        return "选项“" + "/".join(param.opts) + "”"
    return f"参数“{param.metavar or param.name}”"


def usage_message(exc: click.UsageError, command: click.Command | None = None) -> str:
    """What went wrong with the command line, decided by the exception's type and attributes."""
    if isinstance(exc, click.NoSuchOption):
        close = f"是不是“{sorted(exc.possibilities)[0]}”？" if exc.possibilities else "用 -h 查看可用的选项。"
        return f"没有选项“{exc.option_name}”。{close}"
    if isinstance(exc, click.BadOptionUsage):
        option = next((param for param in (command.params if command is not None else ())
                       if isinstance(param, click.Option) and exc.option_name in (*param.opts, *param.secondary_opts)),
                      None)
        if option is not None and option.is_flag:  # --force=yes: a switch given a value
            return f"选项“{exc.option_name}”是开关，后面不要写值（只写 {exc.option_name}）。"
        return f"选项“{exc.option_name}”后面要写一个值。"
    if isinstance(exc, click.MissingParameter):
        return f"缺少{_param_name(exc.param)}。"
    if isinstance(exc, click.BadParameter):
        return f"{_param_name(exc.param)}的值不对：{exc.message}。"
    return exc.message if type(exc) is click.UsageError else "命令的写法不对。"


# ---------------------------------------------------------------- errors


def _fail(text: str, code: int = 1) -> None:
    click.echo(text, err=True)
    sys.exit(code)


def handle_errors(func: F) -> F:
    """The core's ReportgenError as a message and exit code 1; a file system refusal likewise."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from .errors import ReportgenError, display_path, os_error_text

        try:
            return func(*args, **kwargs)
        except ReportgenError as exc:
            _fail(exc.render(MAX_SHOWN_PROBLEMS, "先改正上面这些，再运行 reportgen check"))
        except OSError as exc:
            if exc.errno == errno.EPIPE:
                raise
            name = display_path(exc.filename) if isinstance(exc.filename, (str, Path)) else ""
            where = f"：{name[:60]}…" if len(name) > 60 else (f"：{name}" if name else "")
            _fail(f"文件操作失败{where}：{os_error_text(exc)}")
        return None

    return wrapper  # type: ignore[return-value]


def _warnings(warnings: Sequence[Any], *, limit: int = 20) -> None:
    for warning in warnings[:limit]:
        click.echo("注意：" + warning.render().replace("\n", "\n  "))
    if len(warnings) > limit:
        click.echo(f"注意：另有 {len(warnings) - limit} 条提醒没有列出（运行 reportgen check 查看）")


# ---------------------------------------------------------------- commands


@click.group(cls=ChineseGroup, context_settings=CONTEXT,
             help="reportgen：根据 YAML 资料文件生成党组织书记抓基层党建工作述职报告初稿（Word）。\n\n"
                  "常用：reportgen init 资料.yaml → 填写 → reportgen check 资料.yaml → reportgen build 资料.yaml")
@click.version_option(__version__, "-V", "--version", prog_name="reportgen", message="%(prog)s，版本 %(version)s",
                      help="显示版本并退出。")
def cli() -> None:
    pass


PACK_OPTION = click.option("--pack", "pack_request", metavar="名称或路径",
                           help="使用的模板包：名称（可带版本要求，如 jiguan>=2.0）或模板包文件夹；默认用资料文件里 pack: 写的。")


@cli.command(context_settings=CONTEXT)
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path), metavar="资料文件或文件夹...")
@click.option("-o", "--output", type=click.Path(path_type=Path), metavar="输出",
              help="输出文件；批量生成时为输出文件夹。默认与资料文件同名、放在同一文件夹。")
@PACK_OPTION
@click.option("--format", "fmt", type=OneOf("docx", "md"), default="docx", metavar="格式",
              help="docx（Word，默认）或 md（Markdown）。")
@click.option("--force", is_flag=True, help="覆盖已修改过的稿子或别的文件（旧文件会先备份）。")
@click.option("-j", "--jobs", type=Whole(1, 64), default=None, metavar="N",
              help="批量生成时同时运行的进程数，1 到 64，默认为 CPU 核数。")
@click.option("--similar-threshold", type=Ratio(), default=None, metavar="比例",
              help="批量生成时，复制比高于它的稿子在汇总表里标出，默认 0.3（30%）。")
@click.option("--ledger", type=click.Path(path_type=Path), metavar="整改台账.xlsx",
              help="用填好的整改台账填写“上年问题整改情况”（进展情况、是否销号）。")
@handle_errors
def build(inputs: tuple[Path, ...], output: Path | None, pack_request: str | None, fmt: str, force: bool,
          jobs: int | None, similar_threshold: float | None, ledger: Path | None) -> None:
    """根据资料文件生成述职报告初稿。

    给一个资料文件时生成一份稿子；给多个文件、一个文件夹或一份填报表（.xlsx）时批量生成，并在输出文件夹里写出“汇总.xlsx”。
    """
    from . import core
    from .errors import display_path

    with _Progress(sys.stderr.isatty()) as bar:
        result = core.build_inputs(inputs, output, pack_request=pack_request, ledger=ledger, fmt=fmt, force=force,
                                   jobs=jobs, threshold=similar_threshold, start=bar.start, progress=bar.advance)
    if isinstance(result, core.BuildResult):
        if result.backup is not None:
            click.echo(f"原文件已备份为：{display_path(result.backup)}")
        draft = result.draft
        click.echo(f"已生成：{display_path(result.output)}")
        click.echo(f"模板包：{draft.pack.title}（{draft.pack.name} {draft.pack.version}）")
        click.echo(f"正文汉字：{result.han_count} 字")
        missing = draft.missing
        click.echo(f"待补充：{len(missing)} 处" + ("（已在稿子中用黄色标出；运行 reportgen check 查看清单）" if missing else ""))
        _warnings(draft.warnings)
        return
    for line in core.report_lines(result, width=shutil.get_terminal_size((100, 24)).columns):
        click.echo(line)
    if result.failed:
        sys.exit(1)


class _Progress:
    """click's progress bar on a terminal, started once the batch knows how many drafts it makes."""

    def __init__(self, shown: bool) -> None:
        self.shown = shown
        self.bar: Any = None

    def start(self, total: int) -> None:
        if self.shown and total > 1:
            self.bar = click.progressbar(length=total, label="正在生成", file=sys.stderr, show_pos=True)
            self.bar.__enter__()

    def advance(self, count: int) -> None:
        if self.bar is not None:
            self.bar.update(count)

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


@cli.command(context_settings=CONTEXT)
@click.argument("path", type=click.Path(path_type=Path), metavar="资料文件")
@click.option("--pack", "pack_request", metavar="名称或路径",
              help="使用的模板包：名称（可带版本要求，如 jiguan>=2.0）或模板包文件夹；默认 jiguan。")
@click.option("--force", is_flag=True, help="文件已存在时覆盖（旧文件会先备份）。")
@handle_errors
def init(path: Path, pack_request: str | None, force: bool) -> None:
    """生成一个带中文说明的资料文件模板。

    模板包默认是 jiguan（机关），可用 --pack 指定，如 --pack qiye（企业）、--pack xitong（系统、行业）。
    """
    from . import core
    from .errors import display_path

    written, pack, backup = core.init(path, pack_request, force=force)
    if backup is not None:
        click.echo(f"原文件已备份为：{display_path(backup)}")
    click.echo(f"已生成资料文件模板：{display_path(written)}（模板包：{pack.title}）")
    click.echo(f"下一步：按注释填写后运行 reportgen check {display_path(written)}")


@cli.command(context_settings=CONTEXT)
@click.argument("path", type=click.Path(path_type=Path), metavar="资料文件或填报表")
@PACK_OPTION
@click.option("--strict", is_flag=True, help="还有待补充的事实时也以失败结束（退出码 1），便于脚本判断。")
@handle_errors
def check(path: Path, pack_request: str | None, strict: bool) -> None:
    """检查资料文件：格式、数字、条目，以及稿子离完成还差什么。"""
    from . import core
    from .errors import display_path

    if path.suffix.lower() == ".xlsx":
        _check_workbook(path, pack_request, strict)
        return
    draft = core.check(path, pack_request)
    missing = draft.missing
    state = "已完整" if not missing else f"还有 {len(missing)} 处待补充"
    click.echo(f"资料文件格式正确，稿子{state}：{display_path(path)}（模板包：{draft.pack.title} {draft.pack.version}）")
    click.echo(f"预计正文汉字：{draft.document.han_count()} 字")
    if missing:
        click.echo(f"待补充 {len(missing)} 处：")
        for item in missing:
            click.echo(f"  - {item.label}（{item.where}；资料文件里的 {item.key}）")
    _warnings(draft.warnings, limit=50)
    if strict and missing:
        sys.exit(1)


def _check_workbook(path: Path, pack_request: str | None, strict: bool) -> None:
    from . import core
    from .errors import first_few

    rows = core.check_workbook(path, pack_request)
    failed = [row for row in rows if row.error is not None]
    incomplete = [row for row in rows if row.draft is not None and row.draft.missing]
    click.echo(f"填报表共 {len(rows)} 行：{len(rows) - len(failed)} 行可以生成稿子，{len(failed)} 行有错误，"
               f"{len(incomplete)} 行还有待补充的事实")
    for row in rows:
        if row.error is not None:
            click.echo(f"✗ {row.label}：")
            click.echo("  " + row.error.render(20, "先改正上面这些").replace("\n", "\n  "))
        elif row.draft is not None and row.draft.missing:
            labels = first_few([m.label for m in row.draft.missing], 6)
            click.echo(f"… {row.label}（{row.draft.profile.meta.unit}）：待补充 {len(row.draft.missing)} 处：{labels}")
        else:
            click.echo(f"✓ {row.label}（{row.draft.profile.meta.unit if row.draft else ''}）")
    if failed or (strict and incomplete):
        sys.exit(1)


@cli.command("next", context_settings=CONTEXT)
@click.argument("source", type=click.Path(path_type=Path), metavar="上年的资料文件或述职报告")
@click.option("-o", "--output", type=click.Path(path_type=Path), metavar="新资料文件.yaml",
              help="新的资料文件；默认把文件名里的年份加一，如 2025.yaml → 2026.yaml。")
@click.option("--pack", "pack_request", metavar="名称或路径",
              help="使用的模板包：名称（可带版本要求）或模板包文件夹；默认沿用上年资料文件里 pack: 写的，"
                   "从 Word 稿开始时默认 jiguan。")
@click.option("--ledger", type=click.Path(path_type=Path), metavar="整改台账.xlsx", help="用填好的整改台账填写整改进度和整改情况。")
@click.option("--force", is_flag=True, help="新资料文件已存在时覆盖（旧文件会先备份）。")
@click.option("--yes", "-y", is_flag=True, help="从 Word 文件里提取问题时，不再逐项确认。")
@handle_errors
def next_(source: Path, output: Path | None, pack_request: str | None, ledger: Path | None, force: bool, yes: bool) -> None:
    """用今年的资料文件（或去年的述职报告 .docx/.txt）生成下一年度的资料文件。

    基本信息、模板包和所选的工作条目带到下一年；事实空着，注释里写着上年的数；上年查摆的问题和承诺的措施变成“上年问题整改情况”，逐项填写整改进度即可。
    """
    from . import core
    from .errors import display_path

    def confirm(carried: Any) -> bool:
        if yes:
            return True
        click.echo(f"从 {display_path(source)} 里找到上年的问题 {len(carried.rectifications)} 个：")
        for n, (problem, measure) in enumerate(carried.rectifications, start=1):
            click.echo(f"  {n}. 问题：{problem}")
            click.echo(f"     措施：{measure or '（没有找到对应的措施）'}")
        if not sys.stdin.isatty():
            click.echo("没有写入任何文件：确认无误后加 --yes 再运行一次。", err=True)
            return False
        return click.confirm("按这些内容生成新的资料文件吗？", default=True)

    result = core.next_year(source, output, pack_request=pack_request, force=force, ledger=ledger, confirm=confirm)
    if result is None:
        sys.exit(1)
    if result.backup is not None:
        click.echo(f"原文件已备份为：{display_path(result.backup)}")
    click.echo(f"已生成 {result.year or '下一'} 年度的资料文件：{display_path(result.output)}")
    click.echo(f"上年问题 {len(result.carried.rectifications)} 个已列入“上年问题整改情况”，请逐项填写整改进度（status）和整改情况（action）")
    _warnings(result.warnings)


@cli.command(context_settings=CONTEXT)
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path), metavar="资料文件或文件夹...")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=Path("整改台账.xlsx"), metavar="台账.xlsx",
              help="输出的整改台账，默认“整改台账.xlsx”。")
@PACK_OPTION
@click.option("--force", is_flag=True, help="台账已存在时覆盖（旧文件会先备份）。")
@handle_errors
def ledger(inputs: tuple[Path, ...], output: Path, pack_request: str | None, force: bool) -> None:
    """把本年度查摆的问题和整改措施导出为整改台账（Excel），一个文件夹的资料文件导出为一个台账。"""
    from . import core
    from .errors import display_path

    count, backup = core.ledger(list(inputs), output, pack_request=pack_request, force=force)
    if backup is not None:
        click.echo(f"原文件已备份为：{display_path(backup)}")
    click.echo(f"已导出整改台账：{display_path(output)}（{count} 个问题）")
    click.echo("填好“进展情况”和“是否销号”后，下一年用 reportgen next 或 build 的 --ledger 选项读回。")


@cli.command(context_settings=CONTEXT)
@click.argument("pack_request", metavar="模板包")
@click.argument("profiles", nargs=-1, type=click.Path(path_type=Path), metavar="[资料文件或文件夹...]")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=Path("填报表.xlsx"), metavar="填报表.xlsx",
              help="输出的填报表，默认“填报表.xlsx”。")
@click.option("--force", is_flag=True, help="填报表已存在时覆盖（旧文件会先备份）。")
@handle_errors
def sheet(pack_request: str, profiles: tuple[Path, ...], output: Path, force: bool) -> None:
    """生成发给各单位的事实填报表（Excel/WPS）：每个单位一行，每个事实一列；给出资料文件时预先填好。

    模板包写名称（如 jiguan）或模板包文件夹。给出各单位的资料文件（如上年的）时，每个单位一行，预先填好。
    收回后用 reportgen check 填报表.xlsx 检查，用 reportgen build 填报表.xlsx -o 文件夹 一次生成全部稿子。
    """
    from . import core
    from .errors import display_path

    pack, rows, backup = core.sheet(pack_request, output, list(profiles), force=force)
    if backup is not None:
        click.echo(f"原文件已备份为：{display_path(backup)}")
    click.echo(f"已生成填报表：{display_path(output)}（模板包：{pack.title}；已填 {rows} 个单位）")


@cli.command(context_settings=CONTEXT)
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path), metavar="稿子或文件夹...")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出，便于脚本处理。")
@click.option("--threshold", type=Ratio(), default=0.3, metavar="比例", help="高于它的标为“偏高”，默认 0.3（30%）。")
@click.option("-n", "--top", type=Whole(1, 10000), default=20, metavar="N", help="列出最相似的前 N 对，默认 20。")
@handle_errors
def similar(inputs: tuple[Path, ...], as_json: bool, threshold: float, top: int) -> None:
    """计算稿子之间的复制比（.docx 或 .md，任何来源），列出最相似的几对和相同的段落。

    复制比：A 稿中与 B 稿连续 13 个字以上相同的文字占 A 稿字数的比例（不计空白、数字、单位名称和【待补充】）。
    """
    from . import core

    matches = core.similar(list(inputs))
    if as_json:
        click.echo(json.dumps([{"a": m.a.name, "b": m.b.name, "ratio": round(m.ratio, 4), "flagged": m.ratio > threshold,
                                "passages": m.passages(5)} for m in matches], ensure_ascii=False, indent=2))
        return
    click.echo(f"共比较 {len(matches)} 份稿子；复制比高于 {threshold:.0%} 的有 {sum(m.ratio > threshold for m in matches)} 份")
    for match in matches[:top]:
        flag = "（偏高）" if match.ratio > threshold else ""
        click.echo(f"{match.ratio:>5.0%}{flag}  {match.a.name}  ←  {match.b.name}")
        for passage in match.passages(3):
            click.echo(f"        相同：{passage}")


# ---------------------------------------------------------------- packs


@cli.group(cls=ChineseGroup, context_settings=CONTEXT,
           help="管理模板包：列出、查看、新建、检查、导出和安装。\n\n模板包决定稿子的结构、措辞和 Word 版式。上级党组织可以"
                "制作或修改模板包，用 export 导出为 .zip 发给各基层单位，各单位用 install 安装后即可使用。")
def packs() -> None:
    pass


@packs.command("list", context_settings=CONTEXT)
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出（每项含 name、version、title、source）。")
@handle_errors
def packs_list(as_json: bool) -> None:
    """列出能找到的模板包：当前文件夹的 packs/（本地）、已安装、内置。"""
    from . import core
    from .errors import display_path

    listing = core.list_packs(Path.cwd())
    if as_json:
        click.echo(json.dumps([{"name": p.name, "version": p.version, "title": p.title, "source": p.source}
                               for p in listing.packs], ensure_ascii=False, indent=2))
    else:
        click.echo("\n".join(core.listing_lines(listing)))
    for folder, why in listing.broken:
        click.echo(f"注意：{display_path(folder)} 里的模板包无法读取（{why}）；运行 reportgen packs check "
                   f"{display_path(folder)} 查看全部原因", err=True)


@packs.command("show", context_settings=CONTEXT)
@click.argument("request", metavar="名称或路径")
@handle_errors
def packs_show(request: str) -> None:
    """显示模板包的结构、条目（含要点和事实）和全部事实。"""
    from . import core

    click.echo(core.describe(request, Path.cwd()))


@packs.command("new", context_settings=CONTEXT)
@click.argument("directory", type=click.Path(path_type=Path), metavar="文件夹")
@click.option("--from", "source", default="jiguan", metavar="名称或路径", help="以哪个模板包为底本，默认 jiguan。")
@handle_errors
def packs_new(directory: Path, source: str) -> None:
    """复制一个模板包来修改：名称取自文件夹名，版本重置为 0.1.0。"""
    from . import core
    from .errors import display_path

    pack = core.new_pack(directory, source, Path.cwd())
    click.echo(f"已建立模板包 {pack.name} {pack.version}：{display_path(pack.root)}（底本：{source}）")
    click.echo(f"下一步：修改其中的 pack.yaml、prose/ 和 word/，然后运行 reportgen packs check {display_path(pack.root)}")


@packs.command("check", context_settings=CONTEXT)
@click.argument("request", metavar="名称或路径")
@handle_errors
def packs_check(request: str) -> None:
    """检查模板包：清单、正文、Word 模板的样式和安全、示例资料文件能否生成，并审读示例稿的措辞。"""
    from . import core
    from .errors import display_path

    report = core.check_pack(request, Path.cwd())
    pack = report.pack
    click.echo(f"模板包 {pack.name} {pack.version} 检查通过（{display_path(pack.root)}）。")
    click.echo(report.summary)
    for note in report.notes:
        click.echo(f"注意：{note}")


@packs.command("export", context_settings=CONTEXT)
@click.argument("request", metavar="名称或路径")
@click.option("-o", "--output", type=click.Path(path_type=Path), metavar="文件.zip", help="导出的文件，默认为“名称-版本.zip”。")
@click.option("--force", is_flag=True, help="导出文件已存在时覆盖（旧文件会先备份）。")
@handle_errors
def packs_export(request: str, output: Path | None, force: bool) -> None:
    """检查并导出模板包为 .zip 文件，以便发给其他单位。"""
    from . import core
    from .errors import display_path, first_few

    result = core.export_pack(request, output, force=force, cwd=Path.cwd())
    click.echo(f"已导出模板包 {result.pack.name} {result.pack.version}：{display_path(result.output)}（{result.files} 个文件）")
    if result.left_out:
        click.echo(f"注意：文件夹里有 {len(result.left_out)} 个模板包用不到的文件没有导出：{first_few(result.left_out)}")
    for note in result.notes:
        click.echo(f"注意：{note}")


@packs.command("install", context_settings=CONTEXT)
@click.argument("source", type=click.Path(path_type=Path), metavar="文件.zip或文件夹")
@click.option("--force", is_flag=True, help="同名同版本的模板包已安装时仍然覆盖。")
@handle_errors
def packs_install(source: Path, force: bool) -> None:
    """安装别人发来的模板包（.zip 或文件夹）：先全面检查，不安全或有错误的一律拒绝。"""
    from packaging.version import Version

    from . import core
    from .errors import display_path

    result, shadow = core.install(source, force=force)
    pack, old = result.pack, result.previous
    if old is None:
        click.echo(f"已安装模板包 {pack.name} {pack.version}（{pack.title}）")
    elif old == pack.version:
        click.echo(f"已重新安装模板包 {pack.name} {pack.version}")
    else:
        direction = "升级" if Version(pack.version) > Version(old) else "降级"
        click.echo(f"已将模板包 {pack.name} 从 {old} {direction}到 {pack.version}")
    click.echo(f"位置：{display_path(pack.root)}")
    if shadow:
        click.echo(f"注意：{shadow}")
    for note in result.notes:
        click.echo(f"注意：{note}")


# ---------------------------------------------------------------- entry point


def _context_for(args: list[str]) -> click.Context | None:
    """The context of the (sub)command ``args`` name, for its usage line; None if that fails."""
    try:
        ctx = cli.make_context("reportgen", [], resilient_parsing=True)
        command: click.Command = cli
        for token in args:
            if not isinstance(command, click.Group) or token.startswith("-"):
                break
            sub = command.get_command(ctx, token)
            if sub is None:
                break
            command = sub
            ctx = sub.make_context(token, [], parent=ctx, resilient_parsing=True)
        return ctx
    except click.ClickException:
        return None


def _interrupted(main_pid: int, signum: int, frame: object) -> None:
    if os.getpid() != main_pid:  # a pool worker, forked with this handler: it ends as it always did
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        return
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> None:
    warnings.simplefilter("ignore")  # libraries warn in English about what they skip; the user reads Chinese only
    for name in ("SIGTERM", "SIGHUP"):  # like Ctrl-C: locks and the batch's scratch folder are cleaned up
        if hasattr(signal, name):
            with contextlib.suppress(ValueError):  # not the main thread (a program calling main()): leave them
                signal.signal(getattr(signal, name), functools.partial(_interrupted, os.getpid()))
    try:
        try:
            cli.main(args=list(argv) if argv is not None else None, prog_name="reportgen", standalone_mode=False)
        except click.UsageError as exc:
            ctx = exc.ctx
            if isinstance(exc, getattr(click.exceptions, "NoArgsIsHelpError", ())) and ctx is not None:
                click.echo(ctx.get_help())  # ``reportgen`` alone: the help, as before click 8.2
                sys.exit(0)
            if ctx is None:  # click's option parser raises without a context: make the command's
                ctx = _context_for(list(argv) if argv is not None else sys.argv[1:])
            if ctx is not None:
                click.echo(ctx.get_usage(), err=True)
            click.echo(f"错误：{usage_message(exc, ctx.command if ctx is not None else None)}", err=True)
            if ctx is not None:
                click.echo(f"用“{ctx.command_path} -h”查看帮助。", err=True)
            sys.exit(2)
        except click.exceptions.Abort:
            _fail("已取消。", 130)
        except KeyboardInterrupt:
            _fail("已中断。", 130)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            _fail(f"错误：{exc.format_message()}", exc.exit_code)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader of our output went away (``| head -1``): stop quietly with exit code 1, as click
        # does when this happens inside a command.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(1)


if __name__ == "__main__":
    main()
