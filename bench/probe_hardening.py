#!/usr/bin/env python3
"""Outside probe of issue 11's items 1-5 against a running Hibiki.

Measures, the way the issue describes them:
  1. the close handshake: a client's Close answered with a Close; a server
     close (1008 flood) read by a client that still has frames in flight;
  2. memory under 200 concurrent logins from 10 loopback addresses;
  3. errors under 100 concurrent registrations;
  4. one `notification:read` with 9,000 ids, and other users' `chat:send`
     latency while six connections send four such frames each;
  5. how long a body trickled at 1 byte / 2 s, and a silent HTTP/2
     prior-knowledge connection, are kept open.

Usage: probe_hardening.py HOST:PORT PID   (the server's pid, for its RSS)
Needs `pip install websockets`. Loopback only; every loop is bounded.
This is a measurement, not a test: it prints figures and asserts nothing.
"""

import asyncio
import http.client
import json
import socket
import statistics
import sys
import threading
import time
import uuid

import websockets

ADDR, PID = sys.argv[1], int(sys.argv[2])
HOST, PORT = ADDR.split(":")[0], int(ADDR.split(":")[1])
RUN = uuid.uuid4().hex[:6]


def rss_mib():
    with open(f"/proc/{PID}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def post(path, body, source="127.0.0.1", token=None, timeout=60):
    conn = http.client.HTTPConnection(HOST, PORT, timeout=timeout, source_address=(source, 0))
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    try:
        conn.request("POST", path, json.dumps(body), headers)
        res = conn.getresponse()
        return res.status, res.read()
    except OSError as e:
        return f"error: {type(e).__name__}", b""
    finally:
        conn.close()


def register(name, source):
    status, body = post("/api/auth/register", {"username": name, "password": f"Probe!{uuid.uuid4().hex}"}, source)
    return json.loads(body)["token"] if status == 201 else None


def in_threads(jobs):
    results = [None] * len(jobs)

    def run(i, job):
        results[i] = job()

    threads = [threading.Thread(target=run, args=(i, j)) for i, j in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def histogram(values):
    out = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return dict(sorted(out.items(), key=lambda kv: str(kv[0])))


# ------------------------------------------------------------------ 1 ---
async def close_handshake(token):
    uri = f"ws://{ADDR}/ws?token={token}"
    echoed = 0
    for _ in range(20):
        async with websockets.connect(uri) as ws:
            await ws.close(1000, "bye")
            if ws.protocol.close_rcvd is not None and ws.protocol.close_rcvd.code == 1000:
                echoed += 1
    print(f"1a. client Close(1000) answered with Close(1000): {echoed}/20")

    clean = 0
    errors_read = []
    for _ in range(10):
        ws = await websockets.connect(uri, max_queue=None)

        async def flood():
            try:
                for i in range(2000):
                    await ws.send(json.dumps({"type": "ping", "id": f"p{i}", "payload": {"t": i}}))
            except websockets.ConnectionClosed:
                pass

        sender = asyncio.create_task(flood())
        limited = 0
        try:
            async for frame in ws:
                if '"rate_limited"' in frame:
                    limited += 1
        except websockets.ConnectionClosed:
            pass
        await sender
        errors_read.append(limited)
        if ws.protocol.close_rcvd is not None and ws.protocol.close_rcvd.code == 1008:
            clean += 1
    print(f"1b. flood with frames in flight: close 1008 read in {clean}/10; rate_limited errors read per run: {errors_read}")


# ------------------------------------------------------------------ 2 ---
def logins():
    base = rss_mib()
    peak = [base]
    done = threading.Event()

    def watch():
        while not done.is_set():
            peak[0] = max(peak[0], rss_mib())
            time.sleep(0.05)

    w = threading.Thread(target=watch)
    w.start()
    jobs = [
        (lambda i=i: post("/api/auth/login", {"username": f"nobody{RUN}{i}", "password": "guess-guess-guess"}, f"127.0.0.{i % 10 + 1}")[0])
        for i in range(200)
    ]
    statuses = in_threads(jobs)
    done.set()
    w.join()
    time.sleep(1)
    print(f"2. 200 concurrent logins: {histogram(statuses)}; RSS {base:.0f} -> peak {peak[0]:.0f} MiB (+{peak[0] - base:.0f}), {rss_mib():.0f} MiB after")


# ------------------------------------------------------------------ 3 ---
def registrations():
    jobs = [
        (lambda i=i: post("/api/auth/register", {"username": f"reg{RUN}{i}", "password": f"Probe!{uuid.uuid4().hex}"}, f"127.0.1.{i % 10 + 1}")[0])
        for i in range(100)
    ]
    statuses = in_threads(jobs)
    print(f"3. 100 concurrent registrations: {histogram(statuses)}")


# ------------------------------------------------------------------ 4 ---
async def read_amplification():
    tokens = [register(f"amp{RUN}{i}", f"127.0.2.{i + 1}") for i in range(8)]
    if None in tokens:
        print("4. skipped: could not register")
        return
    ids = list(range(1, 9001))
    frame = json.dumps({"type": "notification:read", "id": "big", "payload": {"ids": ids}})
    async with websockets.connect(f"ws://{ADDR}/ws?token={tokens[0]}", max_size=None) as ws:
        t0 = time.perf_counter()
        await ws.send(frame)
        reply = await ws.recv()
        took = (time.perf_counter() - t0) * 1000
        print(f"4a. one notification:read with 9,000 ids: {took:.1f} ms -> {reply[:90]}")

    async def chat_latencies(token, n):
        out = []
        async with websockets.connect(f"ws://{ADDR}/ws?token={token}") as ws:
            await ws.send(json.dumps({"type": "room:join", "id": "j", "payload": {"room": "general"}}))
            while '"id":"j"' not in await ws.recv():
                pass
            for i in range(n):
                rid = f"s{i}"
                t0 = time.perf_counter()
                await ws.send(json.dumps({"type": "chat:send", "id": rid, "payload": {"room": "general", "text": f"probe {i}"}}))
                while f'"id":"{rid}"' not in await ws.recv():
                    pass
                out.append((time.perf_counter() - t0) * 1000)
                await asyncio.sleep(0.05)
        return out

    quiet = await chat_latencies(tokens[1], 20)

    async def amplify(token):
        async with websockets.connect(f"ws://{ADDR}/ws?token={token}", max_size=None) as ws:
            for k in range(4):
                await ws.send(frame.replace('"big"', f'"big{k}"'))
            for _ in range(4):
                await ws.recv()

    busy, *_ = await asyncio.gather(chat_latencies(tokens[7], 20), *[amplify(t) for t in tokens[1:7]])
    print(f"4b. another user's chat:send median: {statistics.median(quiet):.1f} ms quiet, {statistics.median(busy):.1f} ms while 6 connections send 4 x 9,000 ids")


# ------------------------------------------------------------------ 5 ---
def open_for(prelude, trickle, cap_s):
    s = socket.create_connection((HOST, PORT))
    s.sendall(prelude)
    s.settimeout(0.2)
    t0 = time.monotonic()
    next_byte = t0 + 2
    while time.monotonic() - t0 < cap_s:
        try:
            data = s.recv(4096)
            if not data:
                break
            # Answered; keep going until the server closes.
        except socket.timeout:
            pass
        except OSError:
            break
        if trickle and time.monotonic() >= next_byte:
            try:
                s.sendall(b" ")
            except OSError:
                break
            next_byte += 2
    took = time.monotonic() - t0
    s.close()
    return f"{took:.1f} s" + (" (still open at the cap)" if took >= cap_s else "")


def slow_paths():
    head = f"POST /api/auth/login HTTP/1.1\r\nhost: {ADDR}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n".encode()
    print(f"5a. body at 1 byte / 2 s: connection open for {open_for(head, True, 60)}")
    print(f"5b. HTTP/2 prior knowledge, then silence: connection open for {open_for(b'PRI * HTTP/2.0' + bytes([13, 10, 13, 10]) + b'SM' + bytes([13, 10, 13, 10]), False, 40)}")


async def main():
    token = register(f"probe{RUN}", "127.0.3.1")
    await close_handshake(token)
    logins()
    registrations()
    await read_amplification()
    slow_paths()


asyncio.run(main())
