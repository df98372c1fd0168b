"""Execute the series notebooks with papermill and render them to HTML with nbconvert.

A run builds each edition in a staging folder and swaps it into reports/<edition>/ only when
every part succeeded, so a failed notebook never replaces the last good report.
"""

from __future__ import annotations

import atexit
import datetime as dt
import functools
import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from markupsafe import Markup

from inclusion_index import __version__
from inclusion_index.config import run_settings
from inclusion_index.errors import InclusionIndexError
from inclusion_index.index.comparison import comparison_summary
from inclusion_index.paths import NOTEBOOKS_DIR, PROJECT_DIR, REPORTS_DIR
from inclusion_index.report.templates import render_template
from inclusion_index.sources.geography import year_label

PARTS: list[tuple[str, str]] = [
    ("01_introduction", "1. Introduction: the index and the headline ranking"),
    ("02_exclusions", "2. Exclusions"),
    ("03_assessment", "3. Assessment"),
    ("04_placement", "4. Placement"),
    ("05_attainment", "5. Attainment and NEET"),
    ("06_conclusions", "6. Conclusions"),
]
KERNEL = "python3"
NBCONVERT_TEMPLATES = Path(__file__).parent / "templates" / "nbconvert"  # the lab page without CDN scripts
KEY_FILE = ".render-key"  # beside the pages: the render_key they were made from


def kernel_manager_class() -> type:
    """Kernels talk over local IPC sockets, not TCP: nothing listens on the network, and the
    kernel does not print its "running over TCP without encryption" warning into every run."""
    from jupyter_client.manager import AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):
        def __init__(self, *args, **kwargs) -> None:
            kwargs.setdefault("transport", "ipc")
            # each kernel's socket files in a folder of its own under the system temp dir, so
            # parallel kernels cannot collide and nothing is written into the working directory
            folder = tempfile.mkdtemp(prefix="inclusion-kernel-")
            atexit.register(shutil.rmtree, folder, ignore_errors=True)
            kwargs.setdefault("ip", os.path.join(folder, "kernel"))
            super().__init__(*args, **kwargs)

        async def _async_interrupt_kernel(self) -> None:
            # jupyter_client interrupts before every shutdown; our kernels are idle by then, and
            # the interrupt only makes ipykernel log "KeyboardInterrupt caught in kernel"
            if self.shutting_down:
                return
            await super()._async_interrupt_kernel()

    return IPCKernelManager


class RenderError(InclusionIndexError):
    """One or more notebooks failed; the message names each notebook and cell."""


@dataclass
class PartResult:
    part: str
    title: str
    seconds_execute: float = 0.0
    seconds_html: float = 0.0
    error: str | None = None
    kept: bool = False  # unchanged inputs: the last render's page was kept, nothing executed

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class EditionRender:
    edition: str
    parameters: dict
    parts: list[PartResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(p.ok for p in self.parts)


def describe_failure(nb_name: str, exc: BaseException) -> str:
    """'02_exclusions, cell 7: KeyError: ...' from a papermill error, or the exception text."""
    cell = getattr(exc, "exec_count", None) or getattr(exc, "cell_index", None)
    ename = getattr(exc, "ename", type(exc).__name__)
    evalue = getattr(exc, "evalue", str(exc))
    where = f"cell {cell}" if cell is not None else "before execution"
    return f"{nb_name}, {where}: {ename}: {str(evalue).strip().splitlines()[0] if evalue else ''}"


def render_key(edition_file: Path | None, parameters: dict, notebooks: list[Path]) -> str | None:
    """A digest of everything a rendered page depends on: the built edition (its file is named by
    a digest of the code, registry, raw files and settings), the notebooks, every file of the
    package (code and templates), the parameters and the libraries that draw and convert.

    Same key, same pages: a run keeps the last render's pages instead of executing the notebooks
    again, as make would. None without an edition file (the kernels then build it themselves).
    """
    if not edition_file:
        return None
    h = hashlib.sha256(f"{Path(edition_file).name}|{json.dumps(parameters, sort_keys=True, default=str)}".encode())
    package = Path(__file__).resolve().parents[1]
    files = sorted(p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    for p in [*notebooks, *files]:
        h.update(p.name.encode())
        h.update(p.read_bytes())
    for dist in ("matplotlib", "nbconvert", "pandas", "seaborn", "Jinja2"):
        h.update(importlib.metadata.version(dist).encode())
    return h.hexdigest()[:20]


def kept_render(folder: Path, key: str | None, pages: list[str]) -> bool:
    """True when folder holds every page and was rendered from the same key."""
    marker = folder / KEY_FILE
    return bool(key) and marker.is_file() and marker.read_text().strip() == key \
        and all((folder / p).is_file() for p in pages)


def execute_part(part: str, parameters: dict, out_dir: Path, notebooks_dir: Path = NOTEBOOKS_DIR,
                 km: object | None = None) -> Path:
    """Run one notebook with typed parameters (the Python API keeps '201819' a string) in ``km``'s
    kernel, cleared and put in out_dir by :func:`_fresh_kernel` (else in one of its own). Only the
    kernel changes directory: papermill's ``cwd=`` would chdir this process, under other threads."""
    import papermill as pm
    from jupyter_core.utils import run_sync

    src = notebooks_dir / f"{part}.ipynb"
    nb_dir = out_dir / "notebooks"
    nb_dir.mkdir(parents=True, exist_ok=True)
    out = nb_dir / f"{part}.ipynb"
    own = km is None
    km = km or _fresh_kernel(None, out_dir)
    try:
        pm.execute_notebook(str(src), str(out), parameters=parameters, kernel_name=KERNEL, language="python",
                            progress_bar=False, log_output=False, request_save_on_cell_execute=False, km=km)
    finally:
        if own:
            run_sync(km.shutdown_kernel)(now=True)
    return out


# A kept kernel between notebooks: the namespace, history and cell count of a new session (so
# error messages name the notebook's own cell numbers) and the notebook's folder as working
# directory; imported modules stay, which is what keeping the kernel saves (~3 s CPU each).
_RESET = "get_ipython().reset(new_session=True)\n__import__('os').chdir({cwd!r})\nget_ipython().execution_count = 1"


_SLOWEST_FIRST = ("05_attainment", "02_exclusions", "06_conclusions", "04_placement", "01_introduction", "03_assessment")


def _fresh_kernel(km: object | None, cwd: Path) -> object:
    """``km`` with its kernel cleared for the next notebook, or a new manager with its kernel
    started in ``cwd`` when there is none or the old kernel died."""
    from jupyter_core.utils import run_sync
    from nbclient import NotebookClient

    if km is not None:
        try:
            NotebookClient(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(_RESET.format(cwd=str(cwd)))]),
                           km=km, timeout=60).execute()
            return km
        except Exception:  # a dead or stuck kernel: replace it
            run_sync(km.shutdown_kernel)(now=True)
    km = kernel_manager_class()(kernel_name=KERNEL)
    run_sync(km.start_kernel)(cwd=str(cwd))
    return km


def _run_in_kernels(tasks: list, run: Callable[[object, object | None], object], workers: int) -> None:
    """``km = run(task, km)`` for every task, ``workers`` at a time; each worker keeps one kernel
    for all its notebooks, whatever their edition, instead of starting one per notebook."""
    from jupyter_core.utils import run_sync

    queue = tasks[::-1]

    def worker() -> None:
        km = None
        try:
            while True:
                try:
                    task = queue.pop()  # atomic: two workers never take the same task
                except IndexError:
                    return
                km = run(task, km)
        finally:
            if km is not None and km.has_kernel:
                run_sync(km.shutdown_kernel)()

    n = max(1, min(workers, len(tasks)))
    with ThreadPoolExecutor(max_workers=n) as pool:
        for f in [pool.submit(worker) for _ in range(n)]:
            f.result()


def notebook_errors(nb: nbformat.NotebookNode) -> list[str]:
    """Error outputs left in an executed notebook (there should be none)."""
    return [f"cell {i}: {o.get('ename')}: {o.get('evalue')}" for i, cell in enumerate(nb.cells)
            for o in cell.get("outputs", []) if o.get("output_type") == "error"]


@functools.cache
def _exporter(_thread: int) -> object:
    """One HTML exporter per thread, reused: a new one compiles its templates again (~0.1 s)."""
    from nbconvert import HTMLExporter

    return HTMLExporter(template_name="selfcontained", extra_template_basedirs=[str(NBCONVERT_TEMPLATES)],
                        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)


def to_html(nb_path: Path, html_path: Path, title: str, nav: Markup) -> None:
    """HTML with code hidden; stderr streams (warnings) dropped from the page."""
    nb = nbformat.read(nb_path, as_version=4)
    for cell in nb.cells:
        if "outputs" in cell:
            cell["outputs"] = [_with_alt_text(o) for o in cell["outputs"]
                               if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
    # the nbconvert template puts resources["nav"] at the top of <body>
    body, _ = _exporter(threading.get_ident()).from_notebook_node(nb, resources={"metadata": {"name": title}, "nav": nav})
    html_path.write_text(body, encoding="utf-8")


def _with_alt_text(output: dict) -> dict:
    """A PNG output that carries alt text in its metadata (plotting.SavedFigure) becomes an HTML
    <img> with that alt text: nbconvert's lab template ignores the metadata and would write
    "No description has been provided for this image" for screen readers."""
    data = output.get("data") or {}
    meta = (output.get("metadata") or {}).get("image/png") or output.get("metadata") or {}
    if "image/png" not in data or not meta.get("alt") or "text/html" in data:
        return output
    png = data["image/png"]
    png = "".join(png) if isinstance(png, list) else png
    out = dict(output)
    # a saved chart also links the data behind it and its SVG (relative to the part's page)
    # the chart's id ("fig-<file stem>") is the anchor findings.csv links to
    csv = meta.get("csv")
    anchor = f"fig-{Path(str(csv)).stem}" if csv else ""
    out["data"] = {"text/html": str(render_template("img.html", png=png.strip(), alt=str(meta["alt"]),
                                                    csv=csv, svg=meta.get("svg"), anchor=anchor,
                                                    key=meta.get("key")))}
    return out


def nav_html(edition: str, current: str | None = None) -> Markup:
    """The series bar at the top of each part's page: every part, the current one not a link."""
    return render_template("nav.html", edition_label=year_label(edition), current=current,
                           parts=[(part, title.split(":")[0]) for part, title in PARTS])


def render_edition(edition: str, *, extra: Callable[[Path], None] | None = None,
                   edition_file: Path | None = None, **kw) -> EditionRender:
    """Render one edition into reports_dir/<edition>/, all parts or none (:func:`render_editions`)."""
    out = render_editions({edition: edition_file}, extras={edition: extra} if extra else None, **kw)[edition]
    if isinstance(out, RenderError):
        raise out
    return out


def render_editions(edition_files: dict[str, Path | None], *, years: int | None = None,
                    data_dir: Path | None = None, reports_dir: Path = REPORTS_DIR, highlight_la: str = "",
                    parts: list[str] | None = None, workers: int = 2,
                    extras: dict[str, Callable[[Path], None]] | None = None, notebooks_dir: Path = NOTEBOOKS_DIR,
                    log: Callable[[str], None] = print, rerun: bool = False) -> dict[str, EditionRender | RenderError]:
    """Render each edition into reports_dir/<edition>/, all parts or none (else the RenderError
    that kept its last report), every notebook in one pool of ``workers`` kept kernels.

    ``edition_files``: each finished edition (index.build.edition_file), which the kernels only
    read. ``extras[edition](staging)`` writes other outputs (scores, findings) beside the pages.
    A full render whose :func:`render_key` matches the last one keeps its pages unless ``rerun``.
    """
    done: dict[str, EditionRender | RenderError] = {}
    todo: list[tuple[EditionRender, Path, str | None, dict]] = []
    for edition, edition_file in edition_files.items():
        n_years = int(years or run_settings().editions.spec(edition).years)
        params = {"final_year": str(edition), "n_years": n_years,
                  "data_dir": str(data_dir) if data_dir else "", "output_dir": ".",
                  "highlight_la": str(highlight_la or "")}
        chosen = [(p, t) for p, t in PARTS if not parts or p in parts]
        key = render_key(edition_file, params, [notebooks_dir / f"{p}.ipynb" for p, _ in PARTS])
        if not (rerun or parts) and kept_render(reports_dir / edition, key, [f"{p}.html" for p, _ in PARTS]):
            log(f"  {edition}: edition, notebooks, code and parameters unchanged since the last render; "
                f"its pages are kept (--rerun executes them again)")
            done[edition] = EditionRender(edition, params, [PartResult(p, t, kept=True) for p, t in chosen])
            continue
        staging = reports_dir / f".staging-{edition}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        todo.append((EditionRender(edition, params, [PartResult(p, t) for p, t in chosen]), staging, key,
                     {**params, "edition_file": str(edition_file or "")}))

    def run(task: tuple[EditionRender, Path, PartResult, dict], km: object | None) -> object | None:
        result, staging, r, kernel_params = task
        t0 = time.perf_counter()
        try:
            km = _fresh_kernel(km, staging)
            nb_path = execute_part(r.part, kernel_params, staging, notebooks_dir, km=km)
            r.seconds_execute = time.perf_counter() - t0
            errs = notebook_errors(nbformat.read(nb_path, as_version=4))
            if errs:
                raise RenderError(f"{r.part}, {errs[0]}")
            t1 = time.perf_counter()
            to_html(nb_path, staging / f"{r.part}.html", f"{r.title} ({year_label(result.edition)})",
                    nav_html(result.edition, r.part))
            r.seconds_html = time.perf_counter() - t1
        except Exception as e:  # report every failure with its notebook and cell
            r.seconds_execute = r.seconds_execute or time.perf_counter() - t0
            r.error = describe_failure(r.part, e)
        log(f"  {'ok  ' if r.ok else 'FAIL'} {result.edition} {r.part:18s} run {r.seconds_execute:5.1f}s "
            f"html {r.seconds_html:4.1f}s" + ("" if r.ok else f"  {r.error}"))
        return km

    tasks = [(res, st, r, kp) for res, st, _, kp in todo for r in res.parts]
    # slowest parts first (measured): a long notebook started last leaves the other core idle
    _run_in_kernels(sorted(tasks, key=lambda t: (*_SLOWEST_FIRST, t[2].part).index(t[2].part)), run, workers)
    for result, staging, key, _ in todo:
        try:
            done[result.edition] = _complete(result, staging, key, reports_dir, parts, (extras or {}).get(result.edition))
        except RenderError as err:
            done[result.edition] = err
    return done


def _complete(result: EditionRender, staging: Path, key: str | None, reports_dir: Path, parts: list[str] | None,
              extra: Callable[[Path], None] | None) -> EditionRender:
    """Write the extra outputs and swap the staging folder into place, or keep the last report."""
    edition, final = result.edition, reports_dir / result.edition
    if result.ok and extra is not None:
        try:
            extra(staging)
        except Exception as e:
            result.parts.append(PartResult("extra outputs", "scores and findings", error=describe_failure("extra", e)))
    if not result.ok:
        failed = reports_dir / f".failed-{edition}"
        shutil.rmtree(failed, ignore_errors=True)
        staging.rename(failed)
        msgs = "; ".join(p.error for p in result.parts if p.error)
        raise RenderError(f"edition {edition}: {msgs} (previous report kept; failed run in {failed})")
    if parts and final.exists() and not kept_render(final, key, []):
        (final / KEY_FILE).unlink(missing_ok=True)  # a partial run with other inputs: pages now mixed
    elif key:
        (staging / KEY_FILE).write_text(key)
    _swap_into_place(staging, final, parts_only=bool(parts))
    return result


def _swap_into_place(staging: Path, final: Path, *, parts_only: bool) -> None:
    """Replace final with staging in two renames; a partial run only replaces its own files."""
    if parts_only and final.exists():
        for p in staging.rglob("*"):
            if p.is_file():
                dest = final / p.relative_to(staging)
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.replace(p, dest)
        shutil.rmtree(staging, ignore_errors=True)
        return
    old = final.with_name(f".old-{final.name}")
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    staging.rename(final)
    if (old / "la").is_dir() and not (final / "la").exists():  # the LA profiles are swapped on their own
        (old / "la").rename(final / "la")
    shutil.rmtree(old, ignore_errors=True)


def code_version() -> str:
    """The package version and, in a git checkout, the commit (marked when files differ from it)."""
    try:
        commit = subprocess.run(["git", "-C", str(PROJECT_DIR), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(PROJECT_DIR), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return __version__
    return f"{__version__} (commit {commit}{', with local changes' if dirty else ''})"


def write_figure_index(folder: Path, title: str) -> Path | None:
    """figures/index.html listing every chart with its PNG, SVG and data, so the folder can be
    browsed on static hosting (which lists no directories)."""
    if not folder.is_dir():
        return None
    charts = [(png.stem.replace("_", " "), [png.with_suffix(s).name for s in (".png", ".svg", ".csv")
                                            if png.with_suffix(s).exists()])
              for png in sorted(folder.glob("*.png"))]
    out = folder / "index.html"
    out.write_text(render_template("figures.html", title=title, charts=charts), encoding="utf-8")
    return out


def comparison_html(table, csv_name: str, changes: list[dict[str, str]] | None = None,
                    method_names: tuple[str, str] | None = None) -> Markup:
    """A section for reports/index.html: how LAs moved between the first and last edition, with
    what changed in the index itself between them."""

    return render_template(
        "comparison.html", s=comparison_summary(table), changes=changes or [], csv_name=csv_name,
        a=year_label(str(table["edition_from"].iloc[0])), b=year_label(str(table["edition_to"].iloc[0])),
        methods=method_names or (str(table["method_from"].iloc[0]), str(table["method_to"].iloc[0])))


def findings_html(f, edition: str) -> str:
    """findings.html: a series.findings.Findings as an accessible, self-contained page."""
    frame = f.frame()
    rows = []
    for item, r in zip(f.items, frame.to_dict("records"), strict=True):
        part, _, anchor = item.link.partition("#")
        title = dict(PARTS).get(part.removesuffix(".html"), part)
        rows.append(r | {"refs": [f.refs[s] for s in item.source_ids],
                         "link_text": f"{title.split(':')[0]}: {'chart' if anchor.startswith('fig-') else 'table'}"})
    return str(render_template("findings.html", title=f"{f.title}", f=f, rows=rows, columns=list(frame.columns),
                               edition_label=year_label(edition), nav=nav_html(edition, "findings")))


METHOD_MD = PROJECT_DIR / "docs" / "METHOD.md"


def write_method_page(reports_dir: Path, source: Path = METHOD_MD) -> Path | None:
    """reports/method.html: docs/METHOD.md as a page of the site, so the parts' "see the method
    notes" and the data dictionaries' "see docs/METHOD.md" lead somewhere in a copy of the
    reports without the repository (nbconvert's Markdown filter, as the part pages use)."""
    from nbconvert.filters.markdown import markdown2html

    if not source.is_file():
        return None
    out = reports_dir / "method.html"
    out.write_text(render_template("method.html", title="SEND Inclusion Index: method notes",
                                   body=Markup(markdown2html(source.read_text(encoding="utf-8"))),
                                   version=code_version()), encoding="utf-8")
    return out


def write_index(reports_dir: Path, renders: list[EditionRender], sources: list[dict],
                titles: dict[str, str], extra_sections: Markup | str = "", *, run_settings: dict | None = None,
                kept: dict[str, str] | None = None, data_years: dict[str, str] | None = None,
                weights: dict[str, str] | None = None) -> Path:
    """reports/index.html: every edition and part, the run's parameters, sources and version.

    ``data_years``: per edition, the sentence saying which years of data it rests on
    (edition_facts.data_years_sentence), shown under its title; ``weights``: what its headline
    weighs (caveats.weights_sentence).

    ``extra_sections``: rendered sections (Markup) put after the editions; a plain str is escaped.
    ``kept``: editions whose render failed in this run (edition -> error); the last good report
    on disk is still linked, marked as not updated, so one failure does not hide it.
    """
    listed = [(r.edition, r.parameters, "") for r in renders]
    listed += [(e, {}, err) for e, err in (kept or {}).items()
               if e not in {r.edition for r in renders} and (reports_dir / e / "01_introduction.html").exists()]
    eds = []
    for edition, parameters, failed in listed:
        write_figure_index(reports_dir / edition / "figures", f"Figures, edition {year_label(edition)}")
        eds.append({"edition": edition, "title": titles.get(edition, year_label(edition)), "failed": failed,
                    "data_years": (data_years or {}).get(edition, ""), "weights": (weights or {}).get(edition, ""),
                    "parameters": parameters, "year": year_label(str(parameters.get("final_year", "")))})
    method = write_method_page(reports_dir)
    doc = render_template("index.html", title="SEND Inclusion Index: reports", editions=eds, parts=PARTS,
                          method=method is not None, coverage=(reports_dir / "coverage.csv").is_file(),
                          extra_sections=extra_sections, sources=sources, run_settings=run_settings or {},
                          version=code_version(), now=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"))
    out = reports_dir / "index.html"
    tmp = out.with_suffix(".html.part")
    tmp.write_text(doc, encoding="utf-8")
    os.replace(tmp, out)
    return out
