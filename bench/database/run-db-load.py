#!/usr/bin/python3
"""What one PostgreSQL server spends per camera on attendance, measured:
attendancesink against the straightforward design, side by side on one
throwaway cluster (tests/peers/pgcluster.py).

Each camera sees STUDENTS (28) recognised faces at ANALYSES (3) per
second, facerecog's classroom rate (interval=10 at 30 fps), for SECONDS.

  surveillx  N attendancesink pipelines in one process (appsrc feeding
             facerecog's metas): one shared connection, one transaction per
             flush-interval (1 s) with one idempotent upsert per student
             seen, spooled first (docs/database.md)
  baseline   the straightforward sidecar: one psycopg2 connection per
             camera, one autocommitted INSERT ... ON CONFLICT DO UPDATE per
             recognised face per analysis (no spool, no event ids)

Printed per design: the server's CPU (every postgres process of the
cluster, /proc), transactions committed and rows written (pg_stat_database),
backends; per camera; and baseline / surveillx. The launcher's registry
adds 3 statements per launcher every third of --lease (5 s): counted
apart, it is not per camera.

  bench/database/run-db-load.py [--cameras 4,16] [--seconds 30]

Needs the build (GST_PLUGIN_PATH=build/plugins/gst) and Debian's
postgresql; run on an otherwise idle box, as root or not.
"""
import argparse
import os
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'peers'))
os.environ.setdefault('GST_PLUGIN_PATH',
                      os.path.join(ROOT, 'build', 'plugins', 'gst'))

import gi  # noqa: E402
gi.require_version('Gst', '1.0')
gi.require_version('GstVideo', '1.0')
from gi.repository import GObject, Gst, GstVideo  # noqa: E402

from pgcluster import PgCluster  # noqa: E402

STUDENTS = 28
ANALYSES = 3.0
TICK = os.sysconf('SC_CLK_TCK')


def server_cpu(pg):
    """CPU seconds of the cluster: the postmaster, its live children
    (backends, background workers: each in a session of its own) and the
    children it has reaped."""
    master = pg.proc.pid
    total = 0
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % pid) as f:
                fields = f.read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        if int(pid) == master:  # utime, stime, cutime, cstime
            total += sum(int(x) for x in fields[11:15])
        elif int(fields[1]) == master:  # ppid
            total += int(fields[11]) + int(fields[12])
    return total / TICK


def db_counters(pg):
    return pg.query("SELECT xact_commit, tup_inserted + tup_updated "
                    "FROM pg_stat_database WHERE datname = current_database()"
                    )[0]


def backends(pg):
    return pg.query("SELECT count(*) FROM pg_stat_activity WHERE "
                    "backend_type = 'client backend' AND pid <> "
                    "pg_backend_pid()")[0][0]


def add_face(buf, student):
    meta = GstVideo.buffer_add_video_region_of_interest_meta(
        buf, 'face', 1, 1, 4, 4)
    s = Gst.Structure.new_empty('surveillx/face')
    s.set_value('label', student)
    s.set_value('id', student)
    s.set_value('distance', 0.4)
    s.set_value('confirmed', True)
    s.set_value('votes', GObject.Value(GObject.TYPE_UINT, 3))
    s.set_value('track-id', GObject.Value(GObject.TYPE_UINT, 1))
    s.set_value('fresh', True)
    meta.add_param(s)


def run_surveillx(pg, n, seconds, tmp):
    pipes = []
    for c in range(n):
        p = Gst.parse_launch(
            'appsrc name=src format=time caps=video/x-raw,format=GRAY8,'
            'width=8,height=8,framerate=3/1 ! attendancesink name=sink '
            'camera-id=cam-%d spool-location=%s/cam-%d.spool' % (c, tmp, c))
        p.get_by_name('sink').set_property('conninfo', pg.conninfo())
        p.set_state(Gst.State.PLAYING)
        pipes.append(p)
    time.sleep(2)  # connected and migrated
    before = (server_cpu(pg), db_counters(pg))
    t0 = time.monotonic()
    frame = 0
    while time.monotonic() - t0 < seconds:
        for c, p in enumerate(pipes):
            buf = Gst.Buffer.new_allocate(None, 64, None)
            buf.pts = frame * Gst.SECOND // 3
            for s in range(STUDENTS):
                add_face(buf, 'c%d-s%d' % (c, s))
            p.get_by_name('src').emit('push-buffer', buf)
        frame += 1
        time.sleep(max(0.0, t0 + frame / ANALYSES - time.monotonic()))
    conns = backends(pg)
    for p in pipes:
        p.get_by_name('src').emit('end-of-stream')
    for p in pipes:
        p.get_bus().timed_pop_filtered(10 * Gst.SECOND, Gst.MessageType.EOS)
        p.set_state(Gst.State.NULL)
    after = (server_cpu(pg), db_counters(pg))
    return result(before, after, time.monotonic() - t0, n, conns)


def run_baseline(pg, n, seconds):
    import psycopg2
    sql = ("INSERT INTO surveillx.attendance AS a (student, camera_id, "
           "session_key, first_seen, last_seen, sightings, best_distance) "
           "SELECT id, %s, %s, now(), now(), 1, %s FROM surveillx.students "
           "WHERE external_id = %s ON CONFLICT (student, session_key) DO "
           "UPDATE SET last_seen = EXCLUDED.last_seen, sightings = "
           "a.sightings + 1, best_distance = LEAST(a.best_distance, "
           "EXCLUDED.best_distance)")
    conns = []
    for c in range(n):
        conn = psycopg2.connect(pg.conninfo())
        conn.autocommit = True
        cur = conn.cursor()
        cur.executemany("INSERT INTO surveillx.students (external_id, name) "
                        "VALUES (%s, %s) ON CONFLICT DO NOTHING",
                        [('c%d-s%d' % (c, s),) * 2 for s in range(STUDENTS)])
        conns.append(conn)
    before = (server_cpu(pg), db_counters(pg))
    t0 = time.monotonic()
    late = [0]

    def camera(c, conn):
        cur = conn.cursor()
        frame = 0
        while time.monotonic() - t0 < seconds:
            for s in range(STUDENTS):
                cur.execute(sql, ('cam-%d' % c, 'base-cam-%d' % c, 0.4,
                                  'c%d-s%d' % (c, s)))
            frame += 1
            wait = t0 + frame / ANALYSES - time.monotonic()
            if wait < 0:
                late[0] += 1
            time.sleep(max(0.0, wait))
    threads = [threading.Thread(target=camera, args=(c, conn))
               for c, conn in enumerate(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    count = backends(pg)
    after = (server_cpu(pg), db_counters(pg))
    for conn in conns:
        conn.close()
    r = result(before, after, time.monotonic() - t0, n, count)
    r['late'] = late[0]
    return r


def result(before, after, elapsed, n, conns):
    cpu = after[0] - before[0]
    xacts = after[1][0] - before[1][0]
    rows = after[1][1] - before[1][1]
    return {'cpu_pct_per_camera': 100.0 * cpu / elapsed / n,
            'xacts_per_s_per_camera': xacts / elapsed / n,
            'rows_per_s_per_camera': rows / elapsed / n,
            'backends': conns, 'cameras': n}


def cpu_model():
    with open('/proc/cpuinfo') as f:
        for line in f:
            if line.startswith('model name'):
                return line.split(':', 1)[1].strip()
    return '?'


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--cameras', default='4,16')
    ap.add_argument('--seconds', type=float, default=30.0)
    args = ap.parse_args()
    Gst.init(None)
    if Gst.ElementFactory.find('attendancesink') is None:
        sys.exit('attendancesink not found: build first (GST_PLUGIN_PATH)')
    print('CPU: %s, %d cores; %d students per camera, %.0f analyses/s, '
          '%.0f s per run' % (cpu_model(), os.cpu_count(), STUDENTS,
                              ANALYSES, args.seconds), flush=True)
    import tempfile
    for n in [int(x) for x in args.cameras.split(',')]:
        # The baseline opens a connection per camera.
        with PgCluster(max_connections=n + 20) as pg, \
                tempfile.TemporaryDirectory() as tmp:
            os.chmod(tmp, 0o755)
            ours = run_surveillx(pg, n, args.seconds, tmp)
            base = run_baseline(pg, n, args.seconds)
        for name, r in (('surveillx', ours), ('baseline', base)):
            print('%2d cameras %-9s: server CPU %5.2f %% of a core per '
                  'camera, %6.1f transactions/s and %6.1f rows/s per camera, '
                  '%d backends%s' % (
                      n, name, r['cpu_pct_per_camera'],
                      r['xacts_per_s_per_camera'],
                      r['rows_per_s_per_camera'], r['backends'],
                      ', %d analyses late' % r['late'] if 'late' in r
                      else ''), flush=True)
        print('%2d cameras baseline/surveillx: CPU x%.1f, transactions '
              'x%.1f, backends %d vs %d' % (
                  n, base['cpu_pct_per_camera'] /
                  max(ours['cpu_pct_per_camera'], 1e-9),
                  base['xacts_per_s_per_camera'] /
                  max(ours['xacts_per_s_per_camera'], 1e-9),
                  base['backends'], ours['backends']), flush=True)


if __name__ == '__main__':
    main()
