"""`python -m bench` (or `make bench`): every speed and scale target, each a ratio to a baseline
measured in the same run, printed with the machine it ran on. See docs/benchmarks.md.

    python -m bench                      # everything (about 6–9 minutes on 2 cores)
    python -m bench --quick              # small numbers, for trying a change (about 2 minutes)
    python -m bench --only pdf,memory    # some parts: pdf, scale, memory, web
    python -m bench --json results.json  # also write the figures as JSON

Parts 1, 2, 3 and 6 run on the embedded defaults (SQLite in a temp folder, an embedded Redis),
or on PostgreSQL when DATABASE_URL is set (a database of their own on that server, dropped at
the end). Part 4 (web under load) needs PostgreSQL: DATABASE_URL, else
postgresql://postgres@127.0.0.1:5432/postgres; when none answers it is skipped, and says why.
REDIS_URL is used when set (with a key prefix of its own; never flushed)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from pathlib import Path

from bench.common import DEFAULT_POSTGRES_URL, Report, machine_info, postgres_reachable, say

PARTS = ("pdf", "scale", "memory", "web")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small numbers (a quick look)")
    parser.add_argument("--only", default=",".join(PARTS),
                        help=f"comma-separated parts to run ({', '.join(PARTS)})")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)
    parts = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown part(s): {', '.join(sorted(unknown))}")
    logging.basicConfig(level=logging.WARNING)

    database_url = os.environ.get("DATABASE_URL", "")
    sqlite_or_pg = database_url if database_url.startswith(("postgres://", "postgresql")) \
        else None
    web_url = sqlite_or_pg or DEFAULT_POSTGRES_URL
    machine = machine_info(web_url if "web" in parts or sqlite_or_pg else None)
    say("grants benchmarks" + (" (quick)" if args.quick else ""))
    for key in ("cpu", "cores", "memory", "os", "python", "weasyprint", "postgresql", "redis",
                "load_average"):
        say(f"  {key:<12} {machine.get(key)}")
    say(f"  database     {'PostgreSQL (DATABASE_URL)' if sqlite_or_pg else 'SQLite (embedded)'}"
        f" for parts 1-3 and 6")

    report = Report()
    failed = False
    for part in parts:
        say("")
        try:
            if part == "pdf":
                say("Parts 1 and 2: PDF pipeline overhead, no wasted renders")
                from bench import pdf_pipeline  # noqa: PLC0415
                pdf_pipeline.run(report, quick=args.quick, postgres_url=sqlite_or_pg)
            elif part == "scale":
                say("Part 3: scale-out, PDFs per minute with 1 and 2 workers")
                from bench import scale_out  # noqa: PLC0415
                scale_out.run(report, quick=args.quick, postgres_url=sqlite_or_pg)
            elif part == "memory":
                say("Part 6: worker memory over many renders")
                from bench import memory  # noqa: PLC0415
                memory.run(report, quick=args.quick, postgres_url=sqlite_or_pg)
            elif part == "web":
                say("Part 4: web under load (PostgreSQL, gunicorn, two workers rendering)")
                why = postgres_reachable(web_url)
                if why:
                    report.skip("4. Web under load", "p95 < 100 ms, throughput ≥ 50 % of bare",
                                f"needs PostgreSQL; none answers at the configured address "
                                f"({why}). Set DATABASE_URL to a PostgreSQL server.")
                    continue
                from bench import web_load  # noqa: PLC0415
                web_load.run(report, quick=args.quick, postgres_url=web_url)
        except Exception:  # noqa: BLE001 - report, go on with the next part
            failed = True
            say(f"  part {part} failed:\n{traceback.format_exc()}")
    machine["load_average_after"] = machine_info.__globals__["load_average"]()
    say(report.summary())
    say(f"Load average (1, 5, 15 min) before: {machine['load_average']}, after: "
        f"{machine['load_average_after']} on {machine['cores']} cores")
    if args.json:
        args.json.write_text(report.as_json(machine), encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
