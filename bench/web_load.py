"""Target 4: the web under load, on PostgreSQL, while two workers render PDFs.

A database of its own on the PostgreSQL server is seeded with 10,000 applications, 200
organisations and 50,000 history rows (plus 4 steering groups, 12 calls, about 100 open decision
rounds, section answers and partners on the applications the clients work on). gunicorn serves
the app with 2 workers; two `flask worker` processes render PDFs of the realistic 12-page
application without pause the whole time.

20 clients log in as real users (CSRF token from the login page) – 18 project leads who are
also members of a steering group, and 2 coordinators – and each repeats: the overview
(dashboard), the portfolio list, one of their applications, and an autosave of a section of it
(a POST with the section's version), pausing 0.5–1.5 s between requests as a person reading
does (20 users then ask for about 20 pages a second). The same 20 users then ask for the bare
/health endpoint served the same way, with the same pauses.

Measured, in this order:
1. the users with the workers at the same CPU priority as the web server (for comparison);
2. the users with the workers at a lower priority, as docs/deploy.md recommends for a machine
   that serves web and renders PDFs: targets p95 < 100 ms and throughput ≥ 50 % of /health's
   with the same users;
3. /health with the same users;
4. capacity: the mix and /health as closed loops without pauses (no target: a page that reads
   the database and renders a template does not come near an endpoint that does neither).
Where the CPU went (web, workers, PostgreSQL, the driver, other processes) is reported too."""

from __future__ import annotations

import json
import os
import random
import shutil
import socket
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bench import data
from bench.common import BenchEnv, CpuMeter, Report, Result, lower_priority, ms, say, wait_until
from bench.load_driver import Client, Response, drive

APPLICATIONS = 10_000
ORGANISATIONS = 200
HISTORY = 50_000
CLIENTS = 20
COORDINATORS = 2
GROUPS = 4
CALLS = 12
OWN_APPLICATIONS = 10          # per client: the ones it opens and saves
OPEN_ROUNDS = 100              # applications awaiting a steering group decision
# Each user pauses between requests (reads the page), drawn evenly from this range: 20 users
# then ask for about 20 pages a second, far more than 20 people filling in forms do.
THINK = (0.5, 1.5)
# The render workers run at a lower CPU priority than the web server (docs/deploy.md): on a
# machine that does both, a page never waits for a PDF.
WORKER_NICE = 10
TARGET_P95 = 0.100
TARGET_THROUGHPUT = 0.5


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def seed_bulk(app, password_hash: str) -> dict:
    """The large data set, inserted in bulk. Returns the clients' logins and applications."""
    import sqlalchemy as sa  # noqa: PLC0415

    from grants.accounts.models import User  # noqa: PLC0415
    from grants.applications.models import Application, SectionAnswer, TransitionRecord  # noqa: PLC0415
    from grants.approvals.models import VoteRound  # noqa: PLC0415
    from grants.calls.models import Call, Funder  # noqa: PLC0415
    from grants.db import db, utcnow  # noqa: PLC0415
    from grants.organisations.models import Organisation, OrganisationKind  # noqa: PLC0415
    from grants.organisations.orgnr import make_fictional  # noqa: PLC0415
    from grants.partners.models import ApplicationPartner  # noqa: PLC0415
    from grants.processes import get_workflow  # noqa: PLC0415
    from grants.steering.models import SteeringGroup, SteeringMember  # noqa: PLC0415

    rng = random.Random(20261125)
    now = utcnow()
    counties = ["Kalmar län", "Kronobergs län", "Blekinge län", "Jönköpings län",
                "Östergötlands län", "Skåne län"]
    kinds = list(OrganisationKind)

    def insert(model, rows: list[dict]) -> list[int]:
        result = db.session.execute(sa.insert(model).returning(model.id), rows)
        return [row[0] for row in result]

    with app.app_context():
        workflow = get_workflow("joint_application")
        other_states = [name for name in workflow.states if name != "steering_approval"]
        orgs = insert(Organisation, [
            {"name": f"{['Bibliotek', 'Kulturförvaltning', 'Skola'][i % 3]} {i} i "
                     f"{counties[i % len(counties)].split()[0]}",
             "org_number": make_fictional(20_000 + i), "county": counties[i % len(counties)],
             "kind": kinds[i % len(kinds)], "is_fictional": True}
            for i in range(ORGANISATIONS)])
        users = insert(User, [
            {"email": f"client{i}@load.test", "name": f"Klient {i} Åberg",
             "password_hash": password_hash, "is_coordinator": i < COORDINATORS}
            for i in range(CLIENTS)]
            + [{"email": f"author{i}@load.test", "name": f"Författare {i}",
                "password_hash": password_hash} for i in range(100)])
        clients, authors = users[:CLIENTS], users[CLIENTS:]
        db.session.execute(sa.insert(User.organisations.property.secondary), [
            {"user_id": user_id, "organisation_id": orgs[n % ORGANISATIONS]}
            for n, user_id in enumerate(users)])
        groups = insert(SteeringGroup, [{"name": f"Styrgrupp {g + 1} i sydost"}
                                        for g in range(GROUPS)])
        db.session.execute(sa.insert(SteeringMember), [
            {"group_id": groups[n % GROUPS], "user_id": user_id, "is_chair": n < GROUPS}
            for n, user_id in enumerate(clients)])
        funders = insert(Funder, [
            {"name": f"Finansiär {f} för lasttest", "short_name": f"Fin{f}",
             "slug": f"load-funder-{f}"} for f in range(3)])
        calls = insert(Call, [
            {"funder_id": funders[c % 3], "title": f"Utlysning {c + 1} {2025 + c % 3}",
             "opens_at": now - timedelta(days=400 - 30 * c),
             "deadline_at": now + timedelta(days=-300 + 60 * c),
             "workflow_name": workflow.name, "form_name": "standard",
             "steering_group_id": groups[c % GROUPS]} for c in range(CALLS)])
        open_calls = [c for n, c in enumerate(calls) if -300 + 60 * n > 0]

        own: dict[int, list[int]] = {}
        rows = []
        for i in range(APPLICATIONS):
            if i < CLIENTS * OWN_APPLICATIONS:
                lead, call, state = clients[i % CLIENTS], open_calls[i % len(open_calls)], \
                    workflow.initial
            else:
                lead, call = authors[i % len(authors)], calls[i % CALLS]
                state = "steering_approval" if i % (APPLICATIONS // OPEN_ROUNDS) == 0 \
                    else rng.choice(other_states)
            updated = now - timedelta(minutes=rng.randrange(60 * 24 * 365))
            rows.append({"call_id": call, "lead_organisation_id": orgs[i % ORGANISATIONS],
                         "lead_user_id": lead, "title": f"Projekt {i}: läsfrämjande i länet",
                         "language": "sv", "workflow_name": workflow.name,
                         "workflow_version": workflow.version, "form_name": "standard",
                         "state": state, "created_at": updated - timedelta(days=30),
                         "updated_at": updated})
        applications = []
        for start in range(0, len(rows), 2000):
            applications += insert(Application, rows[start:start + 2000])
        for i in range(CLIENTS * OWN_APPLICATIONS):
            own.setdefault(clients[i % CLIENTS], []).append(applications[i])

        history_per = HISTORY // APPLICATIONS
        for start in range(0, APPLICATIONS, 2000):
            db.session.execute(sa.insert(TransitionRecord), [
                {"application_id": app_id, "transition": "create" if h == 0 else f"step{h}",
                 "from_state": "" if h == 0 else workflow.initial, "to_state": workflow.initial,
                 "actor_id": authors[(n + h) % len(authors)], "comment": "Lasttest"}
                for n, app_id in enumerate(applications[start:start + 2000])
                for h in range(history_per)])
        pairs = enumerate(zip(applications, rows, strict=False))
        rounds = [(n, app_id) for n, (app_id, row) in pairs
                  if row["state"] == "steering_approval"]
        db.session.execute(sa.insert(VoteRound), [
            {"application_id": app_id, "number": 1, "group_id": groups[rows[n]["call_id"] % GROUPS],
             "transition": "approve", "state": "steering_approval", "state_version": 1,
             "fingerprint": "0" * 64, "status": "open"} for n, app_id in rounds])
        mine = [app_id for ids in own.values() for app_id in ids]
        db.session.execute(sa.insert(SectionAnswer), [
            {"application_id": app_id, "section_key": key, "owner_key": "", "data": values}
            for app_id in mine for key, values in data.standard_answers(app_id).items()])
        db.session.execute(sa.insert(ApplicationPartner), [
            {"application_id": app_id, "organisation_id": orgs[(n * 7 + p + 1) % ORGANISATIONS],
             "contact_name": f"Kontakt {p}", "contact_email": f"kontakt{n}-{p}@load.test",
             "status": "invited"} for n, app_id in enumerate(mine) for p in range(2)])
        db.session.commit()
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
        db.session.remove()
    return {"clients": [{"email": f"client{i}@load.test", "applications": own[user_id]}
                        for i, user_id in enumerate(clients)],
            "open_rounds": len(rounds)}


def script(client: Client, n: int):
    """The n-th request of a client: dashboard, portfolio, application page, section save."""
    applications = client.state["applications"]
    n += client.state.get("offset", 0)  # clients start at different pages
    app_id = applications[(n // 4) % len(applications)]
    step = n % 4
    if step == 0:
        return "dashboard", lambda c: c.request("GET", "/"), (200,)
    if step == 1:
        return "portfolio", lambda c: c.request("GET", "/portfolio"), (200,)
    if step == 2:
        return "application page", lambda c: c.request("GET", f"/applications/{app_id}"), (200,)
    return "section save", lambda c: save_section(c, app_id), (200,)


def save_section(client: Client, app_id: int) -> Response:
    """An autosave of the summary section, with the version the client last saw."""
    versions = client.state.setdefault("versions", {})
    answer = client.request(
        "POST", f"/applications/{app_id}/sections/summary",
        {"csrf_token": client.csrf, "version": str(versions.get(app_id, 1)),
         "summary": f"Sammanfattning {time.time():.3f}: läsfrämjande för äldre."},
        headers={"X-Autosave": "1", "Accept": "application/json"})
    if answer.status == 200:
        versions[app_id] = json.loads(answer.body)["version"]
    return answer


def bare(_client: Client, _n: int):
    return "health", lambda c: c.request("GET", "/health"), (200,)


def run(report: Report, *, quick: bool, postgres_url: str) -> None:
    seconds = 10 if quick else 30
    tmp = Path(tempfile.mkdtemp(prefix="grants-bench-forms-"))
    try:
        workflows = data.bench_workflows(tmp)
        with BenchEnv("web", postgres_url=postgres_url, workflows_path=workflows) as env:
            _run(env, report, seconds)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _run(env: BenchEnv, report: Report, seconds: float) -> None:
    from werkzeug.security import generate_password_hash  # noqa: PLC0415
    started = time.perf_counter()
    seeded = data.seed(env.app)
    bulk = seed_bulk(env.app, generate_password_hash(data.PASSWORD, method="scrypt"))
    say(f"  seeded {APPLICATIONS} applications, {ORGANISATIONS} organisations, {HISTORY} "
        f"history rows, {bulk['open_rounds']} open decision rounds in "
        f"{time.perf_counter() - started:.0f} s")

    # Two workers with a queue that does not run dry during both measurements.
    snapshot = data.snapshot_of(env.app, seeded.application_id)
    workers = env.start_workers(2)
    data.enqueue_renders(env.app, seeded.application_id,
                         [data.variant(snapshot, f"load{i}") for i in range(8 * int(seconds) + 40)])

    port = free_port()
    server = env.spawn(["-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
                        "--no-control-socket", "wsgi:app"], "gunicorn")

    def answers() -> bool:
        if server.poll() is not None:
            raise RuntimeError("gunicorn exited:\n" + env.log_text("gunicorn")[-3000:])
        try:
            return Client("127.0.0.1", port, timeout=2).request("GET", "/health").status == 200
        except OSError:
            return False
    wait_until(answers, timeout=60, interval=0.2, what="gunicorn answering")

    clients = []
    for spec in bulk["clients"]:
        client = Client("127.0.0.1", port)
        client.login(spec["email"], data.PASSWORD)
        client.state["applications"] = spec["applications"]
        client.state["offset"] = len(clients)
        page = client.request("GET", f"/applications/{spec['applications'][0]}/sections/summary")
        client.remember_csrf(page.text)
        clients.append(client)
    drive(clients, script, seconds=3)  # warm-up: every page once per gunicorn worker

    groups = {"gunicorn (web)": [server.pid], "PDF workers": [w.pid for w in workers]}
    # First with the workers at the same CPU priority as the web server (for comparison) …
    meter = CpuMeter(groups)
    meter.start()
    same = drive(clients, script, seconds=seconds / 2, think=THINK)
    same_cores = meter.stop()
    # … then as docs/deploy.md recommends: the workers at a lower priority.
    for worker in workers:
        lower_priority(worker.pid, WORKER_NICE)
    meter.start()
    mix = drive(clients, script, seconds=seconds, think=THINK)
    cores = meter.stop()
    health = drive(clients, bare, seconds=seconds, think=THINK)
    mix_max = drive(clients, script, seconds=seconds / 2)
    health_max = drive(clients, bare, seconds=seconds / 2)
    errors = same.errors + mix.errors + health.errors + mix_max.errors + health_max.errors
    if errors:
        raise RuntimeError(f"errors under load: {errors[:5]}")
    jobs = data.jobs_status(env.app)
    labels = ("dashboard", "portfolio", "application page", "section save")
    per_page = ", ".join(f"{label} p50 {ms(mix.p(0.5, label))} p95 {ms(mix.p(0.95, label))}"
                         for label in labels)
    say(f"  users (pause {THINK[0]}–{THINK[1]} s): mix {mix.count} requests, "
        f"{mix.throughput:.1f}/s; {per_page}")
    say(f"  users: /health {health.count} requests, {health.throughput:.1f}/s, p50 "
        f"{ms(health.p(0.5))}, p95 {ms(health.p(0.95))}")
    say(f"  at full speed (no pause): mix {mix_max.throughput:.1f}/s p50 "
        f"{ms(mix_max.p(0.5))} p95 {ms(mix_max.p(0.95))}; /health "
        f"{health_max.throughput:.1f}/s p50 {ms(health_max.p(0.5))} p95 "
        f"{ms(health_max.p(0.95))}")
    say(f"  PDF jobs meanwhile: {jobs}")
    where = ", ".join(f"{name} {value:.2f}" for name, value in cores.items())
    say(f"  cores busy during the users' run (of {os.cpu_count()}): {where}")
    same_where = ", ".join(f"{name} {value:.2f}" for name, value in same_cores.items())
    say(f"  users, workers at the web server's priority: mix {same.throughput:.1f}/s p50 "
        f"{ms(same.p(0.5))} p95 {ms(same.p(0.95))}; cores busy: {same_where}")
    p95 = mix.p(0.95)
    report.add(Result(
        "4. Web under load", f"p95 < {TARGET_P95 * 1000:.0f} ms (20 users, 2 workers "
        f"rendering at nice {WORKER_NICE})",
        f"mix p50 {ms(mix.p(0.5))}, p95 {ms(p95)}; {per_page}; cores busy: {where}",
        p95 / TARGET_P95, p95 < TARGET_P95,
        {"think_seconds": THINK, "seconds": seconds, "worker_nice": WORKER_NICE,
         "cores_busy": {k: round(v, 2) for k, v in cores.items()},
         "per_page_ms": {label: {"p50": round(mix.p(0.5, label) * 1000, 1),
                                 "p95": round(mix.p(0.95, label) * 1000, 1)}
                         for label in labels},
         "pdf_jobs": jobs}))
    ratio = mix.throughput / health.throughput
    report.add(Result(
        "4. Web under load", f"throughput ≥ {TARGET_THROUGHPUT:.0%} of the bare endpoint "
        "(same 20 users)",
        f"mix {mix.throughput:.1f} requests/s, /health {health.throughput:.1f} requests/s "
        f"(p50 {ms(health.p(0.5))}, p95 {ms(health.p(0.95))})",
        ratio, ratio >= TARGET_THROUGHPUT,
        {"mix_rps": round(mix.throughput, 1), "health_rps": round(health.throughput, 1)}))
    report.add(Result(
        "4. Web under load", "the same users with the workers at the web server's CPU "
        "priority (no target)",
        f"mix p50 {ms(same.p(0.5))}, p95 {ms(same.p(0.95))}, {same.throughput:.1f} "
        f"requests/s; cores busy: {same_where}",
        same.p(0.95) / TARGET_P95, None,
        {"p50_ms": round(same.p(0.5) * 1000, 1), "p95_ms": round(same.p(0.95) * 1000, 1),
         "cores_busy": {k: round(v, 2) for k, v in same_cores.items()}}))
    report.add(Result(
        "4. Web under load", "capacity at full speed (no pause; no target)",
        f"mix {mix_max.throughput:.1f} requests/s (p50 {ms(mix_max.p(0.5))}, p95 "
        f"{ms(mix_max.p(0.95))}), /health {health_max.throughput:.1f} requests/s (p50 "
        f"{ms(health_max.p(0.5))}, p95 {ms(health_max.p(0.95))})",
        mix_max.throughput / health_max.throughput, None,
        {"mix_rps": round(mix_max.throughput, 1),
         "health_rps": round(health_max.throughput, 1),
         "mix_p95_ms": round(mix_max.p(0.95) * 1000, 1)}))
