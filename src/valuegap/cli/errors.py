"""Errors as the command line says them. The domain names fields (``period``, ``as_of``) and
Python calls (```Ledger.portfolio.initiatives()```); here each becomes the flag or the command
that does the same, so that a message tells a user of the command line what to type. A field
that ``FLAGS`` does not name is the running command's option of the same name, if it has one
(``input_per_mtok`` is ``--input-per-mtok``)."""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping

from valuegap.errors import IngestError, Problem, ValidationError, ValuegapError

# A field of the Python API -> the flag that gives it.
FLAGS = {
    "period": "--period",
    "from": "--from",
    "to": "--to",
    "to_stage": "--to",
    "as_of": "--as-of",
    "mapping": "--map",
    "fmt": "--input-format",  # a usage file's format (the output's is never refused)
    "usage_format": "--input-format",
    "units": "--business-unit",
    "business_unit": "--business-unit",
    "public_key": "--public-key",
    "db": "--db",
}
# (call path from Ledger, how many arguments) -> the command, with the arguments in its braces:
# ``Ledger.init()`` is the class's, the others a part's (``Ledger.portfolio.initiatives()``).
COMMANDS = {
    ("portfolio.initiatives", 0): "valuegap initiative list",
    ("governance.gates.advance", 0): "valuegap initiative advance",
    ("governance.gates.retire", 0): "valuegap initiative retire",
    ("portfolio.apply", 0): "valuegap apply",
    ("portfolio.metrics", 0): "valuegap metric list",
    ("portfolio.agree_metric", 0): "valuegap metric agree",
    ("portfolio.agree_metric", 1): "valuegap metric agree {0}",
    ("governance.gates.approvals", 0): "valuegap approval list",
    ("agents.register_agent", 0): "valuegap agent register",
    ("governance.policies", 0): "valuegap policy list",
    ("governance.users.add_user", 2): "valuegap user add {0} --role {1}",
    ("governance.audit.checkpoint", 0): "valuegap audit checkpoint",
    ("governance.audit.checkpoint", 1): "valuegap audit checkpoint --to {0}",
    ("costs.ingest_rates", 0): "valuegap ingest rates",
    ("init", 0): "valuegap init",
    ("init", 1): "valuegap init --db {0}",
    ("governance.keys.restore_key", 0): "valuegap key restore FILE",
    ("governance.keys.rotate_key", 0): "valuegap key rotate",
    ("governance.keys.key_status", 0): "valuegap key show",
    ("governance.keys.move_key", 0): "valuegap key move",
}
_QUOTED = re.compile(r"`([^`\n]+)`")
_CALL = re.compile(r"Ledger\.(\w+(?:\.\w+)*)\((.*)\)")


def message(error: ValuegapError, options: Mapping[str, str] | None = None) -> str:
    """``error``'s message with fields as flags and calls as commands; ``options``: the
    running command's options by parameter name (``{"input_per_mtok": "--input-per-mtok"}``)."""
    flags = {**(options or {}), **FLAGS}
    if isinstance(error, ValidationError) and not isinstance(error, IngestError):
        problems = [
            Problem(flags.get(p.where, p.where), p.message, p.value) for p in error.problems
        ]
        text = "\n".join([error.summary, *(f"  - {p}" for p in problems)])
    else:
        text = str(error)
    return _QUOTED.sub(lambda quoted: _for_the_command_line(quoted, flags), text)


def _for_the_command_line(quoted: re.Match[str], flags: Mapping[str, str]) -> str:
    name = quoted.group(1)
    if name in flags:
        return flags[name]
    call = _CALL.fullmatch(name)
    if call is None:
        return quoted.group(0)
    try:
        arguments = ast.literal_eval(f"({call.group(2)},)") if call.group(2) else ()
    except (ValueError, SyntaxError):
        return quoted.group(0)
    command = COMMANDS.get((call.group(1), len(arguments)))
    return quoted.group(0) if command is None else f"`{command.format(*arguments)}`"
