"""Benchmark: reportgen's batch build against a naive docxtpl loop and a zipfile floor.

Run from a checkout (reportgen installed, e.g. ``pip install -e .``)::

    python bench/bench_batch.py                 # N = 100 and 2000, -j = number of cores
    python bench/bench_batch.py --sizes 100 --jobs 2 --pack jiguan

It makes N synthetic profiles from the pack's example profile (unit names, names and the
numbers of the pack's facts vary) and measures, each configuration in a fresh process and
``--runs`` times (default 5, interleaved; the fastest run counts, and the highest peak memory),
per-draft wall time and peak memory (ru_maxrss) of the following.  As for an installed tool,
modules load from .pyc files (an untimed first run of each configuration writes them, under
the work dir, for reportgen and docxtpl alike).

  (a)   reportgen's batch: ``batch.build_many`` in-process (-j 1) and with -j N worker processes
        (profile files in, drafts and 汇总.xlsx out, edit-safe atomic writes included);
  (b)   a naive docxtpl loop: ``DocxTemplate(path)``, ``render(context, jinja_env=…)``, ``save`` per
        draft, on the same pack's Word template with the same contexts (the body as the same
        Markup XML our template expects);  only the docxtpl calls are timed;
  (c)   the floor: writing the same output parts with ``zipfile`` alone (only the writing is timed);

and the cold start of one ``reportgen build`` (a new process) against ``python -c "import docxtpl"``
(medians of interleaved runs; hyperfine is used instead when it is on PATH).

Targets (issue 4), checked at every N for (a) as users run it, with -j = the number of cores (-j 1
is shown for information): (a) <= 1/5 of (b); (a) <= 4 x (c); peak memory of (a) at the largest N
<= 1.2 x at the smallest; cold build <= 1.6 x ``import docxtpl``.  This is a script, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "建国志强海燕秀英文华明军晓东丽娟红梅国庆春生永刚德胜宏伟玉兰桂芳振华学明"
UNITS = ("市财政局机关党委", "县教育局机关党支部", "区卫生健康委机关党委", "市住房城乡建设局机关党委", "县交通运输局机关党支部",
         "市生态环境局机关党委", "区司法局机关党支部", "市统计局机关党支部", "县农业农村局机关党委", "市审计局机关党支部")


# ---------------------------------------------------------------- synthetic profiles


def _fact_value(spec: Any, rng: random.Random) -> Any:
    if spec.type in ("integer", "number", "percent"):
        low = int(spec.minimum) if spec.minimum is not None else 0
        high = int(spec.maximum) if spec.maximum is not None else max(low + 10, 60)
        if spec.type == "percent":
            high = min(high, 100)
        high = max(high, low)
        value = rng.randint(low + (high - low) // 4, low + 3 * (high - low) // 4 if high > low else low)
        return value if spec.type != "number" else value + rng.choice((0, 0.5))
    if spec.type == "list":
        return [f"示例事项{rng.randint(1, 9)}", f"示例活动{rng.randint(1, 9)}"]
    return f"示例内容{rng.randint(1, 99)}"


def _fill_choices(data: dict[str, Any], pack: Any) -> None:
    """Make the example's item choices fit the pack's min/max (an example may lag behind its pack)."""
    from reportgen.pack import CATALOGUE_FOR_SECTION

    for section in pack.skeleton.sections:
        catalogue_name = CATALOGUE_FOR_SECTION.get(section.kind)
        if catalogue_name is None:
            continue
        keys = list(pack.catalogues.get(catalogue_name, {}))
        chosen = data.get(section.kind)
        if section.kind == "measures" and chosen is None:
            continue  # mirrored from the problems
        chosen = list(chosen or [])
        if len(chosen) < section.min_items or len(chosen) > section.max_items:
            chosen = keys[: max(section.min_items, min(len(keys), 3))]
        data[section.kind] = chosen


def make_profiles(pack_request: str | None, folder: Path, n: int) -> Path:
    """N profiles in ``folder``: the pack's example with varied units, names and numbers."""
    import yaml

    from reportgen.core import load_profile
    from reportgen.pack import find_pack

    pack = find_pack(pack_request)
    if not pack.example_profile:
        sys.exit(f"模板包 {pack.name} 没有示例资料文件")
    base = yaml.safe_load(pack.path(pack.example_profile).read_text(encoding="utf-8"))
    base["pack"] = str(pack.root) if pack.source == "local" else pack.name
    _fill_choices(base, pack)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        rng = random.Random(i)
        data = json.loads(json.dumps(base, default=str))
        meta = data.setdefault("meta", {})
        meta["unit"] = f"{UNITS[i % len(UNITS)].replace('机关', f'第{i // len(UNITS) + 1}机关', 1)}"
        meta["name"] = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
        meta["date"] = str(meta.get("date") or "2026-01-10")
        facts = data.setdefault("facts", {})
        for spec in pack.facts:
            facts[spec.key] = _fact_value(spec, rng)
        text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
        (folder / f"unit{i:05d}.yaml").write_text(text, encoding="utf-8")
    load_profile(folder / "unit00000.yaml")  # fails loudly if the synthetic profiles do not validate
    return folder


# ---------------------------------------------------------------- workers (each in a fresh process)


def _peak_kb(children: bool = False) -> int:
    """Peak resident memory (ru_maxrss) of this process, or of its largest child (worker)."""
    scale = 1024 if sys.platform == "darwin" else 1  # bytes on macOS, KiB on Linux
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    return int(resource.getrusage(who).ru_maxrss // scale)


def worker_reportgen(profiles: Path, out: Path, jobs: int) -> dict[str, Any]:
    import reportgen.core  # imported before timing, as docxtpl is for (b)
    import reportgen.output
    import reportgen.word  # noqa: F401
    from reportgen.batch import build_many

    start = time.perf_counter()
    report = build_many([profiles], out, jobs=jobs)
    seconds = time.perf_counter() - start
    if report.failed:
        sys.exit(f"reportgen batch failed: {report.failed_items[:1]}")
    return {"seconds": seconds, "n": len(report.items), "peak_kb": _peak_kb(), "peak_children_kb": _peak_kb(True)}


def _contexts(profiles: Path) -> Any:
    """Per profile: (path, pack, maker, profile, document, docxtpl context, seconds spent making them).

    The context is what our Word template expects: the body as Markup XML, title and meta.
    Making it means reading and validating the profile and composing the prose, which
    reportgen's batch does inside its timing; (b) reports it apart (see worker_docxtpl).
    """
    from markupsafe import Markup

    from reportgen.core import _meta_dict, draft_maker, load_profile

    packs: dict[Any, Any] = {}
    for path in sorted(profiles.glob("*.yaml")):
        start = time.perf_counter()
        profile, pack = load_profile(path, packs=packs)
        maker = draft_maker(pack)
        document = maker.document(profile)
        context = {
            "body": Markup(maker.word.body_xml(document)),
            "title": document.title,
            "meta": {k: ("" if v is None else str(v)) for k, v in _meta_dict(profile).items()},
        }
        yield path, pack, maker, profile, document, context, time.perf_counter() - start


def worker_docxtpl(profiles: Path, out: Path) -> dict[str, Any]:
    """(b): only the docxtpl calls are timed ("seconds"); "context_seconds" is making the contexts."""
    import jinja2
    from docxtpl import DocxTemplate

    out.mkdir(parents=True, exist_ok=True)
    env = jinja2.Environment(autoescape=True)
    seconds = 0.0
    context_seconds = 0.0
    n = 0
    for path, pack, _maker, _profile, _document, context, made in _contexts(profiles):
        start = time.perf_counter()
        template = DocxTemplate(pack.path(pack.word_template))
        template.render(context, jinja_env=env, autoescape=True)
        template.save(out / f"{path.stem}.docx")
        seconds += time.perf_counter() - start
        context_seconds += made
        n += 1
    return {"seconds": seconds, "context_seconds": context_seconds, "n": n, "peak_kb": _peak_kb()}


def worker_zipfile(profiles: Path, out: Path) -> dict[str, Any]:
    import io
    import zipfile

    out.mkdir(parents=True, exist_ok=True)
    seconds = 0.0
    n = 0
    for path, _pack, maker, profile, document, _context, _made in _contexts(profiles):
        with zipfile.ZipFile(io.BytesIO(maker.docx(profile, document))) as source:
            parts = [(info.filename, source.read(info)) for info in source.infolist()]
        start = time.perf_counter()
        with zipfile.ZipFile(out / f"{path.stem}.docx", "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data in parts:
                zf.writestr(name, data)
        seconds += time.perf_counter() - start
        n += 1
    return {"seconds": seconds, "n": n, "peak_kb": _peak_kb()}


def bytecode_env(work: Path) -> dict[str, str]:
    """The environment of an installed tool: modules load from .pyc files (kept under the work dir, for
    reportgen and docxtpl alike), even where PYTHONDONTWRITEBYTECODE is set for development."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    return env


def run_worker(kind: str, profiles: Path, out: Path, jobs: int, work: Path) -> dict[str, Any]:
    shutil.rmtree(out, ignore_errors=True)
    env = {**bytecode_env(work), "PYTHONHASHSEED": "0"}
    command = [sys.executable, __file__, "--worker", kind, "--profiles", str(profiles), "--out", str(out),
               "--jobs", str(jobs)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        sys.exit(f"worker {kind} failed:\n{done.stdout}\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# ---------------------------------------------------------------- cold start


def _median_wall(commands: dict[str, list[str]], repeat: int, cwd: Path, env: dict[str, str]) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in commands}
    for command in commands.values():  # one untimed run each: warm the disk cache, .pyc files, reportgen's cache
        subprocess.run(command, cwd=cwd, capture_output=True, check=True, env=env)
    for _ in range(repeat):
        for name, command in commands.items():  # interleaved, so drifting load hits both alike
            start = time.perf_counter()
            subprocess.run(command, cwd=cwd, capture_output=True, check=True, env=env)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def _hyperfine(commands: dict[str, list[str]], repeat: int, cwd: Path, env: dict[str, str]) -> dict[str, float] | None:
    exe = shutil.which("hyperfine")
    if exe is None:
        return None
    import shlex

    export = cwd / "hyperfine.json"
    names = list(commands)
    argv = [exe, "-N", "--warmup", "2", "--runs", str(repeat), "--export-json", str(export)]
    argv += [shlex.join(commands[name]) for name in names]
    subprocess.run(argv, cwd=cwd, capture_output=True, check=True, env=env)
    results = json.loads(export.read_text())["results"]
    return {name: float(r["median"]) for name, r in zip(names, results, strict=True)}


def cold_start(profile: Path, work: Path, repeat: int, *, bytecode: bool) -> tuple[dict[str, float], str]:
    """Wall time of a new ``reportgen build`` process and of ``python -c "import docxtpl"``.

    ``bytecode``: as installed from a wheel, modules load from .pyc files (written to a cache
    folder in the work dir, for both commands alike); without it every module of an editable
    install is compiled at each start when PYTHONDONTWRITEBYTECODE is set.
    """
    reportgen = shutil.which("reportgen")
    build = [reportgen] if reportgen else [sys.executable, "-m", "reportgen"]
    commands = {
        "reportgen build": [*build, "build", str(profile), "-o", str(work / "cold.docx")],
        "import docxtpl": [sys.executable, "-c", "import docxtpl"],
    }
    env = dict(os.environ)
    if bytecode:
        env = bytecode_env(work)
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    measured = _hyperfine(commands, repeat, work, env)
    if measured is not None:
        return measured, "hyperfine"
    return _median_wall(commands, repeat, work, env), f"median of {repeat} interleaved runs"


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100,2000", help="comma-separated N (default 100,2000)")
    parser.add_argument("--jobs", type=int, default=None, help="worker processes for (a) -j N (default: cores)")
    parser.add_argument("--pack", default=None, help="pack name or folder (default: jiguan)")
    parser.add_argument("--runs", type=int, default=5,
                        help="runs of each batch configuration, interleaved; the fastest counts (default 5)")
    parser.add_argument("--repeat", type=int, default=15, help="runs of each cold-start command")
    parser.add_argument("--workdir", type=Path, default=None, help="where to put profiles and drafts (default: temp)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures as JSON here")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--profiles", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        workers = {
            "reportgen": lambda: worker_reportgen(args.profiles, args.out, args.jobs),
            "docxtpl": lambda: worker_docxtpl(args.profiles, args.out),
            "zipfile": lambda: worker_zipfile(args.profiles, args.out),
        }
        print(json.dumps(workers[args.worker]()))
        return

    from reportgen.batch import default_jobs

    jobs = args.jobs or default_jobs()
    sizes = [int(s) for s in args.sizes.split(",")]
    work = args.workdir or Path(tempfile.mkdtemp(prefix="reportgen-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"reportgen batch benchmark — Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, -j {jobs}, "
          f"work dir {work}")
    rows: list[dict[str, Any]] = []
    # One untimed run of each configuration first: every module it loads then has its .pyc.
    warmup = make_profiles(args.pack, work / "profiles-warmup", 8 * jobs)
    for kind, j in (("reportgen", 1), ("reportgen", jobs), ("docxtpl", 1), ("zipfile", 1)):
        run_worker(kind, warmup, work / "out-warmup", j, work)
    for n in sizes:
        profiles = make_profiles(args.pack, work / f"profiles-{n}", n)
        figures: dict[str, Any] = {"n": n}
        configurations = [("a -j1", "reportgen", 1), ("b docxtpl", "docxtpl", 1), ("c zipfile", "zipfile", 1)]
        if jobs > 1:
            configurations.insert(1, (f"a -j{jobs}", "reportgen", jobs))
        runs: dict[str, list[dict[str, Any]]] = {label: [] for label, _, _ in configurations}
        for _ in range(args.runs):  # interleaved, so a slow spell of the machine hits every configuration alike
            for label, kind, j in configurations:
                runs[label].append(run_worker(kind, profiles, work / f"out-{kind}-{j}-{n}", j, work))
        for label, _, j in configurations:
            # The fastest run (the least disturbed by other work on the machine); the highest peak memory.
            result = dict(min(runs[label], key=lambda r: r["seconds"] / r["n"]))
            result["peak_kb"] = max(r["peak_kb"] for r in runs[label])
            result["peak_children_kb"] = max(r.get("peak_children_kb", 0) for r in runs[label])
            result["all_ms"] = [round(1000 * r["seconds"] / r["n"], 3) for r in runs[label]]
            figures[label] = result
            extra = ""
            if j > 1:
                extra = f" (largest worker {result['peak_children_kb'] / 1024:.1f} MiB)"
            if "context_seconds" in result:
                extra = f" (+ {1000 * result['context_seconds'] / result['n']:.3f} ms/draft making the context)"
            spread = f"  runs: {', '.join(f'{ms:.2f}' for ms in result['all_ms'])}" if args.runs > 1 else ""
            print(f"  N={n:<5} {label:<10} {1000 * result['seconds'] / result['n']:8.3f} ms/draft   "
                  f"peak {result['peak_kb'] / 1024:6.1f} MiB{extra}{spread}")
        rows.append(figures)

    first_profile = work / f"profiles-{sizes[0]}" / "unit00000.yaml"
    cold, how = cold_start(first_profile, work, args.repeat, bytecode=True)
    cold_source, _ = cold_start(first_profile, work, args.repeat, bytecode=False)

    def per_draft(fig: dict[str, Any], label: str, key: str = "seconds") -> float:
        return 1000 * float(fig[label][key]) / int(fig[label]["n"])

    def with_context(fig: dict[str, Any]) -> float:  # (b'): docxtpl plus making its context from the profile
        return per_draft(fig, "b docxtpl") + per_draft(fig, "b docxtpl", "context_seconds")

    best = f"a -j{jobs}" if jobs > 1 else "a -j1"
    print()
    print(f"| N | (a) -j1 | (a) -j{jobs} | (b) docxtpl | (b') docxtpl + context | (c) zipfile | (b)/(a) | (b')/(a) "
          f"| (a)/(c) | peak (a) -j1 | peak (a) -j{jobs}: main, largest worker |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for fig in rows:
        a1, aj, b, c = (per_draft(fig, k) for k in ("a -j1", best, "b docxtpl", "c zipfile"))
        bc = with_context(fig)
        pj = fig[best]
        print(f"| {fig['n']} | {a1:.2f} ms | {aj:.2f} ms | {b:.2f} ms | {bc:.2f} ms | {c:.2f} ms "
              f"| {b / aj:.1f}× (-j1 {b / a1:.1f}×) | {bc / aj:.1f}× (-j1 {bc / a1:.1f}×) "
              f"| {aj / c:.2f}× (-j1 {a1 / c:.2f}×) | {fig['a -j1']['peak_kb'] / 1024:.1f} MiB "
              f"| {pj['peak_kb'] / 1024:.1f}, {pj['peak_children_kb'] / 1024:.1f} MiB |")
    ratio_cold = cold["reportgen build"] / cold["import docxtpl"]
    print()
    print(f"cold start ({how}, modules from .pyc): reportgen build {1000 * cold['reportgen build']:.0f} ms, "
          f"python -c 'import docxtpl' {1000 * cold['import docxtpl']:.0f} ms, ratio {ratio_cold:.2f}")
    print(f"cold start without .pyc (PYTHONDONTWRITEBYTECODE=1, editable install): reportgen build "
          f"{1000 * cold_source['reportgen build']:.0f} ms, python -c 'import docxtpl' "
          f"{1000 * cold_source['import docxtpl']:.0f} ms, ratio "
          f"{cold_source['reportgen build'] / cold_source['import docxtpl']:.2f}")

    small, large = rows[0], rows[-1]
    checks: list[tuple[str, bool | None]] = []  # None: shown for information, not a target
    # The targets are for the batch as users run it (-j = number of cores), at every N; -j 1 is shown beside it.
    for fig in rows:
        for label in dict.fromkeys((best, "a -j1")):
            a = per_draft(fig, label)
            target = True if label == best else None
            checks.append((f"(a) {label[2:]} <= 1/5 of (b), N={fig['n']}: ratio {per_draft(fig, 'b docxtpl') / a:.1f}",
                           a * 5 <= per_draft(fig, "b docxtpl") if target else None))
            checks.append((f"(a) {label[2:]} <= 1/5 of (b'), N={fig['n']}: ratio {with_context(fig) / a:.1f}",
                           a * 5 <= with_context(fig) if target else None))
            checks.append((f"(a) {label[2:]} <= 4x (c), N={fig['n']}: {a / per_draft(fig, 'c zipfile'):.2f}x",
                           a <= 4 * per_draft(fig, "c zipfile") if target else None))
    if len(rows) > 1:
        for label, key, who in (("a -j1", "peak_kb", "process"), (best, "peak_kb", "main process"),
                                (best, "peak_children_kb", "largest worker")):
            if who != "process" and (label == "a -j1" or best == "a -j1"):
                continue
            grow = large[label][key] / small[label][key]
            checks.append((f"peak memory (a) {label[2:]} {who}: N={large['n']} / N={small['n']} = {grow:.2f} <= 1.2",
                           grow <= 1.2))
    checks.append((f"cold build / import docxtpl = {ratio_cold:.2f} <= 1.6", ratio_cold <= 1.6))
    print()
    for text, ok in checks:
        print(f"  [{'info' if ok is None else 'ok' if ok else 'MISSED'}] {text}")
    if args.json:
        args.json.write_text(json.dumps({"jobs": jobs, "rows": rows, "cold": cold, "cold_without_pyc": cold_source,
                                          "checks": checks}, indent=2))
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
