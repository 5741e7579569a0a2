"""Read a YAML file the way Windows users save it, and keep where every value came from.

Only the safe subset of YAML is accepted: plain mappings, lists and scalars.  Anything
that could build an object, expand without bound or hide a lost value (duplicate keys)
is reported as a ``Problem`` with file, line and column.
"""

from __future__ import annotations

import re
import stat
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import Problem, ProfileError, ReportgenError, display_path, os_error_text
from .model import XML_INVALID

__all__ = ["MAX_FILE_BYTES", "KeyPath", "YamlDocument", "decode_text", "load_yaml_file", "parse_yaml"]

MAX_FILE_BYTES = 1024 * 1024  # a real profile is a few KB; refuse anything this big unread
MAX_NODES = 100_000  # after alias expansion: stops "billion laughs"
MAX_DEPTH = 40
MAX_SHOWN_PROBLEMS = 50  # the CLI lists at most this many problems of one file

KeyPath = tuple[str | int, ...]

_BaseLoader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[misc]
    """The safe loader, resolving tags with fewer steps (the C parser asks for every node).

    What it answers is what the safe loader's resolver answers: a collection or a quoted scalar
    gets its default tag at once; so does a plain scalar whose first character starts none of the
    implicit patterns (Chinese text).  Other plain scalars go through the patterns, and since a
    batch's profiles repeat the same keys and numbers, short ASCII ones are remembered (a bounded
    number: a long batch's memory stays flat).
    """

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is not yaml.ScalarNode:
            return _MAP_TAG if kind is yaml.MappingNode else _SEQ_TAG
        if not implicit[0] or value[:1] not in _PATTERN_STARTS:
            return _STR_TAG
        if len(value) > 40 or not value.isascii():
            return super().resolve(kind, value, implicit)
        tag = _RESOLVED.get(value)
        if tag is None:
            tag = super().resolve(kind, value, implicit)  # for a plain scalar: decided by the value alone
            if len(_RESOLVED) >= 2_000:
                _RESOLVED.clear()
            _RESOLVED[value] = tag
        return tag


_RESOLVED: dict[str, str] = {}
# The first characters for which the safe loader has implicit patterns ("" for the empty scalar).
_PATTERN_STARTS = frozenset(key for key in _BaseLoader.yaml_implicit_resolvers if key is not None)
assert None not in _BaseLoader.yaml_implicit_resolvers, "a pattern for any first character: see _Loader.resolve"
assert not _BaseLoader.yaml_path_resolvers

_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
}
_SEQ_TAG = "tag:yaml.org,2002:seq"
_STR_TAG = "tag:yaml.org,2002:str"
_INT_TAG = "tag:yaml.org,2002:int"
_MAP_TAG = "tag:yaml.org,2002:map"

_TAB_INDENT = re.compile(r"^[ ]*[\t\u3000]")
_FULLWIDTH_COLON_KEY = re.compile(r"^(\s*(?:-\s+)?)([A-Za-z_][A-Za-z0-9_.-]*)\s*：")
_COLON_NO_SPACE = re.compile(r"^(\s*(?:-\s+)?)([A-Za-z_][A-Za-z0-9_-]*):(?=[^\s/:])")


def path_text(path: KeyPath) -> str:
    text = ""
    for part in path:
        text += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


@dataclass(frozen=True)
class YamlDocument:
    """Plain data from a YAML file plus the 1-based (line, column) of every key and value."""

    file: str
    data: Any
    key_marks: Mapping[KeyPath, tuple[int, int]] = field(default_factory=dict)
    value_marks: Mapping[KeyPath, tuple[int, int]] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()  # found while reading, reported with validation's (parse_yaml defer=True)

    def where(self, path: KeyPath, *, at_key: bool = False) -> tuple[int | None, int | None]:
        marks = (self.key_marks, self.value_marks) if at_key else (self.value_marks, self.key_marks)
        probe = tuple(path)
        while True:
            for table in marks:
                if probe in table:
                    return table[probe]
            if not probe:
                return (None, None)
            probe = probe[:-1]

    def problem(self, path: KeyPath, message: str, hint: str | None = None, *, at_key: bool = False) -> Problem:
        line, column = self.where(path, at_key=at_key)
        return Problem(message, self.file, line, column, path_text(path) or None, hint)


def decode_text(raw: bytes, file: str | Path) -> str:
    """Decode UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030 (WPS/Notepad on Chinese Windows).

    ``file`` names the file in messages: shown as given, or a Path shown as ``display_path`` shows it.
    """
    if b"\x00" in raw and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ProfileError(Problem("这不是文本文件（含有二进制内容）", _shown(file), hint="资料文件应是用记事本或 WPS 保存的 .yaml 文本"))
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if raw.startswith(bom):
            try:
                return raw[len(bom) :].decode(codec)
            except UnicodeDecodeError as exc:
                raise _encoding_error(raw, exc, file) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as utf8_error:
        try:
            return raw.decode("gb18030")
        except UnicodeDecodeError:
            raise _encoding_error(raw, utf8_error, file) from None


def _shown(file: str | Path) -> str:
    return file if isinstance(file, str) else display_path(file)  # (a path is only shown when something is wrong)


def _encoding_error(raw: bytes, exc: UnicodeDecodeError, file: str | Path) -> ProfileError:
    line = raw[: exc.start].count(b"\n") + 1
    return ProfileError(
        Problem("无法识别文件的文字编码（既不是 UTF-8，也不是 GB18030）", _shown(file), line,
                hint="请用记事本“另存为”，编码选择 UTF-8")
    )


def read_source(path: Path, *, what: str = "资料文件") -> str:
    def too_big(size: str) -> ProfileError:
        return ProfileError(Problem(f"文件太大{size}，不像是{what}", display_path(path),
                                    hint=f"{what}一般只有几 KB；上限是 {MAX_FILE_BYTES // 1024} KB"))

    try:
        try:
            info = path.stat()  # one call answers all the questions below (a batch reads thousands)
        except (FileNotFoundError, NotADirectoryError):
            raise ProfileError(Problem(f"找不到{what}", display_path(path), hint="请检查路径和文件名是否写对")) from None
        if stat.S_ISDIR(info.st_mode):
            raise ProfileError(Problem(f"这是一个文件夹，不是{what}", display_path(path), hint="请指定文件夹里的 .yaml 文件"))
        if not stat.S_ISREG(info.st_mode):  # a device or a pipe: reading it may never end
            raise ProfileError(Problem(f"这不是普通文件，不能作为{what}", display_path(path), hint="请指定一个 .yaml 文本文件"))
        if info.st_size > MAX_FILE_BYTES:
            raise too_big(f"（{info.st_size // 1024} KB）")
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)  # never more, even if the file grows meanwhile
        if len(raw) > MAX_FILE_BYTES:
            raise too_big("")
    except OSError as exc:
        raise ProfileError(Problem(f"无法读取文件：{os_error_text(exc)}", display_path(path))) from None
    return decode_text(raw, path)


def load_yaml_file(path: Path, *, what: str = "资料文件", error: type[ReportgenError] = ProfileError) -> YamlDocument:
    try:
        text = read_source(path, what=what)
    except ProfileError as exc:
        raise error(exc.problems) from None
    return parse_yaml(text, display_path(path), what=what, error=error)


_LINE_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_.-]*|[^\s:：#'\"\[\]{}][^:：#]*?)\s*[:：]")


def _line_key_paths(lines: list[str]) -> dict[int, KeyPath]:
    """Line number -> key path of the key or list item on that line, guessed from indentation.

    Only for messages about typing slips, which stop YAML from parsing (so there are no marks).
    """
    paths: dict[int, KeyPath] = {}
    stack: list[tuple[int, str | int]] = []
    last_index: dict[KeyPath, int] = {}
    for number, line in enumerate(lines, start=1):
        content = line.lstrip(" \t\u3000")
        if not content or content.startswith("#"):
            continue
        indent = len(line) - len(content)
        while content == "-" or content.startswith("- "):
            while stack and (stack[-1][0] > indent or (stack[-1][0] == indent and isinstance(stack[-1][1], int))):
                stack.pop()
            parent = tuple(part for _, part in stack)
            last_index[parent] = index = last_index.get(parent, -1) + 1
            stack.append((indent, index))
            rest = content[1:].lstrip(" ")
            indent += len(content) - len(rest)
            content = rest
        key = _LINE_KEY.match(content)
        if key:
            while stack and stack[-1][0] >= indent:
                stack.pop()
            stack.append((indent, key.group(1).strip()))
        if stack:
            paths[number] = tuple(part for _, part in stack)
    return paths


_SLIP_HINT = re.compile(r"[\t\u3000：]|:[^\s/:]")
_SLIP_ANYWHERE = re.compile("|".join(f"(?:{p.pattern})" for p in (_TAB_INDENT, _FULLWIDTH_COLON_KEY, _COLON_NO_SPACE)),
                            re.MULTILINE)


def _scan_typing_slips(text: str, file: str) -> list[Problem]:
    """Find the slips a Chinese keyboard makes that YAML would misread or reject."""
    # Cheap tests in C first: a slip needs a tab, a full-width space or colon, or a colon before text.
    if not (_SLIP_HINT.search(text) and _SLIP_ANYWHERE.search(text)):
        return []
    problems: list[Problem] = []
    lines = text.splitlines()
    paths: dict[int, KeyPath] | None = None
    for number, line in enumerate(lines, start=1):
        stripped = line.lstrip()
        if stripped.startswith("#"):
            continue
        tab = _TAB_INDENT.match(line)
        colon = _FULLWIDTH_COLON_KEY.match(line)
        no_space = _COLON_NO_SPACE.match(line)
        if (tab or colon or no_space) and paths is None:
            paths = _line_key_paths(lines)
        key = path_text(paths.get(number, ())) or None if paths is not None else None
        if tab:
            char = line[tab.end() - 1]
            name = "制表符（Tab）" if char == "\t" else "全角空格"
            problems.append(Problem(f"这一行用{name}缩进", file, number, tab.end(), key,
                                    hint="YAML 只能用半角空格缩进，请把它换成两个空格"))
        if colon:
            problems.append(Problem(f"键“{colon.group(2)}”后面用了全角冒号“：”", file, number,
                                    line.index("：", colon.start(2)) + 1, key or colon.group(2),
                                    hint=f"改成半角冒号加一个空格：“{colon.group(2)}: ”"))
        if no_space and not colon:
            problems.append(Problem(f"键“{no_space.group(2)}”的冒号后面缺少空格", file, number,
                                    no_space.end(2) + 1, key or no_space.group(2),
                                    hint=f"写成“{no_space.group(2)}: 值”（冒号后面加一个空格）"))
    return problems


_YAML_MESSAGES = (
    ("found character '\\t' that cannot start any token", "这里有制表符（Tab），YAML 不允许", "请改用空格"),
    ("mapping values are not allowed", "这里不能出现“键: 值”",
     "检查缩进是否对齐，或者值里含有“: ”时用引号把整个值括起来"),
    ("could not find expected ':'", "缺少冒号", "每个键后面要有半角冒号和空格，如“unit: 某某单位”"),
    ("found duplicate anchor", "锚点（&名称）重复", None),
    ("found undefined alias", "引用了不存在的锚点（*名称）", None),
    ("expected <block end>, but found", "缩进没有对齐", "同一层的键要左端对齐，请检查这一行和上一行的空格数"),
    ("did not find expected key", "缩进没有对齐或缺少冒号", "同一层的键要左端对齐；列表项以“- ”开头"),
    ("did not find expected '-' indicator", "列表项缺少“- ”", "列表的每一项以半角“- ”开头"),
    ("found unexpected end of stream", "文件在引号或括号还没闭合时就结束了", "检查引号、方括号是否成对"),
    ("expected a single document", "文件里有多个 YAML 文档（“---”分隔）", "一个资料文件只写一份内容，删掉多余的“---”"),
    ("found another document", "文件里有多个 YAML 文档（“---”分隔）", "一个资料文件只写一份内容，删掉多余的“---”"),
    ("invalid Unicode character escape", "双引号里的“\\u”转义不是有效的字符", "直接写出这个字，不要用“\\u”转义"),
    ("found unknown escape character", "双引号里有无法识别的反斜杠转义", "改用单引号，或把“\\”写成“\\\\”"),
    ("did not find expected ','", "方括号或花括号没有闭合", "检查“[ ]”“{ }”是否成对，各项之间用半角逗号分隔"),
    ("found character that cannot start any token", "这里的值以特殊符号开头（如 @ ` %）",
     "把整个值用引号括起来，如“unit: '@某单位'”"),
    ("mapping keys are not allowed", "这里不能出现“? ”", "把整个值用引号括起来"),
    ("block sequence entries are not allowed", "这里不能以“- ”开始列表",
     "列表要从下一行开始，每项以“- ”开头并比上一级多缩进两格；若是一段文字，请用引号括起来"),
    ("did not find expected <document start>", "文件里有多余的内容（在“...”或“---”之后）",
     "删掉“...”“---”这样的行和它后面的内容"),
    ("special characters are not allowed", "文件里有无法识别的特殊字符", "删掉这一处看不见的字符后重试"),
    ("unacceptable character", "文件里有无法识别的特殊字符", "删掉这一处看不见的字符后重试"),
)


def _translate_yaml_error(exc: yaml.YAMLError, file: str) -> Problem:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else None
    column = mark.column + 1 if mark is not None else None
    problem = str(getattr(exc, "problem", "") or exc)
    for needle, message, hint in _YAML_MESSAGES:
        if needle in problem:
            return Problem(message, file, line, column, hint=hint)
    return Problem(f"YAML 格式错误（{problem}）", file, line, column,
                   hint="检查这一行的缩进、冒号和引号；可对照 reportgen init 生成的模板")


def parse_yaml(text: str, file: str, *, what: str = "资料文件", error: type[ReportgenError] = ProfileError,
               defer: bool = False) -> YamlDocument:
    """Parse safely.  With ``defer``, problems found while building the data (duplicate keys, tags)
    travel in ``YamlDocument.problems`` so validation reports them together with its own."""
    text = XML_INVALID.sub("", text.lstrip("\ufeff"))
    slips = _scan_typing_slips(text, file)
    if slips:
        raise error(slips)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.YAMLError as exc:
        raise error(_translate_yaml_error(exc, file)) from None
    except RecursionError:
        raise error(Problem("嵌套层次太深", file, hint=f"{what}最多嵌套几层，请检查括号是否成对")) from None
    finally:
        loader.dispose()
    if node is None:
        raise error(Problem("文件是空的（或只有注释），没有任何内容", file, 1,
                            hint="可以用“reportgen init 文件名.yaml”生成一个带说明的模板"))
    builder = _Builder(file, loader)
    data = builder.build(node, (), 0)
    if builder.problems and not (defer and isinstance(data, dict)):
        raise error(builder.problems)
    if not isinstance(data, dict):
        raise error(Problem("文件最外层应当是“键: 值”的形式", file, 1, 1,
                            hint="参考 reportgen init 生成的模板，第一层是 meta:、facts: 等键"))
    return YamlDocument(file, data, builder.key_marks, builder.value_marks, tuple(builder.problems))


class _Builder:
    """Turns composed YAML nodes into plain Python data, recording marks and problems."""

    def __init__(self, file: str, loader: Any) -> None:
        self.file = file
        self.loader = loader
        self.problems: list[Problem] = []
        self.key_marks: dict[KeyPath, tuple[int, int]] = {}
        self.value_marks: dict[KeyPath, tuple[int, int]] = {}
        self.budget = MAX_NODES

    def _report(self, node: yaml.Node, path: KeyPath, message: str, hint: str | None = None) -> None:
        mark = node.start_mark
        self.problems.append(Problem(message, self.file, mark.line + 1, mark.column + 1, path_text(path) or None, hint))

    def _too_big(self, node: yaml.Node, path: KeyPath) -> None:
        if self.budget < 0:
            if self.budget == -1:
                self._report(node, path, "内容展开后过于庞大（可能是别名“*”反复引用）",
                             "资料文件不需要锚点和别名，请直接写出内容")
        elif not any("嵌套" in p.message for p in self.problems):
            self._report(node, path, "嵌套层次太深", f"最多嵌套 {MAX_DEPTH} 层")

    def _scalar(self, node: yaml.Node, path: KeyPath) -> Any:
        """A scalar that is not plain text: a number, true/false, null or a date."""
        if node.tag not in _SCALAR_TAGS:
            self._report(node, path, f"不支持的 YAML 标签“{node.tag}”",
                         "资料文件只能写普通的文字、数字和列表，不能带“!!”或“!”标签")
            return None
        text = node.value
        if node.tag == _INT_TAG and len(text) <= 18 and text.isdecimal() and (text[0] != "0" or len(text) == 1) \
                and text.isascii():
            return int(text)  # plain decimal (YAML 1.1 reads 012 as octal: left to the constructor)
        try:
            value = self.loader.construct_object(node)
        except (yaml.YAMLError, ValueError, OverflowError):
            if node.tag == "tag:yaml.org,2002:timestamp":
                return text  # looks like a date but is none (2025-02-30): let the field say so
            self._report(node, path, f"无法识别的值{describe(text)}", "如果这是一段文字，请用引号括起来")
            return None
        # Escapes in double quotes ("\v", "\0") get past the raw-text filter: drop them here too.
        return XML_INVALID.sub("", value) if isinstance(value, str) else value

    def build(self, node: yaml.Node, path: KeyPath, depth: int) -> Any:
        self.budget -= 1
        if self.budget < 0 or depth > MAX_DEPTH:
            return self._too_big(node, path)
        mark = node.start_mark
        self.value_marks[path] = (mark.line + 1, mark.column + 1)  # each path is visited once
        if isinstance(node, yaml.ScalarNode):
            if node.tag == _STR_TAG:  # most values: no constructor needed
                # Raw control characters were dropped from the text already; only double-quoted
                # escapes ("\v", "\0") can bring them back.
                return XML_INVALID.sub("", node.value) if node.style == '"' else node.value
            return self._scalar(node, path)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ_TAG:
                self._report(node, path, f"不支持的 YAML 标签“{node.tag}”", "去掉“!!”或“!”标签")
                return None
            return [self.build(item, (*path, index), depth + 1) for index, item in enumerate(node.value)]
        assert isinstance(node, yaml.MappingNode)
        if node.tag != _MAP_TAG:
            self._report(node, path, f"不支持的 YAML 标签“{node.tag}”", "去掉“!!”或“!”标签")
            return None
        result: dict[str, Any] = {}
        first_seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self._report(key_node, path, "键必须是一段简单的文字", None)
                continue
            key = str(key_node.value)
            if key_node.style == '"':  # raw control characters left the text before parsing; escapes did not
                key = XML_INVALID.sub("", key)
            key = key.strip()
            if key_node.tag == "tag:yaml.org,2002:merge" or key == "<<":
                self._report(key_node, path, "不支持合并键“<<”", "请直接写出每个键")
                continue
            if key in first_seen:
                self._report(key_node, (*path, key), f"键“{key}”重复出现（第一次在第 {first_seen[key]} 行）",
                             "删掉其中一个；否则前一个值会被悄悄覆盖")
                continue
            key_mark, key_path = key_node.start_mark, (*path, key)
            first_seen[key] = key_mark.line + 1
            self.key_marks[key_path] = (key_mark.line + 1, key_mark.column + 1)
            result[key] = self.build(value_node, key_path, depth + 1)
        return result


_TYPE_NAMES = {str: "一段文字", int: "整数", dict: "“键: 值”映射", list: "列表（每项以“- ”开头）", bool: "true 或 false"}


class FieldReader:
    """Reads typed fields out of a YamlDocument, collecting every problem instead of stopping."""

    def __init__(self, doc: YamlDocument) -> None:
        self.doc = doc
        self.problems: list[Problem] = list(doc.problems)

    def report(self, path: KeyPath, message: str, hint: str | None = None, *, at_key: bool = False) -> None:
        self.problems.append(self.doc.problem(path, message, hint, at_key=at_key))

    def value(self, path: KeyPath) -> Any:
        node: Any = self.doc.data
        for part in path:
            if isinstance(part, int):
                node = node[part] if isinstance(node, list) and part < len(node) else None
            else:
                node = node.get(part) if isinstance(node, dict) else None
        return node

    def typed(self, path: KeyPath, kind: type, *, required: bool = False, hint: str | None = None) -> Any:
        value = self.value(path)
        if value is None:
            if required:
                self.report(path, f"缺少必填项，应为{_TYPE_NAMES.get(kind, kind.__name__)}", hint, at_key=True)
            return None
        if kind is str and isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        if kind is int and isinstance(value, bool):
            value = None
        if not isinstance(value, kind):
            self.report(path, f"应为{_TYPE_NAMES.get(kind, kind.__name__)}，实际是{describe(value)}", hint)
            return None
        if isinstance(value, str):
            return value.strip()
        return value

    def known_keys(self, path: KeyPath, allowed: Collection[str], *, labels: Mapping[str, str] | None = None) -> None:
        """Report keys under ``path`` that are not allowed, suggesting the nearest valid one."""
        table = self.value(path) if path else self.doc.data
        if not isinstance(table, dict):
            return
        for key in table:
            if key not in allowed:
                hint = suggest(key, list(allowed), labels) if not self.crowded else None
                self.report((*path, key), f"未知的键“{key}”", hint, at_key=True)

    @property
    def crowded(self) -> bool:
        """So many problems already that nobody reads more hints: stop computing them (a 60,000-line file)."""
        return len(self.problems) >= MAX_SHOWN_PROBLEMS


def describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"“{'true' if value else 'false'}”"
    if isinstance(value, dict):
        return "一组“键: 值”"
    if isinstance(value, list):
        return "一个列表"
    text = str(value)
    return f"“{text[:30]}{'…' if len(text) > 30 else ''}”"


def suggest(word: str, choices: list[str], labels: Mapping[str, str] | None = None) -> str:
    """A hint naming the nearest valid key (by spelling, or by its Chinese label)."""
    import difflib

    if labels:
        for key, label in labels.items():
            if word and (word == label or word in label or label in word) and key in choices:
                return f"“{word}”应写作“{key}”"
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if close:
        return f"是不是“{close[0]}”？"
    shown = "、".join(choices[:12]) + ("……" if len(choices) > 12 else "")
    return f"可用的键：{shown}"
