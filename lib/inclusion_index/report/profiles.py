"""A profile page for every LA, rendered fast.

Running papermill once per LA starts a cold kernel, imports pandas and matplotlib and builds
the edition again for each of ~150 pages. Here each worker process starts one kernel, runs the
notebook's `setup` cells once (imports, the edition), then for each LA sets `la_code` and runs
only the per-LA cells, and exports the page with nbconvert's light "basic" template.
"""

from __future__ import annotations

import copy
import re
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from markupsafe import Markup

from inclusion_index.errors import InclusionIndexError
from inclusion_index.paths import NOTEBOOKS_DIR, REPORTS_DIR
from inclusion_index.report.render import (
    KERNEL,
    KEY_FILE,
    _with_alt_text,
    kept_render,
    kernel_manager_class,
    render_key,
)
from inclusion_index.report.templates import render_template
from inclusion_index.sources.geography import la_aliases, year_label

PROFILE_NOTEBOOK = "la_profile"


class ProfileError(InclusionIndexError):
    """Some profiles failed; the message names the LA and the cell."""


@dataclass
class ProfileRender:
    edition: str
    pages: int = 0
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)
    per_worker_setup: list[float] = field(default_factory=list)
    kept: bool = False  # unchanged inputs: the last render's pages were kept

    @property
    def seconds_per_page(self) -> float:
        return self.seconds / self.pages if self.pages else float("nan")


def _tags(cell) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def _strip_stderr(nb) -> None:
    """Drop stderr and give every PNG that carries alt text in its metadata an <img alt>, as
    render.to_html does: the basic template, like the lab one, would otherwise describe it as
    "No description has been provided for this image"."""
    for cell in nb.cells:
        if "outputs" in cell:
            cell["outputs"] = [_with_alt_text(o) for o in cell["outputs"]
                               if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]


def _page(nb, exporter, title: str) -> str:
    _strip_stderr(nb)
    body, _ = exporter.from_notebook_node(nb)
    return render_template("profile.html", title=title, body=Markup(body))  # nbconvert's HTML, kept as is


def _worker(args: tuple) -> tuple[list[tuple[str, str]], list[str], float]:
    """Render a chunk of LAs in one kernel. Returns (written, failures, setup seconds)."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from nbconvert import HTMLExporter

    template_path, params, codes, out_dir, names = args
    template = nbformat.read(template_path, as_version=4)
    exporter = HTMLExporter(template_name="basic")
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    assign = "\n".join(f"{k} = {v!r}" for k, v in params.items())
    setup_nb = copy.deepcopy(template)
    client = NotebookClient(setup_nb, kernel_name=KERNEL, timeout=600, allow_errors=False,
                            resources={"metadata": {"path": str(out_dir)}},
                            kernel_manager_class=kernel_manager_class())
    written, failures = [], []
    t0 = time.perf_counter()
    with client.setup_kernel():
        client.execute_cell(nbformat.v4.new_code_cell(assign), 0)
        for i, cell in enumerate(setup_nb.cells):
            if cell.cell_type == "code" and "setup" in _tags(cell):
                client.execute_cell(cell, i)
        setup_s = time.perf_counter() - t0
        for code in codes:
            nb = copy.deepcopy(template)
            client.nb = nb
            try:
                client.execute_cell(nbformat.v4.new_code_cell(f"la_code = {code!r}"), 0)
                for i, cell in enumerate(nb.cells):
                    if cell.cell_type != "code" or _tags(cell) & {"setup", "parameters"}:
                        if cell.cell_type == "code":
                            cell.outputs = []
                        continue
                    client.execute_cell(cell, i)
            except CellExecutionError as e:
                first = str(e).strip().splitlines()
                failures.append(f"LA {code}, cell {i}: {first[-1] if first else e}")
                continue
            page = _page(nb, exporter, f"{names.get(code, code)}: SEND inclusion profile, "
                                       f"{year_label(params['final_year'])} edition")
            dest = Path(out_dir) / f"{code}.html"
            dest.write_text(page, encoding="utf-8")
            written.append((code, str(dest)))
    return written, failures, setup_s


def render_profiles(edition: str, la_table: list[tuple[str, str]], *, years: int,
                    data_dir: Path | None = None, out_dir: Path | None = None, workers: int = 2,
                    notebooks_dir: Path = NOTEBOOKS_DIR, log: Callable[[str], None] = print,
                    edition_file: Path | None = None, rerun: bool = False) -> ProfileRender:
    """Render reports/<edition>/la/<la_code>.html for every (code, name) in la_table.

    Pages are written to a staging folder and moved into place only if every LA succeeded. When
    the render key (the edition, notebook, code, parameters and LAs) matches the last render's,
    its pages are kept unless ``rerun``.
    """
    final = Path(out_dir) if out_dir else REPORTS_DIR / edition / "la"
    template = notebooks_dir / f"{PROFILE_NOTEBOOK}.ipynb"
    key = render_key(edition_file, {"edition": edition, "years": years, "data_dir": str(data_dir or ""),
                                    "las": la_table}, [template])
    if not rerun and kept_render(final, key, [f"{c}.html" for c, _ in la_table]):
        log(f"  {len(la_table)} profiles for {edition} unchanged since the last render: kept")
        return ProfileRender(edition, pages=len(la_table), kept=True)
    staging = final.with_name(f".staging-la-{edition}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    params = {"final_year": str(edition), "n_years": int(years),
              "data_dir": str(data_dir) if data_dir else "", "output_dir": str(staging),
              "edition_file": str(edition_file or "")}
    names = dict(la_table)
    codes = [c for c, _ in la_table]
    workers = max(1, min(workers, len(codes)))
    chunks = [codes[i::workers] for i in range(workers)]
    res = ProfileRender(edition)
    t0 = time.perf_counter()
    jobs = [(str(template), params, ch, str(staging), names) for ch in chunks if ch]
    if len(jobs) == 1:
        outs = [_worker(jobs[0])]
    else:
        with ProcessPoolExecutor(max_workers=len(jobs)) as pool:
            outs = list(pool.map(_worker, jobs))
    for written, failures, setup_s in outs:
        res.pages += len(written)
        res.failures += failures
        res.per_worker_setup.append(setup_s)
    res.seconds = time.perf_counter() - t0
    (staging / "index.html").write_text(profile_index(edition, la_table), encoding="utf-8")
    if key:
        (staging / KEY_FILE).write_text(key)
    if res.failures:
        raise ProfileError(f"edition {edition}: {len(res.failures)} profile(s) failed, e.g. {res.failures[0]} "
                           "(previous profiles kept)")
    old = final.with_name(f".old-la-{edition}")
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    staging.rename(final)
    shutil.rmtree(old, ignore_errors=True)
    log(f"  {res.pages} profiles for {edition} in {res.seconds:.1f}s "
        f"({res.seconds_per_page:.2f}s per page, {workers} worker(s))")
    return res


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


def naive_seconds_per_profile(edition: str, la_code: str, *, years: int, data_dir: Path | None,
                              notebooks_dir: Path = NOTEBOOKS_DIR) -> float:
    """Baseline for benchmarks: papermill + nbconvert for one LA from a cold kernel."""
    import tempfile

    import papermill as pm
    from nbconvert import HTMLExporter

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        out = Path(tmp) / "p.ipynb"
        pm.execute_notebook(str(notebooks_dir / f"{PROFILE_NOTEBOOK}.ipynb"), str(out), kernel_name=KERNEL,
                            parameters={"final_year": edition, "n_years": years, "la_code": la_code,
                                        "data_dir": str(data_dir) if data_dir else "", "output_dir": tmp},
                            progress_bar=False, cwd=tmp)
        HTMLExporter().from_filename(str(out))
        return time.perf_counter() - t0
