#!/usr/bin/python3
"""attendancesink against a real PostgreSQL server the test starts itself.

Buffers carry facerecog's contract (plugins/common/sxfaceresult.h): one
GstVideoRegionOfInterestMeta "face" per face with a "surveillx/face"
parameter structure. appsrc feeds them, so no model is needed.

usage: test_attendancesink.py CASE   (CASE: see CASES at the bottom)
"""
import datetime
import os
import select
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ.get('SURVEILLX_SOURCE_ROOT',
                                               os.path.join(os.path.dirname(__file__), '..', '..')),
                                'tests', 'peers'))
from pgcluster import PgCluster  # noqa: E402

import gi  # noqa: E402
gi.require_version('Gst', '1.0')
gi.require_version('GstVideo', '1.0')
from gi.repository import GObject, Gst, GstVideo  # noqa: E402

Gst.init(None)

HOSTILE = [
    "O'Brien \"Bob\"",
    "x'); DROP TABLE students; --",
    "S1; DROP TABLE attendance",
    "back\\slash $1 %s \u00e9\u00e8 \u2603",
    "tab\tnew\nline",
]


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)
    print('ok:', what, flush=True)


def face_meta(buf, face):
    meta = GstVideo.buffer_add_video_region_of_interest_meta(buf, 'face', 1, 1, 4, 4)
    s = Gst.Structure.new_empty('surveillx/face')
    s.set_value('label', face.get('label', face.get('id') or 'unknown'))
    s.set_value('id', face.get('id', ''))
    s.set_value('distance', float(face.get('distance', 0.3)))
    s.set_value('confirmed', bool(face.get('confirmed', True)))
    s.set_value('votes', GObject.Value(GObject.TYPE_UINT, 3))
    s.set_value('track-id', GObject.Value(GObject.TYPE_UINT, face.get('track', 1)))
    s.set_value('fresh', bool(face.get('fresh', True)))
    meta.add_param(s)


class Sink:
    """appsrc ! attendancesink, driven buffer by buffer."""

    def __init__(self, **props):
        self.pipeline = Gst.parse_launch(
            'appsrc name=src format=time '
            'caps=video/x-raw,format=GRAY8,width=8,height=8,framerate=10/1 '
            '! attendancesink name=sink')
        self.src = self.pipeline.get_by_name('src')
        self.sink = self.pipeline.get_by_name('sink')
        props.setdefault('flush-interval', 100)
        props.setdefault('max-backoff', 500)
        for k, v in props.items():
            self.sink.set_property(k, v)
        self.bus = self.pipeline.get_bus()
        self.messages = []
        self.frame = 0

    def start(self):
        ret = self.pipeline.set_state(Gst.State.PLAYING)
        self.drain()
        return ret != Gst.StateChangeReturn.FAILURE

    def push(self, faces):
        buf = Gst.Buffer.new_allocate(None, 64, None)
        buf.pts = self.frame * Gst.SECOND // 10
        buf.duration = Gst.SECOND // 10
        for f in faces:
            face_meta(buf, f)
        self.frame += 1
        check_ret = self.src.emit('push-buffer', buf)
        if check_ret != Gst.FlowReturn.OK:
            raise Failure('push-buffer returned %s' % check_ret)

    def drain(self):
        while True:
            msg = self.bus.pop()
            if msg is None:
                return
            self.messages.append(msg)

    def wait_for(self, pred, timeout=20.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for m in self.messages:
                if pred(m):
                    return m
            msg = self.bus.timed_pop(50 * Gst.MSECOND)
            if msg is not None:
                self.messages.append(msg)
        return None

    def element_messages(self, name):
        self.drain()
        return [m.get_structure() for m in self.messages
                if m.type == Gst.MessageType.ELEMENT
                and m.get_structure().get_name() == name]

    def errors(self):
        self.drain()
        return [m.parse_error() for m in self.messages if m.type == Gst.MessageType.ERROR]

    def warnings(self):
        self.drain()
        return [m.parse_warning() for m in self.messages if m.type == Gst.MessageType.WARNING]

    def stats(self):
        return self.sink.get_property('stats')

    def wait_written(self, timeout=20.0):
        """Until everything spooled is in the database."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            st = self.stats()
            done = st.get_value('events-written') + st.get_value('events-duplicate')
            if st.get_value('pending') == 0 and done > 0:
                return True
            time.sleep(0.05)
        return False

    def finish(self, timeout=30):
        self.src.emit('end-of-stream')
        msg = self.wait_for(lambda m: m.type in (Gst.MessageType.EOS, Gst.MessageType.ERROR),
                            timeout)
        if msg is None:
            raise Failure('no EOS within %ds' % timeout)
        self.stop()

    def stop(self):
        self.pipeline.set_state(Gst.State.NULL)
        self.drain()


def rows(pg, schema='surveillx'):
    q = ('SELECT s.external_id, s.name, a.camera_id, a.session_key, a.sightings, '
         'a.first_seen, a.last_seen, a.best_distance '
         'FROM "{0}".attendance a JOIN "{0}".students s ON s.id = a.student '
         'ORDER BY s.external_id').format(schema.replace('"', '""'))
    return pg.query(q)


# ---------------------------------------------------------------- cases

def case_basic(pg, tmp):
    spool = os.path.join(tmp, 'basic.spool')
    # First start migrates the schema; pre-enrol S1 the way the tool will.
    s = Sink(conninfo=pg.conninfo(), **{'camera-id': 'room-101', 'spool-location': spool})
    check(s.start(), 'sink starts')
    s.finish()
    pg.query("INSERT INTO surveillx.students (external_id, name) VALUES ('S1', 'Ada L')")

    s = Sink(conninfo=pg.conninfo(), **{'camera-id': 'room-101', 'spool-location': spool})
    check(s.start(), 'sink restarts')
    expected = {'S1': 0, 'S2': 0}
    for i in range(30):
        faces = [{'id': 'S1', 'label': 'Ada L', 'distance': 0.5 - i * 0.01}]
        expected['S1'] += 1
        if i % 3 == 0:
            faces.append({'id': 'S2', 'label': 'Grace H', 'distance': 0.4, 'track': 2})
            expected['S2'] += 1
        # Never counted: not confirmed, too far, no id, carried forward.
        faces.append({'id': 'S3', 'confirmed': False, 'track': 3})
        faces.append({'id': 'S4', 'distance': 0.7, 'track': 4})
        faces.append({'id': 'S4', 'distance': 0.6, 'track': 4})
        faces.append({'id': '', 'label': 'unknown', 'track': 5})
        faces.append({'id': 'S5', 'fresh': False, 'track': 6})
        s.push(faces)
        time.sleep(0.01)
        if i == 10:
            check(s.wait_written(), 'first sightings written while streaming')
            r = rows(pg)
            check([x[0] for x in r] == ['S1', 'S2'], 'rows appear during the stream')
    s.finish()

    r = rows(pg)
    check([x[0] for x in r] == ['S1', 'S2'],
          'one row per confirmed student, nothing for unconfirmed/over-threshold/no-id/stale (%s)'
          % [x[0] for x in r])
    today = datetime.date.today().isoformat()
    by_id = {x[0]: x for x in r}
    check(by_id['S1'][1] == 'Ada L', 'enrolled name kept')
    check(by_id['S2'][1] == 'Grace H', 'unknown student added with facerecog label as name')
    check(all(x[2] == 'room-101' for x in r), 'camera id stored')
    check(all(x[3] == 'room-101/' + today for x in r), 'default session = camera/local date')
    check(by_id['S1'][4] == expected['S1'] and by_id['S2'][4] == expected['S2'],
          'sightings counted exactly (%s vs %s)' % ({k: by_id[k][4] for k in by_id}, expected))
    check(by_id['S1'][6] > by_id['S1'][5], 'last_seen moves past first_seen')
    check(abs(by_id['S1'][7] - 0.21) < 1e-6, 'best (smallest) distance kept')
    added = s.element_messages('attendance-student-added')
    check(len(added) == 1 and added[0].get_value('id') == 'S2', 'student-added message for S2')
    check(len(s.element_messages('attendance-written')) > 0, 'attendance-written messages')
    check(os.path.getsize(spool) == 0, 'spool compacted once everything is written')

    # A second session-id is a new row; the same one again only updates it.
    for session, n in (('math-1', 2), ('math-1', 3), ('math-2', 1)):
        s = Sink(conninfo=pg.conninfo(), **{'camera-id': 'room-101', 'spool-location': spool,
                                            'session-id': session})
        s.start()
        for _ in range(n):
            s.push([{'id': 'S1'}])
        s.finish()
    got = pg.query("SELECT a.session_key, a.sightings FROM surveillx.attendance a "
                   "WHERE a.session_key LIKE 'math-%' ORDER BY 1")
    check(got == [('math-1', 5), ('math-2', 1)], 'session-id keys rows; repeats update (%s)' % got)

    # Gallery changes NOTIFY listeners, with the schema in the payload.
    conn = pg.connect()
    cur = conn.cursor()
    cur.execute('LISTEN surveillx_gallery')
    pg.query("INSERT INTO surveillx.face_descriptors (student, descriptor, source_photo) "
             "SELECT id, array_fill(0.5::real, ARRAY[128]), 'ada1.jpg' FROM surveillx.students "
             "WHERE external_id = 'S1'")
    select.select([conn], [], [], 5)
    conn.poll()
    payloads = [n.payload for n in conn.notifies]
    conn.close()
    check(any('"schema" : "surveillx"' in p and 'face_descriptors' in p for p in payloads),
          'NOTIFY surveillx_gallery on descriptor insert (%s)' % payloads)
    version = pg.query('SELECT max(version) FROM surveillx.schema_migrations')[0][0]
    check(version >= 1, 'schema_migrations records version %s' % version)


PEOPLE = ['amy', 'bernadette', 'howard', 'leonard', 'penny', 'raj',
          'sheldon', 'stuart']


def case_recognised(pg, tmp):
    """The real facerecog in front: five of the eight enrolled people take
    each other's place at a door, one after another with no gap (images 1,
    2, 4, 5 of each; the gallery holds image 3). Rows for exactly the five
    seen, each with no more sightings than the frames that showed them: a
    face that replaced another never counted for the one before."""
    import numpy
    import cv2
    testdata = os.environ.get('SURVEILLX_TESTDATA',
                              os.path.join(os.path.dirname(__file__), '..', '..', '..',
                                           'shared', 'testdata'))
    faces = os.path.join(testdata, 'faces', 'identities')
    gallery = os.path.join(tmp, 'gallery')
    for person in PEOPLE:
        os.makedirs(os.path.join(gallery, person))
        os.symlink(os.path.join(faces, '%s3.png' % person),
                   os.path.join(gallery, person, '3.png'))
    seen = ['amy', 'howard', 'penny', 'raj', 'sheldon']
    fps, side = 10, 260
    frames = []                 # (person, RGB bytes)
    for n in (1, 2, 4, 5):
        for person in seen:
            img = cv2.imread(os.path.join(faces, '%s%d.png' % (person, n)))
            border = (side - img.shape[0]) // 2
            img = cv2.copyMakeBorder(img, border, border, border, border,
                                     cv2.BORDER_REPLICATE)
            rgb = numpy.ascontiguousarray(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))
            frames += [(person, rgb.tobytes())] * fps
    pipeline = Gst.parse_launch(
        'appsrc name=src format=time max-bytes=0 '
        'caps=video/x-raw,format=RGB,width={0},height={0},framerate={1}/1 '
        '! facerecog name=rec synchronous=true gallery="{2}" '
        '! attendancesink name=sink flush-interval=100'.format(side, fps, gallery))
    sink = pipeline.get_by_name('sink')
    sink.set_property('conninfo', pg.conninfo())
    sink.set_property('camera-id', 'door')
    sink.set_property('spool-location', os.path.join(tmp, 'door.spool'))
    src = pipeline.get_by_name('src')
    check(pipeline.set_state(Gst.State.PLAYING) != Gst.StateChangeReturn.FAILURE,
          'facerecog ! attendancesink starts')
    for i, (_, data) in enumerate(frames):
        buf = Gst.Buffer.new_wrapped(data)
        buf.pts = i * Gst.SECOND // fps
        buf.duration = Gst.SECOND // fps
        src.emit('push-buffer', buf)
    src.emit('end-of-stream')
    msg = pipeline.get_bus().timed_pop_filtered(
        300 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
    check(msg is not None and msg.type == Gst.MessageType.EOS,
          'the whole video analysed to EOS (%s)' % (
              msg.parse_error()[0].message if msg and msg.type == Gst.MessageType.ERROR
              else 'ok' if msg else 'timed out'))
    pipeline.set_state(Gst.State.NULL)
    # A face counts once its track is confirmed: from its third analysis
    # (min-votes 3) of the ten that show each photo.
    min_votes = pipeline.get_by_name('rec').get_property('min-votes')
    shown = {p: 4 * (fps - (min_votes - 1)) for p in seen}
    r = {x[0]: x for x in rows(pg)}
    print('   rows:', {k: (v[4], round(v[7], 3)) for k, v in sorted(r.items())}, flush=True)
    check(sorted(r) == seen, 'rows for exactly the people seen (%s)' % sorted(r))
    check(all(0 < r[p][4] <= shown[p] for p in seen),
          'each has sightings, no more than the confirmed frames that showed them (%s)' %
          {p: (r[p][4], shown[p]) for p in seen})
    check(all(r[p][7] < 0.6 for p in seen), 'best distances under the threshold')


def case_hostile(pg, tmp):
    schema = 'sx "odd"; DROP SCHEMA public --'
    spool = os.path.join(tmp, 'hostile.spool')
    camera = "cam'); DROP TABLE attendance; --"
    session = "sess\"'; DELETE FROM students"
    s = Sink(conninfo=pg.conninfo(), schema=schema,
             **{'camera-id': camera, 'session-id': session, 'spool-location': spool})
    check(s.start(), 'sink starts with a hostile schema name')
    for i in range(5):
        s.push([{'id': h, 'label': 'name of ' + h, 'track': n} for n, h in enumerate(HOSTILE)])
    s.finish()
    check(not s.errors(), 'no errors (%s)' % s.errors())
    r = rows(pg, schema)
    check(sorted(x[0] for x in r) == sorted(HOSTILE), 'hostile ids stored verbatim')
    check(all(x[1] == 'name of ' + x[0] for x in r), 'hostile names stored verbatim')
    check(all(x[2] == camera and x[3] == session for x in r), 'hostile camera/session verbatim')
    check(all(x[4] == 5 for x in r), 'each seen 5 times')
    check(pg.query("SELECT count(*) FROM pg_namespace WHERE nspname = 'public'")[0][0] == 1,
          'public schema still there')


def _students(prefix, n):
    return ['%s%02d' % (prefix, i) for i in range(n)]


def case_kill_restart(pg, tmp):
    """kill -9 the server mid-stream, restart: every row exactly once and
    every sighting counted exactly once."""
    spool = os.path.join(tmp, 'kill.spool')
    s = Sink(conninfo=pg.conninfo(), **{'camera-id': 'room-9', 'spool-location': spool,
                                        'session-id': 'kill', 'flush-interval': 20})
    check(s.start(), 'sink starts')
    ids = _students('K', 12)
    expected = {i: 0 for i in ids}

    def push_round(r):
        faces = []
        for n, sid in enumerate(ids):
            if (r + n) % 2 == 0:
                faces.append({'id': sid, 'track': n})
                expected[sid] += 1
        s.push(faces)
        time.sleep(0.005)

    for r in range(100):
        push_round(r)
    for cycle in range(3):
        # Mid-write: kill while the writer is busy with many small batches.
        pg.kill()
        for r in range(60):
            push_round(r)
        pg.start()
        for r in range(60):
            push_round(r)
    s.finish(timeout=60)
    st = s.stats()
    print('stats:', st.to_string(), flush=True)
    check(st.get_value('pending') == 0, 'nothing left pending after EOS')
    check(st.get_value('connects') >= 2, 'writer reconnected (%d connects)' % st.get_value('connects'))
    check(len(s.warnings()) >= 1, 'outage reported as a warning')
    check(not s.errors(), 'no error messages for an outage')
    r = rows(pg)
    check([x[0] for x in r] == ids, 'every student exactly one row')
    got = {x[0]: x[4] for x in r}
    check(got == expected, 'every sighting counted exactly once (%s vs %s)' % (got, expected))


def case_spool_replay(pg, tmp):
    """Stop the pipeline while the server is down; the next start replays."""
    spool = os.path.join(tmp, 'replay.spool')
    conninfo = pg.conninfo()
    # Migrate once so the restarted sink's replay meets a ready schema.
    s = Sink(conninfo=conninfo, **{'spool-location': spool})
    s.start()
    s.finish()
    pg.stop()

    s = Sink(conninfo=conninfo, **{'camera-id': 'room-7', 'session-id': 'replay',
                                   'spool-location': spool, 'flush-timeout': 500})
    check(s.start(), 'sink starts with the server down')
    ids = _students('R', 6)
    for r in range(20):
        s.push([{'id': sid, 'track': n} for n, sid in enumerate(ids)])
    t0 = time.monotonic()
    s.finish()
    check(time.monotonic() - t0 < 10, 'EOS + stop bounded by flush-timeout with server down')
    check(not s.errors(), 'server down is not an error')
    check(len(s.element_messages('attendance-spooled')) > 0, 'attendance-spooled messages')
    size = os.path.getsize(spool)
    check(size > 0, 'events kept in the spool (%d bytes)' % size)
    with open(spool) as f:
        content = f.read()
    check(all(sid in content for sid in ids), 'spool holds every student')

    pg.start()
    s = Sink(conninfo=conninfo, **{'camera-id': 'room-7', 'spool-location': spool})
    check(s.start(), 'sink restarts')
    check(s.wait_written(), 'spool replayed')
    s.finish()
    r = rows(pg)
    check([x[0] for x in r] == ids, 'every spooled student written once')
    check(all(x[4] == 20 and x[3] == 'replay' for x in r),
          'sightings and session from the spool (%s)' % [(x[0], x[3], x[4]) for x in r])
    check(os.path.getsize(spool) == 0, 'spool compacted after replay')

    # Replaying an already-written spool again changes nothing (ambiguous
    # commit: the COMMIT reached the server, its answer did not).
    s = Sink(conninfo=conninfo, **{'camera-id': 'room-7', 'session-id': 'dup',
                                   'spool-location': spool})
    s.start()
    s.push([{'id': 'R00'}])
    s.finish()
    before = pg.query("SELECT sightings FROM surveillx.attendance WHERE session_key = 'dup'")
    # Re-inject the same event ids the database already has.
    event_ids = [x[0] for x in pg.query('SELECT event_id::text FROM surveillx.attendance_events')]
    with open(spool, 'w') as f:
        for eid in event_ids[-1:]:
            f.write('{"event":"%s","student":"R00","label":"","camera":"room-7",'
                    '"session":"dup","first":1,"last":2,"sightings":1,"distance":0.3}\n' % eid)
    s = Sink(conninfo=conninfo, **{'spool-location': spool})
    s.start()
    time.sleep(0.5)
    dup = s.stats().get_value('events-duplicate')
    s.finish()
    after = pg.query("SELECT sightings FROM surveillx.attendance WHERE session_key = 'dup'")
    check(before == after == [(1,)] and dup == 1,
          'replayed event id recognised, not counted twice (%s %s dup=%d)' % (before, after, dup))


def _expect_start_failure(props, secret, what):
    s = Sink(**props)
    started = s.start()
    err = None
    if started:
        m = s.wait_for(lambda m: m.type == Gst.MessageType.ERROR, 20)
        err = m.parse_error() if m else None
    else:
        errs = s.errors()
        err = errs[0] if errs else None
    s.stop()
    check(err is not None, '%s: error reported' % what)
    text = err[0].message + ' ' + (err[1] or '')
    print('   message:', text, flush=True)
    check(secret not in text, '%s: password not in the message' % what)
    return text


def case_bad_config(pg, tmp):
    spool = os.path.join(tmp, 'bad.spool')
    text = _expect_start_failure(
        {'conninfo': 'host=127.0.0.1 passwrd=hunter2secret', 'spool-location': spool},
        'hunter2secret', 'misspelt keyword')
    check('passwrd' in text, 'names the bad keyword')
    text = _expect_start_failure(
        {'conninfo': 'postgresql://sx:hunter2%zzsecret@127.0.0.1/db', 'spool-location': spool},
        'hunter2', 'malformed URI')
    check('URI' in text or 'percent' in text, 'says what is wrong with the URI')
    text = _expect_start_failure(
        {'conninfo': "host=127.0.0.1 port=1 password='Zk9secret", 'spool-location': spool},
        'Zk9secret', 'unterminated quote')
    check('unterminated' in text, 'says the quote is unterminated')
    wrong = 'wrong-' + pg.password
    text = _expect_start_failure(
        {'conninfo': pg.conninfo(password=wrong), 'spool-location': spool},
        wrong, 'wrong password')
    check('password authentication failed' in text, 'says the password was refused')
    check(pg.password not in text, 'real password not in the message either')
    text = _expect_start_failure(
        {'conninfo': 'postgresql://postgres:%s@127.0.0.1:%d/surveillx' % (wrong, pg.port),
         'spool-location': spool}, wrong, 'wrong password in a URI')
    text = _expect_start_failure(
        {'conninfo': pg.conninfo(), 'schema': 'nosuchschema', 'migrate': False,
         'spool-location': spool}, pg.password, 'missing schema')
    check('nosuchschema' in text and 'does not exist' in text, 'names the missing schema')
    text = _expect_start_failure(
        {'conninfo': pg.conninfo(), 'schema': '', 'spool-location': spool},
        pg.password, 'empty schema name')

    # The password never shows through the property either.
    s = Sink(conninfo=pg.conninfo())
    shown = s.sink.get_property('conninfo')
    check(pg.password not in shown and 'password=********' in shown,
          'conninfo property reads back redacted (%s)' % shown)


def case_tls(pg, tmp):
    """PostgreSQL over TLS with sslmode=verify-full and the school's own CA
    (docs/security.md): rows land over an encrypted connection; a server
    whose certificate another CA signed, or that names another host, is
    refused and nothing is written to it."""
    from testca import TestCA
    ca = TestCA(os.path.join(tmp, 'ca'))
    other = TestCA(os.path.join(tmp, 'other'), 'another CA')
    cert, key = ca.issue('db', ['127.0.0.1', 'localhost'])
    pg.enable_ssl(cert, key)

    def sink(root, spool_name, camera):
        return Sink(conninfo=pg.conninfo() + ' sslmode=verify-full '
                    'sslrootcert=' + root,
                    **{'camera-id': camera,
                       'spool-location': os.path.join(tmp, spool_name)})

    s = sink(ca.cert, 'tls.spool', 'room-tls')
    check(s.start(), 'sink starts with sslmode=verify-full')
    s.push([{'id': 'S1', 'label': 'Ada L', 'distance': 0.3}])
    check(s.wait_written(), 'the sighting is written over TLS')
    encrypted = pg.query(
        "SELECT bool_and(s.ssl), count(*) FROM pg_stat_ssl s JOIN "
        "pg_stat_activity a USING (pid) WHERE a.backend_type = 'client "
        "backend' AND a.pid <> pg_backend_pid() AND a.datname = 'surveillx'")
    print('   sink connections (all TLS, count):', encrypted, flush=True)
    check(encrypted[0][0] is True and encrypted[0][1] >= 1,
          'the sink\'s connection is TLS (pg_stat_ssl: %s)' % encrypted)
    s.finish()
    check([r[0] for r in rows(pg)] == ['S1'], 'its row landed')

    def refused(root, what, camera):
        s = sink(root, camera + '.spool', camera)
        if s.start():
            s.push([{'id': 'S2', 'label': 'Grace H', 'distance': 0.3}])
            s.wait_for(lambda m: m.type in (Gst.MessageType.ERROR,
                                            Gst.MessageType.WARNING), 20)
        texts = [e[0].message + ' ' + (e[1] or '')
                 for e in s.errors() + s.warnings()]
        s.stop()
        print('   %s: %s' % (what, texts[:1]), flush=True)
        check(any('certificate' in t for t in texts),
              '%s: refused, and the message says certificate' % what)

    refused(other.cert, 'a CA that did not sign the server', 'room-other')
    # the right CA, but a certificate for another host name
    pg.enable_ssl(*ca.issue('elsewhere', ['db.school.example']))
    refused(ca.cert, 'a certificate for another host', 'room-name')
    check([r[0] for r in rows(pg)] == ['S1'],
          'nothing was written through a refused connection')


def case_spool_errors(pg, tmp):
    afile = os.path.join(tmp, 'plainfile')
    open(afile, 'w').close()
    text = _expect_start_failure(
        {'conninfo': pg.conninfo(), 'spool-location': os.path.join(afile, 'x.spool')},
        pg.password, 'spool under a file')
    check('x.spool' in text, 'names the spool (%s)' % text)
    text = _expect_start_failure(
        {'conninfo': pg.conninfo(), 'spool-location': '/dev/full'},
        pg.password, 'spool on a device')
    check('not a regular file' in text, 'says why')
    # Two sinks cannot share a spool: the second is refused.
    spool = os.path.join(tmp, 'shared.spool')
    a = Sink(conninfo=pg.conninfo(), **{'spool-location': spool})
    check(a.start(), 'first sink owns the spool')
    text = _expect_start_failure(
        {'conninfo': pg.conninfo(), 'spool-location': spool}, pg.password, 'shared spool')
    check('in use' in text, 'says the spool is in use')
    a.stop()


def case_disk_full(pg, tmp):
    """The spool's file system fills up during a database outage (a
    64 KiB tmpfs in a mount namespace of our own): a clear warning naming
    the spool and the cause, no crash, no error, and once the database is
    back every sighting (kept in memory) reaches it exactly once."""
    mnt = os.path.join(tmp, 'small')
    os.makedirs(mnt)
    subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt],
                   check=True)
    try:
        spool = os.path.join(mnt, 'full.spool')
        s = Sink(conninfo=pg.conninfo(), **{'camera-id': 'room-f',
                                            'spool-location': spool,
                                            'session-id': 'full',
                                            'flush-interval': 20})
        check(s.start(), 'sink starts with its spool on the small file system')
        ids = _students('F', 6)
        expected = {i: 0 for i in ids}

        def push_rounds(n):
            for r in range(n):
                faces = [{'id': sid, 'track': k} for k, sid in enumerate(ids)
                         if (r + k) % 2 == 0]
                for f in faces:
                    expected[f['id']] += 1
                s.push(faces)
                time.sleep(0.005)
        push_rounds(40)
        check(s.wait_written(), 'sightings written before the disk fills')
        # the spool only grows while the database is down (written events
        # are compacted away): an outage, then the disk fills
        pg.kill()
        # fill every remaining block
        with open(os.path.join(mnt, 'ballast'), 'wb', buffering=0) as f:
            try:
                while True:
                    f.write(b'\0' * 4096)
                    f.flush()
            except OSError as e:
                print('ballast stopped by: %s' % e, flush=True)
        push_rounds(80)
        warned = s.wait_for(lambda m: m.type == Gst.MessageType.WARNING and
                            'No space left' in m.parse_warning()[0].message, 20)
        check(warned is not None, 'a warning says the spool is out of space')
        if warned:
            text = warned.parse_warning()[0].message
            check('full.spool' in text, 'the warning names the spool (%s)' %
                  text)
        pg.start()
        check(s.wait_written(timeout=60),
              'after the outage every sighting reaches the database')
        s.finish(timeout=60)
        check(not s.errors(), 'no error message, no crash')
        got = {x[0]: x[4] for x in rows(pg)}
        check(got == expected, 'every sighting counted exactly once with a '
              'full disk (%s vs %s)' % (got, expected))
    finally:
        subprocess.run(['umount', '-l', mnt])


def _client_backends(pg):
    """The server's client connections other than the test's own queries
    (psycopg2's, which carry no application name), by application name."""
    return pg.query(
        "SELECT application_name, count(*) FROM pg_stat_activity "
        "WHERE backend_type = 'client backend' AND application_name <> '' "
        "AND pid <> pg_backend_pid() GROUP BY 1")


def case_shared(pg, tmp):
    """Sixteen sinks of one process on one database share one connection
    (one backend on the server) and one writer thread, each with its own
    spool, rows and stats; a sink on another schema has its own. An outage
    reaches every sink, each replays its own events after it; sinks that
    leave do not take the connection from the others."""
    conninfo = pg.conninfo()

    def sink(camera, schema='surveillx'):
        return Sink(conninfo=conninfo, schema=schema, **{
            'camera-id': camera, 'session-id': 'shared-' + schema,
            'spool-location': os.path.join(tmp, camera + '.spool')})
    sinks = [sink('cam-%02d' % i) for i in range(16)]
    other = sink('cam-other', schema='other')
    for s in sinks + [other]:
        check(s.start(), '%s starts' % s.sink.get_property('camera-id'))

    def push_round(tag):
        for i, s in enumerate(sinks):
            s.push([{'id': '%s%02d' % (tag, i), 'track': 1}])
        other.push([{'id': tag + '-other', 'track': 1}])

    for _ in range(3):
        push_round('P')
    check(all(s.wait_written() for s in sinks + [other]),
          'every sink wrote its students')
    wait(lambda: sum(n for _, n in _client_backends(pg)) == 2, 10)
    backends = _client_backends(pg)
    print('   backends:', backends, flush=True)
    check(sum(n for _, n in backends) == 2,
          'seventeen sinks, two databases/schemas: two connections (%s)'
          % backends)
    names = sorted(r[0] for r in rows(pg))
    check(names == ['P%02d' % i for i in range(16)],
          'one row per sink\'s student in the shared schema (%s)' % names)
    check([r[0] for r in rows(pg, 'other')] == ['P-other'],
          'the other schema has its own row')
    check(all(r[2] == 'cam-%02d' % i for i, r in enumerate(rows(pg))),
          'each row carries its own sink\'s camera')

    pg.stop()
    for _ in range(3):
        push_round('Q')
    spooled = lambda s: s.stats().get_value('pending') > 0
    check(all(wait(lambda s=s: spooled(s), 20) for s in sinks),
          'with the server down every sink spools its own events')
    warned = [s for s in sinks
              if s.wait_for(lambda m: m.type == Gst.MessageType.WARNING, 20)]
    check(len(warned) == 16, 'the outage reaches every sink of the shared '
          'connection (%d of 16 warned)' % len(warned))
    check(all(not s.errors() for s in sinks), 'an outage is no error')
    pg.start()
    check(all(s.wait_written(40) for s in sinks + [other]),
          'after the outage every sink replays its own events')
    names = sorted(r[0] for r in rows(pg))
    check(names == sorted(['P%02d' % i for i in range(16)] +
                          ['Q%02d' % i for i in range(16)]),
          'the outage\'s rows, each once (%d rows)' % len(names))

    for s in sinks[1:]:
        s.finish()
    before = sinks[0].stats().get_value('events-written')
    sinks[0].push([{'id': 'R00', 'track': 1}])
    check(bool(wait(lambda: sinks[0].stats().get_value('events-written') >
                    before, 20)),
          'the last sink on the connection still writes after fifteen left')
    check(any(r[0] == 'R00' for r in rows(pg)), 'its row is there')
    # a backend that is still starting or ending shows in pg_stat_activity
    # for a moment: the count settles
    settled = wait(lambda: sum(n for _, n in _client_backends(pg)) == 2, 10)
    check(bool(settled), 'still one connection each (%s)'
          % _client_backends(pg))
    st = sinks[0].stats()
    check(st.get_value('events-written') >= 3 and
          st.get_value('events-duplicate') == 0,
          'its own counters only (%s)' % st.to_string())
    sinks[0].finish()
    other.finish()
    check(bool(wait(lambda: not _client_backends(pg), 10)),
          'the last sink to leave closes the connection')


def case_fence(pg, tmp):
    """lease-epoch: a sink whose camera was taken by a later lease (another
    launcher, sql/003_registry.sql) writes nothing from after the take; an
    event that spans the take ends at it; the new holder counts on."""
    def take(who):
        return pg.query("SELECT surveillx.take_camera('room-7', %s, "
                        "'1 minute')", (who,))[0][0]

    def row():
        got = pg.query("SELECT a.sightings, a.last_seen FROM "
                       "surveillx.attendance a JOIN surveillx.students s ON "
                       "s.id = a.student WHERE s.external_id = 'S1' AND "
                       "a.session_key = 'fence-1'")
        return got[0] if got else (0, None)

    props = {'camera-id': 'room-7', 'session-id': 'fence-1'}
    old = Sink(conninfo=pg.conninfo(), **dict(
        props, **{'spool-location': os.path.join(tmp, 'old.spool')}))
    check(old.start(), 'sink starts')
    check(bool(wait(lambda: old.stats().get_value('connected'), 20)),
          'sink connected (the schema migrated)')
    e1 = take('launcher-a')
    old.sink.set_property('lease-epoch', e1)
    check(old.sink.get_property('lease-epoch') == e1,
          'lease-epoch set while playing')
    for _ in range(4):
        old.push([{'id': 'S1'}])
    check(old.wait_written(), 'the holder\'s sightings written')
    check(row()[0] == 4, 'four sightings counted (%s)' % (row(),))

    e2 = take('launcher-b')
    check(e2 > e1, 'a later take has a larger epoch (%d > %d)' % (e2, e1))
    time.sleep(0.05)  # sightings strictly after the take
    for _ in range(5):
        old.push([{'id': 'S1'}])
    check(bool(wait(lambda: old.stats().get_value('events-fenced') >= 1, 10)),
          'the old holder\'s later sightings are fenced (events-fenced %d)' %
          old.stats().get_value('events-fenced'))
    check(row()[0] == 4, 'and not counted (%s)' % (row(),))
    old.finish()

    new = Sink(conninfo=pg.conninfo(), **dict(
        props, **{'spool-location': os.path.join(tmp, 'new.spool'),
                  'lease-epoch': e2, 'flush-interval': 3000}))
    check(new.start(), 'the new holder starts')
    for _ in range(3):
        new.push([{'id': 'S1'}])
    # its aggregate spans the next take: counted, ending at the take
    time.sleep(0.3)
    e3 = take('launcher-c')
    taken = pg.query("SELECT taken FROM surveillx.camera_leases WHERE "
                     "epoch = %s", (e3,))[0][0]
    time.sleep(0.3)
    new.push([{'id': 'S1'}])
    new.finish()
    sightings, last_seen = row()
    check(sightings == 8, 'the new holder\'s sightings counted, the span '
          'across the next take too (%d)' % sightings)
    check(last_seen <= taken, 'a span across a take ends at it (%s <= %s)'
          % (last_seen, taken))
    check(new.stats().get_value('events-fenced') == 0,
          'nothing of the new holder fenced')
    registry = pg.query("SELECT launcher_id, epoch, state FROM "
                        "surveillx.camera_registry")
    check(registry == [('launcher-c', e3, 'held')],
          'camera_registry shows the latest holder (%s)' % registry)
    ended = pg.query("SELECT epoch, end_reason FROM surveillx.camera_leases "
                     "WHERE ended IS NOT NULL ORDER BY epoch")
    check(ended == [(e1, 'taken over by launcher-b'),
                    (e2, 'taken over by launcher-c')],
          'earlier leases ended, naming who took over (%s)' % ended)


def wait(pred, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = pred()
        if got:
            return got
        time.sleep(0.1)
    return None


CASES = {
    'basic': case_basic,
    'fence': case_fence,
    'shared': case_shared,
    'hostile': case_hostile,
    'kill-restart': case_kill_restart,
    'spool-replay': case_spool_replay,
    'bad-config': case_bad_config,
    'spool-errors': case_spool_errors,
    'tls': case_tls,
    'disk-full': case_disk_full,
    'recognised': case_recognised,
}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in CASES:
        sys.exit('usage: %s {%s}' % (sys.argv[0], '|'.join(CASES)))
    if sys.argv[1] == 'disk-full' and os.environ.get('SX_ATT_MOUNTNS') != '1':
        # a private mount namespace for the small tmpfs (needs root)
        os.execvpe('unshare', ['unshare', '--mount', '--propagation',
                               'private', '--', sys.executable] + sys.argv,
                   dict(os.environ, SX_ATT_MOUNTNS='1'))
    with tempfile.TemporaryDirectory(prefix='sx-att-') as tmp, PgCluster() as pg:
        try:
            CASES[sys.argv[1]](pg, tmp)
        except Failure as e:
            print('FAIL:', e, flush=True)
            print(pg.log_tail(), flush=True)
            sys.exit(1)
    print('PASS', sys.argv[1])


if __name__ == '__main__':
    main()
