"""The demo's mailbox: a local SMTP server (aiosmtpd) that `demo run` starts when no
MAIL_SERVER is set, so that emails – invitations, notifications, the delivery to the funder –
really go over SMTP as they would in production. Each message is kept as an .eml file in the
instance folder and summarised on the console (with its links, so an invitation can be
followed); nothing leaves the machine."""

from __future__ import annotations

import re
import socket
import threading
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

from aiosmtpd.controller import Controller

LINK = re.compile(r"https?://\S+")


class DemoMailbox:
    def __init__(self, directory: Path, *, echo=print):
        self.directory = directory
        self.echo = echo
        self.controller: Controller | None = None
        self._lock = threading.Lock()

    @property
    def messages(self) -> list[Path]:
        return sorted(self.directory.glob("*.eml"))

    def start(self) -> tuple[str, int]:
        """Listen on a free port of 127.0.0.1; returns (host, port)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.controller = Controller(self, hostname="127.0.0.1", port=port)
        self.controller.start()
        return "127.0.0.1", port

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd)
        message = message_from_bytes(envelope.content, policy=default_policy)
        with self._lock:
            path = self.directory / f"{len(self.messages) + 1:04d}.eml"
            path.write_bytes(envelope.content)
        body = message.get_body(preferencelist=("plain",))
        links = LINK.findall(body.get_content()) if body is not None else []
        attachments = [part.get_filename() for part in message.iter_attachments()]
        lines = [f"[demo mailbox] to {', '.join(envelope.rcpt_tos)}: {message['Subject']}"]
        lines += [f"    link: {link}" for link in links[:3]]
        lines += [f"    attachment: {name}" for name in attachments if name]
        lines.append(f"    kept as {path}")
        self.echo("\n".join(lines))
        return "250 OK: kept in the demo mailbox"
