"""Where a profile's `pack:` points: a relative folder is relative to the profile; full-width names work."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import make_mini_pack, mini_profile, write_yaml
from reportgen.cli import cli
from reportgen.pack import find_pack


def test_relative_pack_folder_in_profile_is_relative_to_the_profile(tmp_path: Path) -> None:
    make_mini_pack(tmp_path / "unit" / "ourpack")
    profile = write_yaml(tmp_path / "unit" / "p.yaml", mini_profile(tmp_path / "unit" / "ourpack", pack="./ourpack"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    cwd = os.getcwd()
    os.chdir(elsewhere)
    try:
        result = CliRunner().invoke(cli, ["build", str(profile)])
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.output
    assert "测试用模板包" in result.output
    assert (tmp_path / "unit" / "p.docx").is_file()


def test_full_width_pack_name_is_understood() -> None:
    assert find_pack("ｊｉｇｕａｎ").name == "jiguan"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the XDG rule is applied by reportgen on Linux only")
@pytest.mark.parametrize("value", [None, "", "/srv/数据", "relative/dir", "  "])
@pytest.mark.parametrize(("kind", "variable"), [("data", "XDG_DATA_HOME"), ("cache", "XDG_CACHE_HOME")])
def test_user_folders_are_where_platformdirs_puts_them(monkeypatch: pytest.MonkeyPatch, kind: str, variable: str,
                                                       value: str | None) -> None:
    import platformdirs

    from reportgen.cache import user_dir

    if value is None:
        monkeypatch.delenv(variable, raising=False)
    else:
        monkeypatch.setenv(variable, value)
    expected = (platformdirs.user_data_dir if kind == "data" else platformdirs.user_cache_dir)("reportgen",
                                                                                              appauthor=False)
    assert user_dir(kind) == Path(expected)
