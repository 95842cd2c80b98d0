#!/usr/bin/python3
"""surveillx-launcher end to end, with real peers the test starts itself:
Debian's aiortc as the cameras, the Flask-SocketIO server of tests/peers as
the dashboard, a throwaway PostgreSQL for attendance.

usage: test_launcher.py CASE   (CASE: see CASES at the bottom)

WebRTC needs a non-loopback address (libnice skips loopback, aiortc drops
127.0.0.1), so each case re-runs itself under `unshare --net`: a private
network namespace with a veth pair 192.0.2.1/24 + 192.0.2.2/24 and its own
loopback. The launcher listens and gathers ICE on 192.0.2.1 only; the
dashboard and PostgreSQL listen on the namespace's 127.0.0.1. Everything
the test starts is killed at the end, and the namespace goes with its last
process.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

PYTHON = '/usr/bin/python3'
HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.environ.get('SURVEILLX_SOURCE_ROOT',
                             os.path.dirname(os.path.dirname(HERE)))
BUILD_ROOT = os.environ.get('SURVEILLX_BUILD_ROOT', '')
TESTDATA = os.environ.get('SURVEILLX_TESTDATA',
                          os.path.join(SOURCE_ROOT, '..', 'shared', 'testdata'))
LAUNCHER = os.path.join(BUILD_ROOT, 'launcher', 'surveillx-launcher')
PEERS = os.path.join(SOURCE_ROOT, 'tests', 'peers')
CAMERA = os.path.join(HERE, 'aiortc_camera.py')
BROWSER = os.path.join(HERE, 'chromium_camera.py')
LOADGEN = os.path.join(SOURCE_ROOT, 'bench', 'loadgen', 'loadgen.py')
ADDR = '192.0.2.1'
# The launcher's own log lines (camera started, answered, stopping,
# flushed), which these tests read: they are its default log, but the test
# environment's GST_DEBUG replaces that default, so ask for them on top.
if os.environ.get('GST_DEBUG'):
    os.environ['GST_DEBUG'] += (',sxlauncher:4,sxsignaling:4,sxcamera:4,'
                                'sxregistry:4,sxorphanspools:4')
PEOPLE = ['amy', 'bernadette', 'howard', 'leonard', 'penny', 'raj',
          'sheldon', 'stuart']
# What facerecog names in each group photo at 640x360 (measured with the
# one-photo-per-person gallery below): bbt4 alone has amy and bernadette,
# bbt5 alone has howard.
ONLY_IN = {'bbt4': {'amy', 'bernadette'}, 'bbt5': {'howard'}}

sys.path.insert(0, PEERS)

failures = []


def check(cond, what):
    print(('ok: ' if cond else 'FAIL: ') + what, flush=True)
    if not cond:
        failures.append(what)


def enter_namespace():
    """Re-exec under `unshare --net` once, then build the veth pair."""
    if os.environ.get('SX_LAUNCHER_NETNS') != '1':
        env = dict(os.environ, SX_LAUNCHER_NETNS='1')
        os.execvpe('unshare', ['unshare', '--net', '--', PYTHON] + sys.argv,
                   env)
    for cmd in (['ip', 'link', 'set', 'lo', 'up'],
                ['ip', 'link', 'add', 'sxl0', 'type', 'veth', 'peer', 'name',
                 'sxl1'],
                ['ip', 'addr', 'add', '192.0.2.1/24', 'dev', 'sxl0'],
                ['ip', 'addr', 'add', '192.0.2.2/24', 'dev', 'sxl1'],
                ['ip', 'link', 'set', 'sxl0', 'up'],
                ['ip', 'link', 'set', 'sxl1', 'up']):
        subprocess.run(cmd, check=True)


def free_port(host='127.0.0.1'):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class Procs:
    """Every process the test starts, killed (group and all) at the end."""

    def __init__(self):
        self.procs = []

    def start(self, args, log, **kw):
        f = open(log, 'w')
        p = subprocess.Popen(args, stdout=f, stderr=subprocess.STDOUT,
                             start_new_session=True, **kw)
        p.log = log
        self.procs.append(p)
        return p

    def kill_all(self):
        for p in self.procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()


def wait_for(pred, timeout, step=0.2):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def http(method, url, body=None, headers=None, timeout=30):
    """(status, parsed JSON or text) of one request."""
    data = body if isinstance(body, (bytes, type(None))) else \
        json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method,
                                 headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, raw = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode(errors='replace')


class Env:
    """Temporary folder, gallery, videos, dashboard, launcher."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix='sx-launcher-')
        self.procs = Procs()
        self.gallery = os.path.join(self.tmp, 'gallery')
        for p in PEOPLE:
            os.makedirs(os.path.join(self.gallery, p))
            os.symlink(os.path.join(TESTDATA, 'faces', 'identities',
                                    p + '1.png'),
                       os.path.join(self.gallery, p, p + '1.png'))
        self.videos = {}
        self.sio_port = None
        self.launcher = None
        self.base = None

    def video(self, photo, seconds=90, size=(640, 360)):
        """A VP8 webm of a photo (faces/NAME.jpg, or a path) at @size,
        longer than any case runs (aiortc's looping would stop pacing)."""
        if photo in self.videos:
            return self.videos[photo]
        path = photo if os.path.isabs(photo) else \
            os.path.join(TESTDATA, 'faces', photo + '.jpg')
        out = os.path.join(self.tmp, os.path.basename(photo) + '.webm')
        subprocess.run(
            ['gst-launch-1.0', '-q', 'filesrc', 'location=' + path, '!',
             'decodebin', '!', 'videoconvert', '!', 'videoscale',
             'add-borders=true', '!', 'video/x-raw,width=%d,height=%d,'
             'pixel-aspect-ratio=1/1' % size, '!', 'imagefreeze',
             'num-buffers=%d' % (seconds * 15), '!',
             'video/x-raw,framerate=15/1', '!', 'videoconvert', '!',
             'vp8enc', 'deadline=1',
             'target-bitrate=%d' % (800000 * size[0] * size[1] // 230400),
             'keyframe-max-dist=30', '!', 'webmmux', '!', 'filesink',
             'location=' + out], check=True)
        self.videos[photo] = out
        return out

    def start_dashboard(self):
        self.sio_port = free_port()
        self.procs.start([PYTHON, os.path.join(PEERS, 'sio_server.py'),
                          '--port', str(self.sio_port)],
                         os.path.join(self.tmp, 'sio.log'))
        ok = wait_for(lambda: self.sio('stats') is not None, 20)
        check(bool(ok), 'Flask-SocketIO server up')

    def sio(self, what):
        try:
            with urllib.request.urlopen('http://127.0.0.1:%d/control/%s' %
                                        (self.sio_port, what), timeout=5) as r:
                return json.loads(r.read())
        except (OSError, ValueError):
            return None

    def browser(self, camera_id, photo, duration, name=None, delete=True,
                size=(640, 480), url=None, chromium_flags=()):
        """Headless Chromium publishing a y4m of @photo (faces/NAME.jpg, or
        a path) at @size from the launcher's own page over WHIP. The page
        is opened from 127.0.0.1 (a secure context, so getUserMedia
        exists); the launcher listens there too."""
        path = photo if os.path.isabs(photo) else \
            os.path.join(TESTDATA, 'faces', photo + '.jpg')
        y4m = os.path.join(self.tmp, '%s-%dx%d.y4m' % (
            os.path.basename(photo), size[0], size[1]))
        if not os.path.exists(y4m):
            subprocess.run([PYTHON, BROWSER, '--make-y4m', path, y4m,
                            '--frames', '30', '--size', '%dx%d' % size],
                           check=True, stdout=subprocess.DEVNULL)
        port = self.base.rsplit(':', 1)[1]
        url = url or 'http://127.0.0.1:%s/?camera=%s&autostart=1' % (
            port, camera_id)
        name = name or camera_id
        args = [PYTHON, BROWSER, '--url', url, '--y4m', y4m, '--duration',
                str(duration), '--log',
                os.path.join(self.tmp, 'chromium-%s.stderr' % name)]
        for flag in chromium_flags:
            args.append('--chromium-flag=' + flag)
        if not delete:
            args.append('--no-delete')
        return self.procs.start(args, os.path.join(
            self.tmp, 'camera-%s.log' % name))

    def start_launcher(self, pipe, extra=(), env_extra=None,
                       address=ADDR, wrapper=(), launcher=LAUNCHER,
                       unset=()):
        """`pipe`: a file of pipelines/, or, with a launcher given, what
        its command line names (an installed pipe file)."""
        env = dict(os.environ)
        if launcher == LAUNCHER:
            env.setdefault('SURVEILLX_MODEL_DIR',
                           os.path.join(SOURCE_ROOT, 'models'))
            pipe = os.path.join(SOURCE_ROOT, 'pipelines', pipe)
        for name in unset:
            env.pop(name, None)
        env['SURVEILLX_GALLERY'] = self.gallery
        env['SURVEILLX_SIO_URL'] = 'http://127.0.0.1:%d' % self.sio_port
        env['XDG_STATE_HOME'] = os.path.join(self.tmp, 'state')
        env.update(env_extra or {})
        log = os.path.join(self.tmp, 'launcher.log')
        self.launcher = self.procs.start(
            list(wrapper) + [launcher] +
            (['--address', address] if address else []) +
            ['--port', '0', '--ice-address', ADDR, pipe] +
            list(extra), log, env=env)

        def listening():
            with open(log) as f:
                for line in f:
                    if 'listening on http' in line:
                        return line.split('listening on ')[1].split()[0]
            return None
        uri = wait_for(listening, 30)
        check(uri is not None, 'launcher listening')
        if uri is None:
            self.dump()
            raise SystemExit(1)
        self.base = uri.rstrip('/')
        if address in ('0.0.0.0', None) and '0.0.0.0' in self.base:
            # every address of the namespace
            self.base = '%s://%s:%s' % (self.base.split(':', 1)[0], ADDR,
                                        self.base.rsplit(':', 1)[1])

    def camera(self, camera_id, photo, duration, token=None, name=None,
               extra=()):
        args = [PYTHON, CAMERA, '--url', self.base, '--video',
                self.video(photo), '--duration', str(duration)]
        if camera_id is not None:
            args += ['--camera-id', camera_id]
        if token:
            args += ['--token', token]
        args += list(extra)
        log = os.path.join(self.tmp, 'camera-%s.log' % (name or camera_id))
        return self.procs.start(args, log)

    def metrics(self, headers=None):
        return metrics_of(self.base, headers)

    def frames(self, camera_id):
        # A busy box can keep the test dashboard from answering within one
        # request's timeout: ask again rather than read that as no frames
        for _ in range(4):
            records = self.sio('frames')
            if records is not None:
                return [f for f in records
                        if str(f['camera_id']) == camera_id]
            time.sleep(1)
        check(False, 'the test dashboard answers /control/frames')
        return []

    def stop_launcher(self):
        """SIGTERM: EOS to every pipeline, bounded, then exit 0."""
        if self.launcher is None or self.launcher.poll() is not None:
            return None
        self.launcher.send_signal(signal.SIGTERM)
        try:
            return self.launcher.wait(timeout=30)
        except subprocess.TimeoutExpired:
            return None

    def dump(self):
        for p in self.procs.procs:
            print('---- %s (exit %s)' % (os.path.basename(p.log), p.poll()))
            with open(p.log, errors='replace') as f:
                lines = [l for l in f if 'gstsfelement' not in l]
            sys.stdout.writelines(lines[-40:])

    def close(self):
        self.procs.kill_all()
        # Chromium runs in a session of its own under its driver: anything
        # still naming our folder (its y4m, its profile) goes too
        for pid in os.listdir('/proc'):
            try:
                with open('/proc/%s/cmdline' % pid, 'rb') as f:
                    if self.tmp.encode() in f.read():
                        os.kill(int(pid), signal.SIGKILL)
            except (OSError, ValueError):
                pass
        shutil.rmtree(self.tmp, ignore_errors=True)


def camera_events(proc):
    with open(proc.log) as f:
        return [json.loads(l) for l in f if l.startswith('{')]


def labels(frames):
    return {face['label'] for f in frames for face in (f['faces'] or [])}


def wait_named(env, cameras, timeout=60):
    """Until each camera's frames name the people of its photo
    ({camera_id: photo}). Recognition is shared by the cameras (one
    analysis pool, under ASan ~1 s an analysis, min-votes of them before a
    name): wait for the names, not for a number of frames."""
    t0 = time.time()
    wait_for(lambda: all(ONLY_IN[photo] <= labels(env.frames(cam))
                         for cam, photo in cameras.items()), timeout)
    print('   names after %.1f s' % (time.time() - t0), flush=True)


def check_frames(env, camera_id, photo, min_frames=10):
    frames = env.frames(camera_id)
    check(len(frames) >= min_frames,
          '%s: %d frames reached the dashboard (>= %d)' %
          (camera_id, len(frames), min_frames))
    check(all(f['jpeg_ok'] and f['size'] > 1000 for f in frames),
          '%s: every frame is a valid JPEG' % camera_id)
    named = labels(frames) - {'unknown'}
    check(ONLY_IN[photo] <= named,
          '%s: faces name %s (got %s)' % (camera_id, sorted(ONLY_IN[photo]),
                                          sorted(named)))
    return frames


# ---- cases ----------------------------------------------------------------

def case_preview(env):
    """One aiortc camera through pipelines/preview.pipe."""
    env.start_dashboard()
    env.start_launcher('preview.pipe')
    cam = env.camera('room-4', 'bbt4', 25)
    got = wait_for(lambda: len(env.frames('room-4')) >= 25, 60)
    check(bool(got), 'room-4: frames arrive')
    frames = check_frames(env, 'room-4', 'bbt4')
    check(all(f['camera_id'] == 'room-4' for f in frames), 'camera id kept')
    m = env.metrics()
    check(m.get('surveillx_cameras') == 1, 'metrics: 1 camera')
    fin = m.get('surveillx_camera_frames_in_total{camera_id="room-4"}', 0)
    check(fin >= 50, 'metrics: %d VP8 frames in' % fin)
    out = m.get('surveillx_camera_frames_emitted_total{camera_id="room-4"}', 0)
    # 15 fps in, at most 5 fps out (videorate after capssetter)
    check(0 < out <= fin / 2.5, 'metrics: %d frames emitted for %d in (<= 5 '
          'of 15/s)' % (out, fin))
    check(m.get('surveillx_camera_faces_total{camera_id="room-4"}', 0) > 0,
          'metrics: faces counted')
    # named faces that stay in place keep their names undescribed
    carried = wait_for(lambda: env.metrics().get(
        'surveillx_camera_faces_carried_total{camera_id="room-4"}', 0), 15)
    m = env.metrics()
    faces = m.get('surveillx_camera_faces_total{camera_id="room-4"}', 0)
    check(0 < carried <= faces, 'metrics: %d of %d faces carried' %
          (carried or 0, faces))
    answer = [e for e in camera_events(cam) if e['event'] == 'answer']
    mline = [l for l in answer[0]['sdp'].splitlines()
             if l.startswith('m=video')] if answer else []
    # aiortc offers VP8 as 97 (Chrome as 96): the answer must keep it
    check(mline and mline[0].split()[3:] == ['97'],
          'answer uses the offered VP8 payload type 97 (%s)' % mline)
    check(answer and 'a=candidate' in answer[0]['sdp'] and
          '192.0.2.1' in answer[0]['sdp'] and
          '192.0.2.2' not in answer[0]['sdp'],
          'non-trickle answer with candidates on --ice-address only')
    status, health = http('GET', env.base + '/healthz')
    check(status == 200 and health.get('status') == 'ok', '/healthz ok')
    rc = env.stop_launcher()
    check(rc == 0, 'SIGTERM: launcher flushed and exited 0 (got %s)' % rc)
    with open(env.launcher.log) as f:
        log = f.read()
    check('<room-4> flushed' in log, 'SIGTERM: EOS reached the sinks')
    cam.wait(timeout=60)


def case_two_cameras(env):
    """Two cameras at once, then one reconnects: no cross-talk."""
    env.start_dashboard()
    env.start_launcher('preview.pipe')
    env.video('bbt4')
    env.video('bbt5')
    a = env.camera('cam-a', 'bbt4', 40)
    b = env.camera('cam-b', 'bbt5', 40)
    got = wait_for(lambda: len(env.frames('cam-a')) >= 20 and
                   len(env.frames('cam-b')) >= 20, 60)
    check(bool(got), 'both cameras stream')
    wait_named(env, {'cam-a': 'bbt4', 'cam-b': 'bbt5'}, 30)
    fa = check_frames(env, 'cam-a', 'bbt4')
    fb = check_frames(env, 'cam-b', 'bbt5')
    check(not (labels(fa) & ONLY_IN['bbt5']),
          'cam-a frames carry no face of cam-b\'s photo')
    check(not (labels(fb) & ONLY_IN['bbt4']),
          'cam-b frames carry no face of cam-a\'s photo')
    m = env.metrics()
    check(m.get('surveillx_cameras') == 2, 'metrics: 2 cameras')

    # cam-a reconnects (the Windows client restarting): its pipeline is
    # replaced, cam-b keeps streaming
    a.kill()
    a.wait()
    a2 = env.camera('cam-a', 'bbt4', 30, name='cam-a-2')
    before_b = len(env.frames('cam-b'))
    time.sleep(1)
    got = wait_for(lambda: env.metrics().get(
        'surveillx_camera_restarts_total{camera_id="cam-a"}') == 1, 30)
    check(bool(got), 'metrics: cam-a restarted once')
    n_a = len(env.frames('cam-a'))
    got = wait_for(lambda: len(env.frames('cam-a')) >= n_a + 10, 60)
    check(bool(got), 'cam-a streams again after reconnecting')
    check(len(env.frames('cam-b')) > before_b + 10,
          'cam-b kept streaming meanwhile')
    check(env.metrics().get('surveillx_cameras') == 2,
          'still 2 cameras (the old cam-a pipeline is gone)')

    # a peer that vanishes without a word is torn down (ICE / no media)
    b.kill()
    b.wait()
    got = wait_for(lambda: env.metrics().get('surveillx_cameras') == 1, 40)
    check(bool(got), 'cam-b torn down after its peer vanished')
    with open(env.launcher.log) as f:
        why = [l.strip() for l in f if '<cam-b> stopping' in l]
    print('   teardown: %s' % why, flush=True)
    n_a = len(env.frames('cam-a'))
    time.sleep(3)
    check(len(env.frames('cam-a')) > n_a, 'cam-a unaffected')
    check(env.stop_launcher() == 0, 'launcher exits 0 on SIGTERM')
    a2.wait(timeout=60)


def case_bad_requests(env):
    """Hostile and broken requests: the right status, and the launcher keeps
    serving the camera it has."""
    token = 'tok-' + os.urandom(6).hex()
    env.start_dashboard()
    env.start_launcher('preview.pipe', ['--max-cameras', '1'],
                       env_extra={'SURVEILLX_TOKEN': token})
    auth = {'Authorization': 'Bearer ' + token,
            'Content-Type': 'application/json'}
    url = env.base + '/offer'

    status, _ = http('GET', env.base + '/healthz')
    check(status == 200, '/healthz needs no token')
    status, body = http('POST', url, {'sdp': 'v=0', 'type': 'offer'},
                        {'Authorization': 'Bearer wrong'})
    check(status == 401, 'wrong token -> 401 (%s)' % status)
    status, body = http('POST', url, {'sdp': 'v=0', 'type': 'offer'})
    check(status == 401, 'no token -> 401 (%s)' % status)
    status, body = http('GET', env.base + '/metrics')
    check(status == 401, '/metrics needs the token (%s)' % status)

    cam = env.camera('room-1', 'bbt4', 60, token=token)
    got = wait_for(lambda: len(env.frames('room-1')) >= 5, 60)
    check(bool(got), 'the authorised camera streams')

    status, body = http('POST', url, b'{"sdp": "v=0", "type":', auth)
    check(status == 400 and 'malformed JSON' in body.get('error', ''),
          'malformed JSON -> 400 with a reason (%s %s)' % (status, body))
    # within the 64 KiB body limit
    deep = b'{"sdp": ' + b'[' * 30000 + b']' * 30000 + b'}'
    status, body = http('POST', url, deep, auth)
    check(status == 400 and 'nested deeper' in body.get('error', ''),
          '30,000 nested arrays -> 400, not a stack overflow (%s %s)' %
          (status, body))
    # a '"' in a comment hid 65,400 levels from the old nesting count;
    # json-glib takes comments, JSON does not
    hidden = b'/*"*/' + b'[' * 65400
    status, body = http('POST', url, hidden, auth)
    check(status == 400 and 'comment' in body.get('error', ''),
          'comment hiding 65,400 levels -> 400 (%s %s)' % (status, body))
    status, body = http('POST', url, b"{'sdp': 'v=0', 'type': 'offer'}", auth)
    check(status == 400 and 'single-quoted' in body.get('error', ''),
          'single-quoted JSON -> 400 (%s %s)' % (status, body))
    status, body = http('POST', url, b'[1, 2]', auth)
    check(status == 400, 'JSON not an object -> 400')
    status, body = http('POST', url, {'sdp': 'hello', 'type': 'offer'}, auth)
    check(status == 400 and 'SDP' in body.get('error', ''),
          'malformed SDP -> 400 with a reason (%s %s)' % (status, body))
    audio_only = ('v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n'
                  'm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\n'
                  'a=rtpmap:111 opus/48000/2\r\n')
    status, body = http('POST', url, {'sdp': audio_only, 'type': 'offer'},
                        auth)
    check(status == 400 and 'VP8' in body.get('error', ''),
          'offer without video -> 400 naming the codecs (%s %s)'
          % (status, body))
    h265_only = ('v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n'
                 'm=video 9 UDP/TLS/RTP/SAVPF 100\r\nc=IN IP4 0.0.0.0\r\n'
                 'a=rtpmap:100 H265/90000\r\n')
    status, body = http('POST', url, {'sdp': h265_only, 'type': 'offer'},
                        auth)
    check(status == 400 and 'H264' in body.get('error', ''),
          'video in a codec no branch decodes (H.265) -> 400 naming the '
          'codecs (%s %s)' % (status, body))
    status, body = http('POST', url, {'sdp': audio_only, 'type': 'answer'},
                        auth)
    check(status == 400, 'type answer -> 400')
    status, body = http('POST', url, {'sdp': audio_only, 'type': 'offer',
                                      'camera_id': '../etc"; x'}, auth)
    check(status == 400 and 'camera_id' in body.get('error', ''),
          'bad camera_id -> 400 (%s)' % status)
    status, body = http('PUT', url, {}, auth)
    check(status == 405, 'PUT -> 405')

    # 10 MB: refused from its headers, before the body is read
    big = b'{"sdp": "' + b'x' * (10 * 1024 * 1024) + b'"}'
    try:
        status, body = http('POST', url, big, auth)
    except (ConnectionError, urllib.error.URLError) as e:
        # the server may answer and close while the body is still going out
        status, body = 413 if '413' in str(e) else str(e), None
    check(status == 413, '10 MB body -> 413 (%s)' % status)

    # one camera already: a second one is refused, a reconnect is not
    second = env.camera('room-2', 'bbt5', 10, token=token)
    second.wait(timeout=60)
    errors = [e['error'] for e in camera_events(second)
              if e['event'] == 'error']
    check(errors and '503' in errors[0],
          '--max-cameras 1: second camera -> 503 (%s)' % errors)

    n = len(env.frames('room-1'))
    check(wait_for(lambda: len(env.frames('room-1')) > n + 5, 20),
          'room-1 kept streaming through all of it')
    m = env.metrics({'Authorization': 'Bearer ' + token})
    check(m.get('surveillx_cameras') == 1, 'metrics: still 1 camera')
    for code in ('400', '401', '405', '413', '503'):
        check(m.get('surveillx_http_responses_total{code="%s"}' % code, 0) > 0,
              'metrics count %s responses' % code)
    check(env.stop_launcher() == 0, 'launcher exits 0 on SIGTERM')
    cam.wait(timeout=60)


def case_classroom(env):
    """pipelines/classroom.pipe with a real PostgreSQL: attendance rows for
    the faces the camera shows, frames on the dashboard."""
    from pgcluster import PgCluster
    with PgCluster() as pg:
        env.start_dashboard()
        env.start_launcher('classroom.pipe',
                           ['--set', 'SURVEILLX_SESSION=math-1'],
                           env_extra={'SURVEILLX_DB': pg.conninfo()})
        cam = env.camera('room-101', 'bbt4', 40)

        def present():
            try:
                rows = pg.query(
                    "SELECT s.external_id, a.camera_id, a.session_key, "
                    "a.sightings FROM surveillx.attendance a JOIN "
                    "surveillx.students s ON s.id = a.student")
            except Exception:
                return None
            return rows if {r[0] for r in rows} >= ONLY_IN['bbt4'] else None
        rows = wait_for(present, 60, step=1)
        check(rows is not None, 'attendance rows appear for amy and '
              'bernadette (%s)' % rows)
        if rows:
            check(all(r[1] == 'room-101' and r[2] == 'math-1' for r in rows),
                  'rows carry the camera id and the --set session')
            check(not ({r[0] for r in rows} & ONLY_IN['bbt5']),
                  'nobody absent is marked present')
        check(bool(wait_for(lambda: len(env.frames('room-101')) >= 10, 30)),
              'room-101: frames arrive')
        check_frames(env, 'room-101', 'bbt4')
        before = {r[0]: r[1] for r in (pg.query(
            "SELECT s.external_id, a.sightings FROM surveillx.attendance a "
            "JOIN surveillx.students s ON s.id = a.student"))}
        check(env.stop_launcher() == 0, 'launcher exits 0 on SIGTERM')
        after = {r[0]: r[1] for r in (pg.query(
            "SELECT s.external_id, a.sightings FROM surveillx.attendance a "
            "JOIN surveillx.students s ON s.id = a.student"))}
        check(all(after.get(k, 0) >= v for k, v in before.items()),
              'the EOS flush kept every sighting')
        cam.wait(timeout=60)


def case_classroom_hd(env):
    """A 1280x720 camera (headless Chromium from the publisher page, which
    asks for 1280x720) into pipelines/classroom.pipe as shipped: the
    students who sit only in the back row, faces of 40 px, get attendance
    rows; the one who is absent gets none; the dashboard receives 640x360
    frames whose faces keep their names. (Chromium, not aiortc: aiortc
    encodes at a fixed 500 kbit/s, which blurs 40 px faces past
    recognition; Chrome raises its rate with the launcher's transport-cc
    feedback as a real camera does.)"""
    from pgcluster import PgCluster
    import cv2
    from classroom_scene import Scene, Seat
    back = ['penny', 'raj', 'sheldon', 'stuart']
    front = ['amy', 'bernadette', 'howard']         # leonard is absent
    # images 2-4: stuart5 is hard for HOG at any size (testdata README)
    seats = [Seat(p, 2 + k % 3, 40, 160 + 240 * k, 150, 0)
             for k, p in enumerate(back)]
    seats += [Seat(p, 3, 80, 300 + 340 * k, 520, 0)
              for k, p in enumerate(front)]
    room = os.path.join(env.tmp, 'room-hd.png')
    cv2.imwrite(room, Scene(seats, 1280, 720, amplitude=0).frame(0))
    with PgCluster() as pg:
        env.start_dashboard()
        env.start_launcher('classroom.pipe',
                           ['--set', 'SURVEILLX_SESSION=hd-1'],
                           env_extra={'SURVEILLX_DB': pg.conninfo()},
                           address='0.0.0.0')
        t0 = time.time()
        cam = env.browser('room-hd', room, 150, size=(1280, 720))

        def rows():
            try:
                return {r[0] for r in pg.query(
                    "SELECT s.external_id FROM surveillx.attendance a "
                    "JOIN surveillx.students s ON s.id = a.student")}
            except Exception:
                return set()
        present = wait_for(lambda: rows() >= set(back) | set(front), 150,
                           step=1)
        print('   rows after %.1f s: %s' % (time.time() - t0,
                                           sorted(rows())), flush=True)
        check(set(back) <= rows(), 'back-row students (40 px faces in a '
              '1280x720 frame) have attendance rows (%s)' % sorted(rows()))
        check(set(front) <= rows(), 'front-row students have rows')
        check('leonard' not in rows(), 'the absent student has no row')
        check(bool(present), 'every seated student present within 150 s')
        frames = env.frames('room-hd')
        check(len(frames) >= 10, 'room-hd: %d frames reached the dashboard'
              % len(frames))
        dims = {tuple(f['dims'] or ()) for f in frames}
        check(dims == {(640, 360)}, 'dashboard frames are scaled to 640x360 '
              '(%s)' % dims)
        named = labels(frames[-10:]) - {'unknown'}
        check(set(back) <= named, 'the scaled frames still name the back '
              'row (%s)' % sorted(named))
        boxes = [face['box'] for f in frames[-10:] for face in f['faces']
                 if face['label'] in back]
        check(boxes and all(b['x'] + b['w'] <= 640 and b['y'] + b['h'] <= 360
                            and b['w'] <= 40 for b in boxes),
              'their boxes are scaled with the frame (%s)' % boxes[:2])
        stats = browser_events(cam, 'stats')
        last = stats[-1] if stats else {}
        print('   chrome: %s' % last, flush=True)
        check((last.get('frameWidth'), last.get('frameHeight')) ==
              (1280, 720), 'Chrome sends 1280x720 (%s)' % last)
        check(env.stop_launcher() == 0, 'launcher exits 0 on SIGTERM')


def case_signaling(env):
    """FastRTC's and WHIP's shapes with trickled candidates: the offers go
    without candidates, which follow separately and must really reach
    webrtcbin (the selected pair's remote candidate is then a host
    candidate, not one ICE learnt from the peer's checks)."""
    env.start_dashboard()
    env.start_launcher('preview.pipe', ['--max-cameras', '2'])
    env.video('bbt4')
    env.video('bbt5')
    fast = env.camera('room-f', 'bbt4', 120, name='fastrtc', extra=[
        '--signaling', 'fastrtc', '--webrtc-id', 'rtcF00',
        '--camera-id-in-query', '--trickle', '--data-channel'])
    whip = env.camera('room-w', 'bbt5', 20, name='whip', extra=[
        '--signaling', 'whip', '--trickle', '--delete'])
    got = wait_for(lambda: len(env.frames('room-f')) >= 15 and
                   len(env.frames('room-w')) >= 15, 60)
    check(bool(got), 'FastRTC and WHIP cameras both stream')
    wait_named(env, {'room-f': 'bbt4', 'room-w': 'bbt5'}, 15)
    third = env.camera(None, 'bbt4', 5, name='third', extra=[
        '--signaling', 'fastrtc', '--webrtc-id', 'rtc3'])
    third.wait(timeout=60)
    err = [e['error'] for e in camera_events(third) if e['event'] == 'error']
    check(err and 'concurrency_limit_reached' in err[0] and
          '"limit":2' in err[0],
          'FastRTC: a third camera over --max-cameras 2 -> '
          'concurrency_limit_reached (%s)' % err)
    check_frames(env, 'room-f', 'bbt4')
    check_frames(env, 'room-w', 'bbt5')

    ev = camera_events(fast)
    cands = [e for e in ev if e['event'] == 'candidate']
    check(len(cands) > 0 and all(e['status'] == 200 and
                                 e['body'] == {'status': 'success'}
                                 for e in cands),
          'FastRTC: %d trickled candidates -> {"status": "success"}' %
          len(cands))
    check(any(e['event'] == 'datachannel' and e['state'] == 'open'
              for e in ev), 'FastRTC: the client\'s data channel opened')
    ev = camera_events(whip)
    w = [e for e in ev if e['event'] == 'whip']
    check(bool(w) and w[0]['location'].startswith('/whip/room-w/'),
          'WHIP: 201 with Location %s' % (w[0]['location'] if w else None))
    check(any(e['event'] == 'patch' and e['status'] == 204 for e in ev),
          'WHIP: PATCH trickle-ice-sdpfrag -> 204')
    m = env.metrics()
    for cam in ('room-f', 'room-w'):
        key = ('surveillx_camera_ice_remote_candidate{camera_id="%s",'
               'type="host"}' % cam)
        check(m.get(key) == 1, '%s: selected pair uses the trickled host '
              'candidate (%s)' % (cam, {k: v for k, v in m.items()
                                        if 'ice_remote' in k}))

    # FastRTC's failure shapes, HTTP 200 as FastRTC sends them
    url = env.base + '/webrtc/offer'
    json_type = {'Content-Type': 'application/json'}
    status, body = http('POST', url, {
        'type': 'ice-candidate', 'webrtc_id': 'nobody',
        'candidate': {'candidate': 'candidate:1 1 udp 1 192.0.2.2 9 typ host',
                      'sdpMid': '0', 'sdpMLineIndex': 0}}, json_type)
    check(status == 200 and body.get('status') == 'failed' and
          body['meta']['error'] == 'unknown_connection',
          'FastRTC: unknown webrtc_id -> unknown_connection (%s %s)' %
          (status, body))
    status, body = http('POST', url, b'{"type": "offer"', json_type)
    check(status == 400 and body.get('status') == 'failed',
          'FastRTC: malformed JSON -> 400 in FastRTC\'s shape')
    # a form or text/plain POST is what any web page sends unasked
    status, body = http('POST', url, b'{"type": "offer"}',
                        {'Content-Type': 'text/plain'})
    check(status == 415 and body.get('status') == 'failed',
          'FastRTC: text/plain body -> 415 (%s %s)' % (status, body))

    # WHIP errors
    status, body = http('POST', env.base + '/whip/room-x', b'v=0\r\n',
                        {'Content-Type': 'application/json'})
    check(status == 415, 'WHIP: offer not application/sdp -> 415')
    status, body = http('PATCH', env.base + '/whip/room-w/0000', b'a=x\r\n',
                        {'Content-Type': 'application/trickle-ice-sdpfrag'})
    check(status == 404, 'WHIP: PATCH to an unknown session -> 404')
    status, body = http('OPTIONS', env.base + '/whip/room-x')
    check(status == 204, 'WHIP: OPTIONS -> 204')

    # DELETE (at the end of the WHIP camera's run) tears its pipeline down
    whip.wait(timeout=60)
    ev = camera_events(whip)
    check(any(e['event'] == 'delete' and e['status'] == 200 for e in ev),
          'WHIP: DELETE -> 200')
    got = wait_for(lambda: env.metrics().get('surveillx_cameras') == 1, 10)
    check(bool(got), 'WHIP: DELETE removed the camera (1 left)')

    def log_has(text):
        with open(env.launcher.log) as f:
            return text in f.read()
    check(bool(wait_for(lambda: log_has(
        '<room-w> stopping (closed by the peer'), 10)),
        'WHIP: the pipeline was torn down after DELETE')

    n = len(env.frames('room-f'))
    check(bool(wait_for(lambda: len(env.frames('room-f')) > n + 5, 15)),
          'room-f unaffected by room-w leaving')

    # the control: candidates withheld, ICE still connects, but only with
    # an address learnt from the camera's checks (prflx), so the "host"
    # seen above came from the trickled candidates
    ctl = env.camera('room-c', 'bbt5', 8, name='control', extra=[
        '--signaling', 'whip', '--trickle', '--withhold-candidates'])
    key = 'surveillx_camera_ice_remote_candidate{camera_id="room-c",type=%s}'
    got = wait_for(lambda: [k for k in env.metrics()
                            if k.startswith(key.split('type=')[0])], 30)
    check(got == [key % '"prflx"'],
          'control without trickle: the selected remote candidate is '
          'prflx (%s)' % got)
    ctl.wait(timeout=60)
    check(env.stop_launcher() == 0, 'launcher exits 0 on SIGTERM')


def case_ice_servers(env):
    """OPTIONS on a WHIP URL lists --stun/--turn as Link headers, TURN
    credentials only for the token holder."""
    token = 'tok-' + os.urandom(6).hex()
    env.start_dashboard()
    env.start_launcher('preview.pipe', [
        '--stun', 'stun://127.0.0.1:3478',
        '--turn', 'turn://alice:s3cret@127.0.0.1:3479'],
        env_extra={'SURVEILLX_TOKEN': token})
    req = urllib.request.Request(env.base + '/whip/room-1', method='OPTIONS')
    with urllib.request.urlopen(req, timeout=10) as r:
        status, links = r.status, r.headers.get_all('Link') or []
    check(status == 204 and links == [],
          'OPTIONS without the token: 204, no ICE servers (%s)' % links)
    req.add_header('Authorization', 'Bearer ' + token)
    with urllib.request.urlopen(req, timeout=10) as r:
        status, links = r.status, r.headers.get_all('Link') or []
    check(status == 204 and
          '<stun:127.0.0.1:3478>; rel="ice-server"' in links and
          any(l.startswith('<turn:127.0.0.1:3479>; rel="ice-server"') and
              'username="alice"' in l and 'credential="s3cret"' in l
              for l in links),
          'OPTIONS with the token: STUN and TURN Link headers (%s)' % links)
    status, page = http('GET', env.base + '/')
    check(status == 200 and "'whip/'" in page and 'getUserMedia' in page,
          'GET / serves the publisher page without the token')
    check(env.stop_launcher() == 0, 'launcher exits 0 on SIGTERM')


def browser_events(proc, kind):
    return [e for e in camera_events(proc) if e.get('event') == kind]


def case_chromium(env):
    """Headless Chromium as a laptop camera, from the launcher's page
    over WHIP, into pipelines/classroom.pipe: attendance and 640x480
    frames, and Chrome keeps 640x480 (the answer carries transport-cc)."""
    from pgcluster import PgCluster
    with PgCluster() as pg:
        env.start_dashboard()
        env.start_launcher('classroom.pipe',
                           ['--set', 'SURVEILLX_SESSION=lab-1'],
                           env_extra={'SURVEILLX_DB': pg.conninfo()},
                           address='0.0.0.0')
        status, page = http('GET', 'http://127.0.0.1:%s/' %
                            env.base.rsplit(':', 1)[1])
        check(status == 200 and 'getUserMedia' in page,
              'GET / serves the publisher page')
        laptop = env.browser('laptop-1', 'bbt4', 35)

        def present():
            try:
                rows = pg.query(
                    "SELECT s.external_id, a.camera_id, a.session_key "
                    "FROM surveillx.attendance a JOIN surveillx.students s "
                    "ON s.id = a.student")
            except Exception:
                return None
            return rows if {r[0] for r in rows} >= ONLY_IN['bbt4'] else None
        rows = wait_for(present, 60, step=1)
        check(rows is not None, 'attendance rows for amy and bernadette '
              'from the browser camera (%s)' % rows)
        if rows:
            check(all(r[1] == 'laptop-1' and r[2] == 'lab-1' for r in rows),
                  'rows carry the browser camera\'s id and the session')
        check(bool(wait_for(lambda: len(env.frames('laptop-1')) >= 20, 30)),
              'laptop-1: frames arrive')
        frames = check_frames(env, 'laptop-1', 'bbt4')
        dims = {tuple(f['dims'] or ()) for f in frames}
        check(dims == {(640, 480)}, 'laptop-1: frames are 640x480 (%s)' %
              dims)
        answer = browser_events(laptop, 'answer')
        check(answer and answer[0].get('transport_cc') is True,
              'the answer to Chrome carries the transport-cc extmap')
        # Chrome lowers the resolution within seconds when its bandwidth
        # estimate stays low (no transport-cc feedback): look after 15 s
        time.sleep(15)
        stats = browser_events(laptop, 'stats')
        last = stats[-1] if stats else {}
        check((last.get('frameWidth'), last.get('frameHeight')) ==
              (640, 480), 'Chrome still sends 640x480 after %d stats '
              'samples (%s)' % (len(stats), last))
        print('   chrome: %s' % last, flush=True)
        laptop.wait(timeout=90)
        stopped = browser_events(laptop, 'stopped')
        check(stopped and stopped[0].get('delete_status') == 200,
              'the page\'s Stop: DELETE -> 200 (%s)' % stopped)
        check(bool(wait_for(lambda: env.metrics().get(
            'surveillx_cameras') == 0, 15)),
            'the browser camera\'s pipeline is gone after DELETE')
        check(env.stop_launcher() == 0, 'launcher exits 0 on SIGTERM')


def answered_codecs(sdp):
    """The encodings of the answer's video section (rtpmap names), rtx
    aside."""
    names = [l.split(' ', 1)[1].split('/')[0].upper()
             for l in sdp.splitlines() if l.startswith('a=rtpmap:')]
    return [n for n in names if n != 'RTX']


def case_codecs(env):
    """Any codec a browser sends, into preview.pipe at once: Chromium
    offering only H.264 and only VP9 (the page's ?codec=), aiortc offering
    only H.264, and aiortc offering VP8 and H.264. Each answer holds one
    codec (VP8 whenever it is offered: the preference), /metrics names it,
    and each camera's frames name its people (decoded, not just
    received)."""
    env.start_dashboard()
    env.start_launcher('preview.pipe', address='0.0.0.0')
    env.video('bbt4')
    env.video('bbt5')
    port = env.base.rsplit(':', 1)[1]

    def page(camera_id, codec):
        return 'http://127.0.0.1:%s/?camera=%s&autostart=1&codec=%s' % (
            port, camera_id, codec)
    expect = {'chrome-h264': ('H264', 'bbt4'), 'chrome-vp9': ('VP9', 'bbt5'),
              'aiortc-h264': ('H264', 'bbt5'), 'aiortc-both': ('VP8', 'bbt4')}
    procs = {
        'chrome-h264': env.browser('chrome-h264', 'bbt4', 150,
                                   url=page('chrome-h264', 'h264')),
        'chrome-vp9': env.browser('chrome-vp9', 'bbt5', 150,
                                  url=page('chrome-vp9', 'vp9')),
        'aiortc-h264': env.camera('aiortc-h264', 'bbt5', 85,
                                  extra=['--codec', 'H264']),
        'aiortc-both': env.camera('aiortc-both', 'bbt4', 85),
    }
    wait_named(env, {cam: photo for cam, (_, photo) in expect.items()}, 80)
    metrics = env.metrics()
    for cam, (codec, photo) in expect.items():
        got = sorted(k.split('codec="')[1].rstrip('"}') for k in metrics
                     if k.startswith('surveillx_camera_codec{camera_id="%s"'
                                     % cam))
        check(got == [codec], '%s: the launcher reports %s (%s)' % (
            cam, codec, got))
        if cam.startswith('chrome'):
            offers = browser_events(procs[cam], 'offer')
            offered = sorted({c.split('/')[0].upper()
                              for c in (offers[0].get('codecs') if offers
                                        else [])} - {'RTX'})
            check(offered == [codec], '%s: the page offered %s only (%s)'
                  % (cam, codec, offered))
            answers = browser_events(procs[cam], 'answer')
            names = sorted({c.split('/')[0].upper() for c in (
                answers[0].get('codecs') if answers else [])} - {'RTX'})
            sent = {e.get('codec') for e in browser_events(procs[cam],
                                                           'stats')} - {None}
            check(sent == {'video/' + codec}, '%s: Chrome encodes %s (its '
                  'outbound stats: %s)' % (cam, codec, sorted(map(str, sent))))
        else:
            answers = browser_events(procs[cam], 'answer')
            names = answered_codecs(answers[0]['sdp']) if answers else []
        check(names == [codec], '%s: the answer holds %s only (%s)' % (
            cam, codec, names))
        check_frames(env, cam, photo)
    for cam, proc in procs.items():
        check(proc.poll() is None, '%s: still streaming when checked' % cam)
    check(env.stop_launcher() == 0, 'launcher exits 0 on SIGTERM')


def case_three_cameras(env):
    """Two aiortc cameras (seed and FastRTC shapes) and one Chromium (WHIP)
    at once: three pipelines, three ids, no cross-talk; one vanishes, the
    others keep streaming."""
    env.start_dashboard()
    env.start_launcher('preview.pipe', address='0.0.0.0')
    alone = os.path.join(TESTDATA, 'faces', 'identities', 'penny2.png')
    env.video('bbt4')
    env.video(alone)
    a = env.camera('cam-a', 'bbt4', 120)
    b = env.camera('cam-b', alone, 120, extra=[
        '--signaling', 'fastrtc', '--webrtc-id', 'rtcB', '--trickle',
        '--data-channel'])
    c = env.browser('cam-c', 'bbt5', 60)
    cams = ('cam-a', 'cam-b', 'cam-c')

    def streaming_and_named():
        # Recognition is shared by the cameras (one analysis pool, which
        # under ASan is slow): wait for the names, not a number of frames.
        return (all(len(env.frames(x)) >= 15 for x in cams) and
                ONLY_IN['bbt4'] <= labels(env.frames('cam-a')) and
                ONLY_IN['bbt5'] <= labels(env.frames('cam-c')) and
                'penny' in labels(env.frames('cam-b')))
    t0 = time.time()
    wait_for(streaming_and_named, 90)
    print('names after %.1f s' % (time.time() - t0), flush=True)
    check(all(len(env.frames(x)) >= 15 for x in cams),
          'three cameras stream at once')
    check(env.metrics().get('surveillx_cameras') == 3, 'metrics: 3 cameras')
    fa = check_frames(env, 'cam-a', 'bbt4')
    fc = check_frames(env, 'cam-c', 'bbt5')
    fb = env.frames('cam-b')
    lb = labels(fb) - {'unknown'}
    check(lb == {'penny'}, 'cam-b names only penny (%s)' % sorted(lb))
    check(not (labels(fa) & ONLY_IN['bbt5']) and
          not (labels(fc) & ONLY_IN['bbt4']) and
          not (lb & (ONLY_IN['bbt4'] | ONLY_IN['bbt5'])),
          'no camera\'s frames carry another camera\'s faces')
    check({tuple(f['dims'] or ()) for f in fc} == {(640, 480)},
          'cam-c (Chromium) frames are 640x480')

    # cam-b vanishes without a word: torn down, the others go on
    b.kill()
    b.wait()
    got = wait_for(lambda: env.metrics().get('surveillx_cameras') == 2, 40)
    check(bool(got), 'cam-b torn down after its peer vanished')
    na, nc = len(env.frames('cam-a')), len(env.frames('cam-c'))
    got = wait_for(lambda: len(env.frames('cam-a')) > na + 10 and
                   len(env.frames('cam-c')) > nc + 10, 30)
    check(bool(got), 'cam-a and cam-c keep streaming')
    check(env.stop_launcher() == 0, 'launcher exits 0 on SIGTERM')


def case_soak(env):
    """SX_SOAK_CYCLES (200) WHIP connect/stream/DELETE cycles of one camera
    through preview.pipe: the launcher's RSS, open file descriptors and
    threads stay flat over the second half of the run. Under
    AddressSanitizer (whose quarantine holds freed memory on purpose) the
    RSS bound is wider."""
    cycles = int(os.environ.get('SX_SOAK_CYCLES', '200'))
    asan = 'libasan' in os.environ.get('LD_PRELOAD', '')
    if asan and 'SX_SOAK_CYCLES' not in os.environ:
        cycles = 40  # the fewest the second-half checks below run with
        print('   AddressSanitizer build: %d cycles (each is ~2x slower; the '
              '200-cycle run is the normal build\'s)' % cycles, flush=True)
    env.start_dashboard()
    env.start_launcher('preview.pipe')
    video = env.video('bbt5')
    log = os.path.join(env.tmp, 'soak.log')
    soak = env.procs.start([PYTHON, os.path.join(HERE, 'soak_camera.py'),
                            '--url', env.base, '--video', video,
                            '--launcher-pid', str(env.launcher.pid),
                            '--cycles', str(cycles)], log)
    soak.wait(timeout=cycles * 15 + 60)
    with open(log) as f:
        samples = [json.loads(l) for l in f if l.startswith('{"cycle"')]
    check(len(samples) == cycles, '%d cycles ran (%d)' % (cycles,
                                                          len(samples)))
    failed = [s['cycle'] for s in samples if not s['ok']]
    check(not failed, 'every cycle connected (failed: %s)' % failed)
    print('   cycle  rss_MB  heap_MB  fds  threads  connect_ms', flush=True)
    for s in samples:
        if s['cycle'] == 1 or s['cycle'] % 10 == 0:
            print('   %5d  %6.1f  %7.2f  %3d  %7d  %10d' % (
                s['cycle'], s['rss_kb'] / 1024, s['heap_kb'] / 1024,
                s['fds'], s['threads'], s['connect_ms']), flush=True)
    if len(samples) >= 40:
        # Allocator arenas and caches settle over the first ~100 cycles
        # (measured: +20 MB from cycle 20 to 100, +1.3 MB from 100 to 200),
        # so the bounds are on the second half.
        mid = samples[len(samples) // 2 - 1]
        last = samples[-1]
        tail = samples[-5:]
        rss_growth = (sum(s['rss_kb'] for s in tail) / len(tail) -
                      mid['rss_kb']) / 1024
        # AddressSanitizer's quarantine keeps up to 256 MB of freed memory.
        limit = 64 if asan else 16
        check(rss_growth < limit, 'RSS growth over the second half (cycle %d '
              'to %d): %.1f MB (< %d MB)' % (mid['cycle'], last['cycle'],
                                            rss_growth, limit))
        # A leak is told by the heap in use (the launcher's /metrics), not
        # by RSS: RSS also holds what threads freed into glibc's arenas,
        # which rises in steps of several MB whenever a connect's threads
        # land on an arena that had not held as much before (measured: 7 MB
        # steps, the heap in use flat; docs/performance.md). The trend is
        # the median of the slopes between every two samples of the second
        # half (Theil-Sen); measured ~2 KB per cycle.
        half = [s for s in samples[len(samples) // 2 - 1:]
                if s['heap_kb'] >= 0]
        if not asan and len(half) >= 20:
            slopes = sorted(
                (b['heap_kb'] - a['heap_kb']) / (b['cycle'] - a['cycle'])
                for i, a in enumerate(half) for b in half[i + 1:])
            trend = slopes[len(slopes) // 2]
            check(trend < 16, 'heap in use, trend over the second half: '
                  '%.1f KB per cycle (< 16)' % trend)
        check(last['fds'] - mid['fds'] <= 2,
              'open fds flat: %d at cycle %d, %d at the end' %
              (mid['fds'], mid['cycle'], last['fds']))
        check(last['threads'] - mid['threads'] <= 2,
              'threads flat: %d at cycle %d, %d at the end' %
              (mid['threads'], mid['cycle'], last['threads']))
    check(env.stop_launcher() == 0, 'launcher exits 0 on SIGTERM')


# A VP8 offer GstSDP and the launcher's checks accept; negotiation then
# fails (no ICE credentials), which is all the attacks below need.
FAKE_VP8_OFFER = ('v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n'
                  'm=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\n'
                  'a=rtpmap:96 VP8/90000\r\na=mid:0\r\na=recvonly\r\n')


def proc_status(pid, field):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    return -1


def open_fds(pid):
    return len(os.listdir('/proc/%d/fd' % pid))


def push_body(url_base, path, headers, total, seconds=5.0):
    """POSTs a body of @total bytes as fast as the launcher takes it,
    reading any answer meanwhile as a browser would: (the answer's status
    line or None, bytes the launcher took before it stopped reading)."""
    import select
    host, port = url_base.split('//')[1].rsplit(':', 1)
    s = socket.create_connection((host, int(port)), timeout=seconds)
    head = 'POST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n' % (
        path, host, total)
    head += ''.join('%s: %s\r\n' % kv for kv in headers.items()) + '\r\n'
    s.sendall(head.encode())
    s.setblocking(False)
    chunk = b'x' * 65536
    sent = 0
    status = None
    end = time.time() + seconds
    try:
        while time.time() < end:
            r, w, _ = select.select([s], [s] if sent < total else [], [], 0.5)
            if r:
                reply = s.recv(4096)
                if not reply:
                    break
                if status is None and reply.startswith(b'HTTP/1.1 '):
                    status = reply.split(b'\r\n', 1)[0].decode()
            if w:
                sent += s.send(chunk)
    except (BrokenPipeError, ConnectionResetError, BlockingIOError):
        pass
    s.close()
    return status, sent


def case_hardening(env):
    """What anyone on the network can try against the launcher: bodies
    after a refusal, thousands of idle connections, a slow request, a
    camera hijack, a replace loop, running out of file descriptors. Each
    gets its answer and the real camera streams on."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 4096),
                                                max(hard, 4096)))
    secret = 'camera-secret-' + os.urandom(8).hex()
    operator = 'op-' + os.urandom(8).hex()

    def camera_token(camera_id):
        return subprocess.run(
            [LAUNCHER, '--camera-token', camera_id],
            env=dict(os.environ, SURVEILLX_CAMERA_SECRET=secret),
            check=True, capture_output=True, text=True).stdout.strip()
    room1, room2 = camera_token('room-1'), camera_token('room-2')
    check(room1.startswith('room-1.') and room1 != room2,
          '--camera-token prints a token per camera')

    env.start_dashboard()
    env.start_launcher('preview.pipe', [
        '--max-cameras', '2', '--request-timeout', '2000',
        '--idle-timeout', '3000', '--max-connections-per-address', '100'],
        env_extra={'SURVEILLX_TOKEN': operator,
                   'SURVEILLX_CAMERA_SECRET': secret})
    pid = env.launcher.pid
    op_auth = {'Authorization': 'Bearer ' + operator}
    cam = env.camera('room-1', 'bbt4', 120, token=room1)
    check(bool(wait_for(lambda: len(env.frames('room-1')) >= 5, 60)),
          'room-1 streams with its own camera token')

    # ---- hijack: nobody but room-1's credential may replace room-1
    offer = {'sdp': FAKE_VP8_OFFER, 'type': 'offer', 'camera_id': 'room-1'}
    for who, headers, want in (
            ('the operator token', op_auth, 409),
            ("room-2's token", {'Authorization': 'Bearer ' + room2}, 403),
            ('a forged token', {'Authorization': 'Bearer room-1.' + '0' * 64},
             401),
            ('no token', {}, 401)):
        headers = dict(headers, **{'Content-Type': 'application/json'})
        status, body = http('POST', env.base + '/offer', offer, headers)
        check(status == want, 'hijack of room-1 with %s -> %d (%s %s)' % (
            who, want, status, body))
    status, _ = http('POST', env.base + '/whip/room-1', FAKE_VP8_OFFER.encode(),
                     dict(op_auth, **{'Content-Type': 'application/sdp'}))
    check(status == 409, 'WHIP hijack of room-1 -> 409 (%s)' % status)
    m = env.metrics(op_auth)
    check(m.get('surveillx_camera_restarts_total{camera_id="room-1"}', 0) == 0,
          'room-1 was never replaced')
    n = len(env.frames('room-1'))
    check(bool(wait_for(lambda: len(env.frames('room-1')) > n + 5, 20)),
          'room-1 streams on through the hijack attempts')

    # ---- a replace loop cannot pile up pipelines
    most = 0
    codes = {}
    for i in range(30):
        status, _ = http('POST', env.base + '/whip/room-2',
                         FAKE_VP8_OFFER.encode(),
                         {'Authorization': 'Bearer ' + room2,
                          'Content-Type': 'application/sdp'})
        codes[status] = codes.get(status, 0) + 1
        most = max(most, env.metrics(op_auth).get('surveillx_pipelines', 0))
    print('   replace loop: responses %s, at most %d pipelines' % (codes, most),
          flush=True)
    check(most <= 2, 'replace loop: never more than --max-cameras 2 '
          'pipelines, stopping ones included (%d)' % most)

    # ---- bodies after a refusal are neither read to the end nor kept
    hwm = proc_status(pid, 'VmHWM')
    for what, headers, want in (
            ('no token', {'Content-Type': 'application/json'}, '401'),
            ('over --max-body', dict(op_auth, **{
                'Content-Type': 'application/json'}), '413')):
        status, sent = push_body(env.base, '/offer', headers, 300 << 20)
        print('   %s: %s after %.1f MB of a 300 MB body' % (
            what, status, sent / 1e6), flush=True)
        check(status is not None and want in status,
              '%s: answered %s at once (%s)' % (what, want, status))
        check(sent < 64 << 20, '%s: the launcher stopped reading (took %.1f '
              'MB)' % (what, sent / 1e6))
    grew = (proc_status(pid, 'VmHWM') - hwm) / 1024
    check(grew < 32, 'peak RSS +%.1f MB after two 300 MB bodies (< 32)' % grew)

    # ---- 2,000 idle connections from one address, then a slow request
    fds_before = open_fds(pid)
    idle = []
    for i in range(2000):
        s = socket.socket()
        s.bind(('192.0.2.2', 0))
        s.setblocking(False)
        try:
            s.connect((ADDR, int(env.base.rsplit(':', 1)[1])))
        except BlockingIOError:
            pass
        idle.append(s)
    status, _ = http('GET', env.base + '/healthz', timeout=5)
    check(status == 200, '/healthz answers beside 2,000 idle connections '
          '(%s)' % status)
    # connects that overflowed the kernel's queues are retried by it
    wait_for(lambda: env.metrics(op_auth).get(
        'surveillx_http_connections_refused_total', 0) >= 1800, 15, step=0.5)
    m = env.metrics(op_auth)
    print('   2,000 idle: open %s, refused %s' % (
        m.get('surveillx_http_connections'),
        m.get('surveillx_http_connections_refused_total')), flush=True)
    check(m.get('surveillx_http_connections', 0) <= 102,
          'at most --max-connections-per-address (100) kept from one address')
    check(m.get('surveillx_http_connections_refused_total', 0) >= 1800,
          'the rest refused')
    slow = socket.create_connection((ADDR, int(env.base.rsplit(':', 1)[1])))
    slow.settimeout(0.2)
    t0 = time.time()
    closed_after = None
    for ch in b'GET /healthz HTTP/1.1\r\nHost: x\r\n' * 10:
        try:
            slow.send(bytes([ch]))
            if slow.recv(1) == b'':
                closed_after = time.time() - t0
                break
        except socket.timeout:
            pass
        except OSError:
            closed_after = time.time() - t0
            break
        if time.time() - t0 > 8:
            break
    slow.close()
    check(closed_after is not None and closed_after < 4,
          'a request trickled a byte at a time is cut at --request-timeout '
          '2 s (after %s s)' % closed_after)
    time.sleep(3)
    for s in idle:
        s.close()
    time.sleep(1)
    m = env.metrics(op_auth)
    check(m.get('surveillx_http_connections_timed_out_total', 0) >= 100,
          'idle connections closed by the launcher (%s)' %
          m.get('surveillx_http_connections_timed_out_total'))
    check(m.get('surveillx_http_connections', 99) <= 2,
          'no connection left open (%s)' % m.get('surveillx_http_connections'))
    fds_after = open_fds(pid)
    check(fds_after <= fds_before + 4, 'open fds back to %d (were %d)' % (
        fds_after, fds_before))
    n = len(env.frames('room-1'))
    check(bool(wait_for(lambda: len(env.frames('room-1')) > n + 5, 20)),
          'room-1 streamed through all of it')
    check(env.stop_launcher() == 0, 'launcher exits 0 on SIGTERM')
    cam.wait(timeout=60)

    # ---- out of file descriptors: accepting pauses, then resumes
    env.start_launcher('preview.pipe', [
        '--max-connections', '2000', '--max-connections-per-address', '2000'],
        wrapper=['prlimit', '--nofile=256:256'])
    pid = env.launcher.pid
    port = int(env.base.rsplit(':', 1)[1])
    flood = []
    for i in range(320):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect((ADDR, port))
        except BlockingIOError:
            pass
        flood.append(s)
    time.sleep(2)
    m = env.metrics()
    check(m.get('surveillx_http_accept_paused_total', 0) >= 1,
          'the launcher ran out of descriptors and paused accepting (%s)' %
          m.get('surveillx_http_accept_paused_total'))
    for s in flood:
        s.close()
    ok = wait_for(lambda: http('GET', env.base + '/healthz', timeout=3)[0]
                  == 200, 15)
    check(bool(ok), '/healthz answers once the connections closed')
    cam = env.camera('room-3', 'bbt5', 20)
    check(bool(wait_for(lambda: len(env.frames('room-3')) >= 5, 60)),
          'a camera connects after the descriptor exhaustion')
    check(env.stop_launcher() == 0, 'launcher exits 0 on SIGTERM')
    cam.wait(timeout=60)


def case_https(env):
    """HTTPS in the launcher (--tls-cert/--tls-key): headless Chromium opens
    the publisher page from https://192.0.2.1 -- not localhost, so only TLS
    makes it a secure context with a camera -- trusting the test CA's
    server key, and streams over WHIP. Plain HTTP to the port gets
    nothing, and a client that does not trust the CA refuses it."""
    import ssl
    from testca import TestCA
    ca = TestCA(os.path.join(env.tmp, 'ca'))
    cert, key = ca.issue('launcher', [ADDR])
    env.start_dashboard()
    env.start_launcher('preview.pipe', ['--tls-cert', cert, '--tls-key', key],
                       address='0.0.0.0')
    check(env.base.startswith('https://'), 'the launcher says https:// (%s)'
          % env.base)
    trusting = ssl.create_default_context(cafile=ca.cert)
    with urllib.request.urlopen(env.base + '/healthz', timeout=10,
                                context=trusting) as r:
        check(r.status == 200, 'GET /healthz over TLS, certificate checked')
    try:
        urllib.request.urlopen(env.base + '/healthz', timeout=10)
        check(False, 'a client without the CA must refuse the certificate')
    except urllib.error.URLError as e:
        check('CERTIFICATE_VERIFY_FAILED' in str(e),
              'a client without the CA refuses it (%s)' % e)
    plain = 'http://' + env.base.split('://', 1)[1]
    try:
        status, _ = http('GET', plain + '/healthz', timeout=10)
    except (OSError, http_client_errors()) as e:
        status = type(e).__name__
    check(status != 200, 'plain HTTP to the HTTPS port gets no answer (%s)'
          % status)
    url = '%s/?camera=lan-1&autostart=1' % env.base
    cam = env.browser('lan-1', 'bbt4', 25, url=url, chromium_flags=[
        '--ignore-certificate-errors-spki-list=' + ca.spki_sha256(cert)])
    check(bool(wait_for(lambda: len(env.frames('lan-1')) >= 10, 60)),
          'Chromium on https://%s publishes its camera' % ADDR)
    cam.wait(timeout=90)
    stopped = browser_events(cam, 'stopped')
    check(stopped and stopped[0].get('delete_status') == 200,
          'the page\'s Stop: DELETE over HTTPS -> 200 (%s)' % stopped)
    check(env.stop_launcher() == 0, 'launcher exits 0 on SIGTERM')


def http_client_errors():
    import http.client
    return http.client.HTTPException


def case_defaults(env):
    """Safe defaults and small guards: without a credential the launcher
    is reachable from this host only (--insecure opens it); TURN servers
    from a file stay out of /proc; a %0A in a path cannot forge a log line;
    offers with too many sections are refused; a camera's 129th trickled
    candidate is refused."""
    env.start_dashboard()
    env.start_launcher('preview.pipe', address=None)
    port = int(env.base.rsplit(':', 1)[1])
    check(env.base.startswith('http://127.0.0.1:'),
          'no credential, no --address: 127.0.0.1 only (%s)' % env.base)
    try:
        socket.create_connection((ADDR, port), timeout=3).close()
        reached = True
    except OSError:
        reached = False
    check(not reached, 'not reachable on %s' % ADDR)
    with open(env.launcher.log) as f:
        check('listening on 127.0.0.1 only' in f.read(),
              'the launcher says why it listens on loopback only')
    # a forged log line through the path, and oversized offers
    status, _ = http('GET', env.base + '/whip/a%0Aforged-line%0Ab/c/d')
    check(status == 404, 'odd WHIP path -> 404 (%s)' % status)
    head = ('v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n')
    video = ('m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\n'
             'a=rtpmap:96 VP8/90000\r\n')
    data = 'm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n'
    for what, sdp in (('9 sections', head + video * 9),
                      ('2 data channels', head + video + data * 2)):
        status, body = http('POST', env.base + '/whip/cap-1', sdp.encode(),
                            {'Content-Type': 'application/sdp'})
        check(status == 400 and 'sections' in str(body),
              'an offer with %s -> 400 (%s %s)' % (what, status, body))

    # one camera trickles at most 128 candidates (FastRTC's route)
    offer = head + (
        'a=group:BUNDLE 0\r\n'
        'a=fingerprint:sha-256 ' + ':'.join(['AB'] * 32) + '\r\n'
        'm=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\n'
        'a=mid:0\r\na=ice-ufrag:cap1\r\na=ice-pwd:cap1cap1cap1cap1cap1cap1\r\n'
        'a=setup:actpass\r\na=sendonly\r\na=rtcp-mux\r\n'
        'a=rtpmap:96 VP8/90000\r\n')
    json_type = {'Content-Type': 'application/json'}
    status, body = http('POST', env.base + '/webrtc/offer', {
        'type': 'offer', 'sdp': offer, 'webrtc_id': 'cap-rtc',
        'camera_id': 'cap-2'}, json_type)
    check(status == 200 and body.get('type') == 'answer',
          'FastRTC offer from the test answered (%s %s)' % (status, body))
    statuses = []
    for i in range(130):
        status, body = http('POST', env.base + '/webrtc/offer', {
            'type': 'ice-candidate', 'webrtc_id': 'cap-rtc',
            'candidate': {'candidate': 'candidate:%d 1 udp 2122260223 '
                          '127.0.0.1 %d typ host' % (i, 40000 + i),
                          'sdpMid': '0', 'sdpMLineIndex': 0}}, json_type)
        statuses.append((status, body.get('status') if isinstance(body, dict)
                         else body, body.get('meta', {}).get('error')
                         if isinstance(body, dict) else None))
    check(all(st == (200, 'success', None) for st in statuses[:128]),
          'candidates 1-128 accepted (%s)' % sorted(set(statuses[:128])))
    check(all(st == (400, 'failed', 'too_many_candidates')
              for st in statuses[128:]),
          'candidates 129 and 130 -> 400 too_many_candidates (%s)'
          % statuses[128:])
    check(env.stop_launcher() == 0, 'launcher exits 0 on SIGTERM')
    with open(env.launcher.log) as f:
        lines = f.read().splitlines()
    check(not any(l.startswith('forged-line') for l in lines),
          'no log line starts with what the path smuggled in')

    turn_file = os.path.join(env.tmp, 'turn.conf')
    with open(turn_file, 'w') as f:
        f.write('# TURN for the cameras\nturn://alice:s3cret@127.0.0.1:3479\n')
    env.start_launcher('preview.pipe', ['--insecure', '--turn-file',
                                        turn_file], address=None)
    check('0.0.0.0' in open(env.launcher.log).read(),
          '--insecure: every interface')
    with open('/proc/%d/cmdline' % env.launcher.pid, 'rb') as f:
        check(b's3cret' not in f.read(), 'the TURN password is not in /proc')
    req = urllib.request.Request(env.base + '/whip/room-1', method='OPTIONS')
    with urllib.request.urlopen(req, timeout=10) as r:
        links = r.headers.get_all('Link') or []
    check(any('credential="s3cret"' in l for l in links),
          '--turn-file: the TURN server is offered (%s)' % links)
    check(env.stop_launcher() == 0, 'launcher exits 0 on SIGTERM')


def case_broken_vp8(env):
    """A camera whose VP8 frames are corrupted on the way (random bytes,
    passed through without re-encoding by bench/loadgen's GStreamer
    sender): that camera logs and recovers or is torn down; a good camera
    beside it keeps streaming and the launcher keeps running. The broken
    file is the good one with random bytes changed past each frame's first
    32, re-muxed without re-encoding (bench/loadgen --corrupt-video), so the
    payloader passes them and vp8dec gets garbage. Both files are the same
    bytes on every run (a fixed encoder speed, a fixed seed)."""
    env.start_dashboard()
    env.start_launcher('preview.pipe')
    video = os.path.join(env.tmp, 'lg.webm')
    broken = os.path.join(env.tmp, 'broken.webm')
    subprocess.run([PYTHON, LOADGEN, '--make-video', video, '--seconds',
                    '45'], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([PYTHON, LOADGEN, '--corrupt-video', video, broken,
                    '0.002'], check=True, stdout=subprocess.DEVNULL)

    def sender(prefix, duration, path):
        return env.procs.start(
            [PYTHON, LOADGEN, '--url', env.base, '--video', path,
             '--cameras', '1', '--prefix', prefix, '--duration',
             str(duration)],
            os.path.join(env.tmp, 'loadgen-%s.log' % prefix))
    good = sender('good-', 40, video)
    check(bool(wait_for(lambda: len(env.frames('good-1')) >= 10, 40)),
          'the good camera streams')
    bad = sender('bad-', 20, broken)
    check(bool(wait_for(lambda: env.metrics().get(
        'surveillx_camera_frames_in_total{camera_id="bad-1"}', 0) > 30,
        30)), 'the broken camera\'s frames reach the launcher')
    n = len(env.frames('good-1'))
    time.sleep(12)
    check(env.launcher.poll() is None, 'the launcher is still running')
    check(len(env.frames('good-1')) >= n + 40,
          'the good camera kept streaming at 5 frames/s beside the broken '
          'one (%d frames in 12 s)' % (len(env.frames('good-1')) - n))
    with open(env.launcher.log) as f:
        log = f.read()
    # libvpx decodes most damage into garbage pictures without a word (VP8
    # resynchronises at the next key frame); a frame it refuses is a
    # decoder error, which tears that camera down with the reason logged
    stopped = [l for l in log.splitlines() if '<bad-1> stopping' in l]
    shown = len(env.frames('bad-1'))
    print('   bad-1: %d frames shown, %s' % (shown, stopped), flush=True)
    # where its frames went, should the check below fail: received,
    # analysed, sent to and dropped before the dashboard
    print('   bad-1: %s' % {
        k.split('{')[0][len('surveillx_camera_'):]: v
        for k, v in env.metrics().items()
        if '"bad-1"' in k and k.split('{')[0].endswith('_total')},
        flush=True)
    check(shown > 10 or bool(stopped),
          'the broken camera recovered (%d frames shown) or was torn down '
          'with a reason (%s)' % (shown, stopped))
    check('CRITICAL' not in log and 'ERROR:' not in log,
          'no critical or assertion in the launcher\'s log')
    check('<good-1> stopping' not in log,
          'the good camera was never stopped')
    bad.wait(timeout=60)
    check(env.stop_launcher() == 0, 'launcher exits 0 on SIGTERM')


def case_bad_pipe(env):
    """A typo in the pipe file fails at start-up, naming it."""
    bad = os.path.join(env.tmp, 'bad.pipe')
    with open(os.path.join(SOURCE_ROOT, 'pipelines', 'preview.pipe')) as f:
        text = f.read()
    for broken, needle in ((text.replace('jpegenc quality', 'jpegenc qualty'),
                            'qualty'),
                           (text + '\n! fakesink x=${NOT_SET}\n',
                            'bad.pipe:%d: unknown variable ${NOT_SET}' %
                            (text.count('\n') + 2)),
                           (text.replace('name=webrtc', 'name=rtc')
                            .replace('webrtc.', 'rtc.'),
                            "no element named 'webrtc'")):
        with open(bad, 'w') as f:
            f.write(broken)
        r = subprocess.run([LAUNCHER, '--port', '0', bad],
                           capture_output=True, text=True, timeout=30)
        check(r.returncode == 1 and needle in r.stderr,
              'start-up refuses a broken pipe file: %r' % needle)
    # the codecs: what --check reports, what --codecs may name, and a pipe
    # file that decodes none of them
    preview = os.path.join(SOURCE_ROOT, 'pipelines', 'preview.pipe')
    r = subprocess.run([LAUNCHER, '--check', preview], capture_output=True,
                       text=True, timeout=30)
    check(r.returncode == 0 and 'answers with VP8, H264, VP9' in r.stdout,
          '--check names the codecs preview.pipe decodes, VP8 first (%r)'
          % r.stdout.strip())
    r = subprocess.run([LAUNCHER, '--check', '--codecs', 'vp9,h264',
                        preview], capture_output=True, text=True, timeout=30)
    check(r.returncode == 0 and 'answers with VP9, H264' in r.stdout,
          '--codecs vp9,h264 sets the preference (%r)' % r.stdout.strip())
    r = subprocess.run([LAUNCHER, '--check', '--codecs', 'vp8,h265',
                        preview], capture_output=True, text=True, timeout=30)
    check(r.returncode == 2 and "unknown codec 'H265'" in r.stderr,
          '--codecs with a codec the launcher has no name for -> exit 2 (%r)'
          % r.stderr.strip())
    only_vp8 = text[:text.index('webrtc. ! rtph264depay')] + \
        text[text.index('funnel name=decoded'):]
    with open(bad, 'w') as f:
        f.write(only_vp8)
    r = subprocess.run([LAUNCHER, '--check', bad], capture_output=True,
                       text=True, timeout=30)
    check(r.returncode == 0 and 'answers with VP8' in r.stdout
          and 'H264' not in r.stdout,
          'a pipe file with a VP8 branch only answers with VP8 (%r)'
          % r.stdout.strip())
    r = subprocess.run([LAUNCHER, '--check', '--codecs', 'h264,vp9', bad],
                       capture_output=True, text=True, timeout=30)
    check(r.returncode == 1 and 'decodes any of H264, VP9' in r.stderr,
          'start-up refuses --codecs the pipe file cannot decode (%r)'
          % r.stderr.strip())
    # the registry's options (docs/deploy.md section 8)
    r = subprocess.run([LAUNCHER, '--port', '0', '--registry',
                        'not a conninfo', preview], capture_output=True,
                       text=True, timeout=30)
    check(r.returncode == 2 and '--registry' in r.stderr
          and 'listening' not in r.stdout,
          'a --registry conninfo that does not parse -> exit 2, before '
          'listening (%r)' % r.stderr.strip()[-200:])
    r = subprocess.run([LAUNCHER, '--port', '0', '--lease', '100', preview],
                       capture_output=True, text=True, timeout=30)
    check(r.returncode == 2 and 'out of range' in r.stderr,
          '--lease below 1.5 s -> exit 2 (%r)' % r.stderr.strip())


# ---- the main job: scripts/run.sh ------------------------------------------

RUN_SH = os.path.join(SOURCE_ROOT, 'scripts', 'run.sh')


class Viewer:
    """A browser on the dashboard: a Socket.IO client on /stream keeping
    what the dashboard relays, in sio_server's record shape (frames())."""

    def __init__(self, port):
        import socketio
        self.records = []
        self.client = socketio.Client(reconnection=False)
        self.client.on('frame', self._on_frame, namespace='/stream')
        self.client.connect('http://127.0.0.1:%d' % port,
                            namespaces=['/stream'], transports=['websocket'])

    def _on_frame(self, data):
        import base64
        frame = data.get('frame') if isinstance(data, dict) else None
        if isinstance(frame, str):
            try:
                raw = base64.b64decode(frame, validate=True)
            except ValueError:
                raw = b''
        else:
            raw = bytes(frame or b'')
        # run.sh enrols the demo people as "Amy", ...: labels in lower case
        # as the other cases' folder gallery names them
        faces = [dict(f, label=str(f.get('label')).lower())
                 for f in data.get('faces') or []]
        self.records.append({
            'camera_id': data.get('camera_id'),
            'jpeg_ok': raw[:2] == b'\xff\xd8' and raw[-2:] == b'\xff\xd9',
            'size': len(raw), 'faces': faces})

    def frames(self, camera_id):
        return [r for r in list(self.records)
                if str(r['camera_id']) == camera_id]

    def close(self):
        try:
            self.client.disconnect()
        except Exception:
            pass


class MainJob:
    """scripts/run.sh on the build under test, with its own var folder,
    ports and socket.io.min.js (no npm in the namespace), the launcher's
    ICE on 192.0.2.1 for the aiortc cameras."""

    def __init__(self, env):
        self.env = env
        self.var = os.path.join(env.tmp, 'var')
        # the cluster runs as postgres, which must reach var/pg
        os.chmod(env.tmp, 0o711)
        ports = set()
        while len(ports) < 3:
            ports.add(free_port())
        self.port, self.dash_port, self.pg_port = sorted(ports)
        self.js = os.path.join(env.tmp, 'socket.io.min.js')
        with open(self.js, 'w') as f:
            f.write('// the test\'s stand-in for socket.io-client\n')
        self.runs = 0
        self.script = None
        self.viewer = None

    def start(self):
        """Start run.sh, wait until this run's dashboard and launcher
        answer; its log as a string (or None if it did not come up)."""
        self.runs += 1
        env = dict(os.environ)
        env.pop('SURVEILLX_DB', None)
        env.update({
            'SURVEILLX_VAR_DIR': self.var,
            'SURVEILLX_BUILD_DIR': BUILD_ROOT or
            os.path.join(SOURCE_ROOT, 'build'),
            'SURVEILLX_NO_BUILD': '1',
            'SURVEILLX_LAUNCHER_ARGS': '--ice-address ' + ADDR,
            'SURVEILLX_SOCKETIO_JS': self.js,
            'PORT': str(self.port), 'DASHBOARD_PORT': str(self.dash_port),
            'PG_PORT': str(self.pg_port),
            'XDG_STATE_HOME': os.path.join(self.env.tmp, 'state')})
        self.log = os.path.join(self.env.tmp, 'run-%d.log' % self.runs)
        t0 = time.time()
        self.script = self.env.procs.start(['/bin/bash', RUN_SH], self.log,
                                           env=env, cwd=self.env.tmp)

        def up():
            if self.script.poll() is not None:
                return 'exited'
            # this run's launcher, not one a killed run left behind
            if 'listening on http://' not in self.read_log():
                return None
            try:
                status, page = http('GET', 'http://127.0.0.1:%d/' %
                                    self.dash_port, timeout=5)
                if status != 200 or 'socket.io.min.js' not in page:
                    return None
                status, _ = http('GET', 'http://%s:%d/healthz' %
                                 (ADDR, self.port), timeout=5)
            except OSError:
                return None
            return 'up' if status == 200 else None
        state = wait_for(up, 240, step=0.5)
        check(state == 'up', 'run %d: scripts/run.sh up: dashboard and '
              'launcher answer (%.1f s)' % (self.runs, time.time() - t0))
        if state != 'up':
            return None
        print('   run %d up after %.1f s' % (self.runs, time.time() - t0),
              flush=True)
        self.env.base = 'http://%s:%d' % (ADDR, self.port)
        self.viewer = Viewer(self.dash_port)
        return self.read_log()

    def read_log(self):
        with open(self.log, errors='replace') as f:
            return f.read()

    def pids(self):
        """role -> pid from run.sh's var/run.pids."""
        try:
            with open(os.path.join(self.var, 'run.pids')) as f:
                return {l.split()[0]: int(l.split()[1]) for l in f
                        if len(l.split()) == 3}
        except OSError:
            return {}

    def processes(self):
        """Every live process of this job: those carrying the var folder in
        their environment (run.sh exports it) or command line (the
        postmaster's -D, the dashboard's --socketio-js), and PostgreSQL's
        backends, which work in the cluster's folder."""
        mark = ('SURVEILLX_VAR_DIR=' + self.var).encode()
        data = os.path.join(self.var, 'pg', 'data')
        found = {}
        for pid in os.listdir('/proc'):
            if not pid.isdigit() or int(pid) == os.getpid():
                continue
            try:
                with open('/proc/%s/stat' % pid) as f:
                    if f.read().rsplit(')', 1)[1].split()[0] == 'Z':
                        continue
                with open('/proc/%s/cmdline' % pid, 'rb') as f:
                    cmd = f.read()
                with open('/proc/%s/environ' % pid, 'rb') as f:
                    environ = f.read().split(b'\0')
                cwd = os.readlink('/proc/%s/cwd' % pid)
            except (OSError, IndexError):
                continue
            if mark in environ or self.var.encode() in cmd or cwd == data:
                found[int(pid)] = cmd.replace(b'\0', b' ').decode(
                    errors='replace').strip()
        return found

    def answering(self):
        """Which of the job's ports still accept connections."""
        busy = []
        for name, host, port in (('launcher', ADDR, self.port),
                                 ('dashboard', '127.0.0.1', self.dash_port),
                                 ('postgres', '127.0.0.1', self.pg_port)):
            try:
                socket.create_connection((host, port), timeout=2).close()
                busy.append(name)
            except OSError:
                pass
        return busy

    def check_gone(self, what):
        wait_for(lambda: not self.processes(), 15)
        left = self.processes()
        check(not left, '%s: launcher, dashboard and '
              'PostgreSQL are gone (left: %s)' % (what, left))
        busy = self.answering()
        check(not busy, '%s: no port answers (%s)' % (what, busy))
        check(not os.path.exists(os.path.join(self.var, 'pg', 'data',
                                              'postmaster.pid')),
              '%s: PostgreSQL shut down cleanly (no postmaster.pid)' % what)
        check(not os.path.exists(os.path.join(self.var, 'run.pids')),
              '%s: run.sh removed its run.pids' % what)

    def stream(self, camera_id):
        """A camera streams through this run: named frames reach the
        dashboard's viewers. The camera keeps streaming afterwards."""
        token_file = os.path.join(self.var, 'secrets', 'operator-token')
        check(os.stat(token_file).st_mode & 0o077 == 0,
              'run.sh made the operator token, readable by its user only')
        with open(token_file) as f:
            token = f.read().strip()
        status, _ = http('POST', self.env.base + '/offer', {
            'sdp': FAKE_VP8_OFFER, 'type': 'offer', 'camera_id': camera_id},
            {'Content-Type': 'application/json'})
        check(status == 401, '%s: the main job refuses a camera without '
              'the token (%s)' % (camera_id, status))
        cam = self.env.camera(camera_id, 'bbt4', 60, token=token)
        got = wait_for(lambda: len(self.viewer.frames(camera_id)) >= 10 and
                       ONLY_IN['bbt4'] <= labels(
                           self.viewer.frames(camera_id)), 90)
        check(bool(got), '%s: frames reach the dashboard\'s viewer' %
              camera_id)
        check_frames(self.viewer, camera_id, 'bbt4')
        return cam

    def stop(self, sig, what):
        """Signal run.sh (its pid only); its exit status."""
        if self.viewer:
            self.viewer.close()
            self.viewer = None
        self.script.send_signal(sig)
        try:
            return self.script.wait(timeout=60)
        except subprocess.TimeoutExpired:
            check(False, '%s: scripts/run.sh exits within 60 s' % what)
            return None

    def kill_leftovers(self):
        """Whatever happened, nothing of the job stays running."""
        if self.viewer:
            self.viewer.close()
        pg_ctl = '/usr/lib/postgresql/15/bin/pg_ctl'
        data = os.path.join(self.var, 'pg', 'data')
        if os.path.exists(os.path.join(data, 'postmaster.pid')):
            subprocess.run(['runuser', '-u', 'postgres', '--', pg_ctl, '-D',
                            data, '-m', 'immediate', 'stop'],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        for pid in self.processes():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def case_main_job(env):
    """scripts/run.sh, the main job (issue 12): whatever stops it, it stops
    what it started, and it starts cleanly after a run killed outright.
    Start, a camera streams, SIGTERM: launcher (flushed), dashboard and
    PostgreSQL gone. Start again, a camera streams; SIGKILL the script
    alone: the next start stops what it left (no 'another server might be
    running'), a camera streams; SIGTERM: everything gone. Then a crash
    (everything SIGKILLed, PostgreSQL too): the next start removes the
    stale postmaster.pid; its launcher dying by itself ends the job,
    non-zero, nothing left."""
    job = MainJob(env)
    try:
        # 1. first start (initdb, demo gallery), SIGTERM while streaming
        log = job.start()
        if log is None:
            return
        check('enrolling the demo gallery' in log,
              'run 1: demo gallery enrolled in the new cluster')
        cam = job.stream('room-1')
        def present():
            status, rows = http('GET', 'http://127.0.0.1:%d/attendance' %
                                job.dash_port)
            return status == 200 and {r['id'] for r in rows
                                      if r['camera'] == 'room-1'} >= \
                ONLY_IN['bbt4']
        present = wait_for(present, 30, step=1)
        check(bool(present), 'run 1: the dashboard lists amy and bernadette '
              'present (attendance in the local PostgreSQL)')
        rc = job.stop(signal.SIGTERM, 'run 1')
        check(rc == 143, 'run 1: SIGTERM -> run.sh exits 143 (got %s)' % rc)
        check('<room-1> flushed' in job.read_log(),
              'run 1: the launcher got SIGTERM: EOS flushed the camera\'s '
              'pipeline')
        job.check_gone('after SIGTERM')
        cam.kill()
        cam.wait()

        # 2. start again over the same var folder; then SIGKILL the script
        log = job.start()
        if log is None:
            return
        check('another server might be running' not in log and
              'enrolling' not in log,
              'run 2: clean start, the cluster and gallery kept')
        cam = job.stream('room-2')
        left = job.pids()
        rc = job.stop(signal.SIGKILL, 'run 2')
        check(rc == -signal.SIGKILL, 'run 2: script SIGKILLed (%s)' % rc)
        time.sleep(1)
        alive = job.processes()
        check(left.get('launcher') in alive and
              left.get('dashboard') in alive and
              any(c.endswith('listen_addresses=127.0.0.1')
                  for c in alive.values()),
              'run 2: SIGKILL left the launcher, dashboard and PostgreSQL '
              'running (what run 3 must deal with): %s' %
              sorted({c.split()[0] for c in alive.values()}))
        cam.kill()
        cam.wait()

        # 3. start over the leftovers
        log = job.start()
        if log is None:
            return
        check('another server might be running' not in log and
              'could not start server' not in log,
              'run 3: no "another server might be running"')
        check('stopping the launcher a previous run left running' in log and
              'stopping the dashboard a previous run left running' in log and
              'stopping the PostgreSQL a previous run left running' in log,
              'run 3: stopped the launcher, dashboard and PostgreSQL run 2 '
              'left')
        check(not ({left.get('launcher'), left.get('dashboard')} &
                   set(job.processes())),
              'run 3: run 2\'s launcher and dashboard are gone')
        cam = job.stream('room-3')
        rc = job.stop(signal.SIGTERM, 'run 3')
        check(rc == 143, 'run 3: SIGTERM -> run.sh exits 143 (got %s)' % rc)
        check('<room-3> flushed' in job.read_log(),
              'run 3: the launcher got SIGTERM: EOS flushed the camera\'s '
              'pipeline')
        job.check_gone('after SIGTERM of run 3')
        cam.kill()
        cam.wait()

        # 4. a crash: the script and all it started SIGKILLed, PostgreSQL
        # included (its postmaster.pid stays behind)
        if job.start() is None:
            return
        with open(os.path.join(job.var, 'pg', 'data', 'postmaster.pid')) as f:
            postmaster = int(f.readline())
        for pid in [job.script.pid, postmaster] + list(job.pids().values()):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        job.script.wait()
        job.viewer.close()
        job.viewer = None

        # 5. starts over the stale postmaster.pid; then the launcher dies by
        # itself: the job ends, non-zero
        log = job.start()
        if log is None:
            return
        check('removing its stale postmaster.pid' in log and
              'another server might be running' not in log,
              'run 5: clean start after a crash (stale postmaster.pid '
              'removed)')
        os.kill(job.pids()['launcher'], signal.SIGKILL)
        try:
            rc = job.script.wait(timeout=60)
        except subprocess.TimeoutExpired:
            rc = None
        check(rc not in (None, 0), 'run 5: the launcher killed -> run.sh '
              'exits non-zero (%s)' % rc)
        check('the launcher exited by itself' in job.read_log(),
              'run 5: run.sh says the launcher exited')
        job.check_gone('after the launcher died')
    finally:
        job.kill_leftovers()


def case_installed(env):
    """`meson install` into a staging root, then run as installed: the
    installed launcher, given the pipe file by name as its systemd unit
    does, with the installed plugin and model (GST_PLUGIN_PATH and
    SURVEILLX_MODEL_DIR unset, a fresh registry); a camera streams through
    it and its faces are named. The installed systemd units pass
    systemd-analyze verify."""
    root = os.path.join(env.tmp, 'root')
    r = subprocess.run(['meson', 'install', '-C', BUILD_ROOT, '--destdir',
                        root, '--no-rebuild', '--quiet'],
                       capture_output=True, text=True, timeout=300)
    check(r.returncode == 0, 'meson install into a staging root (%s)'
          % r.stderr[-500:])
    options = json.loads(subprocess.run(
        ['meson', 'introspect', '--buildoptions', BUILD_ROOT],
        capture_output=True, text=True, check=True).stdout)
    option = {o['name']: o['value'] for o in options}
    staged = root + option['prefix']
    launcher = os.path.join(staged, option['bindir'], 'surveillx-launcher')
    plugin = os.path.join(staged, option['libdir'], 'gstreamer-1.0',
                          'libgstsurveillx.so')
    share = os.path.join(staged, option['datadir'], 'surveillx')
    units = os.path.join(staged, 'lib', 'systemd', 'system')
    expected = [launcher, plugin,
                os.path.join(share, 'pipelines', 'classroom.pipe'),
                os.path.join(share, 'pipelines', 'preview.pipe'),
                os.path.join(share, 'publisher.html'),
                os.path.join(share, 'launcher.conf.example'),
                os.path.join(share, 'models',
                             'dlib_face_recognition_resnet_model_v1.dat'),
                os.path.join(units, 'surveillx-launcher@.service'),
                os.path.join(units, 'surveillx-retention.service'),
                os.path.join(units, 'surveillx-retention.timer'),
                os.path.join(staged, 'lib', 'sysusers.d', 'surveillx.conf'),
                os.path.join(staged, option['datadir'], 'doc',
                             'surveillx-gst', 'privacy.md')]
    missing = [p for p in expected if not os.path.exists(p)]
    check(not missing, 'installed: launcher, plugin, pipe files, page, '
          'model, units, sysusers, docs (missing %s)' % missing)

    # systemd-analyze reads the units in the staging root, which needs
    # systemd's own units beside ours
    shutil.copytree('/lib/systemd/system',
                    os.path.join(root, 'lib', 'systemd', 'system'),
                    symlinks=True, dirs_exist_ok=True)
    shutil.copy(os.path.join(units, 'surveillx-launcher@.service'),
                os.path.join(units, 'surveillx-launcher@preview.service'))
    for unit in ('surveillx-launcher@preview.service',
                 'surveillx-retention.service', 'surveillx-retention.timer'):
        # systemd's own tool, not ours: without the sanitizer preloaded
        r = subprocess.run(['systemd-analyze', 'verify', '--man=no',
                            '--root=' + root, os.path.join(units, unit)],
                           capture_output=True, text=True, timeout=60,
                           env={k: v for k, v in os.environ.items()
                                if k != 'LD_PRELOAD'})
        check(r.returncode == 0 and not r.stderr.strip()
              and not r.stdout.strip(),
              'systemd-analyze verify %s: clean (%s%s)'
              % (unit, r.stdout, r.stderr))

    # systemd's side of Type=notify: a datagram socket in NOTIFY_SOCKET
    notify_path = os.path.join(env.tmp, 'notify')
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(notify_path)
    notify.settimeout(30)
    env.start_dashboard()
    env.start_launcher('preview', launcher=launcher,
                       unset=('GST_PLUGIN_PATH', 'GST_PLUGIN_PATH_1_0',
                              'SURVEILLX_MODEL_DIR'),
                       env_extra={'GST_REGISTRY_1_0':
                                  os.path.join(env.tmp, 'registry.bin'),
                                  'GST_DEBUG': 'facerecog:4',
                                  'NOTIFY_SOCKET': notify_path})
    ready = notify.recv(4096).decode()
    check(ready.startswith('READY=1\n') and 'STATUS=listening on' in ready,
          'the service manager is told it is ready (%r)' % ready)
    with open('/proc/%d/maps' % env.launcher.pid) as f:
        maps = f.read()
    check(plugin in maps and os.path.join(BUILD_ROOT, 'plugins') not in maps,
          'the installed plugin is loaded, not the build tree\'s')
    cam = env.camera('room-i', 'bbt4', 25)
    check(bool(wait_for(lambda: len(env.frames('room-i')) >= 20, 60)),
          'room-i: frames arrive through the installed launcher')
    check_frames(env, 'room-i', 'bbt4')
    with open(env.launcher.log) as f:
        loaded = [line.split('recognition ', 1)[1].strip()
                  for line in f if 'models: landmarks' in line]
    model = os.path.join(share, 'models',
                         'dlib_face_recognition_resnet_model_v1.dat')
    check(loaded and all(os.path.realpath(p) == os.path.realpath(model)
                         for p in loaded),
          'facerecog loaded the installed model (%s)' % loaded)
    cam.wait(timeout=60)
    check(env.stop_launcher() == 0, 'the installed launcher exits 0 on '
          'SIGTERM')
    stopping = notify.recv(4096).decode()
    check(stopping == 'STOPPING=1', 'and says it is stopping (%r)' % stopping)
    notify.close()


FAILOVER_HUB = '198.51.100.254'


class Failover:
    """Three launchers, each in a network namespace of its own (ip netns,
    named after this test's pid) joined by a bridge in the test's
    namespace, where PostgreSQL, the dashboard and the cameras are."""

    def __init__(self, env, pg, sio_port, capacity):
        self.env, self.pg, self.sio_port = env, pg, sio_port
        self.capacity = capacity
        self.names = ['sxf%d-%d' % (os.getpid(), i) for i in (1, 2, 3)]
        self.procs = {}
        self.urls = {}
        self.logs = {}
        subprocess.run(['ip', 'link', 'add', 'sxfbr', 'type', 'bridge'],
                       check=True)
        subprocess.run(['ip', 'addr', 'add', FAILOVER_HUB + '/24', 'dev',
                        'sxfbr'], check=True)
        subprocess.run(['ip', 'link', 'set', 'sxfbr', 'up'], check=True)
        for i, ns in enumerate(self.names, 1):
            hub, inner = 'sxfh%d' % i, 'sxfl%d' % i
            for cmd in (['ip', 'netns', 'add', ns],
                        ['ip', 'link', 'add', hub, 'type', 'veth', 'peer',
                         'name', inner],
                        ['ip', 'link', 'set', inner, 'netns', ns],
                        ['ip', 'link', 'set', hub, 'master', 'sxfbr'],
                        ['ip', 'link', 'set', hub, 'up'],
                        ['ip', '-n', ns, 'link', 'set', 'lo', 'up'],
                        ['ip', '-n', ns, 'addr', 'add',
                         self.address(i) + '/24', 'dev', inner],
                        ['ip', '-n', ns, 'link', 'set', inner, 'up']):
                subprocess.run(cmd, check=True)

    @staticmethod
    def address(i):
        return '198.51.100.%d' % i

    def conninfo(self, i):
        """L2 logs in as a role of its own, so the test can cut it off
        the database alone."""
        role = {'user': 'l2', 'password': 'pw-l2'} if i == 2 else {}
        return self.pg.conninfo(**role).replace('host=127.0.0.1',
                                                'host=' + FAILOVER_HUB)

    def start(self, i):
        env = dict(os.environ)
        env.setdefault('SURVEILLX_MODEL_DIR',
                       os.path.join(SOURCE_ROOT, 'models'))
        env['SURVEILLX_GALLERY'] = self.env.gallery
        env['SURVEILLX_SIO_URL'] = 'http://%s:%d' % (FAILOVER_HUB,
                                                     self.sio_port)
        env['SURVEILLX_DB'] = self.conninfo(i)
        env['XDG_STATE_HOME'] = os.path.join(self.env.tmp, 'state-L%d' % i)
        runs = self.logs.setdefault(i, [])
        log = os.path.join(self.env.tmp, 'launcher-L%d-%d.log' % (
            i, len(runs)))
        runs.append(log)
        self.procs[i] = self.env.procs.start(
            ['ip', 'netns', 'exec', self.names[i - 1], LAUNCHER,
             '--address', self.address(i), '--port', '8080',
             '--ice-address', self.address(i),
             '--max-cameras', str(self.capacity[i - 1]),
             '--registry', self.conninfo(i), '--launcher-id', 'L%d' % i,
             '--lease', '6000',
             os.path.join(SOURCE_ROOT, 'pipelines', 'classroom.pipe')],
            log, env=env)
        self.urls[i] = 'http://%s:8080' % self.address(i)

        def listening():
            with open(log) as f:
                return 'listening on http' in f.read()
        check(bool(wait_for(listening, 60)), 'L%d listening' % i)
        return log

    def kill(self, i):
        os.killpg(self.procs[i].pid, signal.SIGKILL)
        self.procs[i].wait()

    def close(self):
        for ns in self.names:
            subprocess.run(['ip', 'netns', 'delete', ns],
                           stderr=subprocess.DEVNULL)
        subprocess.run(['ip', 'link', 'delete', 'sxfbr'],
                       stderr=subprocess.DEVNULL)


def read_spool(path):
    """{event id: (student, session, sightings, epoch)} still pending in a
    spool (events not acknowledged)."""
    events, order = {}, []
    with open(path) as f:
        for line in f:
            try:
                o = json.loads(line)
            except ValueError:
                continue
            if 'ack' in o:
                upto = order.index(o['ack']) + 1 if o['ack'] in order else 0
                for e in order[:upto]:
                    events.pop(e, None)
                order = order[upto:]
            elif 'event' in o:
                order.append(o['event'])
                events[o['event']] = (o['student'], o['session'],
                                      o['sightings'], o.get('epoch', 0))
    return events


def case_failover(env):
    """Many launchers, one database: three launchers in their own network
    namespaces share one PostgreSQL (the registry) and one dashboard; nine
    cameras spread over them. kill -9 one launcher: its cameras reconnect
    to the others (one sent on by a full launcher), the registry shows the
    move, attendance rows are neither lost nor doubled, and the killed
    launcher's spools are written when it comes back."""
    from pgcluster import PgCluster
    pg = fo = None
    try:
        sio_port = free_port()
        env.sio_port = sio_port
        # the bridge first: PostgreSQL listens on its address
        # Three cameras per launcher, capacity 5: when L2 dies its three
        # cameras fall back to L1 first, which takes two and sends the third
        # on to L3. Under AddressSanitizer (every analysis ~5x slower) nine
        # recognising cameras overload 2 cores and drop: one camera each,
        # L1 full already, so L2's camera is sent on all the same.
        asan = 'libasan' in os.environ.get('LD_PRELOAD', '')
        per, capacity = (1, [1, 2, 2]) if asan else (3, [5, 5, 5])
        if asan:
            print('   AddressSanitizer build: one camera per launcher (the '
                  'nine-camera run is the normal build\'s)', flush=True)
        fo = Failover(env, None, sio_port, capacity)
        pg = fo.pg = PgCluster(also_listen=FAILOVER_HUB)
        env.procs.start([PYTHON, os.path.join(PEERS, 'sio_server.py'),
                         '--port', str(sio_port), '--host', '0.0.0.0'],
                        os.path.join(env.tmp, 'sio.log'))
        check(bool(wait_for(lambda: env.sio('stats') is not None, 20)),
              'Flask-SocketIO server up')
        pg.query("CREATE ROLE l2 LOGIN SUPERUSER PASSWORD 'pw-l2'")
        for i in (1, 2, 3):
            fo.start(i)
        # camera c on launcher (c - 1) % 3 + 1; photos alternate. L2's
        # cameras fall back to L1 first, then L3: L1 fills up (5) and
        # sends the last one on. Each signaling shape moves once.
        cams = {}
        shapes = ['whip', 'seed', 'fastrtc']
        for c in range(1, 3 * per + 1):
            home = (c - 1) % 3 + 1
            others = [j for j in (1, 2, 3) if j != home]
            photo = 'bbt4' if c % 2 else 'bbt5'
            cid = 'cam-%d' % c
            args = [PYTHON, CAMERA, '--url', fo.urls[home], '--video',
                    env.video(photo), '--duration', '400', '--camera-id',
                    cid, '--signaling', shapes[(c - 1) // 3 % 3]]
            for j in others:
                args += ['--fallback-url', fo.urls[j]]
            cams[cid] = {'home': home, 'photo': photo,
                         'proc': env.procs.start(args, os.path.join(
                             env.tmp, 'camera-%s.log' % cid))}
        t0 = time.time()
        wait_for(lambda: all(ONLY_IN[c['photo']] <= labels(env.frames(cid))
                             for cid, c in cams.items()), 120, step=1)
        named = {cid for cid, c in cams.items()
                 if ONLY_IN[c['photo']] <= labels(env.frames(cid))}
        print('   named after %.1f s' % (time.time() - t0), flush=True)
        check(named == set(cams), 'all %d cameras named their people on '
              'the dashboard (missing: %s)' % (len(cams),
                                               sorted(set(cams) - named)))

        def registry():
            return {r[0]: r[1:] for r in pg.query(
                "SELECT camera_id, launcher_id, epoch, state, end_reason "
                "FROM surveillx.camera_registry")}
        reg = wait_for(lambda: (lambda r: r if len(r) == len(cams) and all(
            v[2] == 'held' for v in r.values()) else None)(registry()), 20)
        reg = reg or registry()
        check(all(reg.get(cid, ('',))[0] == 'L%d' % c['home']
                  for cid, c in cams.items()),
              'the registry shows each camera held by its launcher (%s)' %
              sorted(reg.items()))
        launchers = {r[0]: r[1:] for r in pg.query(
            "SELECT id, cameras, capacity, url FROM surveillx.launchers")}
        print('   launchers: %s' % sorted(launchers.items()), flush=True)

        movers = [cid for cid, c in cams.items() if c['home'] == 2]
        old_epochs = {cid: reg[cid][1] for cid in movers}
        # L2 loses the database first (its role may not connect: "too many
        # connections for role", which it retries; superusers are exempt
        # from the limit, so l2 stops being one), so its sinks spool what
        # they see, then it crashes with the spools full
        pg.query("ALTER ROLE l2 NOSUPERUSER CONNECTION LIMIT 0")
        pg.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                 "WHERE usename = 'l2'")
        folder = os.path.join(env.tmp, 'state-L2', 'surveillx')

        def spooled_events():
            found = {}
            for name in sorted(os.listdir(folder)):
                if name.endswith('.spool'):
                    found.update(read_spool(os.path.join(folder, name)))
            return found
        check(bool(wait_for(lambda: len({e[1] for e in
                                         spooled_events().values()}) == per,
                            30)),
              'L2 spools its %d camera(s)\' sightings while the database '
              'refuses it' % per)
        t_kill = time.time()
        fo.kill(2)
        print('   L2 killed (kill -9)', flush=True)

        def moved(cid):
            """The camera's answer from another launcher after the kill,
            and named frames since."""
            answers = [e for e in camera_events(cams[cid]['proc'])
                       if e.get('event') == 'answer' and e['t'] > t_kill]
            if not answers:
                return None
            since = [f for f in env.frames(cid) if f['t'] / 1000.0 >
                     answers[-1]['t']]
            if not ONLY_IN[cams[cid]['photo']] <= labels(since):
                return None
            return answers[-1]['t'] - t_kill, answers[-1]['url']
        # aiortc declares a silent peer dead after ~30 s of failed consent
        # checks; then reconnecting, recognition and the dashboard
        wait_for(lambda: all(moved(cid) for cid in movers), 120, step=1)
        results = {cid: moved(cid) for cid in movers}
        print('   moved: %s' % results, flush=True)
        check(all(results.values()), 'every camera of L2 streams, named, '
              'through another launcher within 120 s of the kill')
        redirects = [e for cid in movers for e in camera_events(
            cams[cid]['proc']) if e.get('event') == 'redirect']
        print('   redirects: %s' % redirects, flush=True)
        check(len(redirects) >= 1, 'a full launcher sent a camera on to '
              'one with room (307 or 503 naming it)')
        others = [cid for cid in cams if cid not in movers]
        check(all(not [e for e in camera_events(cams[cid]['proc'])
                       if e.get('event') == 'reconnecting']
                  for cid in others),
              'the other launchers\' cameras never dropped')

        reg = registry()
        leases = pg.query(
            "SELECT camera_id, launcher_id, epoch, ended IS NOT NULL, "
            "end_reason FROM surveillx.camera_leases ORDER BY epoch")
        print('   registry after: %s' % sorted(reg.items()), flush=True)
        check(all(reg[cid][0] in ('L1', 'L3') and reg[cid][2] == 'held'
                  and reg[cid][1] > old_epochs[cid] for cid in movers),
              'the registry shows the move: a later lease held by L1 or L3')
        check(all(any(l[0] == cid and l[1] == 'L2' and l[3] and
                      ('L1' in (l[4] or '') or 'L3' in (l[4] or ''))
                      for l in leases) for cid in movers),
              'L2\'s leases ended, naming the launcher that took over')
        counts = {r[0]: r[1] for r in pg.query(
            "SELECT launcher_id, count(*) FROM surveillx.camera_registry "
            "WHERE state = 'held' GROUP BY launcher_id")}
        check(counts.get('L2', 0) == 0 and
              sum(counts.values()) == len(cams) and
              all(counts.get('L%d' % i, 0) <= capacity[i - 1]
                  for i in (1, 3)),
              'every camera held, none by L2, none over capacity (%s)' %
              counts)

        # the cameras leave; their launchers flush at the disconnect
        for c in cams.values():
            os.killpg(c['proc'].pid, signal.SIGKILL)

        def rows():
            return sorted(pg.query(
                "SELECT s.external_id, a.session_key, a.sightings "
                "FROM surveillx.attendance a JOIN surveillx.students s "
                "ON s.id = a.student"))
        last = [None]

        def settled():
            now = rows()
            same, last[0] = now == last[0], now
            return same
        wait_for(lambda: sum(
            int(m.get('surveillx_cameras', 1)) for m in
            (metrics_of(fo.urls[i]) for i in (1, 3))) == 0, 30, step=1)
        wait_for(settled, 20, step=2)
        before = {(r[0], r[1]): r[2] for r in rows()}
        day = time.strftime('%Y-%m-%d')
        for cid, c in cams.items():
            present = {k[0] for k in before if k[1] == '%s/%s' % (cid, day)}
            check(ONLY_IN[c['photo']] <= present,
                  '%s: attendance has %s (got %s)' % (
                      cid, sorted(ONLY_IN[c['photo']]), sorted(present)))

        # L2 comes back: its spools (what it had not written when it was
        # killed) are replayed exactly once
        spooled = spooled_events()
        known = {r[0] for r in pg.query(
            "SELECT event_id::text FROM surveillx.attendance_events "
            "WHERE event_id::text = ANY (%s)", (list(spooled),))}
        expected = dict(before)
        for eid, (student, session, n, epoch) in spooled.items():
            if eid not in known:
                expected[(student, session)] = \
                    expected.get((student, session), 0) + n
        print('   L2 left %d events in its spools, %d of them written '
              'before the kill' % (len(spooled), len(known)), flush=True)
        pg.query("ALTER ROLE l2 SUPERUSER CONNECTION LIMIT -1")
        log = fo.start(2)
        with open(log) as f:
            text = f.read()
        check(bool(spooled) and 'replayed %d spool(s)' % per in text,
              'the restarted L2 replays its %d spool(s) (%d events) '
              'before it listens' % (per, len(spooled)))
        after = {(r[0], r[1]): r[2] for r in rows()}
        check(after == expected, 'every spooled sighting counted once: '
              'rows as before plus the unwritten events (%s)' % (
                  {k: (expected.get(k), after.get(k)) for k in
                   set(after) | set(expected)
                   if expected.get(k) != after.get(k)}))
        check(all(os.path.getsize(os.path.join(folder, n)) == 0
                  for n in os.listdir(folder) if n.endswith('.spool')),
              'L2\'s spools are empty afterwards')
        dup = pg.query("SELECT count(*), count(DISTINCT (student, "
                       "session_key)) FROM surveillx.attendance")[0]
        check(dup[0] == dup[1], 'one row per student and session (%s)' %
              (dup,))
        # its registry connects once it listens: its first heartbeat
        l2 = wait_for(lambda: (lambda r: r if r == [(0, True)] else None)(
            pg.query("SELECT cameras, expires > now() FROM "
                     "surveillx.launchers WHERE id = 'L2'")), 15)
        check(l2 == [(0, True)], 'L2 is back in the registry with no '
              'cameras (%s)' % l2)

        # a camera streaming at L1 is taken at L2 (it moved; L1 still
        # thinks it has it): L1 learns at its next renewal (every 2 s
        # here) and stops its pipeline
        first = env.procs.start(
            [PYTHON, CAMERA, '--url', fo.urls[1], '--video',
             env.video('bbt4'), '--duration', '60', '--camera-id', 'cam-x'],
            os.path.join(env.tmp, 'camera-cam-x-1.log'))
        held = wait_for(lambda: metrics_of(fo.urls[1]).get(
            'surveillx_camera_lease_epoch{camera_id="cam-x"}'), 30)
        check(bool(held), 'cam-x streams at L1 with a lease (%s)' % held)
        env.procs.start(
            [PYTHON, CAMERA, '--url', fo.urls[2], '--video',
             env.video('bbt4'), '--duration', '60', '--camera-id', 'cam-x'],
            os.path.join(env.tmp, 'camera-cam-x-2.log'))
        t_take = time.time()
        gone = wait_for(lambda: 'surveillx_camera_lease_epoch{camera_id='
                        '"cam-x"}' not in metrics_of(fo.urls[1]) and
                        metrics_of(fo.urls[2]).get(
                            'surveillx_camera_lease_epoch{camera_id="cam-x"}'),
                        30)
        print('   L1 let cam-x go %.1f s after it was offered to L2' %
              (time.time() - t_take), flush=True)
        check(bool(gone), 'taken at L2, cam-x is stopped at L1 (its lease '
              'was lost) and held at L2')
        with open(fo.logs[1][-1]) as f:
            check('another launcher took the camera' in f.read(),
                  'L1 logs why it stopped cam-x')
        reg = registry()
        check(reg.get('cam-x', ('',))[0] == 'L2' and
              reg['cam-x'][2] == 'held',
              'the registry shows cam-x at L2 (%s)' % (reg.get('cam-x'),))
        os.killpg(first.pid, signal.SIGKILL)
    finally:
        if pg:
            pg.cleanup()
        if fo:
            fo.close()


def metrics_of(base, headers=None):
    """A launcher's /metrics as {name{labels}: value} ({} on an error)."""
    status, text = http('GET', base + '/metrics', headers=headers)
    values = {}
    if status == 200:
        for line in text.splitlines():
            if line and not line.startswith('#'):
                k, v = line.rsplit(' ', 1)
                values[k] = float(v)
    return values



CASES = {
    'installed': case_installed,
    'preview': case_preview,
    'two-cameras': case_two_cameras,
    'bad-requests': case_bad_requests,
    'classroom': case_classroom,
    'classroom-hd': case_classroom_hd,
    'bad-pipe': case_bad_pipe,
    'signaling': case_signaling,
    'ice-servers': case_ice_servers,
    'chromium': case_chromium,
    'three-cameras': case_three_cameras,
    'soak': case_soak,
    'codecs': case_codecs,
    'broken-vp8': case_broken_vp8,
    'main-job': case_main_job,
    'hardening': case_hardening,
    'https': case_https,
    'defaults': case_defaults,
    'failover': case_failover,
}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in CASES:
        print('usage: test_launcher.py %s' % '|'.join(CASES))
        return 2
    enter_namespace()
    env = Env()
    try:
        CASES[sys.argv[1]](env)
    except Exception as e:
        import traceback
        traceback.print_exc()
        failures.append('exception: %s' % e)
    finally:
        if failures:
            env.dump()
        env.close()
    print('%s: %s' % (sys.argv[1], 'FAILED: %s' % failures if failures
                      else 'PASS'), flush=True)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
