#!/usr/bin/python3
"""socketiosink against a real Flask-SocketIO server (tests/peers/sio_server.py).

Usage: test_socketiosink.py CASE   (one meson test per case)

Each case starts its own server on 127.0.0.1 with a free port, drives a
GStreamer pipeline in this process (to read the sink's `stats` property and
the bus), asserts on what the server recorded, and kills the server.
"""
import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstVideo", "1.0")
from gi.repository import Gst, GstVideo  # noqa: E402

Gst.init(None)

SOURCE_ROOT = os.environ.get(
    "SURVEILLX_SOURCE_ROOT",
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
PYTHON = os.environ.get("PYTHON", "/usr/bin/python3")
SERVER = os.path.join(SOURCE_ROOT, "tests", "peers", "sio_server.py")


def log(*a):
    print(*a, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env():
    """The peer is a server, not code under test: no sanitizer preload."""
    return {k: v for k, v in os.environ.items()
            if k not in ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS")}


class Server:
    """The Flask-SocketIO peer as a subprocess; always killed on exit."""

    def __init__(self, *extra, port=None, tls=None):
        """@tls: (certificate, key, CA file) to serve https/wss."""
        self.port = port or free_port()
        self.extra = list(extra)
        self.proc = None
        self.ssl = None
        self.scheme = "http"
        if tls:
            import ssl
            self.extra += ["--certfile", tls[0], "--keyfile", tls[1]]
            self.ssl = ssl.create_default_context(cafile=tls[2])
            self.scheme = "https"

    def start(self):
        self.proc = subprocess.Popen(
            [PYTHON, SERVER, "--port", str(self.port)] + self.extra,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env=server_env())
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                self.get("/control/stats")
                return self
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError("sio_server exited at start")
                time.sleep(0.1)
        raise RuntimeError("sio_server did not come up")

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        self.proc = None

    @property
    def url(self):
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def get(self, path):
        with urllib.request.urlopen(self.url + path, timeout=5,
                                    context=self.ssl) as r:
            body = r.read()
        return json.loads(body) if path != "/control/reset" else body

    def stats(self):
        return self.get("/control/stats")

    def frames(self):
        return self.get("/control/frames")

    def wait_frames(self, n, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.stats()["frames"] >= n:
                break
            time.sleep(0.05)
        return self.stats()["frames"]

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.kill()


class Run:
    """A pipeline run to EOS (or error), collecting the bus messages."""

    def __init__(self, desc):
        self.pipeline = Gst.parse_launch(desc)
        self.sink = self.pipeline.get_by_name("sink")
        self.messages = []

    def bus_texts(self, kind):
        out = []
        for m in self.messages:
            if m.type == kind:
                err, dbg = (m.parse_error() if kind == Gst.MessageType.ERROR
                            else m.parse_warning())
                out.append(f"{err.message} {dbg or ''}")
        return out

    def elements(self, name):
        return [m.get_structure() for m in self.messages
                if m.type == Gst.MessageType.ELEMENT
                and m.get_structure().get_name() == name]

    def connect_errors(self):
        """Why the sink could not connect: failures before the namespace
        is joined show in its stats only (last-error)."""
        return [st.get_string("last-error")
                for st in self.elements("socketiosink-stats")
                if st.get_string("last-error")]

    def start(self):
        return self.pipeline.set_state(Gst.State.PLAYING)

    def poll(self, timeout_s):
        """Collects messages until EOS/ERROR or timeout; True on EOS."""
        bus = self.pipeline.get_bus()
        deadline = time.time() + timeout_s
        while time.time() < deadline:
            m = bus.timed_pop(int(0.05 * Gst.SECOND))
            if not m:
                continue
            self.messages.append(m)
            if m.type == Gst.MessageType.EOS:
                return True
            if m.type == Gst.MessageType.ERROR:
                return False
        return False

    def stop(self):
        self.pipeline.set_state(Gst.State.NULL)
        # Messages posted during teardown
        bus = self.pipeline.get_bus()
        while True:
            m = bus.pop()
            if not m:
                break
            self.messages.append(m)

    def run(self, timeout_s=30):
        self.start()
        eos = self.poll(timeout_s)
        stats = sdict(self.sink.get_property("stats"))
        self.stop()
        return eos, stats


def sdict(structure):
    """A GstStructure as a dict (the 1.22 bindings cannot index it)."""
    return {structure.nth_field_name(i):
            structure.get_value(structure.nth_field_name(i))
            for i in range(structure.n_fields())}


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    log("ok:", what)


def sink_desc(server, extra=""):
    return (f"socketiosink name=sink url={server.url} stats-interval=200 "
            f"{extra}")


SRC = ("videotestsrc num-buffers={n} {live} ! "
       "video/x-raw,width=320,height=240,framerate=30/1 ! jpegenc ! ")


def run_frames(server, n, extra="", camera="7"):
    r = Run(SRC.format(n=n, live="") +
            sink_desc(server, f"camera-id={camera} {extra}"))
    eos, stats = r.run()
    check(eos, f"pipeline reached EOS ({r.bus_texts(Gst.MessageType.ERROR)})")
    return r, stats


def assert_all_frames(server, n, camera_id, binary):
    got = server.wait_frames(n)
    check(got == n, f"server received {got} frames, expected {n}")
    recs = server.frames()
    check(all(r["jpeg_ok"] for r in recs), "every frame is a whole JPEG "
          "(FFD8..FFD9)")
    check(all(r["camera_id"] == camera_id for r in recs),
          f"every camera_id is {camera_id!r}")
    check(all(r["binary"] == binary for r in recs),
          f"frames sent as {'binary' if binary else 'base64'}")
    check(all({"frame", "camera_id", "timestamp", "faces"} <= set(r["keys"])
              for r in recs), "payload has frame, camera_id, timestamp, faces")


# ---------------------------------------------------------------- cases

def case_frames():
    with Server() as server:
        r, stats = run_frames(
            server, 30, 'extra-headers="h,X-Test-Header=(string)cam7"')
        assert_all_frames(server, 30, 7, False)
        check(server.stats()["x_test_header"] == "cam7",
              "extra-headers reach the server")
        check(stats["sent"] == 30 and stats["dropped"] == 0,
              f"sink stats: 30 sent, none dropped ({stats})")
        check(stats["transport"] == "websocket", "transport is websocket")
        check(len(r.elements("socketiosink-connected")) == 1,
              "one socketiosink-connected message")
        check(len(r.elements("socketiosink-stats")) >= 1,
              "socketiosink-stats element messages posted")
        # A non-numeric id stays a string
        server.get("/control/reset")
        run_frames(server, 5, camera="lab-2")
        assert_all_frames(server, 5, "lab-2", False)
        # Without camera-id: the pipeline's name, as the launcher names each
        # camera's pipeline (attendancesink falls back to the same)
        server.get("/control/reset")
        r = Run(SRC.format(n=5, live="") + sink_desc(server))
        r.pipeline.set_name("room-12")
        eos, _ = r.run()
        check(eos, "pipeline without camera-id reached EOS")
        assert_all_frames(server, 5, "room-12", False)


def case_binary():
    with Server() as server:
        _, stats = run_frames(server, 30, "binary=true")
        assert_all_frames(server, 30, 7, True)
        check(stats["acked"] == 30, "all 30 binary events acknowledged")


def case_viewer():
    import socketio

    received = []
    done = threading.Event()
    with Server() as server:
        viewer = socketio.Client(reconnection=False)

        @viewer.on("frame", namespace="/stream")
        def on_frame(data):
            received.append(data)
            if len(received) >= 20:
                done.set()

        viewer.connect(server.url, namespaces=["/stream"],
                       transports=["websocket"])
        try:
            run_frames(server, 20)
            done.wait(10)
        finally:
            viewer.disconnect()
        check(len(received) == 20, f"viewer got {len(received)}/20 relayed "
              "frames")
        import base64
        raw = base64.b64decode(received[0]["frame"])
        check(raw[:2] == b"\xff\xd8" and raw[-2:] == b"\xff\xd9",
              "relayed frame is a JPEG")
        check(received[0]["camera_id"] == 7, "relayed camera_id")


def case_restart():
    server = Server()
    server.start()
    r = Run(SRC.format(n=-1, live="is-live=true") +
            sink_desc(server, "camera-id=3"))
    try:
        r.start()
        check(server.wait_frames(15) >= 15, "frames flowing before the kill")
        server.kill()
        r.poll(2.0)
        server = Server(port=server.port)
        server.start()
        t0 = time.time()
        got = server.wait_frames(1, timeout=5)
        elapsed = time.time() - t0
        check(got >= 1, f"frames resumed {elapsed:.2f} s after the restart "
              "(limit 5 s)")
        server.wait_frames(10)
        r.poll(0.5)
        stats = sdict(r.sink.get_property("stats"))
        check(stats["reconnects"] >= 1, f"reconnects counted "
              f"({stats['reconnects']})")
        check(stats["dropped-disconnected"] > 0, "frames dropped while down "
              f"were counted ({stats['dropped-disconnected']})")
        check(not r.bus_texts(Gst.MessageType.ERROR), "no error on the bus")
        check(len(r.elements("socketiosink-disconnected")) >= 1,
              "socketiosink-disconnected posted")
        check(all(f["jpeg_ok"] for f in server.frames()),
              "frames after restart are whole JPEGs")
    finally:
        r.stop()
        server.kill()


def case_slow():
    # 200 ms per frame with 4 in flight: at most ~20 acks/s for 30 frames/s
    n = 150
    with Server("--slow", "200") as server:
        r = Run(SRC.format(n=n, live="is-live=true") +
                sink_desc(server, "max-in-flight=4"))
        t0 = time.time()
        eos, stats = r.run(timeout_s=60)
        wall = time.time() - t0
        check(eos, "pipeline reached EOS")
        # Real time: the live source would be late (and the run long) if
        # render blocked; a generous bound, this is not a speed figure.
        check(wall < n / 30.0 + 4.0,
              f"{n} live frames took {wall:.1f} s (real time {n / 30:.1f} s)")
        check(stats["dropped-window"] > 0,
              f"window drops counted ({stats['dropped-window']})")
        check(stats["sent"] + stats["dropped"] == n,
              f"every frame sent or counted as dropped "
              f"({stats['sent']} + {stats['dropped']})")
        server.wait_frames(stats["sent"], timeout=5)
        lat = sorted(f["latency_ms"] for f in server.frames())
        # Bounded by the window: (max-in-flight + 1) frames of 200 ms
        check(lat[-1] < 2000, f"latency bounded (max {lat[-1]:.0f} ms, "
              f"median {lat[len(lat) // 2]:.0f} ms)")


def case_auth():
    with Server("--auth", "s3cret") as server:
        _, stats = run_frames(server, 10,
                              "auth=\"{\\\"token\\\":\\\"s3cret\\\"}\"")
        assert_all_frames(server, 10, 7, False)

        r = Run(SRC.format(n=10, live="") +
                sink_desc(server, "auth=\"{\\\"token\\\":\\\"wrong\\\"}\""))
        r.start()
        eos = r.poll(10)
        r.stop()
        errors = r.bus_texts(Gst.MessageType.ERROR)
        check(not eos and errors, "rejected auth is an element error")
        check("bad token" in errors[0],
              f"error carries the server's message: {errors[0]!r}")
        check(server.stats()["rejects"] >= 1, "server rejected it")


def case_oversize():
    # Small and large JPEGs alternate; the server's cap sits between them
    small = encode_jpeg("pattern=smpte", 160, 120)
    large = encode_jpeg("pattern=snow", 640, 480)
    cap = 60000
    log(f"small JPEG {len(small)} B, large JPEG {len(large)} B, cap {cap}")
    assert len(small) * 4 / 3 + 500 < cap < len(large)
    with Server("--max-http-buffer-size", str(cap)) as server:
        r = Run("appsrc name=src format=time caps=image/jpeg ! " +
                sink_desc(server, f"max-message-size={cap}"))
        src = r.pipeline.get_by_name("src")
        r.start()
        for i in range(20):
            data = large if i % 2 else small
            buf = Gst.Buffer.new_wrapped(data)
            buf.pts = i * Gst.SECOND // 30
            buf.duration = Gst.SECOND // 30
            src.emit("push-buffer", buf)
        src.emit("end-of-stream")
        eos = r.poll(20)
        stats = sdict(r.sink.get_property("stats"))
        r.stop()
        check(eos, "pipeline reached EOS")
        check(stats["dropped-oversize"] == 10,
              f"10 oversized frames dropped ({stats['dropped-oversize']})")
        warnings = r.bus_texts(Gst.MessageType.WARNING)
        check(any("max-message-size" in w for w in warnings),
              "a warning names max-message-size")
        got = server.wait_frames(10)
        check(got == 10, f"the 10 small frames arrived ({got})")
        check(stats["disconnects"] == 0 and stats["connects"] == 1,
              "the connection survived")


def case_polling():
    with Server("--threading") as server:
        _, stats = run_frames(server, 30)
        assert_all_frames(server, 30, 7, False)
        check(stats["transport"] == "polling",
              f"fell back to polling ({stats['transport']})")
        server.get("/control/reset")
        _, stats = run_frames(server, 10, "binary=true")
        assert_all_frames(server, 10, 7, True)
        check(stats["transport"] == "polling", "binary over polling")


def case_faces():
    faces = [
        (10, 20, 30, 40, "alice", "s001", 0.31, True, 5),
        (100, 50, 60, 60, "unknown", "", 0.72, False, 6),
    ]
    with Server() as server:
        r = Run("appsrc name=src format=time "
                "caps=video/x-raw,format=I420,width=320,height=240,"
                "framerate=30/1 ! jpegenc ! " + sink_desc(server))
        src = r.pipeline.get_by_name("src")
        r.start()
        for i in range(5):
            buf = Gst.Buffer.new_wrapped(bytes(320 * 240 * 3 // 2))
            buf.pts = i * Gst.SECOND // 30
            buf.duration = Gst.SECOND // 30
            for (x, y, w, h, label, sid, dist, conf, track) in faces:
                meta = GstVideo.buffer_add_video_region_of_interest_meta(
                    buf, "face", x, y, w, h)
                s = Gst.Structure.from_string(
                    f'surveillx/face, label=(string)"{label}", '
                    f'id=(string)"{sid}", distance=(double){dist}, '
                    f'confirmed=(boolean){str(conf).lower()}, '
                    f'track-id=(uint){track}')[0]
                meta.add_param(s)
            src.emit("push-buffer", buf)
        src.emit("end-of-stream")
        eos = r.poll(20)
        r.stop()
        check(eos, "pipeline reached EOS")
        server.wait_frames(5)
        recs = server.frames()
        check(len(recs) == 5, "5 frames received")
        got = recs[0]["faces"]
        log("faces:", got)
        check(len(got) == 2, "two faces survived jpegenc")
        a = got[0]
        check(a["box"] == {"x": 10, "y": 20, "w": 30, "h": 40}, "box")
        check(a["label"] == "alice" and a["id"] == "s001", "label and id")
        check(abs(a["distance"] - 0.31) < 1e-9, "distance")
        check(a["confirmed"] is True and a["track_id"] == 5,
              "confirmed and track_id")
        check(got[1]["label"] == "unknown" and got[1]["id"] == "", "unknown")


def case_watchdog():
    # Server pings every 1 s and waits 1 s for the pong (engineio 4.3 sends
    # whole seconds only)
    with Server("--ping-interval", "1", "--ping-timeout", "1") as server:
        r = Run(SRC.format(n=-1, live="is-live=true") + sink_desc(server))
        try:
            r.start()
            r.poll(4.5)
            stats = sdict(r.sink.get_property("stats"))
            check(stats["disconnects"] == 0 and stats["connected"],
                  "pongs keep the connection through 4 ping intervals")
            # A frozen server keeps the socket open but stops pinging: only
            # the watchdog can notice.
            server.proc.send_signal(signal.SIGSTOP)
            r.poll(3.5)
            server.proc.send_signal(signal.SIGCONT)
            reasons = [s.get_value("reason")
                       for s in r.elements("socketiosink-disconnected")]
            check(any("no ping" in x for x in reasons),
                  f"watchdog dropped the silent connection: {reasons}")
            before = server.stats()["frames"]
            deadline = time.time() + 5
            while time.time() < deadline and \
                    server.stats()["frames"] < before + 10:
                r.poll(0.1)
            check(server.stats()["frames"] >= before + 10,
                  "frames flow again after the server wakes up")
            stats = sdict(r.sink.get_property("stats"))
            check(stats["reconnects"] >= 1, "reconnect counted")
        finally:
            r.stop()
            server.proc.send_signal(signal.SIGCONT)


def our_threads():
    """The Socket.IO connections' threads in this process."""
    n = 0
    for t in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{t}/comm") as f:
                n += f.read().strip() == "socketio"
        except OSError:
            pass
    return n


def case_teardown():
    def sockets():
        """Our TCP sockets (the pipeline's own socketpairs do not count)."""
        inodes = set()
        for fd in os.listdir("/proc/self/fd"):
            try:
                link = os.readlink(f"/proc/self/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:["):
                inodes.add(link[8:-1])
        n = 0
        for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
            with open(table) as f:
                for line in f.readlines()[1:]:
                    n += line.split()[9] in inodes
        return n

    with Server() as server:
        base = sockets()
        for i in range(3):
            r = Run(SRC.format(n=-1, live="is-live=true") + sink_desc(server))
            r.start()
            server.wait_frames(5 * (i + 1))
            check(our_threads() == 1 and sockets() > base,
                  f"run {i}: the probes see the client's thread and socket")
            r.stop()
            del r
            check(our_threads() == 0, f"run {i}: no client thread left")
            check(sockets() == base, f"run {i}: no socket left "
                  f"({sockets()} vs {base})")
        # Torn down while the server is gone and the client is backing off
        port = server.port
        server.kill()
        r = Run(SRC.format(n=-1, live="is-live=true") +
                f"socketiosink name=sink url=http://127.0.0.1:{port} "
                "connect-timeout=0")
        r.start()
        r.poll(1.5)
        t0 = time.time()
        r.stop()
        check(time.time() - t0 < 5, "stopping while reconnecting returns")
        check(our_threads() == 0, "no client thread left after backoff")
        check(sockets() == base, "no socket left after backoff")


def case_bad_url():
    for url, what in (("ftp://127.0.0.1/", "scheme"),
                      ("not-a-url", "not a valid URL")):
        r = Run("videotestsrc num-buffers=1 ! jpegenc ! "
                f"socketiosink name=sink url={url}")
        ret = r.start()
        r.poll(3)
        r.stop()
        errors = r.bus_texts(Gst.MessageType.ERROR)
        check(ret == Gst.StateChangeReturn.FAILURE or errors,
              f"{url}: start fails")
        check(errors and url in errors[0] and what in errors[0],
              f"{url}: error names it: {errors[:1]}")


class HostileServer:
    """An HTTP server on 127.0.0.1 that answers every Engine.IO polling
    request with one hostile body: `endless` streams 64 MiB without a
    length, `nested` is an open packet whose JSON hides 400,000 levels
    behind a comment (json-glib takes comments; past ~72,000 levels its
    recursion overflows the stack)."""

    def __init__(self, mode):
        self.mode = mode
        self.requests = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                outer.requests += 1
                try:
                    if outer.mode == "endless":
                        self.send_response(200)
                        self.send_header("Content-Type", "text/plain")
                        self.send_header("Connection", "close")
                        self.end_headers()
                        chunk = b"4" * (1024 * 1024)
                        for _ in range(64):
                            self.wfile.write(chunk)
                    else:
                        body = b'0/*"*/' + b"[" * 400000
                        self.send_response(200)
                        self.send_header("Content-Type", "text/plain")
                        self.send_header("Content-Length", str(len(body)))
                        self.end_headers()
                        self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_POST = do_GET

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]

    def __enter__(self):
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def peak_rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def case_hostile_server():
    """A server that sends endless or stack-breaking responses: every read
    is capped (max-incoming-size), the sink logs why and retries, and the
    process neither grows with the server's bytes nor crashes."""
    cap = 1024 * 1024
    for mode, reason in (("endless", "longer than %d bytes" % cap),
                         ("nested", "a comment")):
        with HostileServer(mode) as server:
            r = Run("videotestsrc is-live=true ! "
                    "video/x-raw,width=64,height=48,framerate=10/1 ! "
                    "jpegenc ! socketiosink name=sink "
                    f"url={server.url} transport=polling connect-timeout=0 "
                    f"reconnect-delay=200 max-incoming-size={cap}")
            before = peak_rss_mib()  # plugins loaded by now
            r.start()
            r.poll(6)
            reasons = r.connect_errors()
            r.stop()
            grew = peak_rss_mib() - before
            log(f"{mode}: {server.requests} requests, peak RSS +{grew:.1f} "
                f"MiB, reasons {reasons[:2]}")
            check(server.requests >= 2, f"{mode}: the sink retried "
                  f"({server.requests} requests)")
            check(reasons and all(reason in x for x in reasons),
                  f"{mode}: each drop says why ({reasons[:2]})")
            # the server sent 64 MiB per request in `endless`: one response
            # kept whole is 64 MiB and more. AddressSanitizer's quarantine
            # keeps what was freed (measured +35 MiB over 6 capped reads)
            limit = 48 if "libasan" in os.environ.get("LD_PRELOAD", "") else 24
            check(grew < limit, f"{mode}: memory bounded (peak +{grew:.1f} "
                  f"MiB, < {limit})")


def case_tls():
    """https and wss with the dashboard's own CA (tls-ca-file): frames go
    through both transports; a server whose certificate the CA did not
    sign, or that names another host, gets no frame."""
    import tempfile
    sys.path.insert(0, os.path.join(SOURCE_ROOT, "tests", "peers"))
    from testca import TestCA
    tmp = tempfile.mkdtemp(prefix="sx-sio-tls-")
    ca = TestCA(os.path.join(tmp, "ca"))
    other = TestCA(os.path.join(tmp, "other"), "another CA")
    cert, key = ca.issue("server", ["127.0.0.1", "localhost"])
    elsewhere, elsewhere_key = ca.issue("elsewhere", ["dashboard.example"])

    def refused(server, ca_file, what):
        r = Run(SRC.format(n=300, live="is-live=true") + sink_desc(
            server, f"connect-timeout=0 reconnect-delay=200 "
            f"tls-ca-file={ca_file}"))
        r.start()
        r.poll(4)
        reasons = r.connect_errors()
        r.stop()
        got = server.stats()["frames"]
        log(f"{what}: {got} frames, reasons {reasons[:1]}")
        check(got == 0, f"{what}: no frame reaches the server")
        check(reasons and any("certificate" in x.lower() or "tls" in x.lower()
                              for x in reasons),
              f"{what}: the sink says why it cannot connect ({reasons[:1]})")

    with Server(tls=(cert, key, ca.cert)) as server:
        for transport in ("websocket", "polling"):
            server.get("/control/reset")
            # paced like a camera's 5 frames/s to the dashboard: a source
            # faster than the link (long-polling over TLS under a
            # sanitizer) would see frames dropped by design
            r = Run("videotestsrc num-buffers=10 is-live=true ! "
                    "video/x-raw,width=320,height=240,framerate=5/1 ! "
                    "jpegenc ! " + sink_desc(
                        server, f"camera-id=7 transport={transport} "
                        f"tls-ca-file={ca.cert}"))
            eos, stats = r.run()
            check(eos, f"{transport} over TLS: EOS")
            assert_all_frames(server, 10, 7, False)
            check(stats["transport"] == transport,
                  f"{transport} over TLS ({stats['transport']})")
    # a server of its own: GLib resumes TLS sessions with a server it has
    # verified before (in this process), without a new certificate to check
    with Server(tls=(cert, key, ca.cert)) as server:
        refused(server, other.cert, "a CA that did not sign the certificate")
    # the CA signed it, but for another host name
    server = Server(tls=(elsewhere, elsewhere_key, ca.cert))
    strict = server.ssl
    import ssl
    server.ssl = ssl.create_default_context(cafile=ca.cert)
    server.ssl.check_hostname = False
    with server:
        ok = False
        try:
            urllib.request.urlopen(server.url + "/control/stats", timeout=5,
                                   context=strict)
        except OSError:
            ok = True
        check(ok, "the test's own client refuses the wrong name too")
        refused(server, ca.cert, "a certificate for another host")


def pump_buses(runs, seconds):
    """Collects every run's bus messages for @seconds (no early return)."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        for r in runs:
            bus = r.pipeline.get_bus()
            while True:
                m = bus.pop()
                if not m:
                    break
                r.messages.append(m)
        time.sleep(0.02)


def per_camera(server):
    counts = {}
    for f in server.frames():
        counts[f["camera_id"]] = counts.get(f["camera_id"], 0) + 1
    return counts


def case_shared():
    """Sinks of one process share one connection to one server, each with
    its own frames, window and stats; a sink that leaves does not drop the
    others; losing the server reaches every sink's bus."""
    live = SRC.format(n=-1, live="is-live=true")
    # a slow handler makes each sink's window (1 frame) the limit, so the
    # turns between sinks decide who gets through
    server = Server("--slow", "40").start()
    runs = [Run(live + sink_desc(server, f"camera-id={cam} max-in-flight=1"))
            for cam in (1, 2, 3)]
    try:
        for r in runs:
            r.start()
        pump_buses(runs, 4.0)
        stats = [sdict(r.sink.get_property("stats")) for r in runs]
        check(server.stats()["connects"] == 1,
              f"three sinks, one connection (server saw "
              f"{server.stats()['connects']} connects)")
        check(our_threads() == 1, f"one connection thread ({our_threads()})")
        check(all(st["shared-by"] == 3 for st in stats),
              f"each sink says 3 share it ({[st['shared-by'] for st in stats]})")
        counts = per_camera(server)
        got = [counts.get(cam, 0) for cam in (1, 2, 3)]
        check(min(got) > 0 and min(got) * 2 >= max(got),
              f"frames per camera within a factor 2 of each other: {got}")
        check(all(st["sent"] > 0 and st["dropped-window"] > 0 for st in stats),
              "each sink counts its own frames and window drops "
              f"({[(st['sent'], st['dropped-window']) for st in stats]})")

        # one camera leaves: the others keep the connection and stream on
        runs[0].stop()
        before = per_camera(server)
        pump_buses(runs[1:], 2.0)
        after = per_camera(server)
        check(server.stats()["disconnects"] == 0,
              "the connection stayed when a sink left")
        check(all(after.get(cam, 0) > before.get(cam, 0) for cam in (2, 3)),
              f"cameras 2 and 3 stream on ({before} -> {after})")
        check(all(sdict(r.sink.get_property("stats"))["shared-by"] == 2
                  for r in runs[1:]), "two sinks share it now")

        # a sink of its own when asked
        own = Run(live + sink_desc(server, "camera-id=4 shared-connection=false"))
        own.start()
        pump_buses([own] + runs[1:], 1.5)
        check(server.stats()["connects"] == 2,
              "shared-connection=false opened a second connection")
        own.stop()

        # the server goes away: every sink hears it, every sink comes back
        server.kill()
        pump_buses(runs[1:], 2.0)
        check(all(r.elements("socketiosink-disconnected") for r in runs[1:]),
              "socketiosink-disconnected on both buses")
        server = Server("--slow", "40", port=server.port).start()
        check(server.wait_frames(10, timeout=8) >= 10, "frames after restart")
        pump_buses(runs[1:], 1.0)
        counts = per_camera(server)
        check(all(counts.get(cam, 0) > 0 for cam in (2, 3)),
              f"both cameras back ({counts})")
        check(all(sdict(r.sink.get_property("stats"))["reconnects"] >= 1
                  for r in runs[1:]), "both sinks counted the reconnect")
        check(server.stats()["connects"] == 1, "still one connection")
        check(not any(r.bus_texts(Gst.MessageType.ERROR) for r in runs),
              "no error on any bus")
    finally:
        for r in runs:
            r.stop()
        server.kill()

    # a rejection is every sink's error
    with Server("--auth", "s3cret") as server:
        bad = "auth=\"{\\\"token\\\":\\\"wrong\\\"}\" connect-timeout=0"
        r = Run(f"{live} {sink_desc(server, bad)} "
                f"{live} socketiosink name=sink2 url={server.url} "
                f"camera-id=2 {bad}")
        r.start()
        pump_buses([r], 4.0)
        r.stop()
        sources = {m.src.get_name() for m in r.messages
                   if m.type == Gst.MessageType.ERROR}
        # (the sources then fail to push into an errored sink: theirs too)
        check({"sink", "sink2"} <= sources,
              f"both sinks posted the rejection ({sorted(sources)})")


def encode_jpeg(src_props, w, h):
    p = Gst.parse_launch(
        f"videotestsrc num-buffers=1 {src_props} ! "
        f"video/x-raw,width={w},height={h} ! jpegenc quality=95 ! "
        "appsink name=out")
    p.set_state(Gst.State.PLAYING)
    sample = p.get_by_name("out").emit("pull-sample")
    data = sample.get_buffer().extract_dup(0, sample.get_buffer().get_size())
    p.set_state(Gst.State.NULL)
    return data


CASES = {name[5:]: fn for name, fn in globals().items()
         if name.startswith("case_")}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in CASES:
        sys.exit(f"usage: {sys.argv[0]} {{{','.join(CASES)}}}")
    CASES[sys.argv[1]]()
    log("PASS", sys.argv[1])
