"""Tiny TCP prober and listener for packet tests in the hostfw lab images.

Installed as /usr/local/bin/hostfw-probe (with a #!/usr/bin/python3 line) by
scripts/lab-images.sh; this file has no shebang of its own, as ansible-test sanity
allows only a few.

Probe (the default):
    hostfw-probe HOST PORT [--timeout SECONDS]
prints one word and exits with its code:
    open     0  the TCP handshake completed
    closed   1  refused (RST, or an ICMP reject such as REJECT --reject-with tcp-reset)
    timeout  2  no answer within the timeout (a DROP rule, typically)
Any other error (bad address, unreachable network) prints "error: ..." and exits 3.

Listen:
    hostfw-probe --listen PORT [PORT ...] [--bind ADDRESS]
accepts and immediately closes connections on each port until killed; the
default bind address "::" is dual-stack, so one listener serves IPv4 and IPv6.
`socat TCP6-LISTEN:PORT,fork,reuseaddr /dev/null` does the same for one port.
"""

import argparse
import errno
import selectors
import socket
import sys


def probe(host, port, timeout):
    """Return (word, exit code) for one TCP connection attempt."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        return "error: %s" % exc, 3
    family, socktype, proto, _name, address = infos[0]
    sock = socket.socket(family, socktype, proto)
    sock.settimeout(timeout)
    try:
        sock.connect(address)
    except TimeoutError:
        return "timeout", 2
    except ConnectionRefusedError:
        return "closed", 1
    except OSError as exc:
        if exc.errno in (errno.ECONNREFUSED, errno.ECONNRESET):
            return "closed", 1
        if exc.errno in (errno.ETIMEDOUT, errno.EAGAIN):
            return "timeout", 2
        return "error: %s" % exc, 3
    finally:
        sock.close()
    return "open", 0


def listen(ports, bind):
    """Accept and close connections on every port until interrupted."""
    selector = selectors.DefaultSelector()
    family = socket.AF_INET6 if ":" in bind else socket.AF_INET
    for port in ports:
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind((bind, port))
        sock.listen(64)
        selector.register(sock, selectors.EVENT_READ)
    print("listening on %s" % " ".join(str(p) for p in ports), flush=True)
    try:
        while True:
            for key, _events in selector.select():
                conn, _peer = key.fileobj.accept()
                conn.close()
    except KeyboardInterrupt:
        return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--listen", nargs="+", type=int, metavar="PORT")
    parser.add_argument("--bind", default="::")
    parser.add_argument("--timeout", type=float, default=2.0)
    parser.add_argument("target", nargs="*", metavar="HOST PORT")
    args = parser.parse_args(argv)
    if args.listen:
        return listen(args.listen, args.bind)
    if len(args.target) != 2 or not args.target[1].isdigit():
        parser.error("expected HOST PORT")
    word, code = probe(args.target[0], int(args.target[1]), args.timeout)
    print(word)
    return code


if __name__ == "__main__":
    sys.exit(main())
