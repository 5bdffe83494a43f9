"""The house rules, checked on the source: one-way imports, a thin CLI, a search layer in parts."""
from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

PACKAGES = {"minutes": "minutes", "ingest": "minutes.ingest", "extract": "minutes.extract", "search": "minutes.search"}
CORE = {"minutes.model", "minutes.errors", "minutes.config"}


def _modules() -> dict[str, Path]:
    out = {}
    for folder, package in PACKAGES.items():
        for path in (ROOT / folder).rglob("*.py"):
            if folder == "minutes" and path.relative_to(ROOT / folder).parts[0] in PACKAGES:
                continue
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join([package, *parts])] = path
    return out


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Project modules that `name` imports anywhere in its file (lazy imports included)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            targets = [base] + [f"{base}.{a.name}" for a in node.names]
        for t in targets:
            while t and t not in known:
                t = t.rpartition(".")[0]
            if t and t != name:
                found.add(t)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    graph = {name: _imports(name, path, known) for name, path in modules.items()}
    # importing a submodule runs its package's __init__, which is not a dependency of ours
    return {name: {t for t in deps if not name.startswith(t + ".")} for name, deps in graph.items()}


def test_imports_have_no_cycle():
    graph = _graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join(stack[stack.index(nxt):] + [nxt]))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)


def test_stages_import_only_the_data_model_and_their_own_package():
    for name, deps in _graph().items():
        stage = next((p for p in ("minutes.ingest", "minutes.extract", "minutes.search")
                      if name == p or name.startswith(p + ".")), None)
        if stage is None:
            continue
        outside = {d for d in deps if not (d == stage or d.startswith(stage + ".")) and d not in CORE}
        assert not outside, (name, outside)


def test_cli_imports_only_the_store_errors_and_formatting():
    deps = _graph()["minutes.cli"]
    assert deps <= {"minutes.store", "minutes.errors", "minutes.model", "minutes.report", "minutes.web"}, deps
    assert "minutes.sync" not in deps and "minutes.search" not in deps


def test_layers_run_one_way():
    graph = _graph()
    below_store = ("minutes.sync", "minutes.sources", "minutes.pipeline", "minutes.manifest", "minutes.fingerprint")
    for name in below_store:
        assert "minutes.store" not in graph[name] and "minutes.cli" not in graph[name], name
    assert "minutes.sync" not in graph["minutes.sources"] and "minutes.sync" not in graph["minutes.pipeline"]


def test_search_layer_is_in_parts():
    index = ROOT / "search" / "index.py"
    assert len(index.read_text().splitlines()) < 500
    for part in ("chroma", "keyword", "text", "filters", "fusion", "threads", "base"):
        assert (ROOT / "search" / f"{part}.py").is_file(), part
