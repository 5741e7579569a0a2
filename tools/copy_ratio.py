"""Print the 复制比 figures of 30 units filling in each built-in pack's example profile (issue: 复制比).

Each unit gets the example's facts with different numbers and its own unit and person name; the
items stay the same.  Prints the mean and largest pairwise 复制比 per pack.  With ``--random-items``
each unit also picks its own items (work, problems, causes) from the pack's catalogues, as many as
the pack allows, the way real units differ.

    python tools/copy_ratio.py [--units 30] [--pack jiguan] [--random-items]
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import random
import statistics
import sys
from pathlib import Path

from reportgen.inputs.source import read_text
from reportgen.inputs.yamlfile import Tree, parse_yaml
from reportgen.outputs.drafting import Run
from reportgen.outputs.similarity import compare, normalize
from reportgen.packs.manifest import CATALOGUE_FOR_SECTION, Pack

REPO = Path(__file__).resolve().parent.parent
SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜"
PLACES = "东西南北中"
KINDS = ["财政局", "农业农村局", "交通运输局", "教育局", "卫生健康委", "自然资源局", "生态环境局", "住建局", "水利局", "商务局",
         "文旅局", "应急管理局", "审计局", "统计局", "医保局", "人社局", "民政局", "司法局", "市场监管局", "林业局",
         "科技局", "工信局", "退役军人局", "体育局", "信访局", "档案馆", "机关事务局", "供销社", "粮食局", "气象局"]


def unit_tree(base: Tree, index: int, pack: Pack | None = None) -> Tree:
    """The example with another unit, person and numbers (every number shifted by a seeded amount);
    given the ``pack``, with items of the unit's own choosing too."""
    rng = random.Random(index)
    data = {**base.data}
    if pack is not None:
        for section in pack.skeleton.sections:
            catalogue = list(pack.catalogues.get(CATALOGUE_FOR_SECTION.get(section.kind, ""), {}))
            if catalogue and section.kind in ("work", "problems", "causes"):
                low = max(1, section.min_items)
                count = rng.randint(low, max(low, min(section.max_items, len(catalogue))))
                data[section.kind] = rng.sample(catalogue, min(count, len(catalogue)))
        data.pop("measures", None)  # the measures answer the problems chosen
    meta = dict(data.get("meta") or {})
    city = PLACES[index % 5] + "山市"
    meta["unit"] = f"{city}{KINDS[index % len(KINDS)]}机关党委" if "机关" in str(meta.get("unit", "")) else \
        f"{city}{KINDS[index % len(KINDS)]}{str(meta.get('unit', ''))[-3:]}"
    meta["name"] = SURNAMES[index % len(SURNAMES)] + "某某"
    data["meta"] = meta
    facts = {}
    factor = rng.uniform(0.5, 1.6)  # one factor for all numbers keeps every “part ≤ whole”
    for key, value in (data.get("facts") or {}).items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            facts[key] = value
        elif isinstance(value, int):
            facts[key] = max(1, round(value * factor))
        else:
            facts[key] = round(min(100.0, value * min(factor, 1.0)), 1)
    data["facts"] = facts
    return Tree(base.file, data, base.key_marks, base.value_marks)


def pack_figures(pack: str, units: int, random_items: bool = False) -> tuple[float, float, list[float]]:
    example = REPO / "templates" / pack / "example.yaml"
    base = parse_yaml(read_text(example), str(example))
    run = Run()
    loaded = run.pack_for(base, example.parent) if random_items else None
    texts = []
    for index in range(units):
        tree = unit_tree(base, index, loaded)
        draft = run.draft(tree, hashlib.sha256(str(index).encode()).hexdigest(), example.parent)
        meta = draft.profile.meta
        texts.append(normalize(meta.unit or "", draft.document.text, (meta.unit or "", meta.name or "")))
    ratios = [compare(a, b).ratio for a, b in itertools.permutations(texts, 2)]
    return statistics.mean(ratios), max(ratios), ratios


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--units", type=int, default=30)
    parser.add_argument("--pack", action="append")
    parser.add_argument("--random-items", action="store_true", help="each unit chooses its own items")
    args = parser.parse_args()
    for pack in args.pack or ["jiguan", "qiye", "xitong"]:
        mean, largest, _ = pack_figures(pack, args.units, args.random_items)
        how = "（各自选条目）" if args.random_items else ""
        print(f"{pack:8} {args.units} 个单位{how}：平均复制比 {mean:.3f}，最高 {largest:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
