#!/usr/bin/env python3
"""The gevent peer of bench/echo/echo_compare.sh: the echo service as gevent's documentation writes
it, gevent.server.StreamServer spawning one greenlet per connection. Every byte comes back
upper-cased (bytes.upper() changes ASCII a-z only).

    gevent_server.py --port N     (0: an ephemeral port; binds 127.0.0.1)

Once listening it prints "listening on port <N>" and nothing else; SIGTERM or SIGINT ends it.
"""
import argparse
import signal
import socket
import sys

import gevent
import gevent.event
from gevent.server import StreamServer


def handle(sock, _address):
    # Replies go out as soon as they are made, as Go does for every TCP connection.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        while True:
            data = sock.recv(16 * 1024)
            if not data:
                break
            sock.sendall(data.upper())
    except OSError:
        # A reset or a broken pipe ends the connection like an EOF does.
        pass
    finally:
        sock.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: an ephemeral port)")
    args = parser.parse_args()

    # A deep backlog (gevent's default is 128), so that a thousand clients connecting at once are
    # not refused.
    server = StreamServer(("127.0.0.1", args.port), handle, backlog=4096)
    server.start()
    print(f"listening on port {server.server_port}", flush=True)

    # The signals only set an event: the main greenlet then closes the listener and returns, and
    # the connections' greenlets die with the process.
    stop = gevent.event.Event()
    gevent.signal_handler(signal.SIGTERM, stop.set)
    gevent.signal_handler(signal.SIGINT, stop.set)
    stop.wait()
    server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
