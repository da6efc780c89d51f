"""The code's shape: no function longer than 60 lines of code (docstrings, blank lines and
comments not counted), except the job's argument table; no import-time side effects."""

import ast
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

LIMIT = 60
# The CLI's argument table: one `add_argument` per option, nothing to split.
EXEMPT = {("distilabel_selfinstruct/cli/run.py", "parse_args")}


def _lines_of_code(source: list[str], node: ast.AST) -> int:
    body = node.body
    docstring = set()
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        docstring = set(range(body[0].lineno, body[0].end_lineno + 1))
    return sum(
        1
        for number in range(node.lineno, node.end_lineno + 1)
        if number not in docstring
        and source[number - 1].strip()
        and not source[number - 1].strip().startswith("#")
    )


def test_no_function_is_longer_than_60_lines_of_code():
    long = []
    for folder in ("distilabel_selfinstruct", "pipelines", "benchmarks", "tests"):
        for path in sorted((REPO / folder).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            source = text.splitlines()
            where = str(path.relative_to(REPO))
            for node in ast.walk(ast.parse(text)):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    lines = _lines_of_code(source, node)
                    if lines > LIMIT and (where, node.name) not in EXEMPT:
                        long.append(f"{where}:{node.lineno} {node.name}: {lines} lines")
    assert not long, "\n".join(long)


def test_importing_the_package_changes_no_global_state():
    """No warning filter, logging handler, matplotlib backend or environment variable is
    changed by `import distilabel_selfinstruct` (distilabel's own import is done first, so
    that only ours is measured)."""
    code = (
        "import logging, os, sys, warnings\n"
        "import distilabel.pipeline, distilabel.steps\n"
        "state = lambda: (list(warnings.filters), "
        "[(n, list(l.handlers), l.level) for n, l in sorted(logging.root.manager.loggerDict.items())"
        " if isinstance(l, logging.Logger)], list(logging.root.handlers), dict(os.environ))\n"
        "before = state()\n"
        "import distilabel_selfinstruct\n"
        "print(state() == before, 'matplotlib' in sys.modules)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=Path.cwd()
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split() == ["True", "False"]
