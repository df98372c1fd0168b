"""A profile page for every LA, straight from Python and Jinja2.

Each page is the profile functions' words, tables and charts (report/profile) in
templates/profile.html: no kernel, no notebook, no nbconvert export. The edition is built once
in the parent and handed to the workers as it is (forked, so not even pickled).
"""

from __future__ import annotations

import multiprocessing
import re
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from markupsafe import Markup
from nbconvert.filters.markdown import markdown2html

from inclusion_index.errors import InclusionIndexError
from inclusion_index.index.build import load_edition, read_edition
from inclusion_index.index.edition import Edition
from inclusion_index.paths import REPORTS_DIR
from inclusion_index.report import profile as S
from inclusion_index.report.render import KEY_FILE, _swap_into_place, kept_render, render_key
from inclusion_index.report.templates import render_template
from inclusion_index.sources.geography import la_aliases, year_label


class ProfileError(InclusionIndexError):
    """Some profiles failed; the message names the LA and the section."""


@dataclass
class ProfileRender:
    edition: str
    pages: int = 0
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)
    kept: bool = False  # unchanged inputs: the last render's pages were kept

    @property
    def seconds_per_page(self) -> float:
        return self.seconds / self.pages if self.pages else float("nan")


def _md(text: str) -> Markup:
    # the words functions write Markdown (names already escaped); the series pages' converter
    return Markup(markdown2html(text))


def profile_page(ed: Edition, code: str, name: str) -> str:
    """One LA's profile page (templates/profile.html) from the profile functions."""
    t = S.indicator_table(ed, code)  # three sections show it: built once per page
    p = {"headline": _md(S.headline(ed, code)), "other_editions": _md(S.other_editions_text(ed, code)),
         "national": S.plot_national(ed, code).svg, "areas": Markup(S.area_view(ed, code).to_html()),
         "context": _md(S.context_text(ed, code)), "neighbour_text": _md(S.neighbour_text(ed, code)),
         "neighbours": Markup(S.neighbour_view(ed, code).to_html()),
         "strengths": _md(S.strengths_and_weaknesses(ed, code, table=t)),
         "indicator_chart": S.plot_indicator_scores(ed, code, table=t).svg,
         "indicators": Markup(S.indicator_view(ed, code, table=t).to_html()), "trend_text": _md(S.trend_text(ed, code)),
         "trend_chart": S.plot_trend(ed, code).svg, "trend": Markup(S.trend_view(ed, code).to_html()),
         "notes": _md(S.notes_text(ed, code))}
    title = f"{name}: SEND inclusion profile, {year_label(ed.final_year)} edition"
    return str(render_template("profile.html", title=title, p=p))


_EDITIONS: dict[str, Edition] = {}  # a worker's editions, set by _init from the parent's


def _init(editions: dict[str, Edition]) -> None:
    _EDITIONS.update(editions)


def profile_pool(editions: dict[str, Edition], workers: int) -> ProcessPoolExecutor:
    """Workers for :func:`start_profiles`, forked now (before any thread or kernel starts), so
    they share the parent's editions as they are; elsewhere each is pickled once per worker."""
    ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else None)
    return ProcessPoolExecutor(max_workers=max(1, workers), mp_context=ctx, initializer=_init, initargs=(editions,))


def _write_pages(codes: list[str], names: dict[str, str], out_dir: str,
                 ed: Edition | str) -> tuple[int, list[str], float]:
    """Write out_dir/<code>.html for each LA; returns (pages written, failures, seconds)."""
    t0 = time.perf_counter()
    ed = _EDITIONS[ed] if isinstance(ed, str) else ed
    written, failures = 0, []
    for code in codes:
        try:
            page = profile_page(ed, code, names.get(code, code))
        except Exception as e:  # name the LA; the others are still written
            failures.append(f"LA {code}: {type(e).__name__}: {str(e).strip().splitlines()[0] if str(e) else ''}")
            continue
        (Path(out_dir) / f"{code}.html").write_text(page, encoding="utf-8")
        written += 1
    return written, failures, time.perf_counter() - t0


def render_profiles(edition: str, la_table: list[tuple[str, str]], *, years: int,
                    data_dir: Path | None = None, out_dir: Path | None = None, workers: int = 2,
                    log: Callable[[str], None] = print, edition_file: Path | None = None,
                    rerun: bool = False, ed: Edition | None = None) -> ProfileRender:
    """Render reports/<edition>/la/<la_code>.html for every (code, name) in la_table (:func:`start_profiles`)."""
    return start_profiles(edition, la_table, years=years, data_dir=data_dir, out_dir=out_dir, workers=workers,
                          log=log, edition_file=edition_file, rerun=rerun, ed=ed)()


def start_profiles(edition: str, la_table: list[tuple[str, str]], *, years: int, data_dir: Path | None = None,
                   out_dir: Path | None = None, workers: int = 2, log: Callable[[str], None] = print,
                   edition_file: Path | None = None, rerun: bool = False, ed: Edition | None = None,
                   pool: ProcessPoolExecutor | None = None, staging: Path | None = None) -> Callable[..., ProfileRender]:
    """Queue the pages in ``pool`` (:func:`profile_pool`, holding ``ed`` as ``edition``) or a pool of
    its own; returns the function that waits for them and swaps them into place (``keep=False``:
    throws them away). ``ed``: the built edition (else read from ``edition_file``, else looked up).
    The pages are kept, not rendered, when the render key (edition, code, parameters, LAs) matches
    the last render's, unless ``rerun``; they are swapped in only if every LA succeeded. ``staging``:
    where they are written meanwhile (default beside out_dir)."""
    final = Path(out_dir) if out_dir else REPORTS_DIR / edition / "la"
    key = render_key(edition_file, {"edition": edition, "years": years, "data_dir": str(data_dir or ""),
                                    "las": la_table}, [])
    if not rerun and kept_render(final, key, [f"{c}.html" for c, _ in la_table]):
        return lambda keep=True: log(f"  {len(la_table)} profiles for {edition} unchanged since the last "
                                     "render: kept") or ProfileRender(edition, pages=len(la_table), kept=True)
    if ed is None:
        ed = read_edition(edition_file) if edition_file else load_edition(edition, years=years, data_dir=data_dir)
    staging = staging or final.with_name(f".staging-la-{edition}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    names = dict(la_table)
    codes = [c for c, _ in la_table]
    workers = max(1, min(workers, len(codes)))
    own = pool is None and workers > 1
    pool = profile_pool({edition: ed}, workers) if own else pool
    # chunks of 10 pages, so workers that share the cores with notebook kernels stay balanced
    futures = [pool.submit(_write_pages, codes[i:i + 10], names, str(staging), edition)
               for i in range(0, len(codes), 10)] if pool else []

    def finish(keep: bool = True) -> ProfileRender:
        res = ProfileRender(edition)
        try:
            outs = [f.result() for f in futures] if pool else [_write_pages(codes, names, str(staging), ed)]
        finally:
            if own:
                pool.shutdown()
        for written, failures, seconds in outs:
            res.pages += written
            res.failures += failures
            res.seconds += seconds / workers
        if not keep:
            shutil.rmtree(staging, ignore_errors=True)
            return res
        (staging / "index.html").write_text(profile_index(edition, la_table), encoding="utf-8")
        if key:
            (staging / KEY_FILE).write_text(key)
        if res.failures:
            raise ProfileError(f"edition {edition}: {len(res.failures)} profile(s) failed, e.g. {res.failures[0]} "
                               "(previous profiles kept)")
        final.parent.mkdir(parents=True, exist_ok=True)
        _swap_into_place(staging, final, parts_only=False)
        log(f"  {res.pages} profiles for {edition} in {res.seconds:.1f}s "
            f"({res.seconds_per_page:.3f}s per page, {workers} worker(s))")
        return res
    return finish


def profile_index(edition: str, la_table: list[tuple[str, str]]) -> Markup:
    return render_template("profile_index.html", title=f"LA profiles, {year_label(edition)} edition",
                           edition=year_label(edition),
                           las=sorted(la_table, key=lambda x: x[1]))


def search_key(name: str, code: str, aliases: list[str] | tuple[str, ...] = ()) -> str:
    """What the index page's search matches: the name and its aliases without punctuation ("St.
    Helens" is found by "st helens" and "saint helens", "&" by "and", "Stoke-on-Trent" by "stoke
    on trent"), then the 3-digit code. templates/search.js normalises the query the same way and
    also compares both without spaces ("southend on sea" finds "Southend-on-Sea")."""
    def norm(s: str) -> str:
        s = re.sub(r"[^a-z0-9 ]", "", s.lower().replace("&", " and ").replace("-", " "))
        return " ".join("st" if w == "saint" else w for w in s.split())
    return " ".join([norm(name), *(norm(a) for a in aliases), code])


def search_box_html(editions: dict[str, list[tuple[str, str]]]) -> Markup:
    """A section for reports/index.html: every LA once, with a link to its profile in each edition
    that has one, filtered by name, alias or code as you type (templates/search.js, inlined so
    the page stays self-contained)."""
    aliases = la_aliases()
    by_code: dict[str, dict] = {}
    for ed in sorted(editions):
        for code, name in editions[ed]:
            la = by_code.setdefault(code, {"code": code, "editions": []})
            la["name"] = name  # the latest edition's name
            la["editions"].append({"edition": ed, "label": year_label(ed)})
    las = sorted(by_code.values(), key=lambda la: la["name"])
    for la in las:
        la["key"] = search_key(la["name"], la["code"], aliases.get(la["code"], []))
    return render_template("search.html", las=las)
