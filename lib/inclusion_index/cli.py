"""Command line: `inclusion-index fetch|verify|load|coverage|score|render`."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from . import __version__
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
    from .sources import load_registry, resolve
    dest = resolve_data_dir(args.data_dir)
    reg = load_registry()
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
            long.to_csv(out, index=False)
        print(f"wrote {out}")
    if args.coverage:
        cov = coverage(long)
        Path(args.coverage).parent.mkdir(parents=True, exist_ok=True)
        cov.to_csv(args.coverage, index=False)
        print(f"wrote {args.coverage}")
    return 0


def cmd_coverage(args: argparse.Namespace) -> int:
    from .harmonise import coverage_matrix, load_inputs
    long = load_inputs(resolve_data_dir(args.data_dir))
    mat = coverage_matrix(long)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        mat.to_csv(args.out)
        print(f"wrote {args.out}")
    else:
        print(mat.to_string())
    return 0


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
