#!/usr/bin/python3
"""socketiosink vs Debian's python-socketio Client, same server, same frames.

Usage (from the source root, after building build-sio):
    GST_PLUGIN_PATH=build/plugins/gst /usr/bin/python3 \\
        bench/socketiosink/bench_socketiosink.py [--frames 300]

Both clients send the same pre-encoded JPEG frames (videotestsrc snow,
320x240, quality 85: about 50 KB, the size the dashboard sees) as base64
`frame` events on /stream to one Flask-SocketIO server (eventlet, the
tests' peer), offered at two rates:
  - 30 frames/s, a camera's rate;
  - 300 frames/s, above what the server takes (the sink drops the oldest
    waiting frame, the python client queues everything).
Printed per client: frames delivered, delivered frames/s (server clock),
latency p50/p95 (server receive time minus the payload's timestamp, taken
when the client emits), client CPU per sent frame, and the ratio of the two
clients. CPU is the client process's user+system time minus that of the
same process doing everything but the Socket.IO part (gst-launch with
fakesink for the sink; the python client without connecting).
"""
import argparse
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
PY = "/usr/bin/python3"
SERVER = os.path.join(ROOT, "tests", "peers", "sio_server.py")

PY_CLIENT = r'''
import base64, glob, sys, threading, time
frames = [open(f, "rb").read() for f in sorted(glob.glob(sys.argv[1] + "/f*.jpg"))]
url, fps, connect = sys.argv[2], float(sys.argv[3]), sys.argv[4] == "1"
if connect:
    import socketio
    sio = socketio.Client(reconnection=False)
    sio.connect(url, namespaces=["/stream"], transports=["websocket"])
acked = [0]
done = threading.Event()
def on_ack(*a):
    acked[0] += 1
    if acked[0] == len(frames):
        done.set()
t0 = time.monotonic()
for i, jpeg in enumerate(frames):
    if fps > 0:
        delay = t0 + i / fps - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    payload = {"frame": base64.b64encode(jpeg).decode("ascii"),
               "camera_id": 1, "timestamp": time.time(), "faces": []}
    if connect:
        sio.emit("frame", payload, namespace="/stream", callback=on_ack)
if connect:
    done.wait(60)
    sio.disconnect()
'''


# A camera's rate, and ten times it: above what the server can take
REGIMES = (("30/s", 30), ("300/s", 300))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read()) if "reset" not in url else None


def run_measured(cmd, env=None):
    """Runs cmd, returns (wall s, user+sys CPU s) of that child alone."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    if status != 0:
        sys.exit(f"bench: {cmd[0]} failed: {p.stderr.read().decode()[-2000:]}")
    p.stderr.close()
    return wall, ru.ru_utime + ru.ru_stime


def pct(values, q):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def summarize(server_url, sent, cpu):
    recs = get(server_url + "/control/frames")
    get(server_url + "/control/reset")
    n = len(recs)
    ts = [r["t"] for r in recs]
    span = (max(ts) - min(ts)) / 1000.0 if n > 1 else float("nan")
    lat = [r["latency_ms"] for r in recs]
    return {
        "delivered": n,
        "sent": sent,
        "fps": (n - 1) / span if n > 1 and span > 0 else float("nan"),
        "p50": pct(lat, 0.5),
        "p95": pct(lat, 0.95),
        "cpu_ms_per_frame": 1000.0 * cpu / max(sent, 1),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=300)
    args = ap.parse_args()
    n = args.frames

    tmp = tempfile.mkdtemp(prefix="sio-bench-")
    subprocess.run(
        ["gst-launch-1.0", "-q", "videotestsrc", f"num-buffers={n}",
         "pattern=snow", "!", "video/x-raw,width=320,height=240", "!",
         "jpegenc", "quality=85", "!", "multifilesink",
         f"location={tmp}/f%05d.jpg"], check=True)
    sizes = [os.path.getsize(os.path.join(tmp, f)) for f in os.listdir(tmp)]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([PY, SERVER, "--port", str(port)],
                              stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 20
        while True:
            try:
                get(url + "/control/stats")
                break
            except OSError:
                if time.time() > deadline:
                    sys.exit("bench: server did not start")
                time.sleep(0.1)

        print(f"socketiosink bench: {n} frames of {sum(sizes) / len(sizes) / 1000:.1f} KB "
              f"(320x240 snow JPEG), server Flask-SocketIO eventlet on 127.0.0.1")
        results = {}
        for regime, fps in REGIMES:
            def gst(sink):
                # multifilesrc does not timestamp: identity paces the frames
                return ["gst-launch-1.0", "-q", "multifilesrc",
                        f"location={tmp}/f%05d.jpg", "index=0",
                        f"stop-index={n - 1}", "caps=image/jpeg", "!",
                        "identity", f"sleep-time={int(1e6 / fps)}", "!"] + \
                    sink + ["sync=false"]

            _, base_cpu = run_measured(gst(["fakesink"]))
            _, cpu = run_measured(gst(["socketiosink", f"url={url}",
                                       "camera-id=1", "name=sink"]))
            res = summarize(url, n, cpu - base_cpu)
            results[("socketiosink", regime)] = res

            py = [PY, "-c", PY_CLIENT, tmp, url, str(fps)]
            _, base_cpu = run_measured(py + ["0"])
            _, cpu = run_measured(py + ["1"])
            results[("python-socketio", regime)] = summarize(url, n,
                                                             cpu - base_cpu)

        print(f"{'client':<16} {'offered':<8} {'delivered':>9} {'fps':>7} "
              f"{'p50 ms':>8} {'p95 ms':>8} {'CPU ms/frame':>13}")
        for (client, regime), r in results.items():
            print(f"{client:<16} {regime:<8} {r['delivered']:>5}/{r['sent']:<3} "
                  f"{r['fps']:>7.1f} {r['p50']:>8.1f} {r['p95']:>8.1f} "
                  f"{r['cpu_ms_per_frame']:>13.3f}")
        for regime, _ in REGIMES:
            a = results[("socketiosink", regime)]
            b = results[("python-socketio", regime)]
            print(f"ratio python/sink, {regime}: CPU per frame "
                  f"{b['cpu_ms_per_frame'] / a['cpu_ms_per_frame']:.1f}x, "
                  f"p95 latency {b['p95'] / a['p95']:.1f}x, "
                  f"fps {b['fps'] / a['fps']:.2f}x")
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait()
        for f in os.listdir(tmp):
            os.unlink(os.path.join(tmp, f))
        os.rmdir(tmp)


if __name__ == "__main__":
    main()
