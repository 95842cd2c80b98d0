#!/usr/bin/python3
"""A real Flask-SocketIO server standing in for the dashboard, for tests.

Like the dashboard it accepts `frame` events on /stream and relays them to
the other clients of the namespace (the browsers). It also records what it
received, for the tests to assert on:

  GET /control/stats   -> {"frames": N, "connects": N, "rejects": N, ...}
  GET /control/frames  -> [{camera_id, jpeg_ok, size, dims, binary, faces,
                            latency_ms, keys}, ...]   (no image data;
                            dims: [width, height] of the JPEG)
  GET /control/reset   -> clears the records

Options: --auth TOKEN requires auth {"token": TOKEN} on connect; --slow MS
delays each frame handler (the ack comes after it); --threading runs
Flask-SocketIO in threading mode, which refuses WebSocket without
simple-websocket and so serves long-polling only; --ping-interval and
--ping-timeout (seconds) shorten Engine.IO's heartbeat for watchdog tests;
--certfile/--keyfile serve https and wss (eventlet only).

Listens on 127.0.0.1 only, unless --host names another address (only
ever one inside a network namespace the test made, or 0.0.0.0 there).
"""
import argparse
import base64
import sys
import threading
import time

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--threading", action="store_true")
parser.add_argument("--auth", default=None)
parser.add_argument("--slow", type=float, default=0.0, help="ms per frame")
parser.add_argument("--max-http-buffer-size", type=int, default=1000000)
parser.add_argument("--no-relay", action="store_true")
parser.add_argument("--ping-interval", type=float, default=25.0)
parser.add_argument("--ping-timeout", type=float, default=20.0)
parser.add_argument("--certfile", default=None, help="serve https/wss")
parser.add_argument("--keyfile", default=None)
args = parser.parse_args()

if not args.threading:
    import eventlet

    eventlet.monkey_patch()

from flask import Flask, jsonify, request  # noqa: E402
from flask_socketio import SocketIO, emit  # noqa: E402

app = Flask(__name__)
socketio = SocketIO(
    app,
    async_mode="threading" if args.threading else "eventlet",
    max_http_buffer_size=args.max_http_buffer_size,
    ping_interval=args.ping_interval,
    ping_timeout=args.ping_timeout,
    cors_allowed_origins="*",
)

lock = threading.Lock()
records = []
counters = {"frames": 0, "connects": 0, "rejects": 0, "disconnects": 0,
            "x_test_header": ""}


def now_ms():
    return time.time() * 1000.0


@socketio.on("connect", namespace="/stream")
def on_connect(auth=None):
    if args.auth is not None:
        if not isinstance(auth, dict) or auth.get("token") != args.auth:
            with lock:
                counters["rejects"] += 1
            # Flask-SocketIO sends CONNECT_ERROR with this message
            from flask_socketio import ConnectionRefusedError

            raise ConnectionRefusedError("bad token")
    with lock:
        counters["connects"] += 1
        # Lets tests check the client's extra headers reach the server
        counters["x_test_header"] = request.headers.get("X-Test-Header", "")


@socketio.on("disconnect", namespace="/stream")
def on_disconnect():
    with lock:
        counters["disconnects"] += 1


def jpeg_size(raw):
    """(width, height) from the JPEG's start-of-frame marker, or None."""
    i = 2
    while i + 9 < len(raw):
        if raw[i] != 0xFF:
            return None
        marker = raw[i + 1]
        length = int.from_bytes(raw[i + 2:i + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2):
            return (int.from_bytes(raw[i + 7:i + 9], "big"),
                    int.from_bytes(raw[i + 5:i + 7], "big"))
        i += 2 + length
    return None


@socketio.on("frame", namespace="/stream")
def on_frame(data):
    received = now_ms()
    frame = data.get("frame") if isinstance(data, dict) else None
    if isinstance(frame, (bytes, bytearray)):
        raw, binary = bytes(frame), True
    elif isinstance(frame, str):
        try:
            raw, binary = base64.b64decode(frame, validate=True), False
        except Exception:
            raw, binary = b"", False
    else:
        raw, binary = b"", False
    ts = data.get("timestamp") if isinstance(data, dict) else None
    rec = {
        "camera_id": data.get("camera_id") if isinstance(data, dict) else None,
        "jpeg_ok": raw[:2] == b"\xff\xd8" and raw[-2:] == b"\xff\xd9",
        "size": len(raw),
        "dims": jpeg_size(raw) if raw[:2] == b"\xff\xd8" else None,
        "binary": binary,
        "faces": data.get("faces") if isinstance(data, dict) else None,
        "latency_ms": received - ts * 1000.0 if isinstance(ts, (int, float)) else None,
        "t": received,
        "keys": sorted(data.keys()) if isinstance(data, dict) else [],
    }
    with lock:
        counters["frames"] += 1
        records.append(rec)
    if not args.no_relay:
        # What the dashboard does: every viewer of /stream gets the frame
        emit("frame", data, namespace="/stream", broadcast=True,
             include_self=False)
    if args.slow > 0:
        socketio.sleep(args.slow / 1000.0)
    return "ok"


@app.route("/control/stats")
def control_stats():
    with lock:
        return jsonify(dict(counters))


@app.route("/control/frames")
def control_frames():
    with lock:
        return jsonify(list(records))


@app.route("/control/reset")
def control_reset():
    with lock:
        records.clear()
        for k in counters:
            counters[k] = 0 if k != "x_test_header" else ""
    return "ok"


if __name__ == "__main__":
    print(f"sio_server: listening on {args.host}:{args.port} "
          f"({'threading' if args.threading else 'eventlet'})", flush=True)
    kwargs = {}
    if args.certfile:
        kwargs.update(certfile=args.certfile, keyfile=args.keyfile)
    if args.threading:
        kwargs["allow_unsafe_werkzeug"] = True
    socketio.run(app, host=args.host, port=args.port, log_output=False,
                 **kwargs)
    sys.exit(0)
