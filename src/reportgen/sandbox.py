"""The one Jinja2 environment every pack template runs in.

Pack templates come from other people, so they run in an immutable sandbox with
autoescape and strict undefined, with no default globals, with limits on output size,
repetition and time, and they are refused before running when they name Python
internals (``__class__``, ``_private``) — the classic template-injection route.
"""

from __future__ import annotations

import contextlib
import re
import signal
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from jinja2 import BaseLoader, StrictUndefined, Template, TemplateNotFound, nodes
from jinja2.exceptions import SecurityError, TemplateError, TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .errors import PackError, Problem, UnsafePackError

__all__ = ["MAX_OUTPUT_CHARS", "PackSandbox", "RenderTimeout", "compile_cached", "find_unsafe_nodes", "render_limited", "time_limit"]

MAX_OUTPUT_CHARS = 2_000_000  # per template render; a whole real draft is ~20,000
MAX_SEQUENCE = 100_000  # longest string or list a template may build with * or **
RENDER_SECONDS = 10.0


class RenderTimeout(Exception):
    """A template ran longer than the time limit."""


class PackSandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**"})

    def __init__(self, loader: BaseLoader | None = None, data_views: Iterable[type] = ()) -> None:
        # Types whose public attributes can only be plain data (prose.py's FactsView and MetaView,
        # which answer every name with a Value): reading them skips the per-access safety checks,
        # the largest cost of rendering a batch.  Private names still go the checked way.
        self.data_views = frozenset(data_views)
        super().__init__(
            loader=loader,
            autoescape=True,
            undefined=StrictUndefined,
            keep_trailing_newline=False,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
        )
        # No range/dict/lipsum/cycler/joiner/namespace: packs get only what we hand them.
        self.globals.clear()

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) in self.data_views and not attribute.startswith("_"):
            return getattr(obj, attribute)
        return super().getattr(obj, attribute)

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        # Every template, inline or loaded or included, passes here before it is compiled.
        ast = super()._parse(source, name, filename)
        unsafe = find_unsafe_nodes(ast)
        if unsafe:
            raise UnsafePackError([Problem(f"模板试图访问 Python 内部对象 {what}", filename or name, line,
                                           hint="模板包只能使用资料中的数据；这个模板包可能被人恶意修改过，请勿使用")
                                   for line, what in unsafe])
        return ast

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, (int, float)) and abs(right) > 64:
            raise SecurityError("exponent too large")
        if operator == "*":
            for seq, count in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(count, int) and len(seq) * count > MAX_SEQUENCE:
                    raise SecurityError("sequence too long")
        return super().call_binop(context, operator, left, right)


def find_unsafe_nodes(ast: nodes.Template) -> list[tuple[int, str]]:
    """(line, what) for every reference to a private or dunder name in a template."""
    found: list[tuple[int, str]] = []
    for node in ast.find_all((nodes.Getattr, nodes.Const, nodes.Name)):
        if isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
            found.append((node.lineno, f".{node.attr}"))
        elif isinstance(node, nodes.Const) and isinstance(node.value, str) and node.value.startswith("_"):
            found.append((node.lineno, repr(node.value)))
        elif isinstance(node, nodes.Name) and node.name.startswith("_"):
            found.append((node.lineno, node.name))
    return found


# Jinja's syntax errors, as a pack author reads them: (pattern of Jinja's message, message, hint);
# message and hint are format strings (literal braces doubled) filled with the pattern's groups.
_TOKENS = {"end of print statement": "}}", "end of statement block": "%}", "name": "名称", "end of template": "模板末尾"}
_SYNTAX_MESSAGES: tuple[tuple[re.Pattern[str], str, str], ...] = tuple((re.compile(pattern), message, hint) for
                                                                        pattern, message, hint in (
    (r"unexpected char '(?P<char>.)'", "标记里有不能出现的字符“{char}”",
     "{{{{ }}}} 和 {{% %}} 里只能用半角符号：检查是否混进了全角的括号、引号或空格"),
    (r"The innermost block that needs to be closed is '(?P<tag>\w+)'", "“{{% {tag} %}}”没有对应的“{{% end{tag} %}}”",
     "在这一段结束的地方加上 {{% end{tag} %}}"),
    (r"unexpected end of template, expected '(?P<token>[^']+)'", "模板在标记还没闭合时就结束了，缺少“{token}”",
     "检查 {{{{ }}}} 和 {{% %}} 是否成对"),
    (r"Encountered unknown tag '(?P<tag>end\w+)'", "“{{% {tag} %}}”前面没有与它对应的开始标记",
     "删掉它，或补上开始的标记（如 {{% if … %}}）"),
    (r"Encountered unknown tag '(?P<tag>\w+)'", "不认识的标记“{{% {tag} %}}”",
     "常用的标记有 if、elif、else、endif、for、endfor；检查拼写"),
    (r"Missing end of comment tag", "注释“{{#”没有对应的“#}}”", "在注释结束的地方加上 #}}"),
    (r"tag name expected", "“{{%”后面缺少标记名称", "写成 {{% if … %}}、{{% for … %}} 这样的形式"),
    (r"expected token '(?P<token>[^']+)', got '(?P<got>[^']+)'", "这里应当是“{token}”，却是“{got}”",
     "检查 {{{{ }}}} 和 {{% %}} 里的写法：两个值之间要有运算符，标记要成对"),
    (r"unexpected '(?P<got>[^']+)'", "这里不应出现“{got}”",
     "检查 {{{{ }}}} 和 {{% %}} 是否成对、里面的表达式是否写完整"),
))


def syntax_error_text(jinja_message: str) -> tuple[str, str]:
    """A Jinja syntax error as (message, hint) in Chinese; an unknown one keeps Jinja's own words."""
    for pattern, message, hint in _SYNTAX_MESSAGES:
        match = pattern.search(jinja_message)
        if match:
            names = {key: _TOKENS.get(value, value) for key, value in match.groupdict().items()}
            return message.format(**names), hint.format(**names)
    return jinja_message, "检查 {{ }} 和 {% %} 是否成对、拼写是否正确"


@contextlib.contextmanager
def _as_pack_errors(file: str) -> Iterator[None]:
    """Jinja's syntax errors, a missing template and unsafe constructs as pack errors naming ``file``."""
    try:
        yield
    except TemplateSyntaxError as exc:
        message, hint = syntax_error_text(exc.message or "")
        raise PackError(Problem(f"模板语法错误：{message}", file, exc.lineno, hint=hint)) from None
    except TemplateNotFound as exc:
        raise PackError(Problem(f"找不到模板文件“{exc.name}”", file)) from None
    except UnsafePackError as exc:
        raise UnsafePackError([Problem(p.message, file, p.line, hint=p.hint) for p in exc.problems]) from None


def compile_checked(env: PackSandbox, file: str, *, source: str | None = None) -> Template:
    """Load a pack template (by path, or from ``source`` for inline ones) without running it.

    Syntax errors and unsafe constructs (see ``PackSandbox._parse``) are reported with file and line.
    """
    with _as_pack_errors(file):
        if source is None:
            return env.get_template(file)
        return env.from_string(source)


def compile_cached(env: PackSandbox, name: str, source: str) -> Template:
    """``compile_checked`` for a template given as text, through the env's bytecode cache.

    Pack templates read by the loader use the cache by themselves; this covers inline ones
    (headings in pack.yaml) and the Word template's parts.  Only code compiled — and so
    checked by the sandbox — from the very same source is ever reused.
    """
    cache = env.bytecode_cache
    if cache is None:
        return compile_checked(env, name, source=source)
    bucket = cache.get_bucket(env, name, None, source)
    if bucket.code is None:
        with _as_pack_errors(name):  # syntax errors and unsafe constructs are reported here
            bucket.code = env.compile(source, name)
        cache.set_bucket(bucket)
    return env.template_class.from_code(env, bucket.code, env.make_globals(None), None)


class FileLoader(BaseLoader):
    """Loads templates through a resolver that keeps every path inside the pack."""

    def __init__(self, read: Callable[[str], str]) -> None:
        self.read = read

    def get_source(self, environment: Any, template: str) -> tuple[str, str, Callable[[], bool]]:
        try:
            return self.read(template), template, lambda: True
        except FileNotFoundError:
            raise TemplateNotFound(template) from None


_limit_active = False  # a time_limit is running (in the main thread)


def _on_alarm(signum: int, frame: Any) -> None:
    raise RenderTimeout()


@contextlib.contextmanager
def time_limit(seconds: float = RENDER_SECONDS) -> Iterator[None]:
    """Interrupt pure-Python loops in templates after ``seconds`` (Unix main thread only).

    Inside a running limit it adds nothing: one draft's prose and layout share one limit.
    """
    global _limit_active
    usable = (not _limit_active and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    _limit_active = True
    try:
        yield
    finally:
        _limit_active = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def render_limited(template: Template, context: Mapping[str, Any], file: str) -> str:
    """Render with an output-size cap; security and runtime errors become pack errors."""
    parts: list[str] = []
    size = 0
    try:
        for chunk in template.generate(context):
            size += len(chunk)
            if size > MAX_OUTPUT_CHARS:
                raise UnsafePackError(Problem("模板输出的内容过多，已中止", file,
                                              hint=f"一个模板最多输出 {MAX_OUTPUT_CHARS} 个字符"))
            parts.append(chunk)
    except SecurityError as exc:
        raise UnsafePackError(Problem(f"模板执行了不允许的操作（{exc}）", file, _template_line(exc, file),
                                      hint="模板包只能使用资料中的数据；这个模板包可能被人恶意修改过，请勿使用")) from None
    except RenderTimeout:
        raise UnsafePackError(Problem("模板运行超时，已中止", file,
                                      hint=f"一份稿子的模板最多运行 {RENDER_SECONDS:g} 秒")) from None
    except PackError:
        raise
    except TemplateError as exc:
        raise PackError(Problem(f"模板出错：{exc}", file, _template_line(exc, file))) from None
    except (TypeError, ValueError, AttributeError, ArithmeticError, IndexError, KeyError) as exc:
        raise PackError(Problem(f"模板出错：{exc}", file, _template_line(exc, file))) from None
    except RecursionError:
        raise UnsafePackError(Problem("模板递归过深，已中止", file)) from None
    return "".join(parts)


def _template_line(exc: BaseException, file: str) -> int | None:
    lineno = getattr(exc, "lineno", None)
    if isinstance(lineno, int):
        return lineno
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == file:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
