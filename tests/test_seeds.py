"""The five seed reports (the genre's examples) come out right from profiles that carry their facts.

For each tests/seeds/seedNNN.yaml, built with the pack the seed fits, the draft must say every number the
seed states with its unit, in a sentence naming what it counts; name every document and campaign the seed
names; have the seed's skeleton (headings, numbering per level, intros, no title/byline/closing the seed
lacks); need at most 10 % of its Han characters written in the profile; and show no 【待补充】 (blanks only
where the seed itself has blanks).  tools/seed_figures.py prints the same figures.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from conftest import REPO, SEEDS


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("seed_figures", REPO / "tools" / "seed_figures.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


TOOL = _tool()
EXPECTED: dict[str, dict[str, Any]] = TOOL.expectations()


def test_there_are_five_seed_profiles() -> None:
    assert sorted(EXPECTED) == ["000", "001", "002", "003", "004"]
    for seed in EXPECTED:
        assert (REPO / "tests" / "seeds" / f"seed{seed}.yaml").is_file()


@pytest.mark.parametrize("seed", sorted(EXPECTED))
def test_the_outline_names_the_same_pack(seed: str) -> None:
    head = (SEEDS / f"{seed}.md").read_text(encoding="utf-8").split("---")[1]
    assert yaml.safe_load(head)["pack"] == EXPECTED[seed]["pack"]
    profile = yaml.safe_load((REPO / "tests" / "seeds" / f"seed{seed}.yaml").read_text(encoding="utf-8"))
    assert profile["pack"] == EXPECTED[seed]["pack"]


@pytest.mark.parametrize("seed", sorted(EXPECTED))
def test_every_number_of_the_seed_is_said_with_its_unit_and_what_it_counts(seed: str) -> None:
    figures = TOOL.figures(seed, EXPECTED[seed])
    assert figures.missing_numbers == []
    assert figures.numbers_found == len(EXPECTED[seed]["numbers"])


@pytest.mark.parametrize("seed", sorted(EXPECTED))
def test_every_named_document_and_campaign_is_there(seed: str) -> None:
    assert TOOL.figures(seed, EXPECTED[seed]).missing_names == []


@pytest.mark.parametrize("seed", sorted(EXPECTED))
def test_the_skeleton_is_the_seeds(seed: str) -> None:
    assert TOOL.figures(seed, EXPECTED[seed]).skeleton == []


@pytest.mark.parametrize("seed", sorted(EXPECTED))
def test_at_most_a_tenth_is_written_in_the_profile(seed: str) -> None:
    figures = TOOL.figures(seed, EXPECTED[seed])
    assert figures.han > 1500
    assert figures.share <= 0.10, f"{figures.handwritten} of {figures.han} Han characters come from the profile"


@pytest.mark.parametrize("seed", sorted(EXPECTED))
def test_no_placeholder_and_blanks_only_where_the_seed_has_them(seed: str) -> None:
    figures = TOOL.figures(seed, EXPECTED[seed])
    assert figures.placeholders == 0
    if not EXPECTED[seed]["blanks"]:
        assert figures.blanks == 0


def test_the_skeleton_check_can_fail(tmp_path: Path) -> None:
    """The figures notice a title the seed lacks and a missing number."""
    from reportgen.core import check

    data = yaml.safe_load((REPO / "tests" / "seeds" / "seed003.yaml").read_text(encoding="utf-8"))
    del data["structure"]["title"]
    data["facts"]["secretary_office_meetings"] = 18
    (tmp_path / "seed.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    document = check(tmp_path / "seed.yaml").document
    assert "多了标题" in TOOL.skeleton_problems(document, EXPECTED["003"])
    text = document.text
    assert not any("19次" in s and "书记办公会议" in s for s in TOOL._sentences(text))
