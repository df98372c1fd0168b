"""Command line: `inclusion-index fetch|verify|load|coverage|score|render`."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from . import __version__
from .csv_export import write_csv
from .errors import InclusionIndexError
from .paths import data_dir as resolve_data_dir


def _add_data_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", metavar="DIR",
                   help="folder holding the raw files (default: $INCLUSION_DATA_DIR or data/raw)")


def cmd_fetch(args: argparse.Namespace) -> int:
    from .sources import fetch
    dest = resolve_data_dir(args.data_dir)
    files = fetch(dest, mirror=Path(args.mirror) if args.mirror else None, base_url=args.base_url,
                  only=args.only or None)
    print(f"{len(files)} file(s) present and verified in {dest}")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from .loaders import check_registry
    from .sources import load_registry, resolve
    dest = resolve_data_dir(args.data_dir)
    reg = load_registry()
    check_registry(reg)
    for s in reg.sources:
        resolve(s, dest, verify=True)
        print(f"ok  {s.path}")
    print(f"{len(reg.sources)} file(s) match the registry")
    return 0


def cmd_load(args: argparse.Namespace) -> int:
    from .harmonise import LoadReport, coverage, load_inputs
    dest = resolve_data_dir(args.data_dir)
    rep = LoadReport()
    t0 = time.perf_counter()
    long = load_inputs(dest, use_cache=not args.no_cache, report=rep, log=print)
    print(f"{len(long):,d} rows, {long['measure'].nunique()} measures in {time.perf_counter() - t0:.2f}s")
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.suffix == ".parquet":
            long.to_parquet(out, index=False)
        else:
            write_csv(long, out)
        print(f"wrote {out}")
    if args.coverage:
        cov = coverage(long)
        Path(args.coverage).parent.mkdir(parents=True, exist_ok=True)
        write_csv(cov, args.coverage)
        print(f"wrote {args.coverage}")
    return 0


def cmd_coverage(args: argparse.Namespace) -> int:
    from .harmonise import coverage_matrix, load_inputs
    long = load_inputs(resolve_data_dir(args.data_dir))
    mat = coverage_matrix(long)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        write_csv(mat, args.out, index=True)
        print(f"wrote {args.out}")
    else:
        print(mat.to_string())
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    from .build import build_edition
    from .editions import write_score_table
    from .notes import score_table_text
    dest = resolve_data_dir(args.data_dir)
    t0 = time.perf_counter()
    ed = build_edition(args.edition, years=args.years, method=args.method, data_dir=dest)
    out = Path(args.out or f"reports/{args.edition}/scores_{args.edition}.csv")
    written = write_score_table(ed, out, score_table_text(ed))
    head = ed.headline().scores
    print(f"edition {ed.final_year} ({ed.run.editions.spec(ed.final_year).title or ed.method.name}): "
          f"index years {', '.join(ed.years)}; {int(head['scored'].sum())} of {len(head)} LAs scored "
          f"in {time.perf_counter() - t0:.2f}s")
    for p in written:
        print(f"wrote {p}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from .build import load_edition
    from .comparison import comparison_summary, definition_changes, write_comparison
    dest = resolve_data_dir(args.data_dir)
    a, b = load_edition(args.from_edition, data_dir=dest), load_edition(args.to_edition, data_dir=dest)
    out = Path(args.out or f"reports/compare_{args.from_edition}_{args.to_edition}.csv")
    table = write_comparison(a, b, out)
    s = comparison_summary(table)
    print(f"{s['las_compared']} LAs in both editions: {s['up_beyond_uncertainty']} moved up and "
          f"{s['down_beyond_uncertainty']} down with 90% rank ranges apart; median |score change| "
          f"{s['median_abs_score_change']:.1f}; {s['las_via_predecessor']} more compared with a predecessor")
    for c in definition_changes(a, b):
        print(f"  measured differently: {c['name']} ({c['from']} -> {c['to']})")
    print(f"wrote {out}")
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    from .build import load_edition
    from .config import run_settings
    from .editions import write_score_table
    from .notes import score_table_text
    from .paths import REPORTS_DIR
    from .render import RenderError, render_edition, write_index
    from .sources import load_registry

    dest = resolve_data_dir(args.data_dir)
    editions = args.edition or list(run_settings().editions.render)
    reports = Path(args.reports_dir) if args.reports_dir else REPORTS_DIR
    renders, failures = [], []
    kept: dict[str, str] = {}
    t_all = time.perf_counter()
    for e in editions:
        print(f"== edition {e}")

        def extra(staging: Path, e: str = e) -> None:
            ed = load_edition(e, years=args.years, data_dir=dest)
            write_score_table(ed, staging / f"scores_{e}.csv", score_table_text(ed))
            try:
                from .series import findings_markdown
            except ImportError:
                return
            (staging / "findings.md").write_text(findings_markdown(ed), encoding="utf-8")

        # build (or load) the edition once here so the notebooks' kernels all hit the disk cache
        # instead of racing to build it side by side
        t0 = time.perf_counter()
        load_edition(e, years=args.years, data_dir=dest)
        print(f"  edition {e} ready in {time.perf_counter() - t0:.1f}s")
        try:
            renders.append(render_edition(e, years=args.years, data_dir=dest if args.data_dir else None,
                                          reports_dir=reports, highlight_la=args.highlight_la or "",
                                          parts=args.parts, workers=args.workers, extra=extra))
        except RenderError as err:
            failures.append(str(err))
            kept[e] = str(err)
            print(f"error: {err}", file=sys.stderr)
    profiled: dict[str, list[tuple[str, str]]] = {}
    if not args.no_profiles:
        from .build import load_edition
        from .profiles import ProfileError, render_profiles
        for r in renders:
            ed = load_edition(r.edition, years=args.years, data_dir=dest)
            las = list(zip(ed.geography["la_code"], ed.geography["la_name"], strict=True))
            if args.profiles_limit:
                las = las[: args.profiles_limit]
            print(f"== LA profiles {r.edition}")
            try:
                render_profiles(r.edition, las, years=len(ed.years),
                                data_dir=dest if args.data_dir else None,
                                out_dir=reports / r.edition / "la", workers=args.workers)
                profiled[r.edition] = las
            except ProfileError as err:
                failures.append(str(err))
                print(f"error: {err}", file=sys.stderr)
    if renders:
        from .profiles import search_box_html
        titles = {e: run_settings().editions.spec(e).title or e for e in editions}
        sources = [vars(s) for s in load_registry().sources]
        unc = run_settings().uncertainty
        settings_text = {"rank ranges": (f"{unc.interval:.0%} ranges from {unc.n_draws} Monte Carlo runs "
                                        f"(seed {unc.seed}, so anyone re-running gets the same)"
                                        if unc.enabled else "not computed")}
        extra_sections = search_box_html(profiled) if profiled else ""
        done = sorted(r.edition for r in renders)
        if len(done) >= 2:
            from .comparison import definition_changes, write_comparison
            from .render import comparison_html
            first, last = done[0], done[-1]
            a, b = load_edition(first, data_dir=dest), load_edition(last, data_dir=dest)
            table = write_comparison(a, b, reports / f"compare_{first}_{last}.csv")
            extra_sections = comparison_html(table, f"compare_{first}_{last}.csv", definition_changes(a, b),
                                             (a.method.name, b.method.name)) + extra_sections
        index = write_index(reports, renders, sources, titles, extra_sections=extra_sections,
                            run_settings=settings_text, kept=kept)
        print(f"wrote {index}")
    total = time.perf_counter() - t_all
    print(f"rendered {len(renders)} of {len(editions)} edition(s) in {total:.1f}s")
    for r in renders:
        for p in r.parts:
            print(f"  {r.edition} {p.part:18s} {p.seconds_execute + p.seconds_html:6.1f}s")
    return 1 if failures else 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="inclusion-index", description=__doc__)
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    f = sub.add_parser("fetch", help="fill the data folder from a mirror folder or by download")
    _add_data_dir(f)
    g = f.add_mutually_exclusive_group(required=True)
    g.add_argument("--mirror", metavar="DIR", help="local folder laid out like data/raw (e.g. ../shared/data/raw)")
    g.add_argument("--base-url", metavar="URL", help="HTTP(S) base under which each registry path is served")
    f.add_argument("--only", nargs="*", metavar="ID", help="registry ids to fetch (default: all)")
    f.set_defaults(func=cmd_fetch)

    v = sub.add_parser("verify", help="check every registered file's sha256")
    _add_data_dir(v)
    v.set_defaults(func=cmd_verify)

    ld = sub.add_parser("load", help="build the harmonised LA x year x measure table")
    _add_data_dir(ld)
    ld.add_argument("--out", metavar="FILE", help="write the table (.csv or .parquet)")
    ld.add_argument("--coverage", metavar="FILE", help="write the coverage report (CSV)")
    ld.add_argument("--no-cache", action="store_true", help="re-parse every raw file")
    ld.set_defaults(func=cmd_load)

    c = sub.add_parser("coverage", help="measure x year x number of LAs with a value")
    _add_data_dir(c)
    c.add_argument("--out", metavar="FILE")
    c.set_defaults(func=cmd_coverage)
    sc = sub.add_parser("score", help="score an edition and write its table (CSV + Parquet + dictionary)")
    _add_data_dir(sc)
    sc.add_argument("--edition", required=True, metavar="YYYYYY",
                    help="final index year as an academic-year key, e.g. 201819")
    sc.add_argument("--years", type=int, default=None, help="number of index years (default 3)")
    sc.add_argument("--method", default=None, help="method in data/registry/methods/ (default per edition)")
    sc.add_argument("--out", metavar="FILE.csv", help="output CSV (Parquet and dictionary are written beside it)")
    sc.set_defaults(func=cmd_score)
    cp = sub.add_parser("compare", help="each LA's scores and ranks in one edition against another")
    _add_data_dir(cp)
    cp.add_argument("--from", dest="from_edition", required=True, metavar="YYYYYY", help="earlier edition, e.g. 201819")
    cp.add_argument("--to", dest="to_edition", required=True, metavar="YYYYYY", help="later edition, e.g. 202425")
    cp.add_argument("--out", metavar="FILE.csv", help="output CSV (default reports/compare_<from>_<to>.csv)")
    cp.set_defaults(func=cmd_compare)
    r = sub.add_parser("render", help="execute the series notebooks and render HTML into reports/")
    _add_data_dir(r)
    r.add_argument("--edition", nargs="*", metavar="YYYYYY", help="editions (default: editions.yml render list)")
    r.add_argument("--years", type=int, default=None)
    r.add_argument("--highlight-la", metavar="CODE", help="3-digit LA code to mark in every chart")
    r.add_argument("--parts", nargs="*", metavar="PART", help="notebook names, e.g. 02_exclusions (default: all)")
    r.add_argument("--workers", type=int, default=2, help="notebooks run side by side (default 2)")
    r.add_argument("--reports-dir", metavar="DIR", help="output folder (default reports/)")
    r.add_argument("--no-profiles", action="store_true", help="skip the LA profile pages")
    r.add_argument("--profiles-limit", type=int, default=0, metavar="N",
                   help="render only the first N LA profiles (quick checks)")
    r.set_defaults(func=cmd_render)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except InclusionIndexError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
