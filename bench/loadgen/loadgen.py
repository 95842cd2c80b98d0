#!/usr/bin/python3
"""Load generator: ONE process publishing N cameras of 640x480@30 VP8 over
WebRTC from ONE pre-encoded file (no encoding at run time).

    loadgen.py --make-video OUT.webm [--photo P.jpg] [--seconds 120]
               [--bitrate 1000000]
        Encode the benchmark video once: the photo letterboxed to 640x480,
        panning slowly with a little sensor noise (so VP8 spends its bit
        rate as a real camera would), a key frame every 30 frames, and each
        frame's index drawn into its bottom-left corner (marker.py).

    loadgen.py --make-classroom-video OUT.webm [--variant K]
               [--size 1280x720] [--seconds 90] [--bitrate 2000000]
        A classroom of the shared identities (tests/peers/classroom_scene.py:
        28 seats in rows of 32, 40, 56 and 80 px faces, students bobbing a
        few pixels, two people of the eight absent; K picks the layout),
        with the same frame-index marker, scaled to the frame.

    loadgen.py --url http://192.0.2.1:PORT --video V.webm[,W.webm...] --cameras N
               [--prefix cam-] [--ice-address 192.0.2.2] [--duration S]
               [--send-log FILE] [--stagger 0.2]
        Per camera a pipeline `filesrc ! matroskademux ! clocksync !
        rtpvp8pay ! webrtcbin` (sendonly VP8 transceiver), one after the
        other offered non-trickle by `POST /offer {"sdp","type","camera_id"}`
        (camera ids PREFIX1..PREFIXN; the answer carries the server's
        candidates). clocksync paces the file at 30 frames/s. With several
        videos, camera i plays video (i-1) mod their number.

Each frame's send time (wall clock, ms) is recorded when clocksync releases
it to the payloader, with the frame's index in the file; --send-log writes
{"fps", "modulo", "cameras": {id: [[t_ms, index], ...]}} at exit, so the
receiver can turn the marker in a JPEG it receives into a latency.

Prints JSON lines: {"event": "connected", "camera_id", "t"} per camera,
{"event": "ready", ...} once all are connected (or "error"), and at exit
{"event": "done", "frames_sent": {...}, "kbit_s": {...}}. Stops after
--duration seconds of everyone connected (0: until SIGTERM/SIGINT).
"""
import argparse
import json
import math
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.request

import gi

gi.require_version('Gst', '1.0')
gi.require_version('GstSdp', '1.0')
gi.require_version('GstWebRTC', '1.0')
from gi.repository import GLib, Gst, GstSdp, GstWebRTC  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import marker  # noqa: E402

FPS = 30
DEFAULT_PHOTO = os.path.join(HERE, '..', '..', '..', 'shared', 'testdata',
                             'faces', 'bbt4.jpg')


def say(**kw):
    print(json.dumps(kw), flush=True)


# ---- the video, made once -------------------------------------------------

def make_video(out, photo, seconds, bitrate):
    import cv2
    import numpy as np

    img = cv2.imread(photo)
    if img is None:
        raise SystemExit('cannot read %s' % photo)
    margin = 24  # room for the pan
    cw, ch = marker.WIDTH + 2 * margin, marker.HEIGHT + 2 * margin
    s = min(cw / img.shape[1], ch / img.shape[0])
    w, h = int(img.shape[1] * s), int(img.shape[0] * s)
    canvas = np.full((ch, cw, 3), 96, np.uint8)
    x0, y0 = (cw - w) // 2, (ch - h) // 2
    canvas[y0:y0 + h, x0:x0 + w] = cv2.resize(img, (w, h),
                                              interpolation=cv2.INTER_AREA)
    rng = np.random.default_rng(1)
    noise = [rng.normal(0, 3.0, (marker.HEIGHT, marker.WIDTH, 3))
             .astype(np.int16) for _ in range(17)]

    def frame_of(i):
        t = i / FPS
        # a slow circle (one turn in 8 s), so every macroblock moves
        ox = margin + int(round(margin * 0.8 * math.cos(2 * math.pi * t / 8)))
        oy = margin + int(round(margin * 0.8 * math.sin(2 * math.pi * t / 8)))
        frame = canvas[oy:oy + marker.HEIGHT, ox:ox + marker.WIDTH]
        frame = np.clip(frame.astype(np.int16) + noise[i % len(noise)], 0,
                        255).astype(np.uint8)
        return marker.draw(frame, i)
    encode(out, marker.WIDTH, marker.HEIGHT, seconds, bitrate, frame_of)


def make_classroom_video(out, variant, seconds, bitrate, size):
    sys.path.insert(0, os.path.join(HERE, '..', '..', 'tests', 'peers'))
    import classroom_scene
    width, height = size
    scene = classroom_scene.Scene(
        classroom_scene.layout(variant, width, height,
                               absent=classroom_scene.absent(variant)),
        width, height)
    encode(out, width, height, seconds, bitrate,
           lambda i: marker.draw(scene.frame(i), i))


def encode(out, width, height, seconds, bitrate, frame_of):
    """VP8 webm of seconds*FPS frames frame_of(i) (BGR), key frame every
    second. The same bytes on every box and under any load: in real-time
    mode a cpu-used of 0 or more lets libvpx pick its speed from how long
    frames take to encode, so a busy box made another file (and the broken
    camera of the fault test other damage); a negative one fixes it (-4:
    what an idle box picked)."""
    Gst.init(None)
    pipe = Gst.parse_launch(
        'appsrc name=src format=time block=true '
        'caps=video/x-raw,format=BGR,width=%d,height=%d,framerate=%d/1 '
        '! videoconvert ! video/x-raw,format=I420 '
        '! vp8enc deadline=1 cpu-used=-4 threads=2 end-usage=cbr '
        'target-bitrate=%d keyframe-max-dist=%d '
        '! webmmux ! filesink location="%s"'
        % (width, height, FPS, bitrate, FPS, out))
    src = pipe.get_by_name('src')
    pipe.set_state(Gst.State.PLAYING)
    n = seconds * FPS
    for i in range(n):
        buf = Gst.Buffer.new_wrapped(frame_of(i).tobytes())
        buf.pts = i * Gst.SECOND // FPS
        buf.duration = Gst.SECOND // FPS
        if src.emit('push-buffer', buf) != Gst.FlowReturn.OK:
            raise SystemExit('encoding failed')
    src.emit('end-of-stream')
    msg = pipe.get_bus().timed_pop_filtered(
        Gst.CLOCK_TIME_NONE, Gst.MessageType.EOS | Gst.MessageType.ERROR)
    pipe.set_state(Gst.State.NULL)
    if msg.type == Gst.MessageType.ERROR:
        raise SystemExit('encoding failed: %s' % (msg.parse_error(),))
    size = os.path.getsize(out)
    say(event='video', path=out, frames=n, seconds=seconds,
        kbit_s=round(size * 8 / seconds / 1000))


def corrupt_video(src, out, probability):
    """The frames of @src with random bytes changed, re-muxed, not
    re-encoded."""
    import random
    rng = random.Random(7)
    p = float(probability)
    Gst.init(None)
    demux = Gst.parse_launch('filesrc location="%s" ! matroskademux '
                             '! appsink name=sink sync=false' % src)
    sink = demux.get_by_name('sink')
    demux.set_state(Gst.State.PLAYING)
    mux = None
    changed = frames = 0
    while True:
        sample = sink.emit('pull-sample')
        if sample is None:
            break
        if mux is None:
            mux = Gst.parse_launch(
                'appsrc name=src format=time caps="%s" ! webmmux '
                '! filesink location="%s"' % (sample.get_caps().to_string(),
                                              out))
            appsrc = mux.get_by_name('src')
            mux.set_state(Gst.State.PLAYING)
        buf = sample.get_buffer()
        data = bytearray(buf.extract_dup(0, buf.get_size()))
        for i in range(32, len(data)):
            if rng.random() < p:
                data[i] = rng.randrange(256)
                changed += 1
        new = Gst.Buffer.new_wrapped(bytes(data))
        new.pts, new.dts, new.duration = buf.pts, buf.dts, buf.duration
        if buf.has_flags(Gst.BufferFlags.DELTA_UNIT):
            new.set_flags(Gst.BufferFlags.DELTA_UNIT)
        appsrc.emit('push-buffer', new)
        frames += 1
    demux.set_state(Gst.State.NULL)
    appsrc.emit('end-of-stream')
    mux.get_bus().timed_pop_filtered(
        Gst.CLOCK_TIME_NONE, Gst.MessageType.EOS | Gst.MessageType.ERROR)
    mux.set_state(Gst.State.NULL)
    say(event='corrupted', path=out, frames=frames, bytes_changed=changed)


# ---- the cameras ------------------------------------------------------------

class Camera:
    def __init__(self, camera_id, video, ice_address):
        self.id = camera_id
        self.sent = []          # [(t_ms, index)]
        self.bytes = 0
        self.eos = False
        self.connected_at = None
        self.failed = None
        self.gathered = threading.Event()
        self.need_offer = threading.Event()
        self.pipe = Gst.parse_launch(
            ('filesrc location="%s" ! matroskademux name=demux ' % video)
            + 'demux. ! clocksync name=pace '
            '! rtpvp8pay name=pay pt=96 mtu=1200 picture-id-mode=15-bit '
            '! application/x-rtp,media=video,encoding-name=VP8,payload=96,'
            'clock-rate=90000 '
            '! webrtcbin name=webrtc bundle-policy=max-bundle')
        self.webrtc = self.pipe.get_by_name('webrtc')
        # webrtcbin made a sendrecv transceiver for the linked pad
        trans = self.webrtc.emit('get-transceiver', 0)
        trans.set_property('direction',
                           GstWebRTC.WebRTCRTPTransceiverDirection.SENDONLY)
        # keep the agent: bindings may drop it (facts.md)
        self.agent = self.webrtc.get_property('ice-agent')
        if ice_address:
            self.agent.emit('add-local-ip-address', ice_address)
        self.webrtc.connect('on-negotiation-needed',
                            lambda *a: self.need_offer.set())
        self.webrtc.connect('notify::ice-gathering-state', self._gathering)
        self.webrtc.connect('notify::connection-state', self._connection)
        pay = self.pipe.get_by_name('pay')
        pay.get_static_pad('sink').add_probe(
            Gst.PadProbeType.BUFFER | Gst.PadProbeType.BUFFER_LIST,
            self._sent_probe)
        bus = self.pipe.get_bus()
        bus.add_signal_watch()
        bus.connect('message', self._message)

    def _sent_probe(self, pad, info):
        now = time.time() * 1000.0
        bufs = []
        if info.type & Gst.PadProbeType.BUFFER:
            bufs = [info.get_buffer()]
        elif info.type & Gst.PadProbeType.BUFFER_LIST:
            lst = info.get_buffer_list()
            bufs = [lst.get(i) for i in range(lst.length())]
        for buf in bufs:
            self.bytes += buf.get_size()
            if buf.pts != Gst.CLOCK_TIME_NONE:
                index = (buf.pts * FPS + Gst.SECOND // 2) // Gst.SECOND
                self.sent.append((round(now, 2), index % marker.MODULO))
        return Gst.PadProbeReturn.OK

    def _gathering(self, webrtc, pspec):
        if webrtc.get_property('ice-gathering-state') == \
                GstWebRTC.WebRTCICEGatheringState.COMPLETE:
            self.gathered.set()

    def _connection(self, webrtc, pspec):
        state = webrtc.get_property('connection-state')
        if state == GstWebRTC.WebRTCPeerConnectionState.CONNECTED:
            if self.connected_at is None:
                self.connected_at = time.time()
                say(event='connected', camera_id=self.id,
                    t=self.connected_at)
        elif state == GstWebRTC.WebRTCPeerConnectionState.FAILED:
            self.failed = 'connection failed'
            say(event='state', camera_id=self.id, state='failed')

    def _message(self, bus, msg):
        if msg.type == Gst.MessageType.ERROR:
            err, dbg = msg.parse_error()
            self.failed = str(err)
            say(event='error', camera_id=self.id, error=str(err), debug=dbg)
        elif msg.type == Gst.MessageType.EOS:
            self.eos = True
            say(event='eos', camera_id=self.id)

    def start(self):
        self.pipe.set_state(Gst.State.PLAYING)

    def negotiate(self, url, timeout=20):
        if not self.need_offer.wait(timeout):
            raise RuntimeError('no on-negotiation-needed')
        p = Gst.Promise.new()
        self.webrtc.emit('create-offer', None, p)
        p.wait()
        reply = p.get_reply()
        if reply is None or not reply.has_field('offer'):
            raise RuntimeError('create-offer: %s' % (
                reply.to_string() if reply is not None else 'no reply'))
        offer = reply.get_value('offer')
        p = Gst.Promise.new()
        self.webrtc.emit('set-local-description', offer, p)
        p.wait()
        if not self.gathered.wait(timeout):
            raise RuntimeError('ICE gathering did not complete')
        sdp = self.webrtc.get_property('local-description').sdp.as_text()
        body = json.dumps({'sdp': sdp, 'type': 'offer',
                           'camera_id': self.id}).encode()
        req = urllib.request.Request(
            url.rstrip('/') + '/offer', data=body, method='POST',
            headers={'Content-Type': 'application/json'})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                answer = json.loads(r.read())
        except urllib.error.HTTPError as e:
            raise RuntimeError('POST /offer: %d %s' %
                               (e.code, e.read().decode(errors='replace')))
        res, msg = GstSdp.SDPMessage.new_from_text(answer['sdp'])
        if res != GstSdp.SDPResult.OK:
            raise RuntimeError('unparsable answer')
        desc = GstWebRTC.WebRTCSessionDescription.new(
            GstWebRTC.WebRTCSDPType.ANSWER, msg)
        p = Gst.Promise.new()
        self.webrtc.emit('set-remote-description', desc, p)
        p.wait()

    def stop(self):
        self.pipe.set_state(Gst.State.NULL)


def run(args):
    Gst.init(None)
    videos = args.video.split(',')
    for v in videos:
        if not os.path.exists(v):
            raise SystemExit('no video %s (make it with --make-video)' % v)
    loop = GLib.MainLoop()
    cams = [Camera('%s%d' % (args.prefix, i + 1), videos[i % len(videos)],
                   args.ice_address) for i in range(args.cameras)]
    state = {'ready': None}

    def stop(*_):
        loop.quit()
        return GLib.SOURCE_REMOVE

    for sig in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, stop)

    def connect_all():
        try:
            for cam in cams:
                cam.start()
                cam.negotiate(args.url)
                time.sleep(args.stagger)
            end = time.time() + 30
            while time.time() < end and not all(
                    c.connected_at or c.failed for c in cams):
                time.sleep(0.1)
        except Exception as e:  # reported, the harness decides
            say(event='error', error=str(e))
            GLib.idle_add(stop)
            return
        bad = [c.id for c in cams if not c.connected_at]
        if bad:
            say(event='error', error='not connected', cameras=bad)
            GLib.idle_add(stop)
            return
        state['ready'] = time.time()
        say(event='ready', cameras=len(cams), t=state['ready'])
        if args.duration > 0:
            GLib.timeout_add(int(args.duration * 1000), stop)

    threading.Thread(target=connect_all, daemon=True).start()
    loop.run()

    # the send log first: the harness waits for it
    if args.send_log:
        tmp = args.send_log + '.tmp'
        with open(tmp, 'w') as f:
            json.dump({'fps': FPS, 'modulo': marker.MODULO,
                       'cameras': {c.id: list(c.sent) for c in cams}}, f)
        os.replace(tmp, args.send_log)
    elapsed = {c.id: (c.sent[-1][0] - c.sent[0][0]) / 1000.0
               for c in cams if len(c.sent) > 1}
    say(event='done', frames_sent={c.id: len(c.sent) for c in cams},
        kbit_s={k: round(c.bytes * 8 / elapsed[k] / 1000)
                for k, c in ((c.id, c) for c in cams) if k in elapsed},
        eos=[c.id for c in cams if c.eos])
    # webrtcbin's teardown can stall; never outlive the harness's patience
    threading.Timer(5.0, lambda: os._exit(0)).start()
    for c in cams:
        c.stop()
    os._exit(0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--make-video', metavar='OUT')
    ap.add_argument('--photo', default=DEFAULT_PHOTO)
    ap.add_argument('--make-classroom-video', metavar='OUT')
    ap.add_argument('--variant', type=int, default=0)
    ap.add_argument('--size', default='1280x720')
    ap.add_argument('--seconds', type=int, default=120)
    ap.add_argument('--bitrate', type=int, default=1000000)
    ap.add_argument('--url')
    ap.add_argument('--video')
    ap.add_argument('--cameras', type=int, default=1)
    ap.add_argument('--prefix', default='cam-')
    ap.add_argument('--ice-address', default=None,
                    help='gather ICE candidates on this address only')
    ap.add_argument('--duration', type=float, default=0)
    ap.add_argument('--send-log')
    ap.add_argument('--corrupt-video', nargs=3, metavar=('IN', 'OUT', 'P'),
                    help='copy IN to OUT changing each byte of the VP8 '
                    'frames, past their first 32, with probability P (a '
                    'broken camera for fault tests: the payloader still '
                    'parses the frame headers, the decoder gets garbage)')
    ap.add_argument('--stagger', type=float, default=0.2,
                    help='seconds between two offers')
    args = ap.parse_args()
    if args.make_video:
        make_video(args.make_video, args.photo, args.seconds, args.bitrate)
        return
    if args.make_classroom_video:
        make_classroom_video(args.make_classroom_video, args.variant,
                             args.seconds, args.bitrate,
                             tuple(int(v) for v in args.size.split('x')))
        return
    if args.corrupt_video:
        corrupt_video(*args.corrupt_video)
        return
    if not args.url or not args.video:
        ap.error('--url and --video are needed (or --make-video)')
    run(args)


if __name__ == '__main__':
    main()
