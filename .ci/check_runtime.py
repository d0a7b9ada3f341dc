"""The runtime requirements are complete: run with the python of a virtualenv that has
`requirements.txt` installed and nothing else (`make check-runtime` makes one).

It imports every module under grants/, builds the app with `create_app()`, and runs
`flask --app wsgi --help` (and each command group's --help), checking that every command the app
registers is listed. A module that cannot be imported is reported with the module that is
missing and, when requirements-dev.txt names it, the package to move into requirements.txt.
Exit status 1 on any problem; the problems are printed one a line."""

from __future__ import annotations

import importlib
import os
import pkgutil
import re
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _names(requirements: Path) -> list[str]:
    names = []
    for line in requirements.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.append(re.split(r"[<>=!~\[; ]", line)[0])
    return names


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def package_hint(module: str) -> str:
    """Where the missing top-level module would come from, as far as the files tell."""
    top = module.split(".")[0]
    dev = {_norm(n): n for n in _names(ROOT / "requirements-dev.txt")}
    for candidate in (top, top.replace("_", "-"), f"python-{top}", f"py{top}"):
        if _norm(candidate) in dev:
            return (f"package {dev[_norm(candidate)]}, which only requirements-dev.txt installs:"
                    " move it to requirements.txt")
    return f"package providing '{top}', which requirements.txt does not install"


def grants_modules() -> list[str]:
    import grants  # noqa: PLC0415 - the package under test, imported by this check on purpose
    found = ["grants"]
    for info in pkgutil.walk_packages(grants.__path__, prefix="grants."):
        found.append(info.name)
    return sorted(found)


def check_imports() -> list[str]:
    problems = []
    for name in grants_modules():
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as error:
            missing = error.name or "?"
            if missing == name or missing.startswith("grants."):
                problems.append(f"{name}: cannot import {missing}: {error}")
            else:
                problems.append(f"{name} imports '{missing}', which is not installed "
                                f"({package_hint(missing)})")
        except Exception as error:  # noqa: BLE001 - report every failing module, then fail
            last = traceback.format_exception_only(type(error), error)[-1].strip()
            problems.append(f"{name}: importing it fails: {last}")
    return problems


def _env(instance: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GRANTS_", "DATABASE_URL", "REDIS_URL", "FLASK_"))}
    env.update(GRANTS_ENV="development", GRANTS_INSTANCE_PATH=instance,
               DATABASE_URL=f"sqlite:///{instance}/check.sqlite3",
               PYTHONDONTWRITEBYTECODE="1")
    return env


def registered_commands() -> dict[str, list[str]]:
    """Every command the app registers: top-level names, with sub-commands of groups."""
    import click  # noqa: PLC0415

    from grants import create_app  # noqa: PLC0415
    app = create_app()
    commands: dict[str, list[str]] = {}
    for name, command in app.cli.commands.items():
        commands[name] = sorted(command.commands) if isinstance(command, click.Group) else []
    return commands


def listed_commands(output: str) -> set[str]:
    listing = output.split("Commands:", 1)[1] if "Commands:" in output else ""
    return {line.split()[0] for line in listing.splitlines() if line.startswith("  ") and
            line.strip()}


def check_cli(commands: dict[str, list[str]], env: dict[str, str]) -> list[str]:
    problems = []

    def flask_help(*args: str) -> str:
        run = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args, "--help"],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        text = run.stdout + run.stderr
        if run.returncode != 0 or "Error:" in text or "Traceback" in text:
            problems.append(f"flask --app wsgi {' '.join((*args, '--help'))} fails:\n"
                            + "\n".join("    " + line for line in text.strip().splitlines()[-15:]))
        return text

    listed = listed_commands(flask_help())
    for name, subcommands in sorted(commands.items()):
        if name not in listed:
            problems.append(f"flask --app wsgi --help does not list the command '{name}'")
            continue
        if subcommands:
            sub_listed = listed_commands(flask_help(name))
            for sub in subcommands:
                if sub not in sub_listed:
                    problems.append(f"flask --app wsgi {name} --help does not list '{sub}'")
    return problems


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="grants-runtime-check-") as instance:
        env = _env(instance)
        os.environ.clear()
        os.environ.update(env)
        sys.path.insert(0, str(ROOT))
        problems = check_imports()
        commands: dict[str, list[str]] = {}
        try:
            commands = registered_commands()
        except Exception as error:  # noqa: BLE001
            problems.append("create_app() fails: "
                            + traceback.format_exception_only(type(error), error)[-1].strip())
        problems += check_cli(commands, env)
    if problems:
        print("The runtime requirements (requirements.txt) are not complete:")
        for problem in problems:
            print(f"- {problem}")
        return 1
    count = len(grants_modules())
    print(f"Runtime requirements complete: {count} modules under grants/ import, create_app() "
          f"works, flask --help lists all {len(commands)} commands "
          f"({', '.join(sorted(commands))}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
