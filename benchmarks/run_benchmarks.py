"""Benchmark the pipeline on this machine and write benchmarks/results/latest.{csv,md}.

Measures: load of all sources (first read vs cached), one edition built, each notebook's
execution and HTML time, all LA profiles, cold and warm `./run_all.sh`, and in the same run a
naive baseline (papermill then nbconvert, one fresh kernel per notebook and per LA profile,
no caches) so the ratio is reported. Peak memory is the largest resident set of any process.

    .venv/bin/python benchmarks/run_benchmarks.py [--quick]

--quick samples 5 LA profiles for the naive baseline instead of 20 (the per-LA figure is
multiplied by the number of LAs either way; say so when quoting it). --before REF also times
./run_all.sh cold and warm at an earlier commit, in the same run.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lib"))

from inclusion_index.config import run_settings  # noqa: E402
from inclusion_index.index.build import build_edition, load_edition  # noqa: E402
from inclusion_index.report.render import PARTS  # noqa: E402
from inclusion_index.sources.harmonise import load_inputs  # noqa: E402

ROWS: list[dict] = []


def record(stage: str, value: float, note: str = "", unit: str = "s") -> None:
    ROWS.append({"stage": stage, "value": round(value, 2), "unit": unit, "note": note})
    print(f"{stage:55s} {value:8.2f} {unit}  {note}", flush=True)


def timed_run(cmd: list[str], env: dict) -> tuple[float, str]:
    t0 = time.perf_counter()
    out = subprocess.run(cmd, cwd=ROOT, env=env, check=True, stdout=subprocess.PIPE, text=True).stdout
    return time.perf_counter() - t0, out


def checkout(ref: str) -> Path:
    """``ref`` in a temporary git worktree sharing this checkout's .venv (its lib is put first on
    PYTHONPATH, so the kernels import that code)."""
    dest = Path(tempfile.mkdtemp(prefix="inclusion-before-")) / "repo"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(dest), ref], check=True,
                   stdout=subprocess.DEVNULL)
    (dest / ".venv").symlink_to(ROOT / ".venv")
    # mark the shared venv installed for the old pyproject too: else tools/setup.sh would reinstall
    # the package from this temporary checkout, and the venv would point at a deleted folder
    digest = hashlib.sha256((dest / "pyproject.toml").read_bytes()).hexdigest()[:16]
    (ROOT / ".venv" / f".installed-{digest}").touch()
    return dest


def naive_notebook(part: str, edition: str, data_dir: Path, env: dict) -> float:
    """papermill in a fresh kernel with an empty cache, then nbconvert in a fresh process."""
    with tempfile.TemporaryDirectory() as tmp:
        e = {**env, "INCLUSION_CACHE_DIR": str(Path(tmp) / "cache")}
        out = Path(tmp) / f"{part}.ipynb"
        t0 = time.perf_counter()
        subprocess.run([str(ROOT / ".venv/bin/papermill"), str(ROOT / "notebooks" / f"{part}.ipynb"), str(out),
                        "-k", "python3", "-r", "final_year", edition, "-r", "data_dir", str(data_dir),
                        "-r", "output_dir", tmp, "--cwd", tmp, "--no-progress-bar"],
                       env=e, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run([str(ROOT / ".venv/bin/jupyter"), "nbconvert", "--to", "html", "--no-input", str(out)],
                       env=e, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - t0


# what the LA profile notebook (notebooks/la_profile.ipynb, before profiles were rendered
# straight from Python) ran for one LA: the naive route papermills it per LA from a cold kernel
NAIVE_PROFILE_CELLS = [
    'final_year = "201819"\nn_years = 3\ndata_dir = ""\nla_code = "302"',
    "from IPython.display import Markdown, display\nfrom inclusion_index.index.build import load_edition\n"
    "from inclusion_index.report import profile as S\n"
    "ed = load_edition(final_year, years=n_years, data_dir=data_dir or None)",
    "display(Markdown(S.headline(ed, la_code)))\ndisplay(Markdown(S.other_editions_text(ed, la_code)))\n"
    "display(S.plot_national(ed, la_code))\ndisplay(S.area_view(ed, la_code))\n"
    "display(Markdown(S.context_text(ed, la_code)))\ndisplay(Markdown(S.neighbour_text(ed, la_code)))\n"
    "display(S.neighbour_view(ed, la_code))\ndisplay(Markdown(S.strengths_and_weaknesses(ed, la_code)))\n"
    "display(S.plot_indicator_scores(ed, la_code))\ndisplay(S.indicator_view(ed, la_code))\n"
    "display(Markdown(S.trend_text(ed, la_code)))\ndisplay(S.plot_trend(ed, la_code))\n"
    "display(S.trend_view(ed, la_code))\ndisplay(Markdown(S.notes_text(ed, la_code)))",
]


def naive_seconds_per_profile(edition: str, la_code: str, *, years: int, data_dir: Path) -> float:
    """Baseline: papermill + nbconvert for one LA from a cold kernel (the caller empties the cache)."""
    import nbformat
    import papermill as pm
    from nbconvert import HTMLExporter

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in NAIVE_PROFILE_CELLS])
    nb.cells[0].metadata["tags"] = ["parameters"]
    # papermill needs the language; the notebook this stands for had it in its kernelspec
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "la_profile.ipynb", Path(tmp) / "p.ipynb"
        nbformat.write(nb, src)
        t0 = time.perf_counter()
        pm.execute_notebook(str(src), str(out), kernel_name="python3", progress_bar=False, cwd=tmp,
                            parameters={"final_year": edition, "n_years": years, "la_code": la_code,
                                        "data_dir": str(data_dir)})
        HTMLExporter().from_filename(str(out))
        return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(
        description="Time the pipeline on this machine (load, editions, ./run_all.sh cold and warm, each "
                    "notebook, LA profiles) against a naive papermill baseline; writes "
                    "benchmarks/results/latest.csv and .md. Uses temporary caches and report folders: the "
                    "project's data/cache and reports/ are left as they are.")
    ap.add_argument("--quick", action="store_true",
                    help="time the naive per-LA profile baseline on 5 LAs per edition instead of 20")
    ap.add_argument("--before", metavar="REF",
                    help="also time ./run_all.sh cold and warm at this git commit (e.g. the commit before a "
                         "change), in the same run on the same machine")
    ap.add_argument("--skip-naive", action="store_true",
                    help="leave out the naive baseline (about 10 minutes on 2 idle cores; much longer on a "
                         "busy machine) and quote the last run's")
    ap.add_argument("--data-dir", default=os.environ.get("INCLUSION_DATA_DIR", str(ROOT.parent / "shared/data/raw")),
                    help="raw data folder (default: $INCLUSION_DATA_DIR or ../shared/data/raw)")
    args = ap.parse_args()
    data_dir = Path(args.data_dir).resolve()
    env = {**os.environ, "INCLUSION_DATA_DIR": str(data_dir), "MPLBACKEND": "Agg"}
    editions = list(run_settings().editions.render)

    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp)
        t0 = time.perf_counter()
        long = load_inputs(data_dir, cache_dir=cache)
        record("load all sources, first read (parse + validate)", time.perf_counter() - t0,
               f"{len(long):,d} rows, {long['measure'].nunique()} measures")
        t0 = time.perf_counter()
        load_inputs(data_dir, cache_dir=cache)
        record("load all sources, cached", time.perf_counter() - t0)
    for e in editions:
        t0 = time.perf_counter()
        build_edition(e, long=long, data_dir=data_dir)
        record(f"build edition {e} (inputs in memory)", time.perf_counter() - t0)

    # cold and warm full runs in temporary folders, so the project's own cache and reports are
    # untouched: cold = empty cache and no reports; warm = nothing changed, so the pages are kept;
    # warm --rerun = every notebook and profile executed again from the built editions
    runs = {"after": ROOT}
    if args.before:
        runs["before"] = checkout(args.before)
    n_profiles, prof_total, rerun = 0, 0.0, float("nan")
    for label, root in runs.items():
        run_tmp = Path(tempfile.mkdtemp(prefix="inclusion-bench-"))
        run_env = {**env, "INCLUSION_CACHE_DIR": str(run_tmp / "cache"), "PYTHONPATH": str(root / "lib")}
        run_cmd = [str(root / "run_all.sh"), "--reports-dir", str(run_tmp / "reports")]
        tag = "" if label == "after" else f" [before: {args.before}]"
        record(f"./run_all.sh cold (empty cache, no reports){tag}", timed_run(run_cmd, run_env)[0],
               f"editions {', '.join(editions)} + profiles")
        seconds, out = timed_run(run_cmd, run_env)
        record(f"./run_all.sh warm{tag}", seconds, "nothing changed: pages kept" if label == "after" else "")
        if label == "after":
            seconds, out = timed_run([*run_cmd, "--rerun"], run_env)
            rerun = seconds
            record("./run_all.sh --rerun warm", seconds, "every notebook and profile executed again")
            for m in re.finditer(r"ok +(\d+) (\S+) +run +([\d.]+)s html +([\d.]+)s", out):
                record(f"notebook {m[1]} {m[2]}: execute / html", float(m[3]) + float(m[4]),
                       f"execute {m[3]}s, html {m[4]}s (2 side by side)")
            for m in re.finditer(r"(\d+) profiles for (\d+) in ([\d.]+)s \(([\d.]+)s per page", out):
                record(f"LA profiles {m[2]}", float(m[3]), f"{m[1]} pages, {m[4]}s per page, 2 workers")
                n_profiles += int(m[1])
                prof_total += float(m[3])
        shutil.rmtree(run_tmp, ignore_errors=True)
    if args.before:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(runs["before"])], check=False)
        own = ".installed-" + hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:16]
        for stamp in (ROOT / ".venv").glob(".installed-*"):  # checkout()'s mark for the old pyproject
            if stamp.name != own:
                stamp.unlink()

    if args.skip_naive:
        return write_results()
    # naive baseline: one fresh kernel per notebook, no caches; papermill per LA profile
    naive_series = 0.0
    for e in editions:
        for part, _ in PARTS:
            naive_series += naive_notebook(part, e, data_dir, env)
    record("naive: 12 notebooks, fresh kernel each, no cache", naive_series)
    sample = 5 if args.quick else 20
    per = []
    for e in editions:
        ed = load_edition(e, data_dir=data_dir)
        for code in list(ed.geography["la_code"])[:sample]:
            with tempfile.TemporaryDirectory() as tmp:
                os.environ["INCLUSION_CACHE_DIR"] = str(Path(tmp) / "cache")
                per.append(naive_seconds_per_profile(e, code, years=len(ed.years), data_dir=data_dir))
    os.environ.pop("INCLUSION_CACHE_DIR", None)
    per_profile = sum(per) / len(per)
    naive_profiles = per_profile * n_profiles
    record("naive: LA profiles, papermill per LA from a cold kernel", naive_profiles,
           f"{per_profile:.2f}s per page measured on {len(per)} LAs x {n_profiles} pages")
    naive_total = naive_series + naive_profiles
    record("naive: full run (series + profiles)", naive_total)
    record("ratio naive / ./run_all.sh --rerun", naive_total / rerun, "both execute everything; higher is better",
           unit="x")
    record("ratio naive profiles / fast profiles", naive_profiles / prof_total, "", unit="x")
    peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    record("peak memory, largest process", max(peak_self, peak_children),
           f"this process {peak_self:.0f} MiB, largest child {peak_children:.0f} MiB", unit="MiB")
    return write_results()


def write_results() -> int:
    # the machine is shared: its load beside the figures says how far to trust them
    record("load average (1 min) at the end", os.getloadavg()[0], f"{os.cpu_count()} cores", unit="")
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    df = pd.DataFrame(ROWS)
    df.to_csv(out / "latest.csv", index=False)
    machine = f"{platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    lines = [f"Machine: {machine}; run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}", "",
             "| stage | value | unit | note |", "|---|---:|---|---|"]
    lines += [f"| {r['stage']} | {r['value']} | {r['unit']} | {r['note']} |" for r in ROWS]
    (out / "latest.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {out / 'latest.csv'} and {out / 'latest.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
