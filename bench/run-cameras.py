#!/usr/bin/python3
"""N cameras into each server design; CPU, memory, frame rates, latency.

    bench/run-cameras.py [--servers baseline,streaming,decode-floor]
        [--cameras 1 2 4 8 12 16] [--classroom-cameras 1 2 4 8 12]
        [--warmup 5] [--measure 20] [--out FILE] [--wait-go FILE]
        [--relay] [--build DIR] [--video V.webm]

Servers:
  baseline      bench/baseline/server.py: FastAPI + aiortc + OpenCV +
                python-socketio, the Python design the launcher replaces
  streaming     surveillx-launcher bench/pipelines/streaming.pipe
                (pipelines/preview.pipe without facerecog: the same work as
                the baseline)
  decode-floor  surveillx-launcher bench/pipelines/decode-floor.pipe
                (webrtcbin ! rtpvp8depay ! vp8dec ! fakesink)
  classroom     surveillx-launcher pipelines/classroom.pipe, gallery of the
                8 shared identities, a throwaway PostgreSQL
                (--classroom-cameras)
  PATH.pipe     surveillx-launcher PATH.pipe (a variant to compare, e.g.
                bench/pipelines/streaming-sync.pipe: socketiosink sync=true)

Each run happens in a network namespace of this script's own (re-exec under
`unshare --net`, veth 192.0.2.1/24 + 192.0.2.2/24): the Socket.IO server
(tests/peers/sio_server.py through bench/loadgen/sio_marks.py) on
127.0.0.1, the server under test on 192.0.2.1, one load generator process
(bench/loadgen/loadgen.py: N cameras, 640x480@30 VP8 ~1 Mbit/s from one
pre-encoded file) gathering on 192.0.2.2. Once every camera is connected:
--warmup seconds, then --measure seconds of:

  CPU       utime+stime (+ children's) from /proc/PID/stat, per process,
            over the window, in % of one core; "machine" is all of /proc/stat
            (200 % = both cores busy), "other" what the rest of the machine
            used meanwhile (anything else running skews the figures)
  in/s      per camera: the server's surveillx_camera_frames_in_total over
            the window (launcher: VP8 frames received; baseline: frames
            aiortc decoded)
  out/s     per camera: `frame` events the Socket.IO server received in the
            window (target 5)
  e2e ms    per delivered frame: the Socket.IO server's receive time minus
            the time the load generator released that frame to the network
            (its index is drawn into the pixels and read back from the JPEG)
  hop ms    per delivered frame: receive time minus the payload's own
            `timestamp` (when the server's Socket.IO client handled it)
  faces/s   faces facerecog analysed per second, all cameras (the
            launcher's surveillx_camera_faces_total)
  an/s      per camera: frames facerecog analysed per second
            (surveillx_camera_analyses_total; the recognition rate)
  RSS       the server's VmRSS at the end of the window (HWM: peak)

The dashboard stand-in relays every frame to the namespace's other clients
only with --relay (as the real dashboard does; with one Socket.IO
connection per camera the launcher then receives every other camera's
frames, the baseline's single connection receives none).

Prints a markdown table; --out writes it (and the raw figures to OUT.json).
With --wait-go FILE each run first waits until FILE exists and no other
load generator runs (a shared machine).
"""
import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

PYTHON = '/usr/bin/python3'
HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
PEERS = os.path.join(TOP, 'tests', 'peers')
LOADGEN = os.path.join(HERE, 'loadgen', 'loadgen.py')
SIO = os.path.join(HERE, 'loadgen', 'sio_marks.py')
BASELINE = os.path.join(HERE, 'baseline', 'server.py')
TESTDATA = os.environ.get('SURVEILLX_TESTDATA',
                          os.path.join(TOP, '..', 'shared', 'testdata'))
PEOPLE = ['amy', 'bernadette', 'howard', 'leonard', 'penny', 'raj',
          'sheldon', 'stuart']
ADDR, PEER_ADDR = '192.0.2.1', '192.0.2.2'
PIPES = {
    'streaming': os.path.join(HERE, 'pipelines', 'streaming.pipe'),
    'decode-floor': os.path.join(HERE, 'pipelines', 'decode-floor.pipe'),
    'classroom': os.path.join(TOP, 'pipelines', 'classroom.pipe'),
}
CLK_TCK = os.sysconf('SC_CLK_TCK')


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def enter_namespace():
    if os.environ.get('SX_BENCH_NETNS') != '1':
        env = dict(os.environ, SX_BENCH_NETNS='1')
        os.execvpe('unshare', ['unshare', '--net', '--', PYTHON] + sys.argv,
                   env)
    for cmd in (['ip', 'link', 'set', 'lo', 'up'],
                ['ip', 'link', 'add', 'sxb0', 'type', 'veth', 'peer', 'name',
                 'sxb1'],
                ['ip', 'addr', 'add', ADDR + '/24', 'dev', 'sxb0'],
                ['ip', 'addr', 'add', PEER_ADDR + '/24', 'dev', 'sxb1'],
                ['ip', 'link', 'set', 'sxb0', 'up'],
                ['ip', 'link', 'set', 'sxb1', 'up']):
        subprocess.run(cmd, check=True)


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def get(url, timeout=30):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.read().decode()
    except (OSError, urllib.error.URLError):
        return None


def get_json(url, timeout=60):
    text = get(url, timeout)
    try:
        return json.loads(text) if text is not None else None
    except ValueError:
        return None


def wait_for(pred, timeout, step=0.2):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def cpu_ticks(pid):
    """utime + stime + cutime + cstime of a process, in ticks."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
    except OSError:
        return None
    return sum(int(x) for x in fields[11:15])


def machine_ticks():
    with open('/proc/stat') as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v[:8]) - idle


def status_kb(pid, key):
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith(key + ':'):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def metrics(base):
    text = get(base + '/metrics') or ''
    out = {}
    for line in text.splitlines():
        if line and not line.startswith('#') and ' ' in line:
            k, v = line.rsplit(' ', 1)
            try:
                out[k] = float(v)
            except ValueError:
                pass
    return out


def frames_in(m, cams, what='frames_in'):
    return {c: m.get('surveillx_camera_%s_total{camera_id="%s"}' % (what, c),
                     0.0) for c in cams}


def pct(values, q):
    if not values:
        return None
    values = sorted(values)
    k = (len(values) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


class Procs:
    def __init__(self):
        self.procs = []

    def start(self, args, logfile, **kw):
        f = open(logfile, 'w')
        p = subprocess.Popen(args, stdout=f, stderr=subprocess.STDOUT,
                             start_new_session=True, **kw)
        f.close()
        p.log = logfile
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
        self.procs = []


def line_in(path, needle):
    try:
        with open(path, errors='replace') as f:
            for line in f:
                if needle in line:
                    return line
    except OSError:
        pass
    return None


def json_events(path):
    out = []
    try:
        with open(path, errors='replace') as f:
            for line in f:
                if line.startswith('{'):
                    try:
                        out.append(json.loads(line))
                    except ValueError:
                        pass
    except OSError:
        pass
    return out


def tail(path, n=15):
    try:
        with open(path, errors='replace') as f:
            return ''.join(f.readlines()[-n:])
    except OSError:
        return ''


def match_latencies(marks, sent):
    """e2e latency (ms) of each marked frame: receive time minus the latest
    send of that camera's frame with the same index before it."""
    by_cam = {}
    for cid, rows in sent.items():
        idx = {}
        for t, i in rows:
            idx.setdefault(i, []).append(t)
        by_cam[cid] = idx
    lat, unread, unmatched = [], 0, 0
    for cid, t, index in marks:
        if index is None:
            unread += 1
            continue
        times = by_cam.get(str(cid), {}).get(index, [])
        before = [s for s in times if s <= t]
        if not before:
            unmatched += 1
            continue
        lat.append(t - max(before))
    return lat, unread, unmatched


def wait_connected(lg, n, srv):
    """Until the load generator @lg says its @n cameras are connected;
    raises with both logs' tails if it reports an error or exits."""
    def ready():
        ev = json_events(lg.log)
        if any(e['event'] == 'ready' for e in ev):
            return 'ready'
        if any(e['event'] == 'error' for e in ev) or lg.poll() is not None:
            return 'error'
        return None
    state = wait_for(ready, 60 + 5 * n)
    if state != 'ready':
        raise RuntimeError('cameras did not connect (%s):\n%s\n%s' % (
            state, tail(lg.log), tail(srv.log)))


def run_one(args, server, n, tmp, video, gallery, pg):
    procs = Procs()
    res = {'server': os.path.basename(server), 'cameras': n}
    try:
        sio_port = free_port()
        sio_args = [PYTHON, SIO, '--port', str(sio_port)]
        if not args.relay:
            sio_args.append('--no-relay')
        sio = procs.start(sio_args, os.path.join(tmp, 'sio.log'))
        sio_base = 'http://127.0.0.1:%d' % sio_port
        if not wait_for(lambda: get_json(sio_base + '/control/stats', 2),
                        30):
            raise RuntimeError('sio server did not start:\n' +
                               tail(sio.log))
        env = dict(os.environ)
        env['SURVEILLX_SIO_URL'] = sio_base
        if server == 'baseline':
            cmd = [PYTHON, BASELINE, '--address', ADDR, '--port', '0',
                   '--sio-url', sio_base]
        else:
            env['GST_PLUGIN_PATH'] = os.path.join(args.build, 'plugins',
                                                  'gst')
            env.setdefault('SURVEILLX_MODEL_DIR', os.path.join(TOP, 'models'))
            env['XDG_STATE_HOME'] = os.path.join(tmp, 'state')
            if gallery:
                env['SURVEILLX_GALLERY'] = gallery
            if pg is not None:
                env['SURVEILLX_DB'] = pg.conninfo()
            cmd = [os.path.join(args.build, 'launcher', 'surveillx-launcher'),
                   '--address', ADDR, '--port', '0', '--ice-address', ADDR,
                   '--max-cameras', str(max(16, n)),
                   PIPES.get(server, server)]
        srv = procs.start(cmd, os.path.join(tmp, 'server.log'), env=env)
        line = wait_for(lambda: line_in(srv.log, 'listening on http://'),
                        60)
        if not line:
            raise RuntimeError('server did not start:\n' + tail(srv.log))
        base = line.split('listening on ')[1].split()[0].rstrip('/')

        sent_log = os.path.join(tmp, 'sent.json')
        lg_log = os.path.join(tmp, 'loadgen.log')
        lg = procs.start([PYTHON, LOADGEN, '--url', base, '--video', video,
                          '--cameras', str(n), '--ice-address', PEER_ADDR,
                          '--send-log', sent_log], lg_log)
        cams = ['cam-%d' % (i + 1) for i in range(n)]

        wait_connected(lg, n, srv)
        time.sleep(args.warmup)

        # ---- the window
        get(sio_base + '/control/reset')
        pids = {'server': srv.pid, 'loadgen': lg.pid, 'sio': sio.pid}
        t0 = time.time()
        c0 = {k: cpu_ticks(p) for k, p in pids.items()}
        m0 = machine_ticks()
        m = metrics(base)
        f0, faces0 = frames_in(m, cams), frames_in(m, cams, 'faces')
        an0 = frames_in(m, cams, 'analyses')
        car0 = frames_in(m, cams, 'faces_carried')
        time.sleep(args.measure)
        t1 = time.time()
        c1 = {k: cpu_ticks(p) for k, p in pids.items()}
        m1 = machine_ticks()
        m = metrics(base)
        f1, faces1 = frames_in(m, cams), frames_in(m, cams, 'faces')
        an1 = frames_in(m, cams, 'analyses')
        car1 = frames_in(m, cams, 'faces_carried')
        dt = t1 - t0
        res['rss_mb'] = (status_kb(srv.pid, 'VmRSS') or 0) / 1024.0
        res['hwm_mb'] = (status_kb(srv.pid, 'VmHWM') or 0) / 1024.0
        for k in pids:
            if c0[k] is None or c1[k] is None:
                raise RuntimeError('%s exited during the window:\n%s' % (
                    k, tail(procs.procs[['sio', 'server', 'loadgen']
                                        .index(k)].log)))
            res['cpu_' + k] = 100.0 * (c1[k] - c0[k]) / CLK_TCK / dt
        res['cpu_machine'] = 100.0 * (m1 - m0) / CLK_TCK / dt
        res['in_fps'] = {c: (f1[c] - f0[c]) / dt for c in cams}
        res['faces_s'] = sum(faces1[c] - faces0[c] for c in cams) / dt
        res['carried_s'] = sum(car1[c] - car0[c] for c in cams) / dt
        res['analyses_s'] = {c: (an1[c] - an0[c]) / dt for c in cams}
        records = get_json(sio_base + '/control/frames') or []
        marks = get_json(sio_base + '/control/marks?dump=' + tmp, 120) or []
        in_window = [r for r in records if r['t'] <= t1 * 1000]
        res['out_fps'] = {c: sum(1 for r in in_window
                                 if str(r['camera_id']) == c) / dt
                          for c in cams}
        res['hop_ms'] = [r['latency_ms'] for r in in_window
                         if r.get('latency_ms') is not None]
        res['bad_jpeg'] = sum(1 for r in in_window if not r['jpeg_ok'])
        marks = [m for m in marks if m[1] <= t1 * 1000]

        # ---- the send log (written by the load generator as it stops)
        lg.send_signal(signal.SIGTERM)
        wait_for(lambda: os.path.exists(sent_log), 20)
        with open(sent_log) as f:
            sent = json.load(f)['cameras']
        lat, unread, unmatched = match_latencies(marks, sent)
        res['e2e_ms'] = lat
        res['unread'] = unread
        res['unmatched'] = unmatched
        done = [e for e in json_events(lg_log) if e['event'] == 'done']
        if done:
            res['loadgen_kbit_s'] = done[0].get('kbit_s')
            res['eos'] = done[0].get('eos')
        return res
    finally:
        procs.kill_all()


def other_loadgens():
    """Load generators running now (ours are all stopped between runs)."""
    found = []
    for pid in os.listdir('/proc'):
        try:
            with open('/proc/%s/cmdline' % pid, 'rb') as f:
                if b'loadgen/loadgen.py' in f.read():
                    found.append(int(pid))
        except (OSError, ValueError):
            pass
    return found


def wait_quiet(go_file):
    """Until go_file exists and no other benchmark is running."""
    said = False
    while not os.path.exists(go_file) or other_loadgens():
        if not said:
            log('waiting for %s and for other benchmarks to end' % go_file)
            said = True
        time.sleep(10)


def summarise(r):
    def mean_min(d):
        v = list(d.values())
        return (statistics.mean(v), min(v)) if v else (0, 0)
    in_mean, in_min = mean_min(r['in_fps'])
    out_mean, out_min = mean_min(r['out_fps'])
    an_mean, an_min = mean_min(r.get('analyses_s') or {})
    if not an_mean:
        an_mean = an_min = None
    e2e = r['e2e_ms']
    hop = r['hop_ms']
    n = r['cameras']

    def f(v, fmt='%.0f'):
        return fmt % v if v is not None else '-'
    return ('| %s | %d | %s | %s | %s | %s | %s | %s | %s / %s | %s / %s | '
            '%s / %s | %s | %s | %s / %s | %s | %s |' % (
                r['server'], n, f(r['cpu_server']),
                f(r['cpu_server'] / n, '%.1f'), f(r['cpu_loadgen']),
                f(r['cpu_sio']), f(r['cpu_machine']),
                f(max(0.0, r['cpu_machine'] - r['cpu_server'] -
                      r['cpu_loadgen'] - r['cpu_sio'])),
                f(in_mean, '%.1f'), f(in_min, '%.1f'),
                f(out_mean, '%.2f'), f(out_min, '%.2f'),
                f(pct(e2e, 0.5)), f(pct(e2e, 0.95)), f(pct(hop, 0.5), '%.1f'),
                f(r['faces_s'] or None, '%.1f') + (
                    ' (%.0f %%)' % (100.0 * r.get('carried_s', 0) / r['faces_s'])
                    if r['faces_s'] else ''),
                f(an_mean, '%.2f'), f(an_min, '%.2f'),
                '%.0f (%.0f)' % (r['rss_mb'], r['hwm_mb']),
                '%d/%d' % (len(e2e), len(e2e) + r['unread'] +
                           r['unmatched'])))


HEADER = ('| server | N | server CPU % | % / camera | loadgen CPU % | '
          'sio CPU % | machine % | other % | in/s per camera (mean / min) | '
          'out/s per camera (mean / min) | e2e ms p50 / p95 | hop ms p50 | '
          'faces/s (carried) | an/s per camera (mean / min) | '
          'server RSS MB (peak) | frames timed |\n'
          '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--servers', default='baseline,streaming,decode-floor')
    ap.add_argument('--cameras', type=int, nargs='+',
                    default=[1, 2, 4, 8, 12, 16])
    ap.add_argument('--classroom-cameras', type=int, nargs='+',
                    default=[1, 2, 4, 8, 12])
    ap.add_argument('--warmup', type=float, default=5)
    ap.add_argument('--measure', type=float, default=20)
    ap.add_argument('--out')
    ap.add_argument('--wait-go', metavar='FILE')
    ap.add_argument('--relay', action='store_true')
    ap.add_argument('--build', default=os.environ.get(
        'SURVEILLX_BUILD_ROOT', os.path.join(TOP, 'build')))
    ap.add_argument('--video', default='/tmp/sx-bench/bbt4-640x480-30-120s.webm')
    ap.add_argument('--keep-tmp', action='store_true')
    args = ap.parse_args()

    enter_namespace()
    if not os.path.exists(args.video):
        os.makedirs(os.path.dirname(args.video) or '.', exist_ok=True)
        log('making %s (once)' % args.video)
        subprocess.run([PYTHON, LOADGEN, '--make-video', args.video,
                        '--seconds', '120'], check=True)

    servers = args.servers.split(',')
    tmp_root = tempfile.mkdtemp(prefix='sx-bench-')
    rows, results = [], []
    pg = None
    gallery = None
    try:
        for server in servers:
            if server != 'baseline' and not os.path.exists(os.path.join(
                    args.build, 'launcher', 'surveillx-launcher')):
                wait_for(lambda: os.path.exists(os.path.join(
                    args.build, 'launcher', 'surveillx-launcher')), 600, 5)
            if server == 'classroom':
                sys.path.insert(0, PEERS)
                from pgcluster import PgCluster
                pg = PgCluster()
                gallery = os.path.join(tmp_root, 'gallery')
                for p in PEOPLE:
                    os.makedirs(os.path.join(gallery, p), exist_ok=True)
                    os.symlink(os.path.join(TESTDATA, 'faces', 'identities',
                                            p + '1.png'),
                               os.path.join(gallery, p, p + '1.png'))
            ns = args.classroom_cameras if server == 'classroom' \
                else args.cameras
            for n in ns:
                if args.wait_go:
                    wait_quiet(args.wait_go)
                tmp = os.path.join(tmp_root, '%s-%d' % (
                    os.path.basename(server), n))
                os.makedirs(tmp)
                log('%s, %d camera(s)...' % (server, n))
                try:
                    r = run_one(args, server, n, tmp, args.video,
                                gallery if server == 'classroom' else None,
                                pg if server == 'classroom' else None)
                except Exception as e:
                    log('%s N=%d failed: %s' % (server, n, e))
                    rows.append('| %s | %d | failed: %s |' % (
                        os.path.basename(server), n,
                        str(e).splitlines()[0]))
                    write(args.out, rows, results)
                    continue
                results.append(r)
                rows.append(summarise(r))
                log(rows[-1])
                write(args.out, rows, results)  # a partial table meanwhile
            if pg is not None:
                pg.cleanup()
                pg = None
    finally:
        if pg is not None:
            pg.cleanup()
        if not args.keep_tmp:
            import shutil
            shutil.rmtree(tmp_root, ignore_errors=True)
    print(write(args.out, rows, results))
    return 0


def write(out, rows, results, header=HEADER):
    """The markdown table (also to OUT, and the raw figures to OUT.json)."""
    table = header + '\n' + '\n'.join(rows) + '\n'
    if out:
        with open(out, 'w') as f:
            f.write(table)
        with open(out + '.json', 'w') as f:
            json.dump(results, f)
    return table


if __name__ == '__main__':
    sys.exit(main())
