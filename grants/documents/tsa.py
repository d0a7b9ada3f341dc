"""A small RFC 3161 time-stamping authority over HTTP, for the demo and the tests: it answers
POSTs of `application/timestamp-query` with a timestamp token signed by its own certificate
(pyHanko's `DummyTimeStamper` does the signing). Not for production: use your TSA's URL."""

from __future__ import annotations

import threading
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from asn1crypto import keys, pem, tsp, x509

from grants.documents.signatures import DummyTimeStamper


def _der(path: Path) -> bytes:
    data = path.read_bytes()
    return pem.unarmor(data)[2] if pem.detect(data) else data


def tsa_app(cert_path: Path, key_path: Path):
    """The WSGI app of the TSA with the certificate and (unencrypted) key at these paths."""
    stamper = DummyTimeStamper(tsa_cert=x509.Certificate.load(_der(cert_path)),
                               tsa_key=keys.PrivateKeyInfo.load(_der(key_path)))

    def app(environ, start_response):
        if (environ["REQUEST_METHOD"] != "POST"
                or environ.get("CONTENT_TYPE") != "application/timestamp-query"):
            start_response("400 Bad Request", [("Content-Type", "text/plain")])
            return [b"POST an RFC 3161 timestamp query (application/timestamp-query).\n"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        try:
            request = tsp.TimeStampReq.load(environ["wsgi.input"].read(length))
            body = stamper.request_tsa_response(request).dump()
        except Exception:  # noqa: BLE001 - a malformed query is the client's error
            start_response("400 Bad Request", [("Content-Type", "text/plain")])
            return [b"Malformed timestamp query.\n"]
        app.served += 1
        start_response("200 OK", [("Content-Type", "application/timestamp-reply"),
                                  ("Content-Length", str(len(body)))])
        return [body]
    app.served = 0  # timestamps issued
    return app


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the name of the base class
        pass


class LocalTSA:
    """The TSA on a localhost port, served from a thread until `stop()`."""

    def __init__(self, cert_path: Path, key_path: Path, host: str = "127.0.0.1",
                 port: int = 0):
        self.app = tsa_app(cert_path, key_path)
        self.host, self.port = host, port
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> str:
        self._server = make_server(self.host, self.port, self.app, handler_class=_QuietHandler)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="local-tsa")
        self._thread.start()
        return self.url

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join()
            self._server = None
