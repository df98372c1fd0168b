"""Command line: `inclusion-index fetch|verify|load|coverage|score|compare|render`."""

# Argument parsing only: each command's destinations are the keyword names of the one function of
# pipeline.py it calls (set_defaults(run=...)), which main() calls with the parsed values.

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from inclusion_index import __version__, pipeline
from inclusion_index.errors import InclusionIndexError


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="inclusion-index", description=__doc__)
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    data = argparse.ArgumentParser(add_help=False)  # --data-dir, which every command takes
    data.add_argument("--data-dir", metavar="DIR",
                      help="folder holding the raw files (default: $INCLUSION_DATA_DIR or data/raw)")
    f = sub.add_parser("fetch", parents=[data], help="fill the data folder from a mirror folder or by download")
    g = f.add_mutually_exclusive_group(required=True)
    g.add_argument("--mirror", type=Path, metavar="DIR", help="local folder laid out like data/raw (e.g. ../shared/data/raw)")
    g.add_argument("--base-url", metavar="URL", help="HTTP(S) base under which each registry path is served")
    f.add_argument("--only", nargs="*", metavar="ID", help="registry ids to fetch (default: all)")
    f.set_defaults(run=pipeline.fetch)

    v = sub.add_parser("verify", parents=[data], help="check every registered file's sha256")
    v.set_defaults(run=pipeline.verify)

    ld = sub.add_parser("load", parents=[data], help="build the harmonised LA x year x measure table")
    ld.add_argument("--out", metavar="FILE", help="write the table (.csv or .parquet)")
    ld.add_argument("--coverage", metavar="FILE", help="write the coverage report (CSV)")
    ld.add_argument("--no-cache", dest="use_cache", action="store_false", help="re-parse every raw file")
    ld.set_defaults(run=pipeline.load)

    c = sub.add_parser("coverage", parents=[data], help="measure x year x number of LAs with a value")
    c.add_argument("--out", metavar="FILE")
    c.set_defaults(run=pipeline.coverage)

    sc = sub.add_parser("score", parents=[data], help="score an edition and write its table (CSV + Parquet + dictionary)")
    sc.add_argument("--edition", required=True, metavar="YYYYYY",
                    help="final index year as an academic-year key, e.g. 201819")
    sc.add_argument("--years", type=int, default=None, help="number of index years (default 3)")
    sc.add_argument("--method", default=None, help="method in data/registry/methods/ (default per edition)")
    sc.add_argument("--out", metavar="FILE.csv", help="output CSV (Parquet and dictionary are written beside it)")
    sc.set_defaults(run=pipeline.score)
    cp = sub.add_parser("compare", parents=[data], help="each LA's scores and ranks in one edition against another")
    cp.add_argument("--from", dest="from_edition", required=True, metavar="YYYYYY", help="earlier edition, e.g. 201819")
    cp.add_argument("--to", dest="to_edition", required=True, metavar="YYYYYY", help="later edition, e.g. 202425")
    cp.add_argument("--out", metavar="FILE.csv", help="output CSV (default reports/compare_<from>_<to>.csv)")
    cp.set_defaults(run=pipeline.compare)

    r = sub.add_parser("render", parents=[data], help="execute the series notebooks and render HTML into reports/")
    r.add_argument("--edition", dest="editions", nargs="*", metavar="YYYYYY", help="editions (default: editions.yml render list)")
    r.add_argument("--years", type=int, default=None)
    r.add_argument("--highlight-la", default="", metavar="CODE", help="3-digit LA code to mark in every chart")
    r.add_argument("--parts", nargs="*", metavar="PART", help="notebook names, e.g. 02_exclusions (default: all)")
    r.add_argument("--workers", type=int, default=2, help="notebooks run side by side (default 2)")
    r.add_argument("--reports-dir", metavar="DIR", help="output folder (default reports/)")
    r.add_argument("--coverage", metavar="FILE", help="first load every source, as `load --coverage FILE` does")
    r.add_argument("--no-profiles", dest="profiles", action="store_false", help="skip the LA profile pages")
    r.add_argument("--profiles-limit", type=int, default=0, metavar="N",
                   help="render only the first N LA profiles (quick checks)")
    r.add_argument("--rerun", action="store_true",
                   help="execute every notebook and profile again, even those whose edition, notebook, "
                        "code and parameters are unchanged since the last render (which are kept by default)")
    r.set_defaults(run=pipeline.render)
    return p


def main(argv: list[str] | None = None) -> int:
    args = vars(build_parser().parse_args(argv))
    run = args.pop("run")
    del args["command"]
    if args.get("only") == []:  # fetch --only with no ids: every file, as without it
        args["only"] = None
    try:
        return run(**args)
    except InclusionIndexError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
