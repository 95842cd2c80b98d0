#!/usr/bin/python3
"""surveillx-enroll, facerecog's PostgreSQL gallery and attendancesink
together, against a real PostgreSQL server the test starts itself, on the
shared face photos.

usage: test_enroll.py CASE   (CASE: see CASES at the bottom)
"""
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.environ.get('SURVEILLX_SOURCE_ROOT',
                      os.path.join(os.path.dirname(__file__), '..', '..'))
BUILD = os.environ['SURVEILLX_BUILD_ROOT']
FACES = os.path.join(os.environ['SURVEILLX_TESTDATA'], 'faces')
ENROLL = os.path.join(BUILD, 'tools', 'surveillx-enroll')
sys.path.insert(0, os.path.join(ROOT, 'tests', 'peers'))
from pgcluster import PgCluster  # noqa: E402

import gi  # noqa: E402
gi.require_version('Gst', '1.0')
from gi.repository import Gst  # noqa: E402

Gst.init(None)

PEOPLE = ['amy', 'bernadette', 'howard', 'leonard', 'penny', 'raj',
          'sheldon', 'stuart']


def student_id(person):
    return 'S%03d' % (PEOPLE.index(person) + 1)


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)
    print('ok:', what, flush=True)


def photo(person, n):
    return os.path.join(FACES, 'identities', '%s%d.png' % (person, n))


def enroll(pg, *args, expect=0):
    cmd = [ENROLL, '--db', pg.conninfo()] + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    print('$', ' '.join(cmd[3:]), '->', p.returncode, p.stdout.strip(),
          p.stderr.strip(), flush=True)
    if expect is not None and p.returncode != expect:
        raise Failure('surveillx-enroll %s exited %d: %s' % (args[0], p.returncode, p.stderr))
    return p


def segment(person, n, frames):
    """One photo, padded like a person seen at a distance, for `frames`
    frames, then black frames so the tracker lets the face go."""
    return ('filesrc location="%s" ! decodebin ! videoconvert ! '
            'videobox left=-75 right=-75 top=-75 bottom=-75 ! videoconvert ! '
            'video/x-raw,format=I420,width=300,height=300 ! '
            'imagefreeze num-buffers=%d ! video/x-raw,framerate=10/1 ! c. '
            'videotestsrc pattern=black num-buffers=4 ! '
            'video/x-raw,format=I420,width=300,height=300,framerate=10/1 ! c. '
            % (photo(person, n), frames))


def run_offline(desc, timeout=300):
    pipeline = Gst.parse_launch(desc)
    bus = pipeline.get_bus()
    pipeline.set_state(Gst.State.PLAYING)
    msg = bus.timed_pop_filtered(timeout * Gst.SECOND,
                                 Gst.MessageType.EOS | Gst.MessageType.ERROR)
    err = None
    if msg and msg.type == Gst.MessageType.ERROR:
        err = msg.parse_error()[0].message
    pipeline.set_state(Gst.State.NULL)
    if msg is None:
        raise Failure('pipeline did not finish')
    return err


def enrol_all(pg, people):
    for person in people:
        enroll(pg, 'add', '--id', student_id(person), '--name', person.title(),
               photo(person, 1))


def case_attendance(pg):
    """Enrol image 1 of everyone; images 2-5 of four people through
    facerecog (database gallery) and attendancesink: one row per person."""
    enrol_all(pg, PEOPLE)
    listed = enroll(pg, 'list').stdout.strip().splitlines()
    check(len(listed) == 8, 'list shows the 8 enrolled students')
    check(all(line.split('\t')[3] == '1' for line in listed),
          'one descriptor each')

    seen = ['amy', 'howard', 'penny', 'raj']
    branches = ''.join(segment(p, n, 6) for p in seen for n in (2, 3, 4, 5))
    desc = ('concat name=c ! facerecog gallery="%s" synchronous=true '
            'min-votes=3 max-misses=1 ! attendancesink conninfo="%s" '
            'camera-id=room-1 session-id=lesson-1 flush-interval=100 '
            'spool-location="%s" %s'
            % (pg.conninfo(), pg.conninfo(),
               os.path.join(pg.tmp, 'spool'), branches))
    err = run_offline(desc)
    check(err is None, 'pipeline ran to EOS (%s)' % err)
    rows = pg.query(
        'SELECT s.external_id, a.camera_id, a.session_key, a.sightings '
        'FROM surveillx.attendance a JOIN surveillx.students s '
        'ON s.id = a.student ORDER BY s.external_id')
    print(rows)
    check(sorted(r[0] for r in rows) == sorted(student_id(p) for p in seen),
          'exactly one row per person seen, with the right ids')
    check(all(r[1] == 'room-1' and r[2] == 'lesson-1' and r[3] >= 4
              for r in rows), 'camera, session and sightings recorded')


def case_live_enrol(pg):
    """A student enrolled while the pipeline runs is recognised without a
    restart (NOTIFY reload)."""
    enrol_all(pg, ['amy', 'howard'])
    desc = ('filesrc location="%s" ! decodebin ! videoconvert ! '
            'videobox left=-75 right=-75 top=-75 bottom=-75 ! videoconvert ! '
            'video/x-raw,format=I420,width=300,height=300 ! '
            'imagefreeze is-live=true ! video/x-raw,framerate=10/1 ! '
            'facerecog name=rec gallery="%s" min-votes=2 ! '
            'attendancesink conninfo="%s" camera-id=room-2 session-id=s2 '
            'flush-interval=100 spool-location="%s"'
            % (photo('stuart', 3), pg.conninfo(), pg.conninfo(),
               os.path.join(pg.tmp, 'spool2')))
    pipeline = Gst.parse_launch(desc)
    bus = pipeline.get_bus()
    pipeline.set_state(Gst.State.PLAYING)
    reloads = []
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            msg = bus.timed_pop(100 * Gst.MSECOND)
            if msg and msg.type == Gst.MessageType.ERROR:
                raise Failure(msg.parse_error()[0].message)
            rec = pipeline.get_by_name('rec')
            if rec.get_property('stats').get_uint64('analysed')[1] >= 3:
                break
        rows = pg.query('SELECT count(*) FROM surveillx.attendance')
        check(rows[0][0] == 0, 'stuart unknown before enrolment: no row')

        enroll(pg, 'add', '--id', 'S008', '--name', 'Stuart', photo('stuart', 1))
        found = None
        deadline = time.time() + 30
        while time.time() < deadline and not found:
            # every message queued so far: facerecog posts one per analysis,
            # and the reload's must not wait behind them
            msg = bus.timed_pop(200 * Gst.MSECOND)
            while msg:
                if msg.type == Gst.MessageType.ELEMENT and \
                        msg.get_structure().get_name() == 'facerecog-gallery':
                    reloads.append(msg.get_structure().get_value('people'))
                msg = bus.pop()
            rows = pg.query(
                'SELECT s.external_id FROM surveillx.attendance a '
                'JOIN surveillx.students s ON s.id = a.student')
            found = rows[0][0] if rows else None
        check(reloads and reloads[-1] == 3, 'gallery reloaded with 3 people')
        check(found == 'S008', 'stuart recognised and present after enrolment')
    finally:
        pipeline.set_state(Gst.State.NULL)


def case_hostile(pg):
    """Quotes and SQL in ids and names are stored verbatim."""
    name = "Robert'); DROP TABLE students;--"
    sid = "S'1; DROP TABLE face_descriptors"
    enroll(pg, 'add', '--id', sid, '--name', name, photo('raj', 1))
    rows = pg.query('SELECT external_id, name FROM surveillx.students')
    check(rows == [(sid, name)], 'hostile id and name stored verbatim')
    listed = enroll(pg, 'list').stdout
    check(sid in listed and name in listed, 'and listed verbatim')
    enroll(pg, 'remove', '--id', sid)
    check(pg.query('SELECT count(*) FROM surveillx.face_descriptors')[0][0] == 0,
          'remove takes the descriptors with the student')


def case_bad_photos(pg):
    """Zero or several faces: an error naming the photo, nothing written
    for it; the good photo of the same call is enrolled."""
    group = os.path.join(FACES, 'bbt1.jpg')
    with tempfile.NamedTemporaryFile(suffix='.jpg') as junk:
        junk.write(b'not a jpeg')
        junk.flush()
        p = enroll(pg, 'add', '--id', 'S9', '--name', 'Mixed', group,
                   junk.name, photo('penny', 1), expect=1)
        check(group in p.stderr and 'faces' in p.stderr,
              'group photo refused, named, face count given')
        check(junk.name in p.stderr, 'unreadable photo refused and named')
    n = pg.query('SELECT count(*) FROM surveillx.face_descriptors')[0][0]
    check(n == 1, 'only the good photo was written')
    p = enroll(pg, 'add', '--id', 'S10', group, expect=1)
    check(pg.query("SELECT count(*) FROM surveillx.students "
                   "WHERE external_id = 'S10'")[0][0] == 0,
          'a call with no usable photo writes no student')


def case_bad_db(pg):
    """Bad conninfo, wrong password, missing schema: clear errors, no crash,
    no password in any message."""
    secret = 'sekrit-pw-123'
    bad = [
        ('host=127.0.0.1 port=%d dbname=%s user=postgres passwrd=%s'
         % (pg.port, pg.dbname, secret), 'passwrd'),
        (pg.conninfo(password=secret + 'x'), 'password'),
    ]
    for conninfo, needle in bad:
        p = subprocess.run([ENROLL, '--db', conninfo, 'list'],
                           capture_output=True, text=True, timeout=60)
        print(p.returncode, p.stderr.strip())
        check(p.returncode == 1 and needle in p.stderr,
              'clear error for %s' % needle)
        check(secret not in p.stderr, 'password not in the message')
    # facerecog with an unusable gallery database: error at start
    err = run_offline('videotestsrc num-buffers=1 ! facerecog gallery="%s" '
                      '! fakesink' % bad[1][0])
    check(err is not None and 'PostgreSQL' in err and secret not in err,
          'facerecog: clear gallery error (%s)' % err)
    p = subprocess.run([ENROLL, '--db', pg.conninfo(), '--schema', 'pg_mine',
                        'list'], capture_output=True, text=True, timeout=60)
    check(p.returncode == 2 and 'reserved' in p.stderr, 'bad schema name refused')


def case_file(pg):
    """Descriptor files: add/list/remove on a file, export/import with the
    database, and facerecog reading the file."""
    enrol_all(pg, ['leonard', 'sheldon'])
    with tempfile.TemporaryDirectory() as tmp:
        exported = os.path.join(tmp, 'gallery.json')
        enroll(pg, 'export', exported)
        listed = subprocess.run([ENROLL, '--file', exported, 'list'],
                                capture_output=True, text=True, check=True).stdout
        check(listed.count('\n') == 2 and 'S004' in listed and 'S007' in listed,
              'exported file lists both students')
        subprocess.run([ENROLL, '--file', exported, 'add', '--id', 'S006',
                        '--name', 'Raj', photo('raj', 1)], check=True)
        subprocess.run([ENROLL, '--file', exported, 'remove', '--id', 'S004'],
                       check=True)
        listed = subprocess.run([ENROLL, '--file', exported, 'list'],
                                capture_output=True, text=True, check=True).stdout
        check('S006' in listed and 'S004' not in listed, 'file add/remove')
        enroll(pg, 'import', exported)
        n = pg.query('SELECT count(*) FROM surveillx.students')[0][0]
        check(n == 3, 'import adds the file\'s new student to the database')


def case_shared_gallery(pg):
    """Recognisers of one process that name the same gallery share it: four
    on a database gallery hold one connection and one copy, and one
    enrolment reloads all four; two on a folder share its one description."""
    import shutil
    enrol_all(pg, ['amy', 'howard'])
    src = ('videotestsrc is-live=true pattern=black ! '
           'video/x-raw,width=160,height=120,framerate=5/1 ! ')
    with tempfile.TemporaryDirectory() as folder:
        for person in ('penny', 'raj'):
            shutil.copy(photo(person, 1), os.path.join(
                folder, '%s_%s.png' % (student_id(person), person)))
        desc = ''.join('%s facerecog name=db%d gallery="%s" ! fakesink '
                       % (src, i, pg.conninfo()) for i in range(4))
        desc += ''.join('%s facerecog name=dir%d gallery="%s" ! fakesink '
                        % (src, i, folder) for i in range(2))
        pipeline = Gst.parse_launch(desc)
        bus = pipeline.get_bus()

        def stat(name, field):
            st = pipeline.get_by_name(name).get_property('stats')
            return st.get_uint(field)[1]

        def our_connections():
            return pg.query(
                "SELECT count(*) FROM pg_stat_activity WHERE backend_type = "
                "'client backend' AND pid <> pg_backend_pid()")[0][0]

        pipeline.set_state(Gst.State.PLAYING)
        try:
            ret = pipeline.get_state(60 * Gst.SECOND)[0]
            check(ret == Gst.StateChangeReturn.SUCCESS, 'pipeline plays')
            check([stat('db%d' % i, 'gallery-shared-by') for i in range(4)]
                  == [4] * 4, 'four recognisers share the database gallery')
            check([stat('dir%d' % i, 'gallery-shared-by') for i in range(2)]
                  == [2] * 2 and stat('dir0', 'gallery-people') == 2,
                  'two share the folder gallery (2 people)')
            check(our_connections() == 1,
                  'one database connection for the four (%d)'
                  % our_connections())

            enroll(pg, 'add', '--id', 'S008', '--name', 'Stuart',
                   photo('stuart', 1))
            reloaded = set()
            deadline = time.time() + 30
            while time.time() < deadline and len(reloaded) < 4:
                msg = bus.timed_pop(200 * Gst.MSECOND)
                while msg:
                    if msg.type == Gst.MessageType.ERROR:
                        raise Failure(msg.parse_error()[0].message)
                    st = msg.get_structure()
                    if msg.type == Gst.MessageType.ELEMENT and \
                            st.get_name() == 'facerecog-gallery' and \
                            st.get_value('reload') and \
                            st.get_value('people') == 3:
                        reloaded.add(msg.src.get_name())
                    msg = bus.pop()
            check(reloaded == {'db0', 'db1', 'db2', 'db3'},
                  'one enrolment reloaded all four (%s)' % sorted(reloaded))
            check(all(stat('db%d' % i, 'gallery-people') == 3
                      for i in range(4)), 'each sees 3 people')
            check(our_connections() == 1, 'still one connection')
        finally:
            pipeline.set_state(Gst.State.NULL)
        check(our_connections() == 0, 'the connection closed with the last')


CASES = {
    'attendance': case_attendance,
    'live-enrol': case_live_enrol,
    'hostile': case_hostile,
    'bad-photos': case_bad_photos,
    'bad-db': case_bad_db,
    'file': case_file,
    'shared-gallery': case_shared_gallery,
}


def main():
    case = sys.argv[1]
    with PgCluster(password='pw') as pg:
        try:
            CASES[case](pg)
        except Failure as e:
            print('FAIL:', e, flush=True)
            print(pg.log_tail())
            return 1
    print('PASS', case)
    return 0


if __name__ == '__main__':
    sys.exit(main())
