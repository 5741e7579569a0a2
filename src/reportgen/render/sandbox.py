"""The Jinja2 environment a pack's Word template runs in: data, never a program.

A Word template only needs to place the report (``{{p body }}``) and perhaps print the title or a
meta field, or show something ``{% if %}`` a field is set.  So beyond Jinja's immutable sandbox,
autoescape and strict undefined, every template is checked *before it is compiled* against a short
list of allowed constructs: names, attributes, literals, ``if``, comparisons and a few pure filters.
There are no loops, calls, assignments, string building or arithmetic, so no template can grow a
string, run long or reach Python internals; constant folding has nothing to fold.  Compiling and
rendering run under a time limit all the same, and the output is capped.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator, Mapping
from typing import Any

from jinja2 import StrictUndefined, Template, nodes
from jinja2.exceptions import TemplateError, TemplateSyntaxError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ..errors import PackError, Problem, UnsafePackError

__all__ = ["MAX_OUTPUT_CHARS", "TimeLimit", "WordSandbox", "compile_part", "disallowed", "render_part", "time_limit"]

MAX_OUTPUT_CHARS = 5_000_000  # per part; a real draft's document part is about 200,000
SECONDS = 10.0
MAX_LITERAL = 2_000
_FILTERS = ("e", "escape", "upper", "lower", "trim", "default", "d", "length", "string")
_TESTS = ("defined", "undefined", "none", "string", "number", "eq", "ne")
_ALLOWED = (nodes.Template, nodes.Output, nodes.TemplateData, nodes.Name, nodes.Getattr, nodes.Getitem, nodes.Const,
            nodes.If, nodes.Not, nodes.And, nodes.Or, nodes.Compare, nodes.Operand, nodes.CondExpr, nodes.Filter,
            nodes.Test)
# What a refused construct is called in messages (the names are Jinja's node classes).
_CONSTRUCTS = {
    "For": "循环 {% for %}", "Assign": "赋值 {% set %}", "AssignBlock": "赋值 {% set %}", "Call": "函数调用“( )”",
    "Macro": "宏 {% macro %}", "CallBlock": "{% call %}", "Import": "{% import %}", "FromImport": "{% from … import %}",
    "Include": "{% include %}", "Extends": "{% extends %}", "Block": "{% block %}", "With": "{% with %}",
    "FilterBlock": "{% filter %}", "ExprStmt": "{% do %}", "Scope": "作用域", "Add": "加法“+”", "Sub": "减法“-”",
    "Mul": "乘法“*”", "Div": "除法“/”", "FloorDiv": "整除“//”", "Mod": "取余或格式化“%”", "Pow": "乘方“**”",
    "Concat": "字符串连接“~”", "Slice": "切片“[a:b]”", "List": "列表“[ ]”", "Dict": "字典“{ }”", "Tuple": "元组",
    "Neg": "负号", "Pos": "正号", "Keyword": "关键字参数", "NSRef": "命名空间", "Continue": "continue", "Break": "break",
}
_HINT = "Word 模板里只能用 {{ 名称 }}、{{ meta.字段 }}、{% if … %} 和 e、upper、lower、trim、default、length 这几个过滤器"


class TimeLimit(Exception):
    """Compiling or rendering a template took longer than allowed."""


class WordSandbox(ImmutableSandboxedEnvironment):
    def __init__(self) -> None:
        super().__init__(autoescape=True, undefined=StrictUndefined, keep_trailing_newline=False, trim_blocks=True,
                         lstrip_blocks=True, auto_reload=False, optimized=False, cache_size=0)
        self.globals.clear()
        self.filters = {name: self.filters[name] for name in _FILTERS}
        self.tests = {name: self.tests[name] for name in _TESTS}

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        ast = super()._parse(source, name, filename)
        problems = [Problem(f"Word 模板里有不允许的写法（{what}）", filename or name, line, hint=_HINT)
                    for line, what in disallowed(ast)]
        if problems:
            raise UnsafePackError(problems)
        return ast


def disallowed(ast: nodes.Template) -> list[tuple[int, str]]:
    """(line, what) for every construct beyond plain data in a template."""
    found: list[tuple[int, str]] = []
    for node in ast.find_all(nodes.Node):
        line = getattr(node, "lineno", 0) or 0
        if not isinstance(node, _ALLOWED):
            kind = type(node).__name__
            found.append((line, _CONSTRUCTS.get(kind, f"模板语法 {kind}")))
        elif isinstance(node, nodes.Name) and (node.ctx != "load" or node.name.startswith("_")):
            found.append((line, f"给“{node.name}”赋值" if node.ctx != "load" else f"名称“{node.name}”"))
        elif isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
            found.append((line, f".{node.attr}"))
        elif isinstance(node, nodes.Getitem) and not (isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str)
                                                     and not node.arg.value.startswith("_")):
            found.append((line, "[…]"))
        elif isinstance(node, nodes.Const) and isinstance(node.value, str) and len(node.value) > MAX_LITERAL:
            found.append((line, "过长的文字"))
        elif isinstance(node, (nodes.Filter, nodes.Test)) and node.name not in (_FILTERS if isinstance(node, nodes.Filter)
                                                                                 else _TESTS):
            found.append((line, f"|{node.name}" if isinstance(node, nodes.Filter) else f"is {node.name}"))
    return found


def _on_alarm(signum: int, frame: Any) -> None:
    raise TimeLimit()


@contextlib.contextmanager
def time_limit(seconds: float = SECONDS) -> Iterator[None]:
    """Interrupt a long compile or render after ``seconds`` (Unix, main thread).  Inside a limit already
    running (its timer is set), the outer limit stands."""
    usable = (hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
              and signal.getitimer(signal.ITIMER_REAL)[0] == 0)
    if not usable:
        yield
        return
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def compile_part(env: WordSandbox, source: str, shown: str) -> tuple[Template, nodes.Template]:
    """Compile a Word template part, under the time limit, with Chinese messages; and its checked tree."""
    try:
        with time_limit():
            ast = env.parse(source, shown, shown)  # named, so a refusal says which file
            code = env.compile(ast, shown, shown)
            return env.template_class.from_code(env, code, env.make_globals(None)), ast
    except TemplateSyntaxError as exc:
        raise PackError(Problem("Word 模板的标记写法有误", shown, exc.lineno,
                                hint="检查 {{ }} 和 {% %} 是否成对、里面有没有混进全角符号")) from None
    except TimeLimit:
        raise UnsafePackError(Problem("Word 模板编译超时，已中止", shown, hint="这个模板包可能被人恶意修改过，请勿使用")) from None
    except RecursionError:
        raise UnsafePackError(Problem("Word 模板嵌套过深", shown)) from None


def render_part(template: Template, context: Mapping[str, Any], shown: str) -> str:
    """Render with an output cap and the time limit; every failure is a Chinese pack error."""
    parts: list[str] = []
    size = 0
    try:
        with time_limit():
            for chunk in template.generate(context):
                size += len(chunk)
                if size > MAX_OUTPUT_CHARS:
                    raise UnsafePackError(Problem("Word 模板输出的内容过多，已中止", shown))
                parts.append(chunk)
    except UndefinedError:
        raise PackError(Problem("Word 模板用了不存在的名称", shown, hint="可用的有：body、title、meta.unit、meta.name、"
                                "meta.position、meta.year")) from None
    except TimeLimit:
        raise UnsafePackError(Problem("Word 模板运行超时，已中止", shown)) from None
    except (TemplateError, TypeError, ValueError, ArithmeticError, RecursionError, MemoryError):
        raise PackError(Problem("Word 模板无法渲染", shown, hint=_HINT)) from None
    return "".join(parts)
