#!/usr/bin/python3
"""Reference WebSocket echo server for developing wsconform.py against a well-tested peer.

Uses Debian's python3-websockets (10.4; `apt-get install -y python3-websockets`).  Only this
development aid needs it: wsconform.py itself is standard library only.

    /usr/bin/python3 t/conformance/ref_echo_server.py --port 9001 [--cert c.pem --key k.pem]
"""

import argparse
import asyncio
import logging
import ssl

import websockets


async def echo(ws, path=None):
    """Echo every complete text/binary message as one message."""
    try:
        async for msg in ws:
            await ws.send(msg)
    except websockets.ConnectionClosed:
        pass


async def serve(args):
    ssl_ctx = None
    if args.cert:
        ssl_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ssl_ctx.load_cert_chain(args.cert, args.key)
    async with websockets.serve(echo, args.host, args.port, ssl=ssl_ctx,
                                max_size=args.max_size, compression=None,
                                ping_interval=None, close_timeout=2):
        print("echo server on %s://%s:%d/" % ("wss" if ssl_ctx else "ws", args.host, args.port),
              flush=True)
        await asyncio.Future()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=9001)
    ap.add_argument("--max-size", type=int, default=16 * 2 ** 20,
                    help="largest message accepted (bigger: close 1009); default 16 MiB")
    ap.add_argument("--cert", help="PEM certificate: serve wss://")
    ap.add_argument("--key", help="PEM private key for --cert")
    ap.add_argument("--debug", action="store_true", help="websockets debug logging")
    args = ap.parse_args()
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.ERROR)
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
