"""Where a profile's `pack:` points: a relative folder is relative to the profile; full-width names work."""

from __future__ import annotations

import os
from pathlib import Path

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
