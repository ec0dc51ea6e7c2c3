#!/usr/bin/env python3
"""turn_probe.py: a minimal TURN client (RFC 5766/8656) for tests: one
Allocate with long-term credentials over udp, tcp or tls, optionally a
CreatePermission for a peer, then a Refresh(lifetime 0) to release it.

Prints one line per step and exits with:
  0  allocation (and permission, if asked) succeeded
  1  the server rejected the Allocate (line "allocate: error <code> <reason>")
  2  the server rejected the CreatePermission ("permission: error <code> ...")
  3  transport or protocol failure (timeout, TLS handshake failed, ...)

Usage: turn_probe.py HOST PORT USER PASSWORD [--transport udp|tcp|tls]
                     [--peer IP]
Standard library only; no certificate verification (tests use self-signed).
"""
import argparse
import hashlib
import hmac
import os
import socket
import ssl
import struct
import sys
import zlib

MAGIC = 0x2112A442
ALLOCATE, REFRESH, CREATE_PERMISSION = 0x0003, 0x0004, 0x0008
A_USERNAME, A_MI, A_ERROR, A_LIFETIME = 0x0006, 0x0008, 0x0009, 0x000D
A_PEER, A_REALM, A_NONCE, A_RELAYED = 0x0012, 0x0014, 0x0015, 0x0016
A_TRANSPORT, A_FINGERPRINT = 0x0019, 0x8028


def attr(t, v):
    return struct.pack("!HH", t, len(v)) + v + b"\0" * (-len(v) % 4)


def message(mtype, attrs, key=None):
    """Encodes a request; with key, appends MESSAGE-INTEGRITY and FINGERPRINT."""
    txid = os.urandom(12)
    body = b"".join(attrs)
    if key is not None:
        head = struct.pack("!HHI", mtype, len(body) + 24, MAGIC) + txid
        body += attr(A_MI, hmac.new(key, head + body, hashlib.sha1).digest())
    head = struct.pack("!HHI", mtype, len(body) + 8, MAGIC) + txid
    crc = (zlib.crc32(head + body) ^ 0x5354554E) & 0xFFFFFFFF
    body += attr(A_FINGERPRINT, struct.pack("!I", crc))
    return struct.pack("!HHI", mtype, len(body), MAGIC) + txid + body, txid


def parse(data):
    mtype, length, _ = struct.unpack("!HHI", data[:8])
    attrs, off = {}, 20
    while off + 4 <= 20 + length:
        t, n = struct.unpack("!HH", data[off:off + 4])
        attrs.setdefault(t, data[off + 4:off + 4 + n])
        off += 4 + n + (-n % 4)
    return mtype, data[8:20], attrs


def xor_addr(v):
    port = struct.unpack("!H", v[2:4])[0] ^ (MAGIC >> 16)
    ip = struct.unpack("!I", v[4:8])[0] ^ MAGIC
    return "%s:%d" % (socket.inet_ntoa(struct.pack("!I", ip)), port)


class Conn:
    def __init__(self, host, port, transport):
        kind = socket.SOCK_DGRAM if transport == "udp" else socket.SOCK_STREAM
        self.s = socket.socket(socket.AF_INET, kind)
        self.s.settimeout(3)
        self.s.connect((host, port))
        self.stream = transport != "udp"
        if transport == "tls":
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
            self.s = ctx.wrap_socket(self.s)
            self.tls_version = self.s.version()

    def recv_exact(self, n):
        out = b""
        while len(out) < n:
            chunk = self.s.recv(n - len(out))
            if not chunk:
                raise ConnectionError("closed by server")
            out += chunk
        return out

    def request(self, msg, txid):
        for _ in range(3 if not self.stream else 1):
            self.s.send(msg)
            try:
                while True:
                    if self.stream:
                        head = self.recv_exact(20)
                        data = head + self.recv_exact(struct.unpack("!H", head[2:4])[0])
                    else:
                        data = self.s.recv(2048)
                    mtype, rtx, attrs = parse(data)
                    if rtx == txid:
                        return mtype, attrs
            except socket.timeout:
                continue
        raise TimeoutError("no answer")


def error_of(attrs):
    v = attrs.get(A_ERROR, b"\0\0\0\0")
    return (v[2] & 7) * 100 + v[3], v[4:].decode(errors="replace")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("user")
    ap.add_argument("password")
    ap.add_argument("--transport", default="udp", choices=["udp", "tcp", "tls"])
    ap.add_argument("--peer")
    a = ap.parse_args()
    try:
        c = Conn(a.host, a.port, a.transport)
        if a.transport == "tls":
            print("tls: " + c.tls_version)
        transport = attr(A_TRANSPORT, b"\x11\0\0\0")
        mtype, attrs = c.request(*message(ALLOCATE, [transport]))
        if mtype != 0x0113 or error_of(attrs)[0] != 401:
            print("allocate: unexpected first answer 0x%04x" % mtype)
            return 3
        realm, nonce = attrs[A_REALM], attrs[A_NONCE]
        key = hashlib.md5(b"%s:%s:%s" % (a.user.encode(), realm, a.password.encode())).digest()
        auth = [attr(A_USERNAME, a.user.encode()), attr(A_REALM, realm), attr(A_NONCE, nonce)]
        mtype, attrs = c.request(*message(ALLOCATE, [transport] + auth, key))
        if mtype != 0x0103:
            print("allocate: error %d %s" % error_of(attrs))
            return 1
        print("allocate: ok relayed " + xor_addr(attrs[A_RELAYED]))
        rc = 0
        if a.peer:
            ip = struct.unpack("!I", socket.inet_aton(a.peer))[0] ^ MAGIC
            peer = attr(A_PEER, struct.pack("!BBHI", 0, 1, 0 ^ (MAGIC >> 16), ip))
            mtype, attrs = c.request(*message(CREATE_PERMISSION, [peer] + auth, key))
            if mtype == 0x0108:
                print("permission: ok " + a.peer)
            else:
                print("permission: error %d %s" % error_of(attrs))
                rc = 2
        c.request(*message(REFRESH, [attr(A_LIFETIME, b"\0\0\0\0")] + auth, key))
        return rc
    except (OSError, ValueError, TimeoutError, ConnectionError, ssl.SSLError) as e:
        print("transport: %s: %s" % (type(e).__name__, e))
        return 3


if __name__ == "__main__":
    sys.exit(main())
