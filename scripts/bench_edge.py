"""Attacks on kith's network edge, and /healthz latency while they run.

Used by scripts/bench-edge.sh, the attack and the measure in separate
processes (so that the attack's client work does not delay the probes):
  python3 scripts/bench_edge.py PORT attack flood|slowloris CONNS SECONDS
      flood: CONNS idle connections, each reopened when the server closes it;
      slowloris: CONNS connections sending their headers a byte a second.
      Prints how many connections the server closed.
  python3 scripts/bench_edge.py PORT probe LABEL
      /healthz latency (a new connection per probe), then POST /v1/groups;
      one RESULT line.
"""

import asyncio
import os
import sys
import time

HOST = "127.0.0.1"


async def request(port, method, path, body=b""):
    """One request on a new connection: (status, seconds)."""
    t0 = time.perf_counter()
    reader, writer = await asyncio.open_connection(HOST, port)
    head = f"{method} {path} HTTP/1.1\r\nhost: kith\r\nconnection: close\r\n"
    if body:
        head += f"content-type: application/json\r\ncontent-length: {len(body)}\r\n"
    writer.write(head.encode() + b"\r\n" + body)
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), 30)
    await reader.read()
    writer.close()
    return int(status_line.split()[1]), time.perf_counter() - t0


async def probe(port, label, n=200):
    """n /healthz probes and n/10 group creations, one after the other."""
    lat, bad = [], 0
    for _ in range(n):
        status, secs = await request(port, "GET", "/healthz")
        lat.append(secs * 1000)
        bad += status != 200
    real = []
    for i in range(n // 10):
        gid = f"g{os.getpid()}-{i}"
        body = f'{{"id":"{gid}","name":"{gid}"}}'.encode()
        status, secs = await request(port, "POST", "/v1/groups", body)
        real.append(secs * 1000)
        bad += status != 201
    lat.sort()
    real.sort()
    pct = lambda xs, p: xs[min(len(xs) - 1, int(len(xs) * p))]
    print(f"{label:>16}: /healthz p50 {pct(lat, .5):.2f} ms  p99 {pct(lat, .99):.2f} ms  "
          f"max {lat[-1]:.2f} ms  | POST /v1/groups p50 {pct(real, .5):.2f} ms  "
          f"max {real[-1]:.2f} ms  | errors {bad}", flush=True)
    return pct(lat, .99), lat[-1], bad


class Attack:
    def __init__(self, port, mode, conns):
        self.port, self.mode, self.conns = port, mode, conns
        self.open = 0
        self.closed_by_server = 0
        self.stop = False

    async def one(self):
        """Keeps one attack connection going, reopening it when closed."""
        while not self.stop:
            try:
                reader, writer = await asyncio.open_connection(HOST, self.port)
            except OSError:
                await asyncio.sleep(0.1)
                continue
            self.open += 1
            try:
                if self.mode == "slowloris":
                    head = b"GET /healthz HTTP/1.1\r\nhost: kith\r\nx-slow: " + b"a" * 100
                    for byte in head:
                        if self.stop or reader.at_eof():
                            break
                        writer.write(bytes([byte]))
                        await writer.drain()
                        await asyncio.sleep(1)
                else:
                    await reader.read()
            except OSError:
                pass
            self.open -= 1
            if not self.stop:
                self.closed_by_server += 1
            writer.close()

    async def ramp(self):
        tasks = []
        for i in range(self.conns):
            tasks.append(asyncio.create_task(self.one()))
            if i % 500 == 499:
                await asyncio.sleep(0.05)
        return tasks


async def attack(port, mode, conns, seconds):
    a = Attack(port, mode, conns)
    t0 = time.perf_counter()
    tasks = await a.ramp()
    print(f"{mode}: {conns} connections started in {time.perf_counter() - t0:.1f} s", flush=True)
    await asyncio.sleep(seconds)
    print(f"{mode}: after {time.perf_counter() - t0:.0f} s, {a.open} open, "
          f"{a.closed_by_server} closed by the server", flush=True)
    a.stop = True
    for t in tasks:
        t.cancel()


async def main():
    port, what = int(sys.argv[1]), sys.argv[2]
    if what == "attack":
        await attack(port, sys.argv[3], int(sys.argv[4]), float(sys.argv[5]))
    else:
        label = sys.argv[3]
        p99, worst, bad = await probe(port, label)
        print(f"RESULT phase={label} healthz_p99_ms={p99:.2f} healthz_max_ms={worst:.2f} errors={bad}")


asyncio.run(main())
