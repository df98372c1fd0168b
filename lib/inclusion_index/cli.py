"""Command line: `inclusion-index fetch|verify|load|coverage|score|compare|render`."""

# Argument parsing only: each command calls one function of pipeline.py with the parsed values.

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from inclusion_index import __version__, pipeline
from inclusion_index.errors import InclusionIndexError


def _add_data_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", metavar="DIR",
                   help="folder holding the raw files (default: $INCLUSION_DATA_DIR or data/raw)")


def cmd_fetch(args: argparse.Namespace) -> int:
    return pipeline.fetch(args.data_dir, mirror=Path(args.mirror) if args.mirror else None,
                          base_url=args.base_url, only=args.only or None)


def cmd_verify(args: argparse.Namespace) -> int:
    return pipeline.verify(args.data_dir)


def cmd_load(args: argparse.Namespace) -> int:
    return pipeline.load(args.data_dir, out=args.out, coverage=args.coverage, use_cache=not args.no_cache)


def cmd_coverage(args: argparse.Namespace) -> int:
    return pipeline.coverage(args.data_dir, out=args.out)


def cmd_score(args: argparse.Namespace) -> int:
    return pipeline.score(args.edition, years=args.years, method=args.method, data_dir=args.data_dir,
                          out=args.out)


def cmd_compare(args: argparse.Namespace) -> int:
    return pipeline.compare(args.from_edition, args.to_edition, data_dir=args.data_dir, out=args.out)


def cmd_render(args: argparse.Namespace) -> int:
    return pipeline.render(args.edition, years=args.years, data_dir=args.data_dir,
                           reports_dir=args.reports_dir, highlight_la=args.highlight_la or "",
                           parts=args.parts, workers=args.workers, profiles=not args.no_profiles,
                           profiles_limit=args.profiles_limit, rerun=args.rerun)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="inclusion-index", description=__doc__)
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    _add_data_commands(sub)
    _add_index_commands(sub)
    _add_render_command(sub)
    return p


def _add_data_commands(sub: argparse._SubParsersAction) -> None:
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


def _add_index_commands(sub: argparse._SubParsersAction) -> None:
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


def _add_render_command(sub: argparse._SubParsersAction) -> None:
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
    r.add_argument("--rerun", action="store_true",
                   help="execute every notebook and profile again, even those whose edition, notebook, "
                        "code and parameters are unchanged since the last render (which are kept by default)")
    r.set_defaults(func=cmd_render)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except InclusionIndexError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
