#!/usr/bin/python3
"""A camera as a person's laptop is one: headless Debian Chromium opens the
launcher's publisher page (GET /), which publishes a fake camera over WHIP
(POST /whip/{id}, PATCH trickle candidates, DELETE).

    chromium_camera.py --url 'http://127.0.0.1:8080/?camera=laptop&autostart=1' \
        --y4m faces.y4m --duration 20 [--profile-dir DIR] [--log chromium.log]
    chromium_camera.py --make-y4m photo.jpg faces.y4m

The fake camera plays the y4m file in a loop (--use-file-for-fake-video-
capture). The page logs every step as a console line `SXPUB <json>`;
Chromium prints console lines on stderr with --enable-logging=stderr, and
this driver re-prints each as one JSON line on stdout ({"event": "answer"|
"state"|"patch"|"stats"|...}), plus its own {"event": "chromium"|"done"|
"error"}. It exits 0 after --duration seconds of connected streaming, 1 when
the page reports no "connected" state within --connect-timeout seconds, or
the connection fails or Chromium exits before the end.

Unless --no-delete, the driver adds `stopafter=DURATION` to the URL so the
page itself presses Stop (DELETE of the WHIP session) once DURATION seconds
of connection are over; the driver then waits up to 10 s for the page's
"stopped" event before killing Chromium. With --no-delete Chromium is
killed without a word to the server, as a laptop that drops off the network.

The page must be opened from http://127.0.0.1 or http://localhost (secure
contexts: getUserMedia does not exist on plain http elsewhere).
Chromium's whole process group is killed at the end.
"""
import argparse
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse

CHROMIUM = '/usr/bin/chromium'
MARK = 'SXPUB '


def say(**kw):
    print(json.dumps(kw), flush=True)


def make_y4m(image, out, width=640, height=480, fps=30, frames=60):
    """A `frames`-long y4m of the still `image`, letterboxed to
    width x height (square pixels), I420 ("C420" in the header, which
    Chromium's fake capture accepts), `fps` frames a second."""
    pipeline = [
        'gst-launch-1.0', '-q',
        'filesrc', 'location=' + image, '!', 'decodebin', '!',
        'videoconvert', '!', 'videoscale', 'add-borders=true', '!',
        'video/x-raw,width=%d,height=%d,pixel-aspect-ratio=1/1'
        % (width, height), '!',
        'imagefreeze', 'num-buffers=%d' % frames, '!',
        'video/x-raw,framerate=%d/1,format=I420' % fps, '!',
        'y4menc', '!', 'filesink', 'location=' + out]
    subprocess.run(pipeline, check=True, stdin=subprocess.DEVNULL)
    with open(out, 'rb') as f:
        header = f.readline().decode('ascii', 'replace').split()
    # what Chromium's Y4mFileParser needs: W, H, F, and a 4:2:0 C tag
    tags = {t[0]: t[1:] for t in header[1:]}
    if (header[:1] != ['YUV4MPEG2'] or tags.get('W') != str(width)
            or tags.get('H') != str(height)
            or not tags.get('C', '420').startswith('420')):
        raise RuntimeError('unexpected y4m header: %s' % ' '.join(header))
    return out


def chromium_args(url, y4m, profile, extra=()):
    return [
        CHROMIUM,
        '--headless=new',
        '--no-sandbox',
        '--use-fake-device-for-media-stream',
        '--use-fake-ui-for-media-stream',
        '--use-file-for-fake-video-capture=' + os.path.abspath(y4m),
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--no-default-browser-check',
        '--user-data-dir=' + profile,
        '--autoplay-policy=no-user-gesture-required',
        # console.log lines on stderr: INFO:CONSOLE:LINE] "msg", source: ...
        '--enable-logging=stderr',
        '--v=0',
        # keep the real host addresses in ICE candidates, not mDNS .local
        # names (the camera permission alone already does this; the flag
        # makes it independent of how permission is granted)
        '--disable-features=WebRtcHideLocalIpsWithMdns',
        # a page that runs in the background must not be throttled
        '--disable-background-timer-throttling',
        '--disable-renderer-backgrounding',
        '--disable-backgrounding-occluded-windows',
    ] + list(extra) + [url]


def parse_console(line):
    """The JSON object of an `SXPUB {...}` console line, or None."""
    i = line.find(MARK)
    if i < 0:
        return None
    try:
        obj, _ = json.JSONDecoder().raw_decode(line, i + len(MARK))
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


def with_stopafter(url, seconds):
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    if any(k == 'stopafter' for k, _ in query):
        return url
    query.append(('stopafter', '%g' % seconds))
    return urllib.parse.urlunsplit(
        parts._replace(query=urllib.parse.urlencode(query)))


def our_processes(marker):
    """Pids of live processes whose command line holds `marker` (Chromium's
    crashpad handlers setsid() out of its process group, but name the
    profile dir on their command line)."""
    pids = []
    for d in os.listdir('/proc'):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            with open('/proc/%s/cmdline' % d, 'rb') as f:
                cmd = f.read().decode('utf-8', 'replace')
            with open('/proc/%s/stat' % d) as f:
                state = f.read().rsplit(')', 1)[1].split()[0]
        except OSError:
            continue
        if marker in cmd and state != 'Z':
            pids.append(int(d))
    return pids


def kill_group(proc, marker):
    """SIGTERM Chromium's process group, SIGKILL it 5 s later, then SIGKILL
    any process left that names `marker`, and wait until all are gone."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=5)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
    try:  # the browser is gone; its helpers may not be
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()
    end = time.time() + 5
    while time.time() < end:
        left = our_processes(marker)
        if not left:
            return
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.1)


def run(args):
    if not os.path.exists(args.y4m):
        say(event='error', error='no such y4m: %s' % args.y4m)
        return 1
    # Chromium's own temporary files (its SingletonSocket dir, left behind
    # when it is killed) go to TMPDIR: a private one, removed at the end
    base = tempfile.mkdtemp(prefix='sx-chromium-')
    env = dict(os.environ, TMPDIR=base)
    # the sanitizer test run preloads libasan for the launcher: not for
    # Chromium, which aborts with it
    for var in ('LD_PRELOAD', 'ASAN_OPTIONS', 'UBSAN_OPTIONS', 'LSAN_OPTIONS'):
        env.pop(var, None)
    if args.profile_dir:
        os.makedirs(args.profile_dir, exist_ok=True)
        profile = os.path.abspath(args.profile_dir)
    else:
        profile = os.path.join(base, 'profile')
    url = args.url if args.no_delete else with_stopafter(args.url,
                                                         args.duration)
    argv = chromium_args(url, args.y4m, profile, args.chromium_flag or ())
    log = open(args.log, 'w') if args.log else None
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE,
                            start_new_session=True, env=env)
    say(event='chromium', pid=proc.pid, url=url, t=time.time())
    sel = selectors.DefaultSelector()
    sel.register(proc.stderr, selectors.EVENT_READ)
    buf = b''
    start = time.time()
    connected_at = None
    stopped = stopped_at = None
    failed = None
    last_stats = None
    state = None
    eof = False
    try:
        while True:
            now = time.time()
            if connected_at is None:
                deadline = start + args.connect_timeout
            elif args.no_delete:
                deadline = connected_at + args.duration
            else:
                deadline = connected_at + args.duration + 10
            if now >= deadline:
                if connected_at is None:
                    failed = 'not connected after %g s' % args.connect_timeout
                elif not args.no_delete:
                    failed = 'the page did not stop (DELETE) in time'
                break
            if eof:
                failed = 'chromium exited (%s)' % proc.wait()
                break
            for _key, _ in sel.select(timeout=min(1.0, deadline - now)):
                chunk = os.read(proc.stderr.fileno(), 65536)
                if not chunk:
                    eof = True
                    break
                buf += chunk
            *lines, buf = buf.split(b'\n')
            for raw in lines:
                line = raw.decode('utf-8', 'replace')
                if log:
                    log.write(line + '\n')
                obj = parse_console(line)
                if obj is None:
                    continue
                obj.setdefault('t', time.time())
                print(json.dumps(obj), flush=True)
                ev, st = obj.get('event'), obj.get('state')
                if ev == 'state':
                    state = st
                if ev == 'state' and st == 'connected' and connected_at is None:
                    connected_at = time.time()
                elif ev == 'state' and st in ('failed', 'closed') \
                        and stopped is None:
                    failed = 'connection ' + st
                elif ev == 'stats':
                    last_stats = obj
                elif ev == 'stopped':
                    stopped = obj
                    stopped_at = time.time()
                elif ev == 'error' and connected_at is None \
                        and obj.get('where') in ('setup', 'getUserMedia',
                                                 'offer', 'post', 'answer'):
                    failed = 'page error: %s' % obj.get('where')
            if failed or stopped:
                break
    finally:
        kill_group(proc, profile)
        sel.close()
        if log:
            log.close()
        shutil.rmtree(base, ignore_errors=True)
    if connected_at is not None and not failed and not stopped \
            and state != 'connected':
        failed = 'connection %s at the end' % state
    if stopped and connected_at is not None and not failed:
        if state != 'connected':
            failed = 'connection %s before the stop' % state
        elif stopped.get('delete_status') not in (200, 204):
            failed = 'DELETE answered %s' % stopped.get('delete_status')
        elif stopped_at - connected_at < args.duration - 1:
            failed = 'the page stopped early'
    ok = failed is None and connected_at is not None
    say(event='done', ok=ok, error=failed,
        connected_for=(round((stopped_at or time.time()) - connected_at, 1)
                       if connected_at else None),
        stats=last_stats)
    return 0 if ok else 1


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--url')
    parser.add_argument('--y4m')
    parser.add_argument('--duration', type=float, default=10.0,
                        help='seconds to stream once connected')
    parser.add_argument('--connect-timeout', type=float, default=30.0)
    parser.add_argument('--profile-dir', default=None,
                        help='user data dir (default: a fresh temporary '
                        'one, removed at the end)')
    parser.add_argument('--log', default=None,
                        help="write Chromium's whole stderr here")
    parser.add_argument('--no-delete', action='store_true',
                        help='kill Chromium without a DELETE at the end')
    parser.add_argument('--chromium-flag', action='append',
                        help='one more Chromium flag (repeatable)')
    parser.add_argument('--make-y4m', nargs=2, metavar=('IMAGE', 'OUT'),
                        help='make a 30 fps y4m of a still image (--size), '
                        'then exit')
    parser.add_argument('--size', default='640x480',
                        help='--make-y4m frame size WxH (default 640x480)')
    parser.add_argument('--frames', type=int, default=60,
                        help='frames in --make-y4m output (default 60: 2 s)')
    args = parser.parse_args()
    if args.make_y4m:
        width, height = (int(v) for v in args.size.split('x'))
        make_y4m(args.make_y4m[0], args.make_y4m[1], width, height,
                 frames=args.frames)
        say(event='y4m', path=args.make_y4m[1],
            bytes=os.path.getsize(args.make_y4m[1]))
        sys.exit(0)
    if not args.url or not args.y4m:
        parser.error('--url and --y4m are needed (or --make-y4m)')
    sys.exit(run(args))


if __name__ == '__main__':
    main()
