"""Test registries: Debian's docker-registry (distribution 2.8) on 127.0.0.1, plus helpers.

``Registry(tmp, tls=…, htpasswd=…, token=…)`` writes a config, starts the registry
on a free port and waits for it; ``stop()`` kills it. TLS uses a CA the test makes
with openssl. ``TokenServer`` issues RS256 JWTs (signed with openssl, cert in
``x5c``) for the registry's bearer-token auth. ``Proxy`` forwards TCP to the
registry and can corrupt one byte of, or cut, a blob response.
"""
from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc=None, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def make_ca(d: str, hosts=("localhost", "127.0.0.1")) -> tuple[str, str, str]:
    """A CA and a server cert for ``hosts``; returns (ca.crt, server.crt, server.key)."""
    ca_key, ca_crt = f"{d}/ca.key", f"{d}/ca.crt"
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
            "/CN=dockyard test CA", "-keyout", ca_key, "-out", ca_crt)
    key, csr, crt, ext = f"{d}/server.key", f"{d}/server.csr", f"{d}/server.crt", f"{d}/ext.cnf"
    sans = ",".join(("IP:" if h[0].isdigit() else "DNS:") + h for h in hosts)
    with open(ext, "w") as f:
        f.write(f"subjectAltName={sans}\n")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
            "-keyout", key, "-out", csr)
    openssl("x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial",
            "-days", "2", "-extfile", ext, "-out", crt)
    return ca_crt, crt, key


class Registry:
    """A docker-registry process of the test's own."""

    def __init__(self, base: str, tls: tuple[str, str] | None = None,
                 htpasswd: tuple[str, str] | None = None, token: "TokenServer | None" = None):
        self.base, self.port = base, free_port()
        self.host = f"127.0.0.1:{self.port}"
        os.makedirs(base, exist_ok=True)
        cfg = {"version": 0.1, "log": {"level": "error", "accesslog": {"disabled": True}},
               "storage": {"filesystem": {"rootdirectory": f"{base}/data"},
                           "delete": {"enabled": True}},
               "http": {"addr": self.host, "secret": "test-secret"}}
        if tls:
            cfg["http"]["tls"] = {"certificate": tls[0], "key": tls[1]}
        if htpasswd:
            out = subprocess.run(["htpasswd", "-Bbn", *htpasswd], check=True,
                                 capture_output=True, text=True).stdout
            with open(f"{base}/htpasswd", "w") as f:
                f.write(out)
            cfg["auth"] = {"htpasswd": {"realm": "test", "path": f"{base}/htpasswd"}}
        if token:
            cfg["auth"] = {"token": {"realm": token.url, "service": "test-registry",
                                     "issuer": "test-issuer", "rootcertbundle": token.crt}}
        # JSON is YAML: the registry reads it as its config file
        with open(f"{base}/config.yml", "w") as f:
            json.dump(cfg, f)
        self.proc = subprocess.Popen(["docker-registry", "serve", f"{base}/config.yml"],
                                     stdout=subprocess.DEVNULL,
                                     stderr=open(f"{base}/registry.log", "wb"))
        try:
            wait_port(self.port, self.proc)
        except Exception:
            self.stop()
            raise

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenServer:
    """A tiny bearer-token server: checks basic credentials, signs a JWT for the scope."""

    def __init__(self, base: str, users: dict[str, str]):
        self.key, self.crt = f"{base}/token.key", f"{base}/token.crt"
        os.makedirs(base, exist_ok=True)
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                "/CN=token signer", "-keyout", self.key, "-out", self.crt)
        der = subprocess.run(["openssl", "x509", "-in", self.crt, "-outform", "DER"],
                             check=True, capture_output=True).stdout
        self.x5c, self.users, self.issued = base64.b64encode(der).decode(), users, []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/token"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def sign(self, claims: dict) -> str:
        head = _b64(json.dumps({"alg": "RS256", "typ": "JWT", "x5c": [self.x5c]}).encode())
        body = _b64(json.dumps(claims).encode())
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", self.key],
                             input=f"{head}.{body}".encode(), check=True,
                             capture_output=True).stdout
        return f"{head}.{body}.{_b64(sig)}"

    def _handler(self):
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                q = parse_qs(urlsplit(self.path).query)
                auth = self.headers.get("Authorization", "")
                user = None
                if auth.startswith("Basic "):
                    u, _, p = base64.b64decode(auth[6:]).decode().partition(":")
                    if outer.users.get(u) != p:
                        return self._send(401, {"details": "bad credentials"})
                    user = u
                access = []
                for scope in q.get("scope", []):
                    typ, name, actions = scope.split(":")[0], ":".join(scope.split(":")[1:-1]), \
                        scope.split(":")[-1]
                    allowed = actions.split(",") if user else ["pull"]
                    access.append({"type": typ, "name": name, "actions": allowed})
                now = int(time.time())
                tok = outer.sign({"iss": "test-issuer", "sub": user or "", "aud": "test-registry",
                                  "exp": now + 300, "nbf": now - 10, "iat": now,
                                  "jti": os.urandom(8).hex(), "access": access})
                outer.issued.append((user, q.get("scope", [])))
                self._send(200, {"token": tok, "expires_in": 300})

            def _send(self, code, doc):
                data = json.dumps(doc).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
        return Handler

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Proxy:
    """TCP proxy to a registry; ``mode`` "corrupt" flips a byte of the first big blob
    response, "cut" closes it half-way, "cut_upload" cuts a big upload (``times`` times),
    "slow" trickles big responses at about 1 MB/s; anything else forwards untouched."""

    def __init__(self, target_port: int, mode: str = "pass", times: int = 1):
        self.target, self.mode, self.times = target_port, mode, times
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.host = f"127.0.0.1:{self.port}"
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            u = socket.create_connection(("127.0.0.1", self.target))
            threading.Thread(target=self._pipe, args=(c, u, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(u, c, True), daemon=True).start()

    def _pipe(self, src, dst, from_registry: bool) -> None:
        seen = 0
        try:
            while data := src.recv(65536):
                seen += len(data)
                if self.mode == "cut_upload" and not from_registry and self.times > 0 \
                        and seen > 1_500_000:
                    self.times -= 1
                    dst.sendall(data[: len(data) // 2])
                    break
                if from_registry and self.mode == "slow" and seen > 200_000:
                    time.sleep(0.06)
                if from_registry and self.times > 0 and seen > 200_000:
                    if self.mode == "corrupt":
                        self.times -= 1
                        data = data[:-1] + bytes([data[-1] ^ 0xFF])
                    elif self.mode == "cut":
                        self.times -= 1
                        dst.sendall(data[: len(data) // 2])
                        break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def stop(self) -> None:
        self._stop = True
        self.sock.close()


class HTTPFront:
    """An HTTP front for a registry: answers the first ``fail`` requests with 503,
    redirects blob GETs to the registry's own address (another host:port, like a CDN),
    and serves ``override`` documents in place of the registry's."""

    def __init__(self, target_port: int, fail: int = 0, redirect_blobs: bool = False,
                 override: dict | None = None):
        import http.client
        self.target, self.fail, self.redirect = target_port, fail, redirect_blobs
        self.override = override or {}       # path → (content type, body) served instead
        self.log: list[tuple[str, str, int]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _any(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else None
                if outer.fail > 0:
                    outer.fail -= 1
                    return self._reply(503, {}, b"busy", body)
                if self.path in outer.override:
                    ctype, data = outer.override[self.path]
                    return self._reply(200, {"Content-Type": ctype}, data)
                if outer.redirect and self.command == "GET" and "/blobs/sha256:" in self.path:
                    loc = f"http://127.0.0.1:{outer.target}{self.path}"
                    return self._reply(307, {"Location": loc}, b"")
                c = http.client.HTTPConnection("127.0.0.1", outer.target)
                hdrs = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                c.request(self.command, self.path, body=body, headers=hdrs)
                r = c.getresponse()
                data = r.read()
                skip = {"transfer-encoding", "content-length", "connection"}
                self._reply(r.status, {k: v for k, v in r.getheaders() if k.lower() not in skip},
                            data)
                c.close()

            def _reply(self, code, headers, data, _=None):
                outer.log.append((self.command, self.path, code))
                self.send_response(code)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
