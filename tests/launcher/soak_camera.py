#!/usr/bin/python3
"""Connect/disconnect soak: one aiortc camera publishes over WHIP, streams
about a second, DELETEs, and again, --cycles times; after each cycle it
samples the launcher's RSS and open file descriptors from /proc.

    soak_camera.py --url http://192.0.2.1:8080 --video v.webm \
        --launcher-pid PID --cycles 200 [--camera-id soak]

Prints one JSON line per cycle: {"cycle", "rss_kb", "heap_kb", "fds",
"threads", "connect_ms"} (heap_kb: the launcher's heap in use, from its
/metrics; -1 where it has none), then {"event": "done", "ok", "failed"}.
A cycle that does not connect within 20 s counts as failed (the run goes
on).
"""
import argparse
import asyncio
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request

from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaPlayer


def request(method, url, body=None, content_type=None):
    req = urllib.request.Request(url, data=body, method=method)
    if content_type:
        req.add_header('Content-Type', content_type)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


def sample(pid):
    rss = threads = 0
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                rss = int(line.split()[1])
            elif line.startswith('Threads:'):
                threads = int(line.split()[1])
    return rss, len(os.listdir('/proc/%d/fd' % pid)), threads


def metric(base, name):
    status, _, text = request('GET', base + '/metrics')
    for line in text.splitlines():
        if line.startswith(name + ' '):
            return int(float(line.split()[1]))
    return -1


def cameras(base):
    return metric(base, 'surveillx_cameras')


async def cycle(args, loop):
    pc = RTCPeerConnection()
    player = MediaPlayer(args.video)
    pc.addTransceiver(player.video, direction='sendonly')
    connected = asyncio.Event()

    @pc.on('connectionstatechange')
    async def on_state():
        if pc.connectionState == 'connected':
            connected.set()

    t0 = time.monotonic()
    await pc.setLocalDescription(await pc.createOffer())
    base = args.url.rstrip('/')
    status, headers, text = await loop.run_in_executor(None, lambda: request(
        'POST', base + '/whip/' + args.camera_id,
        pc.localDescription.sdp.encode(), 'application/sdp'))
    ok = status == 201
    location = None
    if ok:
        location = urllib.parse.urljoin(base + '/', headers['Location'])
        await pc.setRemoteDescription(RTCSessionDescription(sdp=text,
                                                            type='answer'))
        try:
            await asyncio.wait_for(connected.wait(), timeout=20)
        except asyncio.TimeoutError:
            ok = False
    connect_ms = (time.monotonic() - t0) * 1000
    if ok:
        await asyncio.sleep(args.stream)
    if location:
        await loop.run_in_executor(None, lambda: request('DELETE', location))
    await pc.close()
    if player.video:
        player.video.stop()
    return ok, connect_ms


async def run(args):
    loop = asyncio.get_running_loop()
    failed = 0
    for n in range(1, args.cycles + 1):
        ok, connect_ms = await cycle(args, loop)
        failed += not ok
        # let the stopped pipeline reach NULL before sampling
        deadline = time.monotonic() + 10
        while cameras(args.url.rstrip('/')) != 0 and \
                time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        await asyncio.sleep(args.settle)
        rss, fds, threads = sample(args.launcher_pid)
        heap = metric(args.url.rstrip('/'), 'surveillx_heap_in_use_bytes')
        print(json.dumps({'cycle': n, 'ok': ok, 'rss_kb': rss,
                          'heap_kb': heap // 1024 if heap >= 0 else -1,
                          'fds': fds,
                          'threads': threads,
                          'connect_ms': round(connect_ms)}), flush=True)
    print(json.dumps({'event': 'done', 'ok': failed == 0,
                      'failed': failed}), flush=True)
    return 0 if failed == 0 else 1


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--url', required=True)
    p.add_argument('--video', required=True)
    p.add_argument('--launcher-pid', type=int, required=True)
    p.add_argument('--cycles', type=int, default=200)
    p.add_argument('--camera-id', default='soak')
    p.add_argument('--stream', type=float, default=1.0,
                   help='seconds streamed per cycle')
    p.add_argument('--settle', type=float, default=0.3)
    args = p.parse_args()
    raise SystemExit(asyncio.run(run(args)))


if __name__ == '__main__':
    main()
