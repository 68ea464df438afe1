"""A TCP proxy that delays everything a client sends by a fixed time: added network latency
for benchmarks on a kernel without netem. Order is kept per connection; replies pass at once,
so each request/reply round trip gets `delay` longer, as with a netem delay on one side."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float
                ) -> None:
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def deliver() -> None:
        while True:
            due, data = await queue.get()
            if not data:
                break
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            writer.write(data)
            await writer.drain()
        writer.close()
    sender = asyncio.create_task(deliver())
    try:
        while data := await reader.read(65536):
            queue.put_nowait((time.monotonic() + delay, data))
    finally:
        queue.put_nowait((0.0, b""))
        await sender


async def _relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


def _handler(target_socket: str, delay: float):  # type: ignore[no-untyped-def]
    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_unix_connection(target_socket)
            await asyncio.gather(_pump(client_r, server_w, delay), _relay(server_r, client_w),
                                 return_exceptions=True)
        except asyncio.CancelledError:
            pass  # the proxy is shutting down; end quietly (3.11 logs cancelled handlers)
    return handle


@contextmanager
def delayed(target_socket: str, delay_ms: float) -> Iterator[int]:
    """Serves 127.0.0.1:<port> -> the unix socket with `delay_ms` added; yields the port."""
    loop = asyncio.new_event_loop()
    ready: list[asyncio.base_events.Server] = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        server = loop.run_until_complete(asyncio.start_server(
            _handler(target_socket, delay_ms / 1000), "127.0.0.1", 0))
        ready.append(server)
        loop.run_forever()
        server.close()  # then end every connection's tasks before the loop goes away
        tasks = asyncio.all_tasks(loop)
        for task in tasks:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        loop.close()
    thread = threading.Thread(target=run, daemon=True, name="latency-proxy")
    thread.start()
    while not ready:
        time.sleep(0.01)
    try:
        yield int(ready[0].sockets[0].getsockname()[1])
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
