"""Runs web + worker together on embedded defaults (`flask --app wsgi demo run`, used by
`make demo`). Starts the embedded Redis when REDIS_URL is unset and, in demo mode, a local
mailbox when MAIL_SERVER is unset and a local time-stamping authority with the demo's seal
when no signing key is configured; passes their addresses to both children, and on Ctrl-C
stops everything it started."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from flask import Flask

from grants.embedded_redis import EmbeddedRedis


def port_in_use(host: str, port: int) -> bool:
    """True when something already listens on (host, port): gunicorn could not bind it."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def start_services(app: Flask, env: dict[str, str]) -> list[Callable[[], None]]:
    """Start what the processes need and is not configured – the embedded Redis, the demo
    mailbox – and put their addresses into `env`. Returns the functions that stop them."""
    stoppers: list[Callable[[], None]] = []
    if not app.config.get("REDIS_URL"):
        share = Path(app.instance_path) / "embedded-redis.url"
        server = EmbeddedRedis(Path(app.instance_path), share_file=share)
        env["REDIS_URL"] = server.start()
        stoppers.append(server.stop)
    if app.config.get("DEMO_MODE") and not (app.config.get("MAIL_SERVER")
                                            or env.get("MAIL_SERVER")):
        from grants.demo_mailbox import DemoMailbox  # noqa: PLC0415
        mailbox = DemoMailbox(Path(app.instance_path) / "demo-mail",
                              echo=lambda text: print(text, flush=True))
        mail_host, mail_port = mailbox.start()
        env.update(MAIL_SERVER=mail_host, MAIL_PORT=str(mail_port),
                   MAIL_FROM=env.get("MAIL_FROM") or "bidrag@demo.test")
        env["GRANTS_DEMO_MAILBOX"] = str(mailbox.directory)
        stoppers.append(mailbox.stop)
    if app.config.get("DEMO_MODE") and not (app.config.get("SIGNING_PKCS12")
                                            or app.config.get("SIGNING_PKCS11_MODULE")):
        # The demo seals its archival PDFs with a demo CA's certificate, timestamped by a
        # local RFC 3161 TSA (made once in instance/signing/).
        from grants.documents.demo_pki import ensure_demo_pki  # noqa: PLC0415
        from grants.documents.tsa import LocalTSA  # noqa: PLC0415
        pki = ensure_demo_pki(Path(app.instance_path) / "signing")
        tsa = LocalTSA(pki.tsa_cert, pki.tsa_key)
        env.update(pki.environment(tsa.start()))
        env["GRANTS_DEMO_SIGNING"] = str(pki.folder)
        stoppers.append(tsa.stop)
    return stoppers


def run_all(app: Flask, *, host: str, port: int, banner: str) -> int:
    env = dict(os.environ)
    # Links in emails lead to where this demo answers, unless an address is configured.
    env.setdefault("GRANTS_PUBLIC_URL",
                   f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}")
    stoppers = start_services(app, env)
    python = sys.executable
    # Each child in a process group of its own: Ctrl-C reaches only this process, which
    # then asks each child to stop gracefully (SIGTERM: gunicorn finishes the requests in
    # flight, the worker its job), and stops Redis and the mailbox after them.
    children = [
        subprocess.Popen([python, "-m", "gunicorn", "--workers", "2", "--bind", f"{host}:{port}",
                          "--no-control-socket", "--access-logfile", "-", "wsgi:app"], env=env,
                         process_group=0),
        subprocess.Popen([python, "-m", "flask", "--app", "wsgi", "worker", "--with-scheduler"],
                         env=env, process_group=0),
    ]
    print(banner, flush=True)
    if env.get("GRANTS_DEMO_MAILBOX"):
        print(f"  Emails (invitations, notifications, the delivery to the funder) go over SMTP "
              f"to the demo mailbox:\n  kept in {env['GRANTS_DEMO_MAILBOX']} and summarised "
              f"here. Nothing leaves this machine.\n", flush=True)
    if env.get("GRANTS_DEMO_SIGNING"):
        print(f"  Archival PDFs are sealed with the demo CA's seal (in "
              f"{env['GRANTS_DEMO_SIGNING']}),\n  timestamped by the local TSA at "
              f"{env['GRANTS_TSA_URL']}. Check one: flask documents verify FILE.pdf\n",
              flush=True)
    stopping = False

    def stop(*_args) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    try:
        while not stopping:
            for child in children:
                if child.poll() is not None:
                    print(f"A process stopped (exit {child.returncode}); stopping the demo.",
                          flush=True)
                    exit_code = child.returncode or 1
                    stopping = True
            time.sleep(0.3)
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
        for stop_service in reversed(stoppers):
            stop_service()
        print("Stopped.", flush=True)
    return exit_code
