"""Safe YAML with the place of every value, as a Chinese keyboard types it.

Only plain mappings, lists and scalars are accepted.  Anything that could build an object, expand
without bound or hide a lost value (duplicate keys) is a ``Problem`` with file, line and column.

Slips a Chinese keyboard makes (a full-width colon after a key, a Tab or full-width space in the
indentation, no space after a colon) are reported *and mended in memory*, so one ``check`` lists
them together with everything validation finds after them.  What to tell the user is decided by the
exception's type, by the text at the position it names and by our own checks that run before the
library's (nesting depth, number of nodes) — never by the library's English wording.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from ..errors import Problem, ProfileError, ReportgenError, display_path
from .source import INVISIBLE, XML_INVALID, read_text

__all__ = ["MAX_DEPTH", "KeyPath", "Mark", "Tree", "load_yaml", "parse_yaml", "path_text"]

MAX_NODES = 100_000  # after alias expansion: stops "billion laughs"
MAX_DEPTH = 40

KeyPath = tuple[str | int, ...]

_SCALAR_TAGS = frozenset(f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "timestamp"))
_STR, _SEQ, _MAP = "tag:yaml.org,2002:str", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"
_INT, _FLOAT = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
# numbers as people write them: 12, -3, 1,200 is not one (YAML says so), 96.5, 1.5e3, and .nan/.inf (refused later)
_DECIMAL = re.compile(r"[-+]?(?:0|[1-9][0-9_]*)(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?|[-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?|"
                      r"[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)")


@dataclass(frozen=True)
class Mark:
    """Where a value is: line and column of a text file, or a workbook's row and cell (``cell`` set)."""

    line: int | None
    column: int | None = None
    cell: str | None = None


def path_text(path: KeyPath) -> str:
    text = ""
    for part in path:
        text += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


@dataclass(frozen=True)
class Tree:
    """Plain data read from a file, and the place of every key and value in it."""

    file: str
    data: dict[str, Any]
    key_marks: Mapping[KeyPath, Mark] = field(default_factory=dict)
    value_marks: Mapping[KeyPath, Mark] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()  # found while reading; reported together with validation's
    table: bool = False  # a workbook row: values are cells, columns the committee added are no error

    def where(self, path: KeyPath, *, at_key: bool = False) -> Mark | None:
        tables = (self.key_marks, self.value_marks) if at_key else (self.value_marks, self.key_marks)
        probe = tuple(path)
        while True:
            for table in tables:
                if probe in table:
                    return table[probe]
            if not probe:
                return None
            probe = probe[:-1]

    def problem(self, path: KeyPath, message: str, hint: str | None = None, *, at_key: bool = False,
                key: str | None = None) -> Problem:
        mark = self.where(path, at_key=at_key)
        shown_key = key if key is not None else (path_text(path) or None)
        if mark is None:
            return Problem(message, self.file, key=shown_key, hint=hint)
        return Problem(message, self.file, mark.line, mark.column, shown_key, hint, mark.cell)

    def value(self, path: KeyPath) -> Any:
        node: Any = self.data
        for part in path:
            if isinstance(part, int):
                node = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
            else:
                node = node.get(part) if isinstance(node, dict) else None
        return node


# ---------------------------------------------------------------- slips a Chinese keyboard makes

_INDENT = re.compile(r"[ \t\u3000]*")
_KEY_FULLWIDTH_COLON = re.compile(r"(-[ \t]+)?([A-Za-z_][A-Za-z0-9_.-]*)[ \t]*：[ \t]*")
_KEY_NO_SPACE = re.compile(r"(-[ \t]+)?([A-Za-z_][A-Za-z0-9_-]*):(?=[^\s/:])")


def _line_keys(lines: list[str]) -> dict[int, KeyPath]:
    """Line number -> key path of the key on that line, guessed from the indentation (linear).

    Only for messages about slips: a file with slips may not parse, so there are no marks yet.
    ``lines`` are the mended lines (indented with spaces only).
    """
    paths: dict[int, KeyPath] = {}
    stack: list[tuple[int, str | int]] = []
    counters: dict[KeyPath, int] = {}
    for number, line in enumerate(lines, start=1):
        content = line.lstrip(" ")
        if not content or content.startswith("#"):
            continue
        indent = len(line) - len(content)
        while (content == "-" or content.startswith(("- ", "-\t"))) and len(stack) <= MAX_DEPTH:
            while stack and (stack[-1][0] > indent or (stack[-1][0] == indent and isinstance(stack[-1][1], int))):
                stack.pop()
            parent = tuple(part for _, part in stack)
            counters[parent] = index = counters.get(parent, -1) + 1
            stack.append((indent, index))
            rest = content[1:].lstrip(" \t")
            indent += len(content) - len(rest)
            content = rest
        ends = [i for i in (content.find(":"), content.find("：")) if i > 0]
        if ends and content[0] not in "'\"[{#" and len(stack) <= MAX_DEPTH:
            while stack and stack[-1][0] >= indent:
                stack.pop()
            stack.append((indent, content[: min(ends)].strip()))
        if stack:
            paths[number] = tuple(part for _, part in stack)
    return paths


SLIPS_EACH = 3  # more slips of one kind than this are said once, with their lines (a file typed with a
# Chinese keyboard can have a full-width colon on every line)
_SLIP_KINDS = {
    "colon": ("的键名后面用了全角冒号“：”", "把这些行里键名后面的“：”改成半角冒号加一个空格，如“unit: ”"),
    "space": ("的键名的冒号后面缺少空格", "在这些行的冒号后面加一个空格，写成“键: 值”"),
    "indent": ("用制表符（Tab）或全角空格缩进", "YAML 只能用半角空格缩进，请把它们换成两个空格"),
}


@dataclass(frozen=True)
class Mended:
    """A text with its slips mended, the slips, and for each changed line where its columns came from."""

    text: str
    problems: list[Problem]
    origins: dict[int, list[int]]  # line -> 0-based column in the file of each column of the mended line

    def column(self, line: int, column: int) -> int:
        """A 1-based column of the mended text as a column of the file the user sees."""
        origin = self.origins.get(line)
        if origin is None or column < 1:
            return column
        if column - 1 < len(origin):
            return origin[column - 1] + 1
        return column - len(origin) + (origin[-1] + 1 if origin else 0)


def mend_slips(text: str, file: str) -> tuple[str, list[Problem]]:
    """The text with a Chinese keyboard's slips mended, and a problem for each slip."""
    mended = _mend(text, file)
    return mended.text, mended.problems


def _mend(text: str, file: str) -> Mended:
    lines = text.split("\n")
    found: list[tuple[int, int, str, str, str | None, str]] = []  # line, column, message, hint, key, kind
    mended: list[str] = []
    origins: dict[int, list[int]] = {}
    for number, line in enumerate(lines, start=1):
        indent = _INDENT.match(line)
        assert indent is not None
        raw_lead, content = line[: indent.end()], line[indent.end():]
        if not content:
            mended.append(line)
            continue
        if content.startswith("#"):  # a comment's indent is mended too (YAML refuses a Tab there), not worth a word
            mended.append(raw_lead.replace("\t", "  ").replace("\u3000", "  ") + content)
            continue
        lead, origin = raw_lead, list(range(len(raw_lead)))
        if "\t" in raw_lead or "\u3000" in raw_lead:
            bad = next(i for i, char in enumerate(raw_lead) if char in "\t\u3000")
            name = "制表符（Tab）" if raw_lead[bad] == "\t" else "全角空格"
            found.append((number, bad + 1, f"这一行用{name}缩进", "YAML 只能用半角空格缩进，请把它换成两个空格", None,
                          "indent"))
            lead = raw_lead.replace("\t", "  ").replace("\u3000", "  ")
            origin = [i for i, char in enumerate(raw_lead) for _ in range(2 if char in "\t\u3000" else 1)]
        start = len(raw_lead)
        content_origin = list(range(start, start + len(content)))
        colon = _KEY_FULLWIDTH_COLON.match(content)
        if colon:
            key = colon.group(2)
            at = content.index("：")
            found.append((number, start + at + 1, f"键“{key}”后面用了全角冒号“：”", f"改成半角冒号加一个空格：“{key}: ”", key,
                          "colon"))
            head = f"{colon.group(1) or ''}{key}"
            content_origin = [start + i for i in range(len(head))] + [start + at] * 2 + \
                [start + i for i in range(colon.end(), len(content))]
            content = f"{head}: {content[colon.end():]}"
        else:
            no_space = _KEY_NO_SPACE.match(content)
            if no_space:
                key = no_space.group(2)
                cut = no_space.end()
                found.append((number, start + cut, f"键“{key}”的冒号后面缺少空格", f"写成“{key}: 值”（冒号后面加一个空格）",
                              key, "space"))
                content_origin = [*content_origin[:cut], start + cut, *content_origin[cut:]]
                content = f"{content[:cut]} {content[cut:]}"
        mended.append(lead + content)
        if len(found) and found[-1][0] == number:  # this line was mended
            origins[number] = origin + content_origin
    if not found:
        return Mended("\n".join(mended), [], {})  # comments' indents may have been mended
    keys = _line_keys(mended)
    lines_of: dict[str, list[int]] = {}
    for number, _column, _message, _hint, _key, kind in found:
        lines_of.setdefault(kind, []).append(number)
    problems: list[Problem] = []
    for at, column, message, hint, key, kind in found:
        same = lines_of[kind]
        if len(same) <= SLIPS_EACH:
            problems.append(Problem(message, file, at, column, path_text(keys.get(at, ())) or key, hint))
        elif same[0] == at:  # said once, at the first, with its lines
            what, fix = _SLIP_KINDS[kind]
            shown = "、".join(map(str, same[:10])) + (" 行等" if len(same) > 10 else " 行")
            problems.append(Problem(f"{len(same)} 行{what}（第 {shown}）", file, at, column, hint=fix))
    return Mended("\n".join(mended), problems, origins)


# ---------------------------------------------------------------- parsing


class _TooDeep(Exception):
    def __init__(self, mark: Any) -> None:
        super().__init__()
        self.mark = mark


class _Loader(yaml.SafeLoader):
    """PyYAML's pure-Python safe loader, composing no deeper than MAX_DEPTH.

    Pure Python on purpose: libyaml (the C loader) has a nesting limit of its own whose English message
    would arrive before ours.  A profile is a few KB; even the 1 MB limit reads in about a second.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH + 1:
                raise _TooDeep(self.peek_event().start_mark)  # type: ignore[no-untyped-call]
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _explain(exc: yaml.YAMLError, text: str, file: str) -> Problem:
    """A YAML error in Chinese, decided by its type and by the text at the place it names."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is None:
        return Problem("YAML 格式错误", file, hint="检查缩进、冒号和引号；可对照 reportgen init 生成的模板")
    line, column, index = mark.line + 1, mark.column + 1, mark.index
    char = text[index] if 0 <= index < len(text) else ""
    line_text = text.split("\n")[mark.line] if mark.line < text.count("\n") + 1 else ""
    stripped = line_text.strip()
    context = getattr(exc, "context_mark", None)
    opener = text[context.index] if context is not None and 0 <= context.index < len(text) else ""

    def problem(message: str, hint: str | None) -> Problem:
        return Problem(message, file, line, column, hint=hint)

    at_end = char in ("", "\0") or index >= len(text.rstrip())
    if at_end and opener in ("'", '"', "[", "{") and context is not None:  # said where it was opened
        kind = "引号" if opener in "'\"" else "括号"
        return Problem(f"这里的{kind}“{opener}”没有闭合，一直到文件末尾", file, context.line + 1, context.column + 1,
                       hint="检查引号、方括号、花括号是否成对")
    if isinstance(exc, yaml.scanner.ScannerError) and context is not None and opener not in ("'", '"', "[", "{"):
        # a line began like a key and no “: ” followed: the slip is on that line, not where the scanner gave up
        return Problem("这一行缺少冒号，或者它的缩进不对", file, context.line + 1, context.column + 1,
                       hint="每个键后面是半角冒号和空格（“键: 值”）；一段文字接着上一行写，或用引号括起来")
    if at_end:
        return problem("文件在引号或括号还没闭合时就结束了", "检查引号、方括号、花括号是否成对")
    if isinstance(exc, yaml.composer.ComposerError):
        if char == "*":
            return problem("引用了不存在的锚点（*名称）", "资料文件不需要锚点和别名，请直接写出内容")
        if char == "&":
            return problem("锚点（&名称）重复", "资料文件不需要锚点和别名，请直接写出内容")
        return problem("文件里有多个 YAML 文档（“---”分隔）", "一个文件只写一份内容，删掉多余的“---”")
    if isinstance(exc, yaml.scanner.ScannerError):
        if char == "\t":
            return problem("这里有制表符（Tab），YAML 不允许", "请改用空格")
        if opener == '"' and "\\" in text[context.index:index + 1]:  # type: ignore[union-attr]
            return problem("双引号里有无法识别的反斜杠转义", "改用单引号，或把“\\”写成“\\\\”；不要用“\\u”转义，直接写出这个字")
        if char in "@`%!|>":
            return problem(f"这里的值以特殊符号“{char}”开头", f"把整个值用引号括起来，如“unit: '{char}某单位'”")
        if char == ":":
            return problem("这里不能出现“键: 值”", "检查缩进是否对齐；值里含有“: ”时，用引号把整个值括起来")
        if char == "-":
            return problem("这里不能以“- ”开始列表",
                           "列表要从下一行开始，每项以“- ”开头并比上一级多缩进两格；若是一段文字，请用引号括起来")
        return problem("这一行的写法 YAML 无法识别", "检查冒号后面是否有空格、引号是否成对；可以把整个值用引号括起来")
    if isinstance(exc, yaml.parser.ParserError):
        earlier = text.split("\n")[:mark.line + 1]
        if stripped.startswith(("---", "...")) or any(line.rstrip() in ("---", "...") for line in earlier[1:]):
            return problem("文件里有多个 YAML 文档（“---”或“...”分隔）", "一个文件只写一份内容，删掉“---”“...”这样的行")
        if opener in "[{" and opener:
            if char in "[{":
                return problem("列表或花括号里的文字含有“{ }”或“[ ]”",
                               "把这一项用引号括起来，或改成每项一行、以“- ”开头的写法")
            return problem("方括号或花括号没有闭合", "检查“[ ]”“{ }”是否成对，各项之间用半角逗号分隔")
        if char == "-" or stripped.startswith("- "):
            return problem("这里不能以“- ”开始列表",
                           "列表要从下一行开始，每项以“- ”开头并比上一级多缩进两格；若是一段文字，请用引号括起来")
        if char == "?":
            return problem("这里不能出现“? ”", "把整个值用引号括起来")
        return problem("缩进没有对齐或缺少冒号", "同一层的键要左端对齐，每个键后面是半角冒号和空格；列表项以“- ”开头")
    return problem("YAML 格式错误", "检查这一行的缩进、冒号和引号；可对照 reportgen init 生成的模板")


_CLoader: type[Any] | None = getattr(yaml, "CSafeLoader", None)


_C_DEPTH = 1000  # libyaml before PyYAML 6.0.4 has no nesting limit: far deeper input overflows the C stack


def _nesting_bound(text: str) -> int:
    """An upper bound of the nesting depth (linear): every level is one more column of indentation, a “- ”
    or “? ” on the same line, or a flow bracket."""
    deepest_line = max((len(line) - len(line.lstrip(" ")) + line.count("- ") + line.count("? ")
                        for line in text.split("\n")), default=0)
    return deepest_line + text.count("[") + text.count("{")


def _fast_node(text: str) -> yaml.Node | None:
    """The composed document by libyaml (ten times faster), or None when it is empty or has any error.

    Only a file that parses cleanly is taken from libyaml; any error — including libyaml's own
    nesting limit — sends the file through the pure-Python loader, whose messages are ours.
    """
    if _CLoader is None or _nesting_bound(text) > _C_DEPTH:
        return None
    loader = _CLoader(text)
    try:
        node: yaml.Node | None = loader.get_single_node()
        return node
    except (yaml.YAMLError, RecursionError, ValueError):
        return None
    finally:
        loader.dispose()


def parse_yaml(text: str, file: str, *, what: str = "资料文件", error: type[ReportgenError] = ProfileError,
               mend: bool = True) -> Tree:
    """Parse safely.  Slips are mended (with ``mend``) and, like duplicate keys and tags, travel in
    ``Tree.problems`` so validation reports them together with its own; a file that still does not
    parse raises ``error`` with every slip and the reason."""
    text = INVISIBLE.sub("", XML_INVALID.sub("", text))
    mended = _mend(text, file) if mend else Mended(text, [], {})
    text, slips = mended.text, mended.problems
    node = _fast_node(text)
    loader = _Loader(text)
    try:
        if node is None:
            node = loader.get_single_node()
    except _TooDeep as exc:
        line = exc.mark.line + 1
        raise error([*slips, Problem("嵌套层次太深", file, line, mended.column(line, exc.mark.column + 1),
                                     hint=f"最多嵌套 {MAX_DEPTH} 层，请检查括号是否成对")]) from None
    except yaml.YAMLError as exc:
        problem = _explain(exc, text, file)
        if problem.line is not None and problem.column is not None:
            problem = replace(problem, column=mended.column(problem.line, problem.column))
        raise error([*slips, problem]) from None
    except RecursionError:  # a limit below ours (a small stack): still our message
        raise error([*slips, Problem("嵌套层次太深", file, hint=f"最多嵌套 {MAX_DEPTH} 层")]) from None
    finally:
        loader.dispose()
    if node is None:
        raise error([*slips, Problem("文件是空的（或只有注释），没有任何内容", file, 1,
                                     hint="可以用“reportgen init 文件名.yaml”生成一个带说明的模板")])
    builder = _Builder(file, loader, mended)
    data = builder.build(node, (), 0)
    if builder.too_deep is not None:  # as the pure-Python loader says it: alone, the rest is its consequence
        raise error([*slips, builder.too_deep])
    if not isinstance(data, dict):
        raise error([*slips, *builder.problems, Problem(f"{what}最外层应当是“键: 值”的形式", file, 1, 1,
                                                          hint="参考 reportgen init 生成的模板，第一层是 meta:、facts: 等键")])
    return Tree(file, data, builder.key_marks, builder.value_marks, (*slips, *builder.problems))


def load_yaml(path: Path, *, what: str = "资料文件", error: type[ReportgenError] = ProfileError) -> Tree:
    """Read and parse a YAML file whose problems are all fatal (a pack's files: nothing is mended)."""
    try:
        text = read_text(path, what=what)
    except ProfileError as exc:
        raise error(exc.problems) from None
    tree = parse_yaml(text, display_path(path), what=what, error=error, mend=False)
    if tree.problems:
        raise error(tree.problems)
    return tree


def describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"“{'true' if value else 'false'}”"
    if isinstance(value, dict):
        return "一组“键: 值”"
    if isinstance(value, list):
        return "一个列表"
    text = str(value)
    return f"“{text[:30]}{'…' if len(text) > 30 else ''}”"


class _Builder:
    """Turns composed YAML nodes into plain Python data, recording marks and problems."""

    def __init__(self, file: str, loader: _Loader, mended: Mended) -> None:
        self.file = file
        self.loader = loader
        self.mended = mended
        self.too_deep: Problem | None = None
        self.open_nodes: set[int] = set()  # the collections being built, to catch an alias that contains itself
        self.problems: list[Problem] = []
        self.key_marks: dict[KeyPath, Mark] = {}
        self.value_marks: dict[KeyPath, Mark] = {}
        self.budget = MAX_NODES

    def _report(self, node: yaml.Node, path: KeyPath, message: str, hint: str | None = None) -> None:
        self.problems.append(Problem(message, self.file, *self._place(node.start_mark), path_text(path) or None, hint))

    def _place(self, mark: Any) -> tuple[int, int]:
        """(line, column) in the file as the user sees it."""
        return mark.line + 1, self.mended.column(mark.line + 1, mark.column + 1)

    def _scalar(self, node: yaml.ScalarNode, path: KeyPath) -> Any:
        if node.tag == _STR:
            return node.value
        if node.tag in (_INT, _FLOAT) and not _DECIMAL.fullmatch(node.value.strip()):
            # YAML 1.1 reads 1:20 as 80 and 010 as 8: a clerk means the text, or the decimal number
            digits = node.value.strip().replace("_", "")
            return int(digits) if digits.isdigit() else node.value
        if node.tag not in _SCALAR_TAGS:
            self._report(node, path, f"不支持的 YAML 标签“{node.tag}”",
                         "只能写普通的文字、数字和列表，不能带“!!”或“!”标签")
            return None
        try:
            value = self.loader.construct_object(node)
        except (yaml.YAMLError, ValueError, OverflowError):
            if node.tag == "tag:yaml.org,2002:timestamp":
                return node.value  # looks like a date but is none (2025-02-30): the field says so
            self._report(node, path, f"无法识别的值{describe(node.value)}", "如果这是一段文字，请用引号括起来")
            return None
        # Escapes in double quotes ("\v", "\0") get past the raw-text filter: drop them here too.
        return XML_INVALID.sub("", value) if isinstance(value, str) else value

    def build(self, node: yaml.Node, path: KeyPath, depth: int) -> Any:
        self.budget -= 1
        if self.budget < 0 or depth > MAX_DEPTH:
            if self.budget == -1:
                self._report(node, path, "内容展开后过于庞大（可能是别名“*”反复引用）",
                             "不需要锚点和别名，请直接写出内容")
            elif depth > MAX_DEPTH and self.too_deep is None:  # libyaml read it; our limit is lower
                self.too_deep = Problem("嵌套层次太深", self.file, *self._place(node.start_mark),
                                        hint=f"最多嵌套 {MAX_DEPTH} 层，请检查括号是否成对")
            return None
        self.value_marks.setdefault(path, Mark(*self._place(node.start_mark)))
        if isinstance(node, yaml.ScalarNode):
            value = self._scalar(node, path)
            return XML_INVALID.sub("", value) if isinstance(value, str) and node.style == '"' else value
        if id(node) in self.open_nodes:  # &a [*a]: an alias inside what it names
            self._report(node, path, "别名“*”引用了包含它自己的内容", "不需要锚点和别名，请直接写出内容")
            return None
        self.open_nodes.add(id(node))
        try:
            return self._collection(node, path, depth)
        finally:
            self.open_nodes.discard(id(node))

    def _collection(self, node: yaml.Node, path: KeyPath, depth: int) -> Any:
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ:
                self._report(node, path, f"不支持的 YAML 标签“{node.tag}”", "去掉“!!”或“!”标签")
                return None
            return [self.build(item, (*path, index), depth + 1) for index, item in enumerate(node.value)]
        assert isinstance(node, yaml.MappingNode)
        if node.tag != _MAP:
            self._report(node, path, f"不支持的 YAML 标签“{node.tag}”", "去掉“!!”或“!”标签")
            return None
        result: dict[str, Any] = {}
        first_seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self._report(key_node, path, "键必须是一段简单的文字")
                continue
            key = XML_INVALID.sub("", str(key_node.value)).strip()
            if key_node.tag == "tag:yaml.org,2002:merge" or key == "<<":
                self._report(key_node, path, "不支持合并键“<<”", "请直接写出每个键")
                continue
            if key in first_seen:
                self._report(key_node, (*path, key), f"键“{key}”重复出现（第一次在第 {first_seen[key]} 行）",
                             "删掉其中一个；否则前一个值会被悄悄覆盖")
                continue
            key_path = (*path, key)
            line, column = self._place(key_node.start_mark)
            first_seen[key] = line
            self.key_marks[key_path] = Mark(line, column)
            result[key] = self.build(value_node, key_path, depth + 1)
        return result
