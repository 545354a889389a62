#!/usr/bin/env python3
"""A real SMTP server for gomtin's digest tests (aiosmtpd on 127.0.0.1).

Usage: smtp_sink.py --port PORT --dir DIR [--down] [--tls none|starttls|implicit
                    --cert PEM --key PEM] [--auth USER:PASSWORD]
  PORT 0 picks a free port. The port is bound at once and printed as "READY <port>";
  "LISTENING" follows once connections are accepted. With --down the socket stays bound
  but not listening (connections are refused, and no other process can take the port)
  until the file DIR/up appears.
  --tls starttls: STARTTLS offered and required before MAIL; --tls implicit: TLS from the
  first byte (SMTPS). --auth: AUTH PLAIN/LOGIN required before MAIL, with these
  credentials.

Behaviour is steered by files in DIR, read on every command, so a test can change it while
the server runs:
  DIR/reject          one address a line: RCPT TO for it gets "550 5.1.1 ..."
  DIR/tempfail        one address a line: RCPT TO for it gets "450 4.2.1 ..." (try later)
  DIR/drop_after_data if present: the message is recorded, then the connection is cut
                      before the final reply to DATA
  DIR/slow_data       if present: seconds to wait before recording a message
Every MAIL FROM reaching the handler is appended to DIR/mail_log (one line each). Every
accepted message is written to DIR/msgs/NNNN.eml (raw) and NNNN.json (envelope, whether
the connection was encrypted, who logged in, and a parse by Python's email package), the
.json last.
"""
import argparse
import asyncio
import email
import email.policy
import json
import os
import socket
import ssl
import sys

try:
    from aiosmtpd.smtp import SMTP, AuthResult
except ImportError:
    print("aiosmtpd is missing: python3 -m pip install aiosmtpd", file=sys.stderr)
    sys.exit(3)


class Sink:
    def __init__(self, folder):
        self.folder = folder
        self.msgs = os.path.join(folder, "msgs")
        os.makedirs(self.msgs, exist_ok=True)

    def _lines(self, name):
        try:
            with open(os.path.join(self.folder, name), encoding="utf-8") as f:
                return {line.strip().lower() for line in f if line.strip()}
        except FileNotFoundError:
            return set()

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        with open(os.path.join(self.folder, "mail_log"), "a", encoding="utf-8") as f:
            f.write("%s tls=%s\n" % (address, is_tls(server, session)))
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self._lines("reject"):
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        if address.lower() in self._lines("tempfail"):
            return "450 4.2.1 <%s>: Mailbox busy, try again later" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        try:
            with open(os.path.join(self.folder, "slow_data"), encoding="utf-8") as f:
                await asyncio.sleep(float(f.read().strip() or "0"))
        except FileNotFoundError:
            pass
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        n = len([f for f in os.listdir(self.msgs) if f.endswith(".json")]) + 1
        base = os.path.join(self.msgs, "%04d" % n)
        with open(base + ".eml", "wb") as f:
            f.write(raw)
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        head = raw.split(b"\r\n\r\n", 1)[0]
        parts = []
        for part in msg.walk():
            if part.is_multipart():
                continue
            parts.append({
                "content_type": part.get_content_type(),
                "charset": part.get_content_charset(),
                "text": part.get_content(),
            })
        login = getattr(session, "auth_data", None)
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "tls": is_tls(server, session),
            "login": login.login.decode("utf-8") if login is not None else None,
            "subject": str(msg.get("Subject", "")),
            "from": str(msg.get("From", "")),
            "to": str(msg.get("To", "")),
            "message_id": str(msg.get("Message-ID", "")),
            "content_type": msg.get_content_type(),
            "header_names": [k.lower() for k in msg.keys()],
            "headers_ascii": all(b < 128 for b in head),
            "defects": [str(d) for d in msg.defects],
            "parts": parts,
        }
        with open(base + ".tmp", "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False)
        os.replace(base + ".tmp", base + ".json")
        if os.path.exists(os.path.join(self.folder, "drop_after_data")):
            server.transport.abort()
            return "250 OK (never seen: the connection is gone)"
        return "250 2.0.0 OK queued as %04d" % n


def is_tls(server, session):
    """True when this connection is encrypted (STARTTLS done, or SMTPS)."""
    if session.ssl is not None:
        return True
    transport = server.transport
    return transport is not None and transport.get_extra_info("ssl_object") is not None


def authenticator_for(user, password):
    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == user.encode() and auth_data.password == password.encode()
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)
    return authenticate


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--down", action="store_true")
    ap.add_argument("--tls", choices=["none", "starttls", "implicit"], default="none")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--auth")
    args = ap.parse_args()
    handler = Sink(args.dir)
    context = None
    if args.tls != "none":
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)
    options = {"enable_SMTPUTF8": True, "hostname": "sink.test"}
    if args.tls == "starttls":
        options.update(tls_context=context, require_starttls=True)
    if args.auth:
        user, password = args.auth.split(":", 1)
        options.update(
            authenticator=authenticator_for(user, password),
            auth_required=True,
            # With SMTPS the whole connection is TLS; aiosmtpd only knows STARTTLS.
            auth_require_tls=args.tls == "starttls",
        )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    print("READY %d" % sock.getsockname()[1], flush=True)
    if args.down:
        while not os.path.exists(os.path.join(args.dir, "up")):
            await asyncio.sleep(0.02)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, **options),
        sock=sock,
        ssl=context if args.tls == "implicit" else None,
    )
    print("LISTENING", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
