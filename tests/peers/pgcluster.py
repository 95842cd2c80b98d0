#!/usr/bin/python3
"""A throwaway PostgreSQL cluster for tests: Debian's server binaries, a
temporary data directory, 127.0.0.1 on a free port plus a private unix
socket folder, password authentication over TCP.

initdb refuses to run as root, so when the test runs as root the server runs
as the `postgres` system user (Debian's package creates it); otherwise as the
caller. Nothing outside the temporary directory is touched.

    with PgCluster() as pg:
        pg.conninfo()               # key=value for libpq / psycopg2
        pg.uri()                    # postgresql:// form
        pg.kill()                   # SIGKILL the whole server (crash)
        pg.start()                  # restart after kill() or stop()
        pg.stop()                   # clean shutdown
        pg.enable_ssl(cert, key)    # TLS from now on (restarts)
        pg.query("SELECT 1")        # rows, via psycopg2

Run directly for a manual cluster: `pgcluster.py` prints its conninfo and
waits for Ctrl-C.
"""
import glob
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

DEFAULT_USER = 'postgres'
DEFAULT_DB = 'surveillx'


def _bindir():
    override = os.environ.get('SURVEILLX_PG_BINDIR')
    if override:
        return override
    candidates = sorted(glob.glob('/usr/lib/postgresql/*/bin/postgres'),
                        key=lambda p: int(p.split('/')[4]))
    if not candidates:
        raise RuntimeError('no PostgreSQL server found under /usr/lib/postgresql '
                           '(scripts/setup.sh installs the postgresql package)')
    return os.path.dirname(candidates[-1])


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class PgCluster:
    def __init__(self, password=None, dbname=DEFAULT_DB, port=None,
                 also_listen=None, max_connections=50):
        """also_listen: one more address (e.g. a test namespace's bridge)
        the server listens on, with password authentication from its /24.
        max_connections: raised by benches that open one per camera."""
        self.also_listen = also_listen
        self.max_connections = max_connections
        self.bindir = _bindir()
        self.password = password or 'pw-' + secrets.token_hex(8)
        self.superuser = DEFAULT_USER
        self.dbname = dbname
        self.port = port or free_port()
        self.proc = None
        self.tmp = tempfile.mkdtemp(prefix='sx-pg-')
        self.datadir = os.path.join(self.tmp, 'data')
        self.sockdir = os.path.join(self.tmp, 'sock')
        self.logfile = os.path.join(self.tmp, 'postgres.log')
        if os.geteuid() == 0:
            pw = pwd.getpwnam('postgres')
            self._uid, self._gid = pw.pw_uid, pw.pw_gid
        else:
            self._uid = self._gid = None
        os.mkdir(self.sockdir)
        if self._uid is not None:
            os.chown(self.tmp, self._uid, self._gid)
            os.chown(self.sockdir, self._uid, self._gid)
        self._initdb()

    # -- process plumbing ------------------------------------------------
    def _as_server_user(self):
        if self._uid is None:
            return {}
        return {'user': self._uid, 'group': self._gid, 'extra_groups': []}

    def _env(self):
        # PG*: the server must not inherit the tests' client settings;
        # sanitizer preloads are for processes that load the plugin, not
        # for PostgreSQL (initdb hangs with libasan preloaded).
        env = {k: v for k, v in os.environ.items()
               if not k.startswith('PG') and k not in ('LD_PRELOAD', 'ASAN_OPTIONS', 'UBSAN_OPTIONS')}
        env['LC_ALL'] = 'C'
        env['HOME'] = self.tmp
        return env

    def _initdb(self):
        pwfile = os.path.join(self.tmp, 'pwfile')
        with open(pwfile, 'w') as f:
            f.write(self.password + '\n')
        if self._uid is not None:
            os.chown(pwfile, self._uid, self._gid)
        subprocess.run(
            [os.path.join(self.bindir, 'initdb'), '-D', self.datadir,
             '-U', self.superuser, '--pwfile', pwfile, '-E', 'UTF8',
             '--locale', 'C', '--auth-local', 'trust',
             '--auth-host', 'scram-sha-256', '--no-sync'],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            env=self._env(), cwd=self.tmp, **self._as_server_user())
        os.unlink(pwfile)
        if self.also_listen:
            net = '.'.join(self.also_listen.split('.')[:3]) + '.0/24'
            with open(os.path.join(self.datadir, 'pg_hba.conf'), 'a') as f:
                f.write('host all all %s scram-sha-256\n' % net)
        self.start()
        self.psql_admin('CREATE DATABASE "%s"' % self.dbname, db='postgres')

    def start(self, timeout=30):
        if self.proc is not None and self.proc.poll() is None:
            return
        log = open(self.logfile, 'ab')
        # Own session: kill() can take the postmaster and every backend at
        # once, like a crashed machine, and nothing lingers holding the port.
        self.proc = subprocess.Popen(
            [os.path.join(self.bindir, 'postgres'), '-D', self.datadir,
             '-p', str(self.port), '-k', self.sockdir,
             '-c', 'listen_addresses=127.0.0.1' + (
                 ',' + self.also_listen if self.also_listen else ''),
             '-c', 'fsync=off', '-c', 'full_page_writes=off',
             '-c', 'max_connections=%d' % self.max_connections],
            stdout=log, stderr=subprocess.STDOUT, env=self._env(),
            cwd=self.tmp, start_new_session=True, **self._as_server_user())
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError('postgres exited: ' + self.log_tail())
            r = subprocess.run(
                [os.path.join(self.bindir, 'pg_isready'), '-h', '127.0.0.1',
                 '-p', str(self.port), '-t', '1'],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                env=self._env())
            if r.returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError('postgres did not become ready: ' + self.log_tail())

    def stop(self):
        """Clean (fast) shutdown."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self):
        """SIGKILL the postmaster and all its backends: a crash."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        # Backends die with the group; wait until the port is free so a
        # restart cannot race a dying listener.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                if s.connect_ex(('127.0.0.1', self.port)) != 0:
                    break
            time.sleep(0.05)

    def restart(self):
        self.stop()
        self.start()

    def enable_ssl(self, cert, key):
        """Serve TLS with @cert/@key (PEM; e.g. from testca.TestCA) and
        restart: clients may then use sslmode=verify-full."""
        for src, name, mode in ((cert, 'server.crt', 0o644),
                                (key, 'server.key', 0o600)):
            dst = os.path.join(self.datadir, name)
            shutil.copyfile(src, dst)
            os.chmod(dst, mode)
            if self._uid is not None:
                os.chown(dst, self._uid, self._gid)
        with open(os.path.join(self.datadir, 'postgresql.conf'), 'a') as f:
            f.write("ssl = on\nssl_cert_file = 'server.crt'\n"
                    "ssl_key_file = 'server.key'\n")
        self.restart()

    def cleanup(self):
        self.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()

    def log_tail(self, lines=20):
        try:
            with open(self.logfile, errors='replace') as f:
                return ''.join(f.readlines()[-lines:])
        except OSError:
            return '(no log)'

    # -- connecting ------------------------------------------------------
    def conninfo(self, db=None, password=None, user=None):
        return ("host=127.0.0.1 port=%d user=%s password='%s' dbname=%s "
                "connect_timeout=5" % (self.port, user or self.superuser,
                                       password or self.password,
                                       db or self.dbname))

    def uri(self, db=None):
        return 'postgresql://%s:%s@127.0.0.1:%d/%s' % (
            self.superuser, self.password, self.port, db or self.dbname)

    def connect(self, db=None):
        import psycopg2
        conn = psycopg2.connect(self.conninfo(db=db))
        conn.autocommit = True
        return conn

    def query(self, sql, params=None, db=None):
        conn = self.connect(db=db)
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall() if cur.description else []
        finally:
            conn.close()

    def psql_admin(self, sql, db=None):
        """Runs SQL through the unix socket (trust), e.g. CREATE DATABASE."""
        subprocess.run(
            [os.path.join(self.bindir, 'psql'), '-h', self.sockdir,
             '-p', str(self.port), '-U', self.superuser, '-d',
             db or self.dbname, '-v', 'ON_ERROR_STOP=1', '-q', '-c', sql],
            check=True, env=self._env(), stdout=subprocess.DEVNULL)


if __name__ == '__main__':
    with PgCluster() as pg:
        print(pg.conninfo(), flush=True)
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass
    sys.exit(0)
