#!/usr/bin/env python3
"""Host-side TCP peer for the shell tests (runs on 127.0.0.1, outside the namespace).

  peer.py serve PORT [--send FILE] [--recv-bytes N] [--out FILE] [--after-recv] [--hold|--stall]
  peer.py connect PORT [--send FILE] [--recv-bytes N] [--out FILE]

One connection.  Sending (the whole FILE) and receiving (into --out, until N bytes or EOF)
run at the same time, so a full-duplex transfer cannot deadlock on window sizes; with
--after-recv the peer sends only once it has received (a request/response).  Once both
are done the peer closes.  --hold: accept and keep the connection open, sending nothing,
until the other side closes it (a reader on the other end then blocks).  --stall: accept and
never read, so the other end's writes fill the windows and block; runs until killed.
Exit status 0 only if every byte promised was sent and, with --recv-bytes, exactly N
arrived.
"""
import argparse
import socket
import sys
import threading


def send_all(sock, path, result):
    with open(path, "rb") as f:
        while True:
            chunk = f.read(1 << 16)
            if not chunk:
                break
            sock.sendall(chunk)
    result["sent"] = True


def recv_into(sock, path, limit):
    got = 0
    with open(path, "wb") as out:
        while limit is None or got < limit:
            want = 1 << 16 if limit is None else min(1 << 16, limit - got)
            chunk = sock.recv(want)
            if not chunk:
                break
            out.write(chunk)
            got += len(chunk)
    return got


def talk(sock, args):
    result = {"sent": args.send is None}
    sender = None
    if args.send:
        sender = threading.Thread(target=send_all, args=(sock, args.send, result))
    if sender and not args.after_recv:
        sender.start()
    got = None
    if args.out:
        got = recv_into(sock, args.out, args.recv_bytes)
    elif args.stall:
        threading.Event().wait()
    elif args.hold:
        while sock.recv(1 << 16):
            pass
    if sender and args.after_recv:
        sender.start()
    if sender:
        sender.join()
    sock.close()
    if not result["sent"]:
        sys.exit("send did not complete")
    if args.recv_bytes is not None and got != args.recv_bytes:
        sys.exit("received %d bytes, expected %d" % (got, args.recv_bytes))
    print("ok received=%s" % got, flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["serve", "connect"])
    p.add_argument("port", type=int)
    p.add_argument("--send")
    p.add_argument("--out")
    p.add_argument("--recv-bytes", type=int)
    p.add_argument("--hold", action="store_true")
    p.add_argument("--after-recv", action="store_true")
    p.add_argument("--stall", action="store_true")
    args = p.parse_args()
    if args.mode == "serve":
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", args.port))
        ls.listen(1)
        sock, _ = ls.accept()
        ls.close()
    else:
        sock = socket.create_connection(("127.0.0.1", args.port), timeout=30)
        sock.settimeout(None)
    talk(sock, args)


if __name__ == "__main__":
    main()
