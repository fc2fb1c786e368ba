#!/usr/bin/python3
"""Echo WebSocket server (Debian python3-websockets) for testing gwload.

An independent RFC 6455 implementation: it greets each connection with one
text message, echoes what it gets and pings every --ping seconds.

    /usr/bin/python3 echo_server.py --port 18081 --ping 1
"""

import argparse
import asyncio
import signal

import websockets


async def handler(ws, path=None):
    await ws.send('{"op":10,"d":{"hello":true}}')
    async for msg in ws:
        await ws.send(msg)


async def main(args):
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result,
                                                      None)
    async with websockets.serve(handler, args.host, args.port,
                                ping_interval=args.ping or None,
                                ping_timeout=None, backlog=4096):
        await stop


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=18081)
    p.add_argument("--ping", type=float, default=0,
                   help="server ping interval in seconds, 0: off")
    asyncio.run(main(p.parse_args()))
