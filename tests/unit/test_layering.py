"""The package's import graph: who may import what, and no cycle, static or through importlib.

Read from the source with ``ast`` (imports inside functions included, ``TYPE_CHECKING`` blocks
left out: they never run), so it sees what ruff's banned-api rule cannot tell apart.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = "docker_credential_ecr_py"
SRC = Path(__file__).resolve().parents[2] / "src" / PACKAGE


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(SRC.rglob("*.py"))}


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node except what sits under ``if TYPE_CHECKING:``."""
    out: list[ast.AST] = []
    todo = [tree]
    while todo:
        node = todo.pop()
        out.append(node)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and getattr(child.test, "id", "") == "TYPE_CHECKING":
                todo.extend(child.orelse)
                continue
            todo.append(child)
    return out


def imports_of(name: str) -> set[str]:
    """The package's modules (and third-party roots) that ``name`` imports at run time."""
    tree = ast.parse(MODULES[name].read_text())
    found: set[str] = set()
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                if sub in MODULES:
                    found.add(sub)
    ancestors = {name.rsplit(".", n)[0] for n in range(1, name.count(".") + 1)}
    return {m for m in found if m not in ancestors and m != name}


GRAPH = {name: {m for m in imports_of(name) if m in MODULES} for name in MODULES}


def test_the_graph_is_read() -> None:
    # The reader must see real edges, or every rule below would pass on an empty graph.
    assert {f"{PACKAGE}._helper", f"{PACKAGE}._context", f"{PACKAGE}._commands"} <= GRAPH[
        f"{PACKAGE}._cli"
    ]
    assert f"{PACKAGE}._aws" in GRAPH[f"{PACKAGE}._context"]
    assert f"{PACKAGE}._lean.gojson" in GRAPH[f"{PACKAGE}._protocol"]


def test_no_import_cycle() -> None:
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for dep in sorted(GRAPH[node]):
            if state.get(dep) == 1:
                cycles.append([*path[path.index(dep) :], dep] if dep in path else [node, dep])
            elif dep not in state:
                visit(dep, [*path, dep])
        state[node] = 2

    for name in sorted(GRAPH):
        if name not in state:
            visit(name, [name])
    assert cycles == []


def test_nothing_is_imported_through_importlib() -> None:
    users = [n for n in MODULES if "importlib" in imports_of(n)]
    assert users == []


def test_aws_depends_only_on_registry_token_errors_and_lean() -> None:
    allowed = {PACKAGE, f"{PACKAGE}._registry", f"{PACKAGE}._token", f"{PACKAGE}._errors"}
    ours = GRAPH[f"{PACKAGE}._aws"]
    assert {m for m in ours if m not in allowed and not m.startswith(f"{PACKAGE}._lean")} == set()


def test_only_the_composition_root_and_the_commands_reach_aws() -> None:
    importers = {n for n, deps in GRAPH.items() if f"{PACKAGE}._aws" in deps}
    assert {n for n in importers if not n.startswith(f"{PACKAGE}._commands")} == {
        f"{PACKAGE}._context"
    }


def test_the_core_never_imports_the_commands() -> None:
    importers = {
        n
        for n, deps in GRAPH.items()
        if any(d.startswith(f"{PACKAGE}._commands") for d in deps)
        and not n.startswith(f"{PACKAGE}._commands")
    }
    assert importers == {f"{PACKAGE}._cli"}  # the dispatcher, by name, inside run()


@pytest.mark.parametrize("root", ["boto3", "botocore"])
def test_botocore_is_imported_by_aws_alone(root: str) -> None:
    importers = {
        n for n in MODULES if any(m == root or m.startswith(root + ".") for m in imports_of(n))
    }
    assert importers <= {f"{PACKAGE}._aws"}
    if root == "botocore":
        assert importers == {f"{PACKAGE}._aws"}


def test_cli_dispatches_exactly_the_commands_package_serves() -> None:
    # _cli keeps the names itself, so a cache hit never imports the _commands package.
    from docker_credential_ecr_py import _cli, _commands

    assert _cli.COMMANDS == _commands.NAMES
