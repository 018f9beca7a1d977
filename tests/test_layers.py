"""The library's shape: no import cycles between modules, one concept per file (no module over
~450 lines), the import-linter contracts of pyproject.toml hold (`make test` also runs
`lint-imports`)."""

from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]


def test_no_import_cycles():
    g = grimp.build_graph("wann")
    edges = {m: set(g.find_modules_directly_imported_by(m)) for m in g.modules}
    # a package's __init__ re-exporting its own modules is not a cycle of concepts
    for m in edges:
        edges[m] = {d for d in edges[m] if not (d.startswith(m + ".") or m.startswith(d + "."))}
    state: dict[str, int] = {}

    def visit(m, path):
        state[m] = 1
        for d in edges.get(m, ()):
            if state.get(d) == 1:
                raise AssertionError("import cycle: " + " -> ".join(path[path.index(d) :] + [d]))
            if d not in state:
                visit(d, path + [d])
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m, [m])


def test_no_module_over_450_lines():
    sizes = {str(p.relative_to(ROOT)): len(p.read_text().splitlines()) for p in (ROOT / "wann").rglob("*.py")}
    big = {p: n for p, n in sizes.items() if n > 450}
    assert not big, big


def test_import_contracts_hold():
    from importlinter.cli import lint_imports

    assert lint_imports(config_filename=str(ROOT / "pyproject.toml")) == 0
