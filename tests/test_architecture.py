"""The code keeps the shape docs/architecture.md draws: controllers only translate HTTP, services own
the logic, jobs call services, components stand alone. Read from the source, like test_docs.py."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

from app.settings import ROOT

ROUTE_DECORATORS = {"get", "post", "put", "patch", "delete", "route"}
CONTROLLERS = {"routes", "api"}
# what a handler may not reach for: queries belong in services
DATA_MODULES = {"app.tables", "app.db", "app.rows", "app.sql", "piccolo"}
HANDLER_MAX_LINES = 15


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def sources() -> dict[str, ast.Module]:
    out = {}
    for top in ("app", "components"):
        for path in sorted((ROOT / top).rglob("*.py")):
            out[module_name(path)] = ast.parse(path.read_text(), filename=str(path))
    return out


def is_controller(module: str) -> bool:
    return module.rsplit(".", 1)[-1] in CONTROLLERS


def _type_checking_nodes(tree: ast.Module) -> set[int]:
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip |= {id(n) for child in node.body for n in ast.walk(child)}
    return skip


@cache
def imports(module: str) -> tuple[tuple[str, int], ...]:
    """Every module `module` imports at run time (top level or inside a function), with its line."""
    tree = sources()[module]
    skip = _type_checking_nodes(tree)
    package = module if _is_package(module) else module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.append((full if full in sources() else base, node.lineno))
    return tuple(found)


def _is_package(module: str) -> bool:
    return (ROOT / module.replace(".", "/") / "__init__.py").exists()


def local(name: str) -> str | None:
    """The project module an import names, or None for a library."""
    while name and name not in sources():
        name = name.rpartition(".")[0]
    return name or None


def handlers(tree: ast.Module):
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for deco in node.decorator_list:
                call = deco.func if isinstance(deco, ast.Call) else deco
                name = call.attr if isinstance(call, ast.Attribute) else getattr(call, "id", "")
                if name in ROUTE_DECORATORS:
                    yield node
                    break


def body_lines(func: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    body = func.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    return body[-1].end_lineno - body[0].lineno + 1 if body else 0


def test_only_the_app_factory_imports_a_controller():
    broken = [
        f"{module.replace('.', '/')}.py:{line} imports {target}"
        for module in sources() if module != "app.asgi"
        for name, line in imports(module)
        if (target := local(name)) and is_controller(target) and target != module
    ]
    assert not broken, "only app/asgi.py may import a routes.py or an api.py:\n" + "\n".join(sorted(set(broken)))


def test_components_never_import_the_app():
    broken = [
        f"{module.replace('.', '/')}.py:{line} imports {name}"
        for module in sources() if module.startswith("components")
        for name, line in imports(module) if name == "app" or name.startswith("app.")
    ]
    assert not broken, "components/ is pure (lxml, Jinja, nh3): " + "\n".join(broken)


def test_handlers_live_in_controllers_and_stay_short():
    misplaced, long = [], []
    for module, tree in sources().items():
        for func in handlers(tree):
            where = f"{module.replace('.', '/')}.py:{func.lineno} {func.name}"
            if not is_controller(module):
                misplaced.append(where)
            if (n := body_lines(func)) > HANDLER_MAX_LINES:
                long.append(f"{where} has {n} lines")
    assert not misplaced, "handlers belong in routes.py (pages) or api.py (JSON):\n" + "\n".join(misplaced)
    assert not long, f"a handler parses, calls a service and answers, in {HANDLER_MAX_LINES} lines:\n" + "\n".join(long)


# modules that import lazily on purpose: the command line starts fast and loads what a command needs
LAZY_IMPORTS_ALLOWED = {"app.cli"}


def test_no_import_hides_inside_a_function():
    """An import inside a function is how a circle hides; the shape has none to hide."""
    broken = []
    for module, tree in sources().items():
        if module in LAZY_IMPORTS_ALLOWED:
            continue
        skip = _type_checking_nodes(tree)
        for func in ast.walk(tree):
            if isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                broken += [f"{module.replace('.', '/')}.py:{node.lineno} in {func.name}()"
                           for node in ast.walk(func) if id(node) not in skip
                           and isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith(("app", "components")))]
    assert not broken, "imports of the project's modules belong at the top:\n" + "\n".join(sorted(set(broken)))


def test_controllers_leave_queries_to_services():
    broken = [
        f"{module.replace('.', '/')}.py:{line} imports {name}"
        for module in sources() if is_controller(module)
        for name, line in imports(module)
        if any(name == data or name.startswith(data + ".") for data in DATA_MODULES)
    ]
    assert not broken, "controllers call services; tables and SQL stay behind them:\n" + "\n".join(sorted(set(broken)))


def domain(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 2 or _is_package(module) else module


def import_cycles() -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), over run-time imports."""
    graph = {m: sorted({t for n, _ in imports(m) if (t := local(n)) and t != m}) for m in sources()}
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in graph:
        if node not in index:
            visit(node)
    return groups


def test_no_import_circle_spans_domains():
    spanning = [group for group in import_cycles() if len({domain(m) for m in group}) > 1]
    assert not spanning, "import circles across domain folders:\n" + "\n".join(" ↔ ".join(g) for g in spanning)


SHARED_HELPERS = {"now": "app.clock", "iso": "app.clock", "both": "app.web"}


def test_shared_helpers_are_written_once():
    copies = [
        f"{module.replace('.', '/')}.py:{node.lineno} defines {node.name}() (use {SHARED_HELPERS[node.name]})"
        for module, tree in sources().items() if module.startswith("app")
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in SHARED_HELPERS
        and module != SHARED_HELPERS[node.name]
    ]
    assert not copies, "\n".join(copies)


# the names every domain folder repeats by design (and "queue": labelling's hands out tasks to
# annotators, review's hands out disagreements to reviewers, each inside its own domain)
STANDARD_NAMES = {"__init__", "routes", "api", "schemas", "service", "jobs", "queue"}


def test_module_names_do_not_collide():
    """One name, one module: `system.py` beside `admin/system.py`, or `audit.py` beside
    `audit_log.py`, leaves a reader guessing which holds what."""
    stems: dict[str, list[str]] = {}
    for path in (ROOT / "app").rglob("*.py"):
        if path.stem not in STANDARD_NAMES:
            stems.setdefault(path.stem, []).append(str(path.relative_to(ROOT)))
    for path in (ROOT / "app").iterdir():
        if path.is_dir() and (path / "__init__.py").exists():
            stems.setdefault(path.name, []).append(str(path.relative_to(ROOT)) + "/")
    clashes = [paths for paths in stems.values() if len(paths) > 1]
    clashes += [[*stems[a], *stems[b]] for a in stems for b in stems if b.startswith(a + "_")]
    assert not clashes, "\n".join(" ~ ".join(c) for c in clashes)
