"""The layout's rules, read from the source: imports run one way, and no module imports itself
back through others (function-level imports included: a circle there is a circle still)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("config", "alerts", "legislators", "staff")

# Lower numbers may import higher ones, never the reverse (alerts/ from the top down).
LAYERS = [
    ("config",),  # the composition root: settings, urls, the Celery app
    # staff/ (sign-in to the admin) sits beside the web pages: it sees clients as abuse.py does.
    (
        "alerts.web",
        "alerts.admin",
        "alerts.operations",
        "alerts.management",
        "alerts.apps",
        "staff",
    ),
    ("alerts.services",),
    ("alerts.tasks",),
    ("alerts.delivery", "alerts.notifications", "alerts.privacy", "alerts.lifecycle"),
    ("alerts.models", "alerts.messages", "alerts.selectors", "alerts.validators", "alerts"),
    ("legislators",),
]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _project_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                modules[_module_name(path)] = path
    return modules


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules `name` imports, anywhere in its body."""
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(), filename=str(path))
    for_type_checkers = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING")
        for inner in ast.walk(node)
    }
    found = set()
    for node in ast.walk(tree):
        if id(node) in for_type_checkers:
            continue
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" for alias in node.names]
            targets = [t if t in modules else base for t in targets]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def _graph():
    modules = _project_modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _layer(name: str) -> int:
    """The layer of the longest prefix that names this module (alerts.models before alerts)."""
    matches = [
        (len(prefix), index)
        for index, prefixes in enumerate(LAYERS)
        for prefix in prefixes
        if name == prefix or name.startswith(prefix + ".")
    ]
    assert matches, f"{name} belongs to no layer: add it to LAYERS"
    return max(matches)[1]


def test_the_graph_is_read_from_the_source():
    graph = _graph()
    assert "alerts.delivery.engine" in graph["alerts.tasks"]
    assert "alerts.tasks" in graph["alerts.services"]
    assert "legislators.models" in graph["alerts.models"]


def test_imports_run_one_way():
    wrong = [
        f"{name} imports {target}"
        for name, targets in _graph().items()
        for target in targets
        if _layer(target) < _layer(name)
    ]
    assert wrong == []


def test_no_module_imports_itself_back():
    graph = _graph()
    circles = []
    for start in graph:
        stack = [(start, [start])]
        seen = set()
        while stack:
            name, path = stack.pop()
            for target in graph[name]:
                if target == start:
                    circles.append(" → ".join([*path, start]))
                elif target not in seen:
                    seen.add(target)
                    stack.append((target, [*path, target]))
    assert circles == []


def test_only_tasks_publishes_to_the_broker():
    publishing = {".delay(", ".apply_async(", "send_task("}
    found = [
        name
        for name, path in _project_modules().items()
        if name != "alerts.tasks" and any(call in path.read_text() for call in publishing)
    ]
    assert found == []
