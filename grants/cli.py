"""flask CLI commands: demo, applications, worker, workflow, documents, jobs, audit, search,
export and import."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from grants.db import db


def only_checking_definitions(argv: list[str]) -> bool:
    """True for `flask ... workflow check ...`, which must run even when files are invalid."""
    words = [a for a in argv[1:] if not a.startswith("-")]
    return any(words[i:i + 2] == ["workflow", "check"] for i in range(len(words)))


demo = AppGroup("demo", help="Demo data and the all-in-one demo server.")
applications = AppGroup("applications", help="Work with applications.")
workflow = AppGroup("workflow", help="Check and show workflow definitions.")
documents = AppGroup("documents", help="Check the documents the app made.")


@documents.command("verify")
@click.argument("pdf", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--trust-roots", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="PEM of the roots to trust (default: GRANTS_SIGNING_TRUST_ROOTS"
                                 "; in demo mode, the demo CA of instance/signing/).")
def documents_verify(pdf: Path, trust_roots: Path | None) -> None:
    """Check the seal of an archival PDF (signer, time, valid / intact / trusted) and the
    snapshot embedded in it against its SHA-256. Exits 1 when either fails, 2 when the file
    is intact but not signed."""
    from grants.documents.demo_pki import DemoPKI  # noqa: PLC0415
    from grants.documents.signatures import (  # noqa: PLC0415
        SigningConfig,
        load_certificates,
        trust_roots_of,
        validate_pdf,
    )
    from grants.submissions.archive import embedded_snapshot_check  # noqa: PLC0415

    config = SigningConfig.from_config(current_app.config)
    demo_ca = DemoPKI(Path(current_app.instance_path) / "signing").ca_cert
    if trust_roots is not None:
        roots = load_certificates(str(trust_roots))
    elif not config.trust_roots and current_app.config["DEMO_MODE"] and demo_ca.exists():
        roots = load_certificates(str(demo_ca))
    else:
        roots = trust_roots_of(config)
    content = pdf.read_bytes()
    status = validate_pdf(content, roots)
    if not status.signed:
        click.echo(f"Signature: {status.summary}")
    else:
        click.echo(f"Signer: {status.signer}")
        click.echo(f"Timestamp: {status.signed_at or 'none'}")
        click.echo(f"Intact: {'yes' if status.intact else 'NO'}")
        click.echo(f"Trusted: {'yes' if status.trusted else 'NO'}")
        click.echo(f"Valid: {'yes' if status.valid else 'NO'} ({status.summary})")
    check = embedded_snapshot_check(content)
    click.echo(f"Snapshot: {check.message}")
    if (status.signed and not status.valid) or not check.ok or (
            not status.signed and status.summary != "not signed"):
        sys.exit(1)
    if not status.signed:
        sys.exit(2)


@demo.command("seed")
@click.option("--data", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Counties/funders YAML (default: the bundled demo data).")
def demo_seed(data: Path | None) -> None:
    """Create demo organisations, funders, calls and accounts (idempotent)."""
    if not current_app.config["DEMO_MODE"]:
        raise click.ClickException("Demo data is only seeded in demo mode: set GRANTS_DEMO=1.")
    from grants.demo import seed  # noqa: PLC0415
    summary = seed(data)
    click.echo(summary)


@demo.command("run")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
def demo_run(host: str, port: int) -> None:
    """Serve the web app and a worker together until Ctrl-C."""
    from grants.demo import DEMO_PASSWORD, DEMO_USERS  # noqa: PLC0415
    from grants.launcher import port_in_use, run_all  # noqa: PLC0415
    if port_in_use(host, port):
        raise click.ClickException(
            f"Port {port} on {host} is already in use (another demo, or another program). "
            f"Stop it, or choose another port: make demo PORT={port + 55}")
    lines = [
        "",
        f"  grants is running at http://{host}:{port}/",
        f"  Demo logins (password: {DEMO_PASSWORD}):",
        *[f"    {email:<24} {name}" for email, name, *_rest in DEMO_USERS],
        "  Press Ctrl-C to stop the web server, the worker and the embedded Redis.",
        "",
    ]
    sys.exit(run_all(current_app._get_current_object(), host=host, port=port,
                     banner="\n".join(lines)))


@applications.command("render")
@click.argument("application_id", type=int)
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--final", is_flag=True, help="Render without the draft watermark.")
def render(application_id: int, out: Path, final: bool) -> None:
    """Render one application to a PDF file, synchronously."""
    from grants.applications.models import Application  # noqa: PLC0415
    from grants.applications.queries import current_partners, load_answers  # noqa: PLC0415
    from grants.applications.snapshot import build_snapshot  # noqa: PLC0415
    from grants.documents.rendering import render_application_pdf  # noqa: PLC0415
    from grants.processes import form_for  # noqa: PLC0415

    application = db.session.get(Application, application_id)
    if application is None:
        raise click.ClickException(f"No application {application_id}.")
    snapshot = build_snapshot(application, form_for(application),
                              load_answers(application.id),
                              current_partners(application.id))
    with current_app.test_request_context():
        pdf = render_application_pdf(snapshot, "final" if final else "preview")
    out.write_bytes(pdf)
    click.echo(f"Wrote {out} ({len(pdf)} bytes)")


@click.command("worker")
@with_appcontext
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option("--with-scheduler", is_flag=True, help="Also run RQ's scheduler.")
def worker_command(burst: bool, with_scheduler: bool) -> None:
    """Run an RQ worker for this app's queues."""
    from grants.worker import run_worker  # noqa: PLC0415
    run_worker(current_app._get_current_object(), burst=burst, with_scheduler=with_scheduler)


@workflow.command("check")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--against-db", is_flag=True,
              help="Also list applications the current files would strand, and those on "
                   "older form versions.")
def workflow_check(files: tuple[Path, ...], against_db: bool) -> None:
    """Validate workflow and form files (default: every file in workflows/ and
    workflows/forms/). Exit status 1 when a file is invalid or an application needs a
    coordinator."""
    from grants.applications.versions import (  # noqa: PLC0415
        check_against_db,
        check_files,
        check_forms_against_db,
    )

    directory = Path(current_app.config["WORKFLOWS_PATH"])
    paths = list(files) or (sorted(directory.glob("*.yaml"))
                            + sorted((directory / "forms").glob("*.yaml")))
    valid, forms, problems = check_files(paths, directory)
    for problem in problems:
        click.echo(str(problem), err=True)
    for name, wf in valid.items():
        click.echo(f"{name} v{wf.version}: {len(wf.states)} states, "
                   f"{len(wf.transitions)} transitions, initial '{wf.initial}' – OK")
    for name, form in forms.items():
        fields = sum(len(s.fields) for s in form.sections)
        click.echo(f"form {name} v{form.version}: {len(form.sections)} sections, "
                   f"{fields} fields – OK")
    failed = bool(problems)
    if against_db:
        findings = check_against_db(valid) + check_forms_against_db(forms)
        for finding in findings:
            click.echo(("ACTION: " if finding.needs_action else "note: ") + finding.message,
                       err=finding.needs_action)
        if not findings:
            click.echo("Every application's state exists in the workflow it follows, and every "
                       "application uses the current version of its form.")
        failed = failed or any(f.needs_action for f in findings)
    if failed:
        sys.exit(1)


@workflow.command("show")
@click.argument("name")
@click.option("--format", "fmt", type=click.Choice(["mermaid", "dot", "svg"]),
              default="mermaid", show_default=True)
@click.option("--lang", type=click.Choice(["sv", "en"]), default="sv", show_default=True)
@click.option("--current", default=None, help="Highlight this state.")
def workflow_show(name: str, fmt: str, lang: str, current: str | None) -> None:
    """Print a workflow as a Mermaid diagram, Graphviz DOT or SVG."""
    from grants.processes import get_workflow  # noqa: PLC0415
    from grants.workflow.diagram import to_dot, to_mermaid, to_svg  # noqa: PLC0415

    wf = get_workflow(name)
    if wf is None:
        known = ", ".join(sorted(current_app.extensions["grants.workflows"]))
        raise click.ClickException(f"No workflow '{name}'. Known: {known}.")
    if current is not None and current not in wf.states:
        raise click.ClickException(f"'{name}' has no state '{current}'.")
    if fmt == "mermaid":
        click.echo(to_mermaid(wf, lang, current=current), nl=False)
    elif fmt == "dot":
        click.echo(to_dot(wf, lang, current=current).source, nl=False)
    else:
        click.echo(to_svg(wf, lang, current=current))


jobs = AppGroup("jobs", help="Background work.")


@jobs.command("sweep")
@click.option("--older-than", default=30, show_default=True,
              help="Only rows older than this many seconds.")
def jobs_sweep(older_than: int) -> None:
    """Re-enqueue unfinished jobs, and schedule again pending deadline reminders, whose RQ
    job is gone (after a Redis restart or flush)."""
    from datetime import timedelta  # noqa: PLC0415

    from grants.deadlines.reminders import sweep_reminders  # noqa: PLC0415
    from grants.jobs.sweeper import sweep  # noqa: PLC0415
    app_ = current_app._get_current_object()
    pushed = sweep(app_, older_than=timedelta(seconds=older_than), others=False)
    click.echo(f"Re-enqueued {len(pushed)} job(s)" + (f": {pushed}" if pushed else "."))
    reminders = sweep_reminders(app_, older_than=timedelta(seconds=older_than))
    click.echo(f"Scheduled {len(reminders)} reminder(s) again"
               + (f": {reminders}" if reminders else "."))


@jobs.command("reminders")
def jobs_reminders() -> None:
    """Bring every application's deadline reminders in line with its milestones (after an
    upgrade that added reminders, or to repair them); safe to run any time."""
    from sqlalchemy import select  # noqa: PLC0415

    from grants.applications.models import Application  # noqa: PLC0415
    from grants.deadlines.operations import schedule_reminders  # noqa: PLC0415
    scheduled = 0
    for application in db.session.scalars(select(Application).order_by(Application.id)):
        scheduled += len(schedule_reminders(application))
    db.session.commit()
    click.echo(f"{scheduled} reminder(s) waiting to be sent.")


audit = AppGroup("audit", help="The audit log.")


@audit.command("verify")
def audit_verify() -> None:
    """Walk the audit log's hash chain: OK with the number of rows and the head hash, or the
    first row that does not match (exit status 1)."""
    from grants.audit import verify_chain  # noqa: PLC0415
    report = verify_chain()
    if report.ok:
        click.echo(f"OK: {report.rows} audit rows, the chain is intact (head {report.head}).")
        return
    row = report.broken
    click.echo(f"BROKEN at audit row {row.id} ({row.created_at.isoformat()}, {row.action}): "
               f"{report.problem}. The {report.rows} rows before it match.", err=True)
    sys.exit(1)


search = AppGroup("search", help="The search index.")


@search.command("reindex")
def search_reindex() -> None:
    """Rebuild the search index from every application (after an import or a migration, or
    when a call, funder or organisation was renamed). One transaction."""
    from grants.search.indexing import rebuild_index  # noqa: PLC0415
    count = rebuild_index()
    db.session.commit()
    click.echo(f"Indexed {count} application(s) for search.")


@click.command("export")
@with_appcontext
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The backup file to write (a zip).")
def export_command(out: Path) -> None:
    """Back up the whole database (every table, every stored file with its SHA-256)."""
    from grants.backup import BackupError, export_database  # noqa: PLC0415
    partial = out.with_name(out.name + ".partial")
    try:
        summary = export_database(partial)
    except BackupError as exc:
        partial.unlink(missing_ok=True)
        raise click.ClickException(str(exc)) from exc
    partial.replace(out)
    click.echo(f"Wrote {out}: {summary}.")


@click.command("import")
@with_appcontext
@click.argument("backup", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(backup: Path) -> None:
    """Restore a backup made by `export` into this app's empty database (migrated with
    `flask db upgrade`). Everything or nothing."""
    from grants.audit import verify_chain  # noqa: PLC0415
    from grants.backup import BackupError, import_database  # noqa: PLC0415
    try:
        summary = import_database(backup)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Imported {backup}: {summary}.")
    chain = verify_chain()
    if chain.ok:
        click.echo(f"Audit chain: OK, {chain.rows} rows (head {chain.head}).")
    else:
        click.echo(f"Audit chain: BROKEN at row {chain.broken.id} ({chain.broken.action}): "
                   f"{chain.problem}.", err=True)
        sys.exit(1)


def register_cli(app: Flask) -> None:
    """Every command, on the app's `flask` command line."""
    for command in (demo, applications, workflow, documents, jobs, audit, search, worker_command,
                    export_command, import_command):
        app.cli.add_command(command)
