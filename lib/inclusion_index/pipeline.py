"""What each command does: fetch → load → build → write → render, one function per stage.

cli.py parses the arguments and calls one function here. Each prints its progress and returns
the command's exit code; errors the reader can act on are raised as InclusionIndexError.
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from markupsafe import Markup

from inclusion_index.config import run_settings
from inclusion_index.csv_export import write_csv
from inclusion_index.index.build import build_edition, edition_file, load_edition, read_edition
from inclusion_index.index.comparison import comparison_summary, definition_changes, write_comparison
from inclusion_index.index.edition import Edition, write_score_table
from inclusion_index.paths import REPORTS_DIR
from inclusion_index.paths import data_dir as resolve_data_dir
from inclusion_index.report.explore import PAGE as EXPLORE_PAGE
from inclusion_index.report.explore import write_explore
from inclusion_index.report.notes import score_table_text
from inclusion_index.report.profiles import (
    ProfileError,
    profile_pool,
    render_profiles,
    search_box_html,
    start_profiles,
)
from inclusion_index.report.render import (
    EditionRender,
    RenderError,
    comparison_html,
    findings_html,
    render_editions,
    write_index,
)
from inclusion_index.report.series import build_findings, data_years_sentence, findings_markdown
from inclusion_index.report.series.caveats import weights_sentence
from inclusion_index.sources import harmonise
from inclusion_index.sources import registry as sources


def fetch(data_dir: str | None, *, mirror: Path | None, base_url: str | None, only: list[str] | None) -> int:
    dest = resolve_data_dir(data_dir)
    files = sources.fetch(dest, mirror=mirror, base_url=base_url, only=only)
    print(f"{len(files)} file(s) present and verified in {dest}")
    return 0


def verify(data_dir: str | None) -> int:
    dest = resolve_data_dir(data_dir)
    reg = sources.load_registry()
    for s in reg.sources:
        sources.resolve(s, dest, verify=True)
        print(f"ok  {s.path}")
    print(f"{len(reg.sources)} file(s) match the registry")
    return 0


def load(data_dir: str | None, *, out: str | None, coverage: str | None, use_cache: bool) -> int:
    """The harmonised long table, optionally written (.csv or .parquet) with its coverage report."""
    t0 = time.perf_counter()
    long = harmonise.load_inputs(resolve_data_dir(data_dir), use_cache=use_cache, log=print, jobs=2)
    print(f"{len(long):,d} rows, {long['measure'].nunique()} measures in {time.perf_counter() - t0:.2f}s")
    if out:
        path = Path(out)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".parquet":
            long.to_parquet(path, index=False)
        else:
            write_csv(long, path)
        print(f"wrote {path}")
    if coverage:
        Path(coverage).parent.mkdir(parents=True, exist_ok=True)
        write_csv(harmonise.coverage(long), coverage)
        print(f"wrote {coverage}")
    return 0


def coverage(data_dir: str | None, *, out: str | None) -> int:
    mat = harmonise.coverage_matrix(harmonise.load_inputs(resolve_data_dir(data_dir)))
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        write_csv(mat, out, index=True)
        print(f"wrote {out}")
    else:
        print(mat.to_string())
    return 0


def score(edition: str, *, years: int | None, method: str | None, data_dir: str | None, out: str | None) -> int:
    """Build one edition from scratch (no edition cache) and write its score table."""
    t0 = time.perf_counter()
    ed = build_edition(edition, years=years, method=method, data_dir=resolve_data_dir(data_dir))
    written = write_score_table(ed, Path(out or f"reports/{edition}/scores_{edition}.csv"), score_table_text(ed))
    head = ed.headline().scores
    print(f"edition {ed.final_year} ({ed.run.editions.spec(ed.final_year).title or ed.method.name}): "
          f"index years {', '.join(ed.years)}; {int(head['scored'].sum())} of {len(head)} LAs scored "
          f"in {time.perf_counter() - t0:.2f}s")
    for p in written:
        print(f"wrote {p}")
    return 0


def compare(from_edition: str, to_edition: str, *, data_dir: str | None, out: str | None) -> int:
    dest = resolve_data_dir(data_dir)
    a, b = load_edition(from_edition, data_dir=dest), load_edition(to_edition, data_dir=dest)
    path = Path(out or f"reports/compare_{from_edition}_{to_edition}.csv")
    s = comparison_summary(write_comparison(a, b, path))
    print(f"{s['las_compared']} LAs in both editions: {s['up_beyond_uncertainty']} moved up and "
          f"{s['down_beyond_uncertainty']} down with 90% rank ranges apart; median |score change| "
          f"{s['median_abs_score_change']:.1f}; {s['las_via_predecessor']} more compared with a predecessor")
    for c in definition_changes(a, b):
        print(f"  measured differently: {c['name']} ({c['from']} -> {c['to']})")
    print(f"wrote {path}")
    return 0


def render(editions: list[str] | None, *, years: int | None, data_dir: str | None, reports_dir: str | None,
           highlight_la: str, parts: list[str] | None, workers: int, profiles: bool,
           profiles_limit: int, rerun: bool = False, coverage: str | None = None) -> int:
    """Every edition's series (notebooks, scores, findings), its LA profiles and reports/index.html.

    Each edition is loaded once here and the same object feeds its score table, findings,
    profile list and the comparison. Pages whose inputs are unchanged since the last render are
    kept unless ``rerun``. A failed edition keeps its last good report; the run then ends with
    exit code 1. ``coverage``: load first, as :func:`load` (run_all.sh: one process, imports once).
    """
    if coverage:
        load(data_dir, out=None, coverage=coverage, use_cache=True)
        print("== rendering the series")
    dest = resolve_data_dir(data_dir)
    kernel_data_dir = dest if data_dir else None  # the kernels resolve the default themselves
    editions = editions or list(run_settings().editions.render)
    reports = Path(reports_dir) if reports_dir else REPORTS_DIR
    renders: list[EditionRender] = []
    failures: list[str] = []
    kept: dict[str, str] = {}
    t_all = time.perf_counter()
    files = _build(editions, years, dest, workers)
    built = {e: read_edition(files[e]) for e in editions}
    # the profile pages share the cores with the notebook kernels instead of waiting for them:
    # queued first, in workers forked before any kernel or thread starts
    pool = profile_pool(built, workers) if profiles and workers > 1 else None
    try:
        pending = {e: start_profiles(e, _las(built[e], profiles_limit), years=len(built[e].years),
                                     data_dir=kernel_data_dir, out_dir=reports / e / "la", workers=workers,
                                     edition_file=files[e], rerun=rerun, ed=built[e], pool=pool,
                                     staging=reports / f".staging-la-{e}")  # not in reports/<e>: swapped
                   for e in editions} if pool else {}
        print(f"== series of edition(s) {', '.join(editions)}")
        done = render_editions(files, years=years, data_dir=kernel_data_dir, reports_dir=reports,
                               highlight_la=highlight_la, parts=parts, workers=workers, rerun=rerun,
                               extras={e: lambda staging, ed=ed: write_outputs(ed, staging) for e, ed in built.items()})
        for e, r in done.items():
            if isinstance(r, RenderError):
                failures.append(str(r))
                kept[e] = str(r)
                print(f"error: {r}", file=sys.stderr)
            else:
                renders.append(r)
        for r in renders:  # always, kept pages or not: it is cheap and only needs the built edition
            print(f"wrote {write_explore(built[r.edition], reports / r.edition / EXPLORE_PAGE)}")
        profiled = _render_profiles(renders, built, files, kernel_data_dir, reports, workers, profiles_limit,
                                    failures, rerun, pending) if profiles else {}
    finally:
        if pool:
            pool.shutdown(cancel_futures=True)
    if renders:
        index = _index_page(editions, renders, built, profiled, kept, reports, dest)
        print(f"wrote {index}")
    _print_timings(renders, editions, time.perf_counter() - t_all)
    return 1 if failures else 0


def _build(editions: list[str], years: int | None, data_dir: Path, workers: int) -> dict[str, Path]:
    """Build each edition once, here, side by side (or find it in the cache): every notebook
    kernel and profile worker is handed its file and only reads it."""
    t0 = time.perf_counter()
    harmonise.load_inputs(data_dir, jobs=workers)  # parsed and validated once, here, so errors name their file
    if workers < 2 or len(editions) < 2:
        files = {e: edition_file(e, years=years, data_dir=data_dir) for e in editions}
    else:
        with ProcessPoolExecutor(max_workers=min(workers, len(editions))) as pool:
            futures = {e: pool.submit(edition_file, e, years=years, data_dir=data_dir) for e in editions}
            files = {e: f.result() for e, f in futures.items()}
    print(f"== {len(editions)} edition(s) ready in {time.perf_counter() - t0:.1f}s")
    return files


def write_outputs(ed: Edition, folder: Path) -> None:
    """The edition's score table (CSV, Parquet, dictionary) and its findings (findings.md, .csv,
    .html and findings_sources.csv) beside its notebooks."""
    write_score_table(ed, folder / f"scores_{ed.final_year}.csv", score_table_text(ed))
    f = build_findings(ed)
    (folder / "findings.md").write_text(findings_markdown(ed, f.items), encoding="utf-8")
    write_csv(f.frame(), folder / "findings.csv")
    write_csv(f.sources_frame(), folder / "findings_sources.csv")
    (folder / "findings.html").write_text(findings_html(f, ed.final_year), encoding="utf-8")


def _las(ed: Edition, limit: int) -> list[tuple[str, str]]:
    las = list(zip(ed.geography["la_code"], ed.geography["la_name"], strict=True))
    return las[:limit] if limit else las


def _render_profiles(renders: list[EditionRender], built: dict[str, Edition], files: dict[str, Path],
                     kernel_data_dir: Path | None, reports: Path, workers: int, limit: int,
                     failures: list[str], rerun: bool, pending: dict) -> dict[str, list[tuple[str, str]]]:
    """Each rendered edition's LA profiles (waited for if ``pending``); returns the LAs profiled per
    edition; a failure goes to ``failures`` and keeps the edition's previous profiles."""
    profiled: dict[str, list[tuple[str, str]]] = {}
    for r in renders:
        ed, las = built[r.edition], _las(built[r.edition], limit)
        print(f"== LA profiles {r.edition}")
        try:
            if r.edition in pending:
                pending.pop(r.edition)()
            else:  # the edition built here, handed over as it is
                render_profiles(r.edition, las, years=len(ed.years), data_dir=kernel_data_dir, ed=ed,
                                out_dir=reports / r.edition / "la", workers=workers, edition_file=files[r.edition],
                                rerun=rerun)
            profiled[r.edition] = las
        except ProfileError as err:
            failures.append(str(err))
            print(f"error: {err}", file=sys.stderr)
    for finish in pending.values():
        finish(keep=False)
    return profiled


def _index_page(editions: list[str], renders: list[EditionRender], built: dict[str, Edition],
                profiled: dict[str, list[tuple[str, str]]], kept: dict[str, str], reports: Path,
                data_dir: Path) -> Path:
    """reports/index.html, with the first and last rendered editions compared when there are two."""
    extra: Markup = search_box_html(profiled) if profiled else Markup("")
    done = sorted(r.edition for r in renders)
    if len(done) >= 2:
        a, b = (_as_published(built[e], data_dir) for e in (done[0], done[-1]))
        name = f"compare_{done[0]}_{done[-1]}.csv"
        table = write_comparison(a, b, reports / name)
        extra = comparison_html(table, name, definition_changes(a, b), (a.method.name, b.method.name)) + extra
    titles = {e: run_settings().editions.spec(e).title or e for e in editions}
    # an edition's name hides its data years: say under each title which years its indicators use
    years = {e: data_years_sentence(built[e]) for e in done if e in built}
    return write_index(reports, renders, [vars(s) for s in sources.load_registry().sources], titles,
                       extra_sections=extra, run_settings=_run_settings(), kept=kept, data_years=years,
                       weights={e: weights_sentence(built[e]) for e in done if e in built})


def _as_published(ed: Edition, data_dir: Path) -> Edition:
    """The index page compares editions as published (their default number of index years),
    whatever --years this run rendered them with."""
    if len(ed.years) == int(ed.run.editions.spec(ed.final_year).years):
        return ed
    return load_edition(ed.final_year, data_dir=data_dir)


def _run_settings() -> dict[str, str]:
    unc = run_settings().uncertainty
    return {"rank ranges": (f"{unc.interval:.0%} ranges from {unc.n_draws} Monte Carlo runs "
                            f"(seed {unc.seed}, so anyone re-running gets the same)"
                            if unc.enabled else "not computed")}


def _print_timings(renders: list[EditionRender], editions: list[str], seconds: float) -> None:
    print(f"rendered {len(renders)} of {len(editions)} edition(s) in {seconds:.1f}s")
    for r in renders:
        for p in r.parts:
            print(f"  {r.edition} {p.part:18s} " + ("  kept" if p.kept else f"{p.seconds_execute + p.seconds_html:6.1f}s"))
