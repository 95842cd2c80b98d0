#!/usr/bin/python3
"""Classrooms at 1280x720: N cameras into pipelines/classroom.pipe; how long
until every seated student has an attendance row, who is named, who is never
found, by face size; what the box spends.

    bench/run-classroom.py [--cameras 1 2 4 8 12] [--servers
        decode-floor,classroom] [--layouts 3] [--seconds 45] [--warmup 5]
        [--measure 20] [--size 1280x720] [--set VAR=VALUE ...]
        [--out FILE] [--build DIR]

The videos: bench/loadgen/loadgen.py --make-classroom-video, one per layout
(tests/peers/classroom_scene.py: 28 seats in rows of 32, 40, 56 and 80 px
faces, images 2-4 of six of the eight shared identities, two absent,
students bobbing a few pixels, ~2 Mbit/s VP8, 30 fps), made once under
/tmp/sx-bench. Camera i plays layout (i-1) mod --layouts. The gallery is
image 1 of each of the eight.

Each run happens in a network namespace as in bench/run-cameras.py (whose
helpers this script uses): the launcher on 192.0.2.1 with the pipe file, one
load generator process for the N cameras on 192.0.2.2, the Socket.IO
server (tests/peers/sio_server.py via sio_marks.py) and a throwaway
PostgreSQL on 127.0.0.1. A run lasts --seconds after the last camera
connected; CPU, frame rates and latency are measured over a window of
--measure seconds starting --warmup seconds after that.

Per N it prints:
  to row s      per (camera, seated student): first_seen of the attendance
                row minus the camera's connect time; p50 / p95 / max, and
                how many of them have a row at all
  wrong rows    attendance rows at a camera for a student absent from it
  seats by size per face size: seats whose face was named right on the
                dashboard (socketiosink's `faces`: the box lies on the seat
                and carries its person's name), ever named wrong, never
                found (no box on the seat at all); and the time until 90 %
                of that size's seats were named
  in/s, out/s   decoded frames per camera, frames to the dashboard
  analyses/s    frames facerecog analysed, all cameras together
  e2e ms        camera send -> dashboard receive, p50 / p95 (marker.py)
  CPU           launcher, load generator, Socket.IO server, whole machine

Nothing else heavy should run meanwhile (see "other %").
"""
import argparse
import importlib.util
import json
import os
import signal
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
spec = importlib.util.spec_from_file_location(
    'run_cameras', os.path.join(HERE, 'run-cameras.py'))
rc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(rc)
sys.path.insert(0, rc.PEERS)
import classroom_scene  # noqa: E402

VIDEO_DIR = '/tmp/sx-bench'
SIZES = (32, 40, 56, 80)


def make_videos(layouts, size, seconds):
    paths = []
    for v in range(layouts):
        path = os.path.join(VIDEO_DIR, 'classroom-%dx%d-v%d-%ds.webm' % (
            size[0], size[1], v, seconds))
        if not os.path.exists(path):
            os.makedirs(VIDEO_DIR, exist_ok=True)
            rc.log('making %s (once)' % path)
            rc.subprocess.run([rc.PYTHON, rc.LOADGEN,
                               '--make-classroom-video', path + '.tmp.webm',
                               '--variant', str(v), '--size', '%dx%d' % size,
                               '--seconds', str(seconds),
                               '--bitrate', '2000000'], check=True)
            os.replace(path + '.tmp.webm', path)
        paths.append(path)
    return paths


def seats_of(variant, size):
    return classroom_scene.layout(variant, size[0], size[1],
                                  absent=classroom_scene.absent(variant))


def score(records, connected, cams, layouts, size):
    """Per seat: first time named right, ever named wrong, ever boxed."""
    seats = {c: seats_of(k % layouts, size) for k, c in enumerate(cams)}
    named_at = {c: [None] * len(seats[c]) for c in cams}
    wrong = {c: [False] * len(seats[c]) for c in cams}
    boxed = {c: [False] * len(seats[c]) for c in cams}
    for r in records:
        c = str(r.get('camera_id'))
        if c not in seats or not r.get('dims') or not r.get('faces'):
            continue
        scale = r['dims'][0] / float(size[0])
        for face in r['faces']:
            b = face.get('box') or {}
            k = classroom_scene.seat_of(seats[c], b.get('x', 0),
                                        b.get('y', 0), b.get('w', 0),
                                        b.get('h', 0), scale)
            if k is None:
                continue
            boxed[c][k] = True
            label = str(face.get('label', 'unknown')).lower()
            if label == seats[c][k].person:
                if named_at[c][k] is None:
                    named_at[c][k] = (r['t'] / 1000.0) - connected[c]
            elif label != 'unknown':
                wrong[c][k] = True
    by_size = {}
    for s in SIZES:
        times, n, nw, never = [], 0, 0, 0
        for c in cams:
            for k, seat in enumerate(seats[c]):
                if seat.side != s:
                    continue
                n += 1
                if named_at[c][k] is not None:
                    times.append(named_at[c][k])
                nw += wrong[c][k]
                never += not boxed[c][k]
        t90 = sorted(times)[int(0.9 * n) - 1] if n and \
            len(times) >= int(0.9 * n) and int(0.9 * n) > 0 else None
        by_size[s] = {'seats': n, 'named': len(times), 'wrong': nw,
                      'never_found': never, 't90_s': t90,
                      'p50_s': rc.pct(times, 0.5)}
    return by_size


def attendance(pg, connected, cams, layouts):
    rows = pg.query(
        "SELECT a.camera_id, s.external_id, extract(epoch FROM a.first_seen)"
        " FROM surveillx.attendance a JOIN surveillx.students s"
        " ON s.id = a.student")
    have = {(c, p): float(t) for c, p, t in rows}
    times, missing, wrong = [], [], []
    for k, c in enumerate(cams):
        v = k % layouts
        away = classroom_scene.absent(v)
        for p in classroom_scene.PEOPLE:
            if p in away:
                if (c, p) in have:
                    wrong.append((c, p))
            elif (c, p) in have:
                times.append(have[(c, p)] - connected[c])
            else:
                missing.append((c, p))
    return {'to_row_s': times, 'missing': missing, 'wrong_rows': wrong,
            'expected': len(times) + len(missing)}


def run_one(args, server, n, tmp, videos, gallery, pg, size):
    procs = rc.Procs()
    res = {'server': os.path.basename(server), 'cameras': n}
    try:
        sio_port = rc.free_port()
        sio = procs.start([rc.PYTHON, rc.SIO, '--port', str(sio_port),
                           '--no-relay'], os.path.join(tmp, 'sio.log'))
        sio_base = 'http://127.0.0.1:%d' % sio_port
        if not rc.wait_for(lambda: rc.get_json(sio_base + '/control/stats',
                                               2), 30):
            raise RuntimeError('sio server did not start')
        env = dict(os.environ)
        env['SURVEILLX_SIO_URL'] = sio_base
        env['GST_PLUGIN_PATH'] = os.path.join(args.build, 'plugins', 'gst')
        env.setdefault('SURVEILLX_MODEL_DIR', os.path.join(TOP, 'models'))
        env['XDG_STATE_HOME'] = os.path.join(tmp, 'state')
        env['SURVEILLX_GALLERY'] = gallery
        env['SURVEILLX_DB'] = pg.conninfo()
        cmd = [os.path.join(args.build, 'launcher', 'surveillx-launcher'),
               '--address', rc.ADDR, '--port', '0', '--ice-address', rc.ADDR,
               '--max-cameras', str(max(16, n))]
        for s in args.set or []:
            cmd += ['--set', s]
        cmd.append(rc.PIPES.get(server, server))
        if server == 'classroom':
            try:    # a fresh count (no schema yet before the first run)
                pg.query('DELETE FROM surveillx.attendance')
            except Exception:
                pass
        srv = procs.start(cmd, os.path.join(tmp, 'server.log'), env=env)
        line = rc.wait_for(lambda: rc.line_in(srv.log, 'listening on http://'),
                           60)
        if not line:
            raise RuntimeError('server did not start:\n' + rc.tail(srv.log))
        base = line.split('listening on ')[1].split()[0].rstrip('/')
        sent_log = os.path.join(tmp, 'sent.json')
        lg_log = os.path.join(tmp, 'loadgen.log')
        lg = procs.start([rc.PYTHON, rc.LOADGEN, '--url', base, '--video',
                          ','.join(videos), '--cameras', str(n),
                          '--ice-address', rc.PEER_ADDR,
                          '--send-log', sent_log], lg_log)
        cams = ['cam-%d' % (i + 1) for i in range(n)]

        rc.wait_connected(lg, n, srv)
        t_ready = time.time()
        connected = {e['camera_id']: e['t'] for e in rc.json_events(lg_log)
                     if e['event'] == 'connected'}
        time.sleep(args.warmup)

        pids = {'server': srv.pid, 'loadgen': lg.pid, 'sio': sio.pid}
        t0 = time.time()
        c0 = {k: rc.cpu_ticks(p) for k, p in pids.items()}
        m0 = rc.machine_ticks()
        m = rc.metrics(base)
        f0, an0 = rc.frames_in(m, cams), rc.frames_in(m, cams, 'analyses')
        time.sleep(args.measure)
        t1 = time.time()
        c1 = {k: rc.cpu_ticks(p) for k, p in pids.items()}
        m1 = rc.machine_ticks()
        m = rc.metrics(base)
        f1, an1 = rc.frames_in(m, cams), rc.frames_in(m, cams, 'analyses')
        dt = t1 - t0
        res['analyses_s'] = sum(an1[c] - an0[c] for c in cams) / dt
        for k in pids:
            if c0[k] is None or c1[k] is None:
                raise RuntimeError('%s exited during the window' % k)
            res['cpu_' + k] = 100.0 * (c1[k] - c0[k]) / rc.CLK_TCK / dt
        res['cpu_machine'] = 100.0 * (m1 - m0) / rc.CLK_TCK / dt
        res['in_fps'] = {c: (f1[c] - f0[c]) / dt for c in cams}
        res['rss_mb'] = (rc.status_kb(srv.pid, 'VmRSS') or 0) / 1024.0
        rest = t_ready + args.seconds - time.time()
        if rest > 0:
            time.sleep(rest)

        records = rc.get_json(sio_base + '/control/frames') or []
        marks = rc.get_json(sio_base + '/control/marks', 180) or []
        window = [r for r in records if t0 * 1000 <= r['t'] <= t1 * 1000]
        res['out_fps'] = {c: sum(1 for r in window
                                 if str(r['camera_id']) == c) / dt
                          for c in cams}
        res['dims'] = sorted({tuple(r['dims']) for r in records
                              if r.get('dims')})
        lg.send_signal(signal.SIGTERM)
        rc.wait_for(lambda: os.path.exists(sent_log), 30)
        with open(sent_log) as f:
            sent = json.load(f)['cameras']
        marks = [m for m in marks if t0 * 1000 <= m[1] <= t1 * 1000]
        lat, unread, unmatched = rc.match_latencies(marks, sent)
        res['e2e_ms'] = lat
        res['timed'] = '%d/%d' % (len(lat), len(lat) + unread + unmatched)
        if server == 'classroom':
            res['seats'] = score(records, connected, cams, args.layouts,
                                 size)
            res['attendance'] = attendance(pg, connected, cams, args.layouts)
        return res
    finally:
        procs.kill_all()


def f(v, fmt='%.0f'):
    return fmt % v if v is not None else '-'


def summarise(r):
    n = r['cameras']
    ins = list(r['in_fps'].values())
    outs = list(r['out_fps'].values())
    cpu = '%s / %s / %s / %s' % (f(r['cpu_server']), f(r['cpu_loadgen']),
                                 f(r['cpu_sio']), f(r['cpu_machine']))
    row = '| %s | %d | %s / %s | %s / %s | %s / %s | %s | %s | %s |' % (
        r['server'], n, f(sum(ins) / n, '%.1f'), f(min(ins), '%.1f'),
        f(sum(outs) / n, '%.2f'), f(min(outs), '%.2f'),
        f(rc.pct(r['e2e_ms'], 0.5)), f(rc.pct(r['e2e_ms'], 0.95)), cpu,
        f(r['rss_mb']), f(r['analyses_s'] or None, '%.1f'))
    if 'attendance' not in r:
        return row + ' - | - | - |'
    a = r['attendance']
    t = a['to_row_s']
    row += ' %d/%d in %s / %s / %s s | %d |' % (
        len(t), a['expected'], f(rc.pct(t, 0.5), '%.1f'),
        f(rc.pct(t, 0.95), '%.1f'), f(max(t) if t else None, '%.1f'),
        len(a['wrong_rows']))
    cells = []
    for s in SIZES:
        b = r['seats'][s]
        cells.append('%d px: %d/%d, %d wrong, %d never, 90 %% at %s s' % (
            s, b['named'], b['seats'], b['wrong'], b['never_found'],
            f(b['t90_s'], '%.0f')))
    return row + ' ' + '<br>'.join(cells) + ' |'


HEADER = ('| server | N | in/s per camera (mean / min) | out/s (mean / min) | '
          'e2e ms p50 / p95 | CPU % launcher / loadgen / sio / machine | '
          'RSS MB | analyses/s (all cameras) | students with a row, time '
          'to row p50 / p95 / max | wrong rows | seats named right by face '
          'size |\n'
          '|---|---|---|---|---|---|---|---|---|---|---|')


def write(out, rows, results):
    return rc.write(out, rows, results, HEADER)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--servers', default='decode-floor,classroom')
    ap.add_argument('--cameras', type=int, nargs='+', default=[1, 2, 4, 8, 12])
    ap.add_argument('--layouts', type=int, default=3)
    ap.add_argument('--seconds', type=float, default=45)
    ap.add_argument('--warmup', type=float, default=5)
    ap.add_argument('--measure', type=float, default=20)
    ap.add_argument('--size', default='1280x720')
    ap.add_argument('--set', action='append', metavar='VAR=VALUE',
                    help="the launcher's --set (e.g. "
                    "SURVEILLX_MIN_FACE_SIZE=40)")
    ap.add_argument('--out')
    ap.add_argument('--build', default=os.environ.get(
        'SURVEILLX_BUILD_ROOT', os.path.join(TOP, 'build')))
    args = ap.parse_args()
    rc.enter_namespace()
    size = tuple(int(v) for v in args.size.split('x'))
    # the video outlasts the run: connecting takes up to ~0.5 s a camera
    videos = make_videos(args.layouts, size, int(args.seconds + 30))
    from pgcluster import PgCluster
    tmp_root = tempfile.mkdtemp(prefix='sx-classroom-')
    gallery = os.path.join(tmp_root, 'gallery')
    for p in classroom_scene.PEOPLE:
        os.makedirs(os.path.join(gallery, p))
        os.symlink(os.path.join(rc.TESTDATA, 'faces', 'identities',
                                p + '1.png'),
                   os.path.join(gallery, p, p + '1.png'))
    rows, results = [], []
    pg = PgCluster()
    try:
        for server in args.servers.split(','):
            for n in args.cameras:
                tmp = os.path.join(tmp_root, '%s-%d' % (
                    os.path.basename(server), n))
                os.makedirs(tmp)
                rc.log('%s, %d camera(s)...' % (server, n))
                try:
                    r = run_one(args, server, n, tmp, videos, gallery, pg,
                                size)
                except Exception as e:
                    rc.log('%s N=%d failed: %s' % (server, n, e))
                    rows.append('| %s | %d | failed: %s |' % (
                        os.path.basename(server), n, str(e).splitlines()[0]))
                    continue
                results.append(r)
                rows.append(summarise(r))
                rc.log(rows[-1])
                write(args.out, rows, results)
    finally:
        pg.cleanup()
    print(write(args.out, rows, results))
    return 0


if __name__ == '__main__':
    sys.exit(main())
