"""Command line: parses arguments, calls one core function, maps errors to exit codes.

Exit codes: 0 done, 1 bad input (a Chinese message, never a traceback), 2 wrong usage.
The core is imported lazily so that ``--help`` answers at once.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from . import __version__

__all__ = ["main"]

F = TypeVar("F", bound=Callable[..., Any])

# click's own messages, in Chinese (click looks its `_`/`ngettext` up at call time).
_CLICK_ZH = {
    "Usage:": "用法：",
    "Options": "选项",
    "Commands": "命令",
    "Show this message and exit.": "显示帮助并退出。",
    "Show the version and exit.": "显示版本并退出。",
    "Error: {message}": "错误：{message}",
    "Try '{command} {option}' for help.": "用“{command} {option}”查看帮助。",
    "No such option {name!r}.": "没有选项 {name!r}。",
    "No such command {name!r}.": "没有命令 {name!r}。",
    "Missing argument {param_hint}.": "缺少参数 {param_hint}。",
    "Missing argument": "缺少参数",
    "Missing option": "缺少选项",
    "Missing parameter": "缺少参数",
    "Missing command.": "缺少命令。",
    "Missing {param_type}": "缺少{param_type}",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的值无效：{message}",
    "Invalid value: {message}": "值无效：{message}",
    "Option {name!r} requires an argument.": "选项 {name!r} 需要一个值。",
    "Option {name!r} requires {nargs} arguments.": "选项 {name!r} 需要 {nargs} 个值。",
    "Option {name!r} does not take a value.": "选项 {name!r} 不接受值。",
    "Got unexpected extra argument ({args})": "多余的参数（{args}）",
    "Got unexpected extra arguments ({args})": "多余的参数（{args}）",
    "{value!r} is not {choice}.": "{value!r} 不是 {choice}。",
    "{value!r} is not one of {choices}.": "{value!r} 不在可选值 {choices} 中。",
    "{value!r} is not a valid {number_type}.": "{value!r} 不是有效的{number_type}。",
    "{value} is not in the range {range}.": "{value} 不在范围 {range} 内。",
    "Did you mean {possibility}?": "是不是 {possibility}？",
    "(Possible options: {possibilities})": "（可能的选项：{possibilities}）",
    "{name} {filename!r} does not exist.": "{name} {filename!r} 不存在。",
    "{name} {filename!r} is a directory.": "{name} {filename!r} 是一个文件夹。",
    "{name} {filename!r} is a file.": "{name} {filename!r} 是一个文件。",
    "integer": "整数",
    "file": "文件",
    "directory": "文件夹",
    "path": "路径",
    "Aborted!": "已取消。",
    "default: {default}": "默认：{default}",
    "required": "必填",
    "%(prog)s, version %(version)s": "%(prog)s，版本 %(version)s",
}


def _zh(message: str) -> str:
    return _CLICK_ZH.get(message, message)


def _zh_plural(singular: str, plural: str, n: int) -> str:
    return _zh(singular if n == 1 else plural)


def _localise_click() -> None:
    import click.core
    import click.decorators
    import click.exceptions
    import click.formatting
    import click.parser
    import click.types

    for module in (click.core, click.decorators, click.exceptions, click.formatting, click.parser, click.types):
        if hasattr(module, "_"):
            module._ = _zh  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = _zh_plural  # type: ignore[attr-defined]


_localise_click()

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _fail(exc: Exception) -> None:
    from .errors import ReportgenError
    from .yamlsource import MAX_SHOWN_PROBLEMS

    # A file that is wrong everywhere (60,000 unknown keys): list the first ones, not a flood.
    text = (exc.render(MAX_SHOWN_PROBLEMS, "先改正上面这些，再运行 reportgen check") if isinstance(exc, ReportgenError)
            else str(exc))
    click.echo(text, err=True)
    sys.exit(1)


def handle_errors(func: F) -> F:
    """Turn the core's ReportgenError into a message and exit code 1."""
    import functools

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from .errors import ReportgenError

        try:
            return func(*args, **kwargs)
        except ReportgenError as exc:
            _fail(exc)
        except OSError as exc:
            # The file system refused something no check foresaw (a name too long, a full disk…).
            from .errors import display_path, os_error_text

            name = display_path(exc.filename) if isinstance(exc.filename, (str, Path)) else ""
            where = f"：{name[:60]}…" if len(name) > 60 else (f"：{name}" if name else "")
            click.echo(f"文件操作失败{where}：{os_error_text(exc)}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("已中断。", err=True)
            sys.exit(130)
        return None

    return wrapper  # type: ignore[return-value]


@click.group(context_settings=CONTEXT, help="reportgen：根据 YAML 资料文件生成党组织书记抓基层党建工作述职报告初稿（Word）。\n\n"
             "常用：reportgen init 资料.yaml → 填写 → reportgen check 资料.yaml → reportgen build 资料.yaml")
@click.version_option(__version__, "-V", "--version", prog_name="reportgen")
def cli() -> None:
    pass


PACK_OPTION = click.option("--pack", "pack_request", metavar="名称|路径",
                           help="使用的模板包：名称（可带版本要求，如 jiguan>=1.0）或模板包文件夹路径；默认取资料文件里的 pack:。")


@cli.command(context_settings=CONTEXT)
@click.argument("profiles", nargs=-1, required=True, type=click.Path(path_type=Path), metavar="资料文件或文件夹...")
@click.option("-o", "--output", type=click.Path(path_type=Path), metavar="输出",
              help="输出文件；批量生成时为输出文件夹。默认与资料文件同名、放在同一文件夹。")
@PACK_OPTION
@click.option("--format", "fmt", type=click.Choice(["docx", "md"]), default="docx", show_default=True,
              help="输出格式：Word（docx）或 Markdown（md）。")
@click.option("--force", is_flag=True, help="覆盖已修改过的稿子或别的文件（旧文件会先备份）。")
@click.option("-j", "--jobs", type=click.IntRange(1, 64), default=None, metavar="N",
              help="批量生成时同时运行的进程数（默认为 CPU 核数）。")
@handle_errors
def build(profiles: tuple[Path, ...], output: Path | None, pack_request: str | None, fmt: str, force: bool,
          jobs: int | None) -> None:
    """根据资料文件生成述职报告初稿。

    给一个资料文件时生成一份稿子；给多个文件或一个文件夹时批量生成，并在输出文件夹里写出“汇总.xlsx”。
    """
    if len(profiles) == 1 and not profiles[0].is_dir():
        from .core import build as build_one

        result = build_one(profiles[0], output, pack_request=pack_request, fmt=fmt, force=force)
        _report_build(result)
        return
    from .batch import build_many, print_batch_report

    report = build_many(list(profiles), output, pack_request=pack_request, fmt=fmt, force=force, jobs=jobs,
                        progress=sys.stderr.isatty())
    print_batch_report(report)
    if report.failed:
        sys.exit(1)


def _report_build(result: Any) -> None:
    from .errors import display_path

    if result.backup is not None:
        click.echo(f"原文件已备份为：{display_path(result.backup)}")
    click.echo(f"已生成：{display_path(result.output)}")
    click.echo(f"模板包：{result.pack.title}（{result.pack.name} {result.pack.version}）")
    click.echo(f"正文汉字：{result.han_count} 字")
    if result.missing:
        click.echo(f"待补充：{len(result.missing)} 处（已在稿子中用黄色标出；运行 reportgen check 查看清单）")
    else:
        click.echo("待补充：0 处")


@cli.command(context_settings=CONTEXT)
@click.argument("path", type=click.Path(path_type=Path), metavar="资料文件")
@PACK_OPTION
@click.option("--force", is_flag=True, help="文件已存在时覆盖。")
@handle_errors
def init(path: Path, pack_request: str | None, force: bool) -> None:
    """生成一个带中文说明的资料文件模板。"""
    from .core import init as init_profile
    from .errors import display_path

    written, pack = init_profile(path, pack_request, force=force)
    click.echo(f"已生成资料文件模板：{display_path(written)}（模板包：{pack.title}）")
    click.echo(f"下一步：按注释填写后运行 reportgen check {display_path(written)}")


@cli.command(context_settings=CONTEXT)
@click.argument("path", type=click.Path(path_type=Path), metavar="资料文件")
@PACK_OPTION
@handle_errors
def check(path: Path, pack_request: str | None) -> None:
    """检查资料文件，并列出稿子中还需补充的事实。"""
    from .core import check as check_profile
    from .errors import display_path

    result = check_profile(path, pack_request)
    click.echo(f"资料文件格式正确：{display_path(path)}（模板包：{result.pack.title} {result.pack.version}）")
    click.echo(f"预计正文汉字：{result.document.han_count()} 字")
    if not result.missing:
        click.echo("没有需要补充的事实。")
        return
    click.echo(f"待补充 {len(result.missing)} 处：")
    for item in result.missing:
        click.echo(f"  - {item.label}（{item.key}，位置：{item.where}）")


# ---------------------------------------------------------------- packs: managing template packs


@cli.group(context_settings=CONTEXT, help="管理模板包：列出、查看、新建、检查、导出和安装。\n\n"
           "模板包决定稿子的结构、措辞和 Word 版式。上级党组织可以制作或修改模板包，用 export 导出为 .zip "
           "发给各基层单位，各单位用 install 安装后即可使用。")
def packs() -> None:
    pass


@packs.command("list", context_settings=CONTEXT)
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出（每项含 name、version、title、source）。")
@handle_errors
def packs_list(as_json: bool) -> None:
    """列出能找到的模板包：当前文件夹的 packs/（本地）、已安装、内置。"""
    import json

    from .errors import display_path
    from .packs import list_all

    listing = list_all(Path.cwd())
    if as_json:
        click.echo(json.dumps(listing.as_json(), ensure_ascii=False, indent=2))
    else:
        click.echo("\n".join(listing.as_lines()))
    for folder, _ in listing.broken:
        click.echo(f"注意：{display_path(folder)} 里的模板包无法读取；运行 reportgen packs check "
                   f"{display_path(folder)} 查看原因", err=True)


@packs.command("show", context_settings=CONTEXT)
@click.argument("request", metavar="名称|路径")
@handle_errors
def packs_show(request: str) -> None:
    """显示模板包的事实、条目和结构。"""
    from .packs import show_pack

    click.echo(show_pack(request, Path.cwd()))


@packs.command("new", context_settings=CONTEXT)
@click.argument("directory", type=click.Path(path_type=Path), metavar="文件夹")
@click.option("--from", "source", default="jiguan", show_default=True, metavar="名称|路径",
              help="以哪个模板包为底本。")
@handle_errors
def packs_new(directory: Path, source: str) -> None:
    """复制一个模板包来修改：名称取自文件夹名，版本重置为 0.1.0。"""
    from .errors import display_path
    from .packs import new_pack

    pack = new_pack(directory, source, Path.cwd())
    click.echo(f"已建立模板包 {pack.name} {pack.version}：{display_path(pack.root)}（底本：{source}）")
    click.echo(f"下一步：修改其中的 pack.yaml、prose/ 和 word/，然后运行 reportgen packs check {display_path(pack.root)}")


@packs.command("check", context_settings=CONTEXT)
@click.argument("request", metavar="名称|路径")
@handle_errors
def packs_check(request: str) -> None:
    """检查模板包：清单、正文模板、变量、Word 模板的样式和安全、示例资料文件能否生成。"""
    from .errors import display_path
    from .packs import check_pack

    report = check_pack(request, Path.cwd())
    pack = report.pack
    click.echo(f"模板包 {pack.name} {pack.version} 检查通过（{display_path(pack.root)}）：{report.templates} 个正文模板、"
               "Word 模板和示例资料文件都没有问题。")
    for note in report.notes:
        click.echo(f"注意：{note}")


@packs.command("export", context_settings=CONTEXT)
@click.argument("request", metavar="名称|路径")
@click.option("-o", "--output", type=click.Path(path_type=Path), metavar="文件.zip",
              help="导出的文件，默认为“名称-版本.zip”。")
@click.option("--force", is_flag=True, help="导出文件已存在时覆盖。")
@handle_errors
def packs_export(request: str, output: Path | None, force: bool) -> None:
    """检查并导出模板包为 .zip 文件，以便发给其他单位。"""
    from .errors import display_path
    from .packs import export_pack

    result = export_pack(request, output, force=force, profile_dir=Path.cwd())
    click.echo(f"已导出模板包 {result.pack.name} {result.pack.version}：{display_path(result.output)}"
               f"（{result.files} 个文件）")
    for note in result.notes:
        click.echo(f"注意：{note}")


@packs.command("install", context_settings=CONTEXT)
@click.argument("source", type=click.Path(path_type=Path), metavar="文件.zip|文件夹")
@click.option("--force", is_flag=True, help="同名同版本的模板包已安装时仍然覆盖。")
@handle_errors
def packs_install(source: Path, force: bool) -> None:
    """安装别人发来的模板包（.zip 或文件夹）：先全面检查，不安全或有错误的一律拒绝。"""
    from .errors import display_path
    from .packs import install_pack

    result = install_pack(source, force=force)
    click.echo(result.message)
    click.echo(f"位置：{display_path(result.pack.root)}")
    for note in result.notes:
        click.echo(f"注意：{note}")


def main() -> None:
    cli(prog_name="reportgen")


if __name__ == "__main__":
    main()
