"""The README's code blocks run as written, in order, in a temporary folder.

How they run:

- The shell blocks run one after another in a single bash script, so that what one sets
  (`export`, `unset`) holds for the next, as in a terminal; with `set -e`, every command must
  exit 0. They run in a folder holding a copy of `examples/`, as from the root of a clone.
- The set-up lines (those that make a virtual environment and `pip install`) cannot run here
  (no network, and the package is installed already): of those lines only the `valuegap`
  commands run. `pytest` on such a line is not run either, nor `valuegap serve`, which serves
  until stopped: `test_the_first_command_serves_the_demo` runs it apart, signs in with the
  login it prints, opens the portfolio page, and stops it.
- The Python blocks then run, each in a new interpreter, against the ledgers the shell blocks
  built, as the same user: the login name (no `VALUEGAP_USER`), here `sam`.

It takes about a minute (the demo alone takes ten seconds), so it is marked `slow`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).parent.parent
BLOCK = re.compile(r"```(sh|python)\n(.*?)```", re.DOTALL)
LOGIN = "sam"

pytestmark = pytest.mark.slow


def readme_blocks() -> list[tuple[str, str]]:
    """The README's shell and Python blocks, in order, as (language, code)."""
    return BLOCK.findall((ROOT / "README.md").read_text(encoding="utf-8"))


def set_up_commands(line: str) -> list[str]:
    """The `valuegap` commands of a set-up line, in order."""
    commands = [part.strip() for part in line.split("&&")]
    return [command for command in commands if command.startswith("valuegap ")]


def runnable(shell: str) -> str:
    """A shell block as it runs here: a set-up line keeps only its `valuegap` commands, but
    for `valuegap serve` (run apart, as it does not return)."""
    lines = []
    for line in shell.splitlines():
        if "pip install" in line:
            lines += [c for c in set_up_commands(line) if not c.startswith("valuegap serve")]
        else:
            lines.append(line)
    return "\n".join(lines)


def environment() -> dict[str, str]:
    """This environment's valuegap (the source tree's package, its `valuegap` command), acting
    as the login name, with no ledger or user chosen by the environment."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("VALUEGAP_") or name == "VALUEGAP_AUDIT_KEY"
    }
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(ROOT / "src")
    env["LOGNAME"] = env["USER"] = LOGIN
    return env


def run(args: list[str], folder: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=folder, env=env, capture_output=True, text=True, timeout=900, check=False
    )


def test_the_runnable_set_up_keeps_only_valuegap_commands() -> None:
    line = "python3 -m venv .venv && . .venv/bin/activate && pip install -e . && valuegap demo"
    assert runnable(f"# Run it\n{line}\nvaluegap audit verify") == (
        "# Run it\nvaluegap demo\nvaluegap audit verify"
    )
    assert runnable("pip install -e '.[dev]' && pytest") == ""
    assert runnable("pip install -e . && valuegap serve --demo") == ""


def test_the_first_command_serves_the_demo(tmp_path: Path) -> None:
    """The README's first command, as a new user runs it (on a free port here): it builds
    the demo, prints a login, and the printed login opens the portfolio page; Ctrl-C stops it
    and leaves no ledger behind."""
    first = next(line for line in readme_blocks()[0][1].splitlines() if "pip install" in line)
    assert set_up_commands(first) == ["valuegap serve --demo"]
    port = free_port()
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        ["valuegap", "serve", "--demo", "--port", str(port)],
        cwd=tmp_path,
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    try:
        assert server.stdout is not None
        said = server.stdout.readline()  # printed once the demo is built
        found = re.search(
            r"Serving the demo at (\S+) - sign in as (\S+) with the password (\S+) ", said
        )
        assert found, said + (tmp_path / "server.log").read_text()
        url, name, password = found.groups()
        assert url == f"http://127.0.0.1:{port}/"
        portfolio = signed_in_page(url, name, password, "portfolio")
        assert "<h1>Portfolio</h1>" in portfolio
        assert 'data-testid="total-cost">3,538,738.60<' in portfolio  # the demo's total
    finally:
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=60) == 0
        log.close()
    assert list(tmp_path.iterdir()) == [tmp_path / "server.log"]  # no ledger left here


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def signed_in_page(url: str, name: str, password: str, page: str) -> str:
    """Sign in as a browser does (``POST /login`` sets the session cookie), then open
    ``page``; the server is given up to a minute to start listening."""
    cookies = urllib.request.HTTPCookieProcessor()
    opener = urllib.request.build_opener(cookies)
    body = json.dumps({"name": name, "password": password}).encode()
    request = urllib.request.Request(
        url + "login", data=body, headers={"Content-Type": "application/json"}
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            opener.open(request, timeout=10).close()
            break
        except urllib.error.URLError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    with opener.open(url + page, timeout=30) as answer:
        return str(answer.read().decode())


def test_the_readme_runs_in_order(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    env = environment()
    blocks = readme_blocks()
    assert [language for language, _ in blocks].count("sh") >= 3

    script = "\n".join(runnable(code) for language, code in blocks if language == "sh")
    (tmp_path / "readme.sh").write_text(script, encoding="utf-8")
    shell = run(["bash", "-e", "-x", "readme.sh"], tmp_path, env)
    assert shell.returncode == 0, f"{shell.stdout[-3000:]}\n{shell.stderr[-3000:]}"

    for language, code in blocks:
        if language == "python":
            python = run([sys.executable, "-c", code], tmp_path, env)
            assert python.returncode == 0, python.stderr
            assert python.stdout.strip(), f"printed nothing:\n{code}"

    # What the README says of the first ledger's 2026-Q3.
    report = report_json(tmp_path, env, "initiative", "loc-qa")
    assert cents(report["total_cost"]) == Decimal("59017.71")
    assert cents(report["value"]) == Decimal("139400.00")
    assert round(Decimal(report["value_low"])) == 124228
    assert round(Decimal(report["value_high"])) == 154572
    assert round(report["roi"], 2) == 1.36
    assert report["validated"] is False
    assert "it was not agreed in advance" in report["validation_reason"]
    portfolio = report_json(tmp_path, env, "portfolio")
    assert portfolio["attribution_coverage"] == 0
    (classifier,) = [i for i in portfolio["initiatives"] if i["id"] == "doc-classifier"]
    assert "has not been agreed" in classifier["validation_reason"]


def report_json(folder: Path, env: dict[str, str], *report: str) -> Any:
    args = ["valuegap", "report", *report, "--period", "2026-Q3", "--format", "json"]
    result = run([*args, "--db", "first.duckdb"], folder, env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def cents(amount: str) -> Decimal:
    return Decimal(amount).quantize(Decimal("0.01"))
