"""The layering of DESIGN.md holds: no module of ``research/`` imports a later stage of the flow.

Every ``.py`` under ``research/`` is parsed with :mod:`ast`; every import, at module level or
inside a function, absolute or relative, ``from research import <stage>`` and
``importlib.import_module("research.<stage>...")`` with a literal name, is mapped to its stage.
An import of a stage later in the flow than the importing module's own stage fails the test.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "research"

#: The flow of a study, ``../shared/DESIGN.md`` ("The flow of a study"): data -> volatility ->
#: correlation -> stress -> portfolio -> margin -> calibration -> backtest -> liquidation ->
#: reporting; the ``research`` command (``cli``) composes them all and comes last.
STAGES = (
    "data",
    "volatility",
    "correlation",
    "stress",
    "portfolio",
    "margin",
    "calibration",
    "backtest",
    "liquidation",
    "reporting",
    "cli",
)

#: Shared modules below every stage: importable from anywhere, and they import no stage.
SHARED = frozenset({"errors", "_typing", "_threads", "_random", "_io", "_config", "parallel"})


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _rank(module: str) -> int | None:
    """Position of a ``research.*`` module in the flow: -1 for shared modules, None if unknown."""
    parts = module.split(".")
    if parts[0] != "research" or len(parts) < 2:
        return None
    if parts[1] in SHARED:
        return -1
    return STAGES.index(parts[1]) if parts[1] in STAGES else None


def _imported(tree: ast.AST, module: str, is_package: bool) -> list[tuple[int, str]]:
    """Every ``(line, module)`` a source imports, relative imports resolved."""
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            if _rank(base) is None:  # ``from research import backtest``: the names are modules
                found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, base))
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value))
    return found


def violations(root: Path) -> list[str]:
    """Imports of a later stage (or of any stage from a shared module) under ``root``.

    Parameters
    ----------
    root : Path
        The ``research`` package directory.

    Returns
    -------
    list of str
        ``"<file>:<line> (<stage>) imports <module> (<stage>)"``, one per offending import.
    """
    bad = []
    for path in sorted(root.rglob("*.py")):
        if path == root / "__init__.py":  # the public facade re-exports every stage (lazily)
            continue
        module = _module_name(path, root)
        own = _rank(module)
        if own is None:
            raise AssertionError(
                f"{path} belongs to no stage of DESIGN.md and is not a shared module; "
                "add it to STAGES or SHARED in tests/test_layers.py"
            )
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for line, target in _imported(tree, module, path.name == "__init__.py"):
            rank = _rank(target)
            if rank is not None and rank > own:
                where = "shared" if own < 0 else STAGES[own]
                bad.append(f"{path}:{line} ({where}) imports {target} ({STAGES[rank]})")
    return sorted(set(bad))


def test_no_stage_imports_a_later_stage() -> None:
    bad = violations(PACKAGE)
    assert not bad, "imports against the flow of DESIGN.md:\n" + "\n".join(bad)


@pytest.mark.parametrize(
    ("where", "source", "target"),
    [
        ("calibration/sweep.py", "from research.backtest import kupiec\n", "research.backtest"),
        ("calibration/sweep.py", "def f():\n    import research.reporting.tables\n", "reporting"),
        ("calibration/sweep.py", "from ..backtest.coverage import kupiec\n", "backtest.coverage"),
        ("margin/engine.py", "from research import calibration\n", "research.calibration"),
        ("data/io.py", "import importlib\nimportlib.import_module('research.stress')\n", "stress"),
        ("errors.py", "from research.data import to_returns\n", "research.data"),
    ],
)
def test_the_check_finds_late_imports_of_every_form(
    tmp_path: Path, where: str, source: str, target: str
) -> None:
    root = tmp_path / "research"
    path = root / where
    path.parent.mkdir(parents=True)
    (path.parent / "__init__.py").write_text("")
    (root / "__init__.py").write_text("from research import backtest\n")  # the facade is exempt
    path.write_text(source)
    bad = violations(root)
    assert len(bad) == 1 and target in bad[0], bad


def test_earlier_stages_and_shared_modules_are_allowed(tmp_path: Path) -> None:
    root = tmp_path / "research"
    (root / "backtest").mkdir(parents=True)
    (root / "backtest" / "__init__.py").write_text("from . import sweep\n")
    (root / "backtest" / "sweep.py").write_text(
        "from research import parallel\n"
        "from research.calibration.config import SWEEP_AXES\n"
        "from ..data import mpor_returns\n"
        "from research.errors import DataError\n"
    )
    assert violations(root) == []
