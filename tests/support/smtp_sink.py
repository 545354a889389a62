#!/usr/bin/env python3
"""A real SMTP server for gomtin's digest tests (aiosmtpd on 127.0.0.1).

Usage: smtp_sink.py --port PORT --dir DIR   (PORT 0 picks a free port)

Prints "READY <port>" once listening. Behaviour is steered by files in DIR, read on every
command, so a test can change it while the server runs:
  DIR/reject          one address a line: RCPT TO for it gets "550 5.1.1 ..."
  DIR/drop_after_data if present: the message is recorded, then the connection is cut
                      before the final reply to DATA
Every accepted message is written to DIR/msgs/NNNN.eml (raw) and NNNN.json (envelope and
a parse by Python's email package: decoded headers, parts), the .json last.
"""
import argparse
import asyncio
import email
import email.policy
import json
import os
import sys

try:
    from aiosmtpd.smtp import SMTP
except ImportError:
    print("aiosmtpd is missing: python3 -m pip install aiosmtpd", file=sys.stderr)
    sys.exit(3)


class Sink:
    def __init__(self, folder):
        self.folder = folder
        self.msgs = os.path.join(folder, "msgs")
        os.makedirs(self.msgs, exist_ok=True)

    def _rejected(self):
        try:
            with open(os.path.join(self.folder, "reject"), encoding="utf-8") as f:
                return {line.strip().lower() for line in f if line.strip()}
        except FileNotFoundError:
            return set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self._rejected():
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
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
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
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


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--dir", required=True)
    args = ap.parse_args()
    handler = Sink(args.dir)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, enable_SMTPUTF8=True, hostname="sink.test"),
        host="127.0.0.1",
        port=args.port,
    )
    port = server.sockets[0].getsockname()[1]
    print("READY %d" % port, flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
