"""The import graph of lib/inclusion_index: no cycle, counting every import (module level and
inside functions: a deferred import hides an edge, it does not remove it), and the stages
sources -> index -> report only import downwards."""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "lib" / "inclusion_index"

def _module_name(path: Path) -> str:
    parts = path.relative_to(PKG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """Lib modules one file imports. ``from . import x`` counts as importing module x when x
    is a module, else the package; ``from .x import y`` as importing x."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name in modules}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            subs = {f"{target}.{a.name}" for a in node.names} & modules
            out |= subs or ({target} & modules)
    # a module importing its own package (e.g. for __version__) is not a cycle through the package
    return out - {name}


def import_graph() -> dict[str, set[str]]:
    """Each lib module -> the lib modules it imports."""
    files = sorted(PKG.rglob("*.py"))
    modules = {_module_name(p) for p in files}
    return {_module_name(p): _imports(p, modules) for p in files}


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle as a path that returns to its start, or [] (depth-first search)."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(m: str) -> list[str]:
        state[m] = 1
        path.append(m)
        for n in sorted(graph.get(m, ())):
            if state.get(n) == 1:
                return [*path[path.index(n):], n]
            if n not in state and (found := visit(n)):
                return found
        path.pop()
        state[m] = 2
        return []

    for m in sorted(graph):
        if m not in state and (found := visit(m)):
            return found
    return []


def test_the_import_graph_sees_deferred_imports():
    g = import_graph()
    assert "inclusion_index.pipeline" in g["inclusion_index.cli"]
    assert "inclusion_index.sources.derived" in g["inclusion_index.sources.harmonise"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_no_import_cycles_among_lib_modules():
    cycle = find_cycle(import_graph())
    assert not cycle, "import cycle: " + " -> ".join(cycle)


def _stage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 and parts[1] in ("sources", "index", "report") else "root"


# what report/ may read of sources/: source metadata for citations and LA / year labels, never
# the loaders, the long table's harmonisation or the suppression parser; and the hex-map file
# reader, whose shapes the hex map draws (for any geography and layout, not only an edition's)
REPORT_MAY_IMPORT = {"inclusion_index.sources", "inclusion_index.sources.registry", "inclusion_index.sources.geography",
                     "inclusion_index.sources.hexes"}
GROUND_FLOOR = {"inclusion_index", "inclusion_index.config", "inclusion_index.paths", "inclusion_index.errors",
                "inclusion_index.csv_export"}


def test_stages_import_only_downwards():
    bad = []
    for m, deps in import_graph().items():
        for n in deps:
            a, b = _stage(m), _stage(n)
            if (a == "sources" and b in ("index", "report")) or (a == "index" and b == "report"):
                bad.append(f"{m} -> {n}")
            elif a == "report" and b == "sources" and n not in REPORT_MAY_IMPORT:
                bad.append(f"{m} -> {n} (a sources internal)")
            elif a != "root" and b == "root" and n not in GROUND_FLOOR:
                bad.append(f"{m} -> {n} (the pipeline and cli sit on top)")
    assert not bad, "imports against the stages: " + "; ".join(sorted(bad))


def test_the_three_stage_packages_exist():
    assert {p.name for p in PKG.iterdir() if (p / "__init__.py").exists()} >= {"sources", "index", "report"}


def test_only_sources_opens_raw_files():
    readers = ("read_excel", "sqlite3", "ZipFile", "zipfile", "load_workbook")
    bad = [f"{p.relative_to(PKG)}: {w}" for p in PKG.rglob("*.py") if "sources" not in p.relative_to(PKG).parts
           and p.name != "config.py" for w in readers if w in p.read_text(encoding="utf-8")]
    assert not bad, "raw files opened outside sources/: " + ", ".join(bad)


def test_the_edition_has_no_cache():
    text = (PKG / "index" / "edition.py").read_text(encoding="utf-8") + (PKG / "index" / "inputs.py").read_text(
        encoding="utf-8")
    assert "cache" not in text.replace("lru_cache", "")


def test_imports_sit_at_the_top_of_modules():
    """A deferred import hides an edge; only optional heavy dependencies may be imported late."""
    late = []
    for p in PKG.rglob("*.py"):
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                late += [f"{p.relative_to(PKG)}:{n.lineno}" for n in ast.walk(node)
                         if isinstance(n, ast.ImportFrom) and (n.level or (n.module or "").startswith("inclusion_index"))]
    assert not late, "lib imports inside functions: " + ", ".join(late)
