"""How long the ``tagora`` command takes to start: ``tagora --help`` and a light command, as a user runs them.

python benchmarks/cli_startup.py [--scale small|full] [--runs N]

Each figure is the median of several runs of the command as a subprocess (a fresh interpreter each time,
so nothing is cached in memory). The light command is ``tagora tags list --json`` on stores made by a
warm-up run (which migrates them and is not counted). Target (issue 20, item 14): ``help_s`` < 1.0; it was
3.3 s when every area's CLI imported its logic (scikit-learn, implicit, Ibis, pandas) at start-up.
Baseline in the same run: the bare interpreter (``python -c pass``) and ``import typer``, the floor no
command can go below. Also lists the heavy libraries ``import tagora.cli`` loads (there should be none).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEAVY = ("sklearn", "implicit", "ibis", "pandas", "pyarrow", "duckdb", "scipy", "alembic", "openpyxl")
SECRET = "bench-secret-0123456789abcdefghijklmnop"


def tagora_command() -> list[str]:
    found = shutil.which("tagora")
    return [found] if found else [sys.executable, "-m", "tagora.cli"]


def median_seconds(command: list[str], runs: int, env: dict[str, str]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def heavy_modules_loaded(env: dict[str, str]) -> list[str]:
    probe = f"import sys, tagora.cli; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], env=env, check=True, capture_output=True, text=True)
    return [m for m in out.stdout.strip().split(",") if m]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", choices=["small", "full"], default="full")
    parser.add_argument("--runs", type=int)
    args = parser.parse_args()
    runs = args.runs or (9 if args.scale == "full" else 3)
    tagora = tagora_command()

    with tempfile.TemporaryDirectory(prefix="tagora-cli-startup-") as work:
        env = {**os.environ, "TAGORA_HOME": str(Path(work) / "home"), "TAGORA_ENV": "test"}
        env["TAGORA_SECRET_KEY"] = SECRET
        light = [*tagora, "tags", "list", "--json"]
        subprocess.run(light, env=env, check=True, stdout=subprocess.DEVNULL)  # warm-up: makes the stores

        python_s = median_seconds([sys.executable, "-c", "pass"], runs, env)
        typer_s = median_seconds([sys.executable, "-c", "import typer"], runs, env)
        help_s = median_seconds([*tagora, "--help"], runs, env)
        light_s = median_seconds(light, runs, env)
        heavy = heavy_modules_loaded(env)

    print(f"median of {runs} runs each, a fresh process per run")
    print(f"  python -c pass          {python_s:6.3f} s   (floor)")
    print(f"  python -c 'import typer' {typer_s:5.3f} s   (floor of any Typer CLI)")
    print(f"  tagora --help           {help_s:6.3f} s   (target < 1.0; 3.3 s before lazy imports)")
    print(f"  tagora tags list --json {light_s:6.3f} s")
    print(f"  heavy libraries loaded by import tagora.cli: {', '.join(heavy) or 'none'}")
    figures = {
        "help_s": round(help_s, 3),
        "light_command": "tags list --json",
        "light_command_s": round(light_s, 3),
        "python_s": round(python_s, 3),
        "typer_s": round(typer_s, 3),
        "heavy_modules_at_import": heavy,
        "runs": runs,
        "scale": args.scale,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
