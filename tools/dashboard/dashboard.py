#!/usr/bin/python3
"""A local stand-in for the SurveillX Flask dashboard, for the main job.

Same contract as the product's Flask app: Flask-SocketIO (eventlet),
namespace /stream, event `frame` {"frame": base64 JPEG, "camera_id", ...}
from the launcher's socketiosink, relayed to the browsers on the same
namespace. The page at / shows each camera's latest frame with the names
in its `faces` field, and today's attendance when --db is given.

usage: dashboard.py [--host 127.0.0.1] [--port 5000] [--db CONNINFO]
                    [--socketio-js PATH]
"""
import argparse
import os

import eventlet
eventlet.monkey_patch()

from flask import Flask, Response, jsonify  # noqa: E402
from flask_socketio import SocketIO, emit  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument('--host', default='127.0.0.1')
parser.add_argument('--port', type=int, default=5000)
parser.add_argument('--db', default=None, help='PostgreSQL conninfo (attendance panel)')
parser.add_argument('--schema', default='surveillx')
parser.add_argument('--socketio-js', default=None,
                    help='socket.io.min.js (npm socket.io-client 4.x)')
args = parser.parse_args()

HERE = os.path.dirname(os.path.abspath(__file__))
app = Flask(__name__)
sio = SocketIO(app, async_mode='eventlet', max_http_buffer_size=1_000_000)


@app.route('/')
def index():
    with open(os.path.join(HERE, 'index.html'), encoding='utf-8') as f:
        return Response(f.read(), mimetype='text/html')


@app.route('/socket.io.min.js')
def socketio_js():
    if not args.socketio_js or not os.path.exists(args.socketio_js):
        return Response('// socket.io client missing: see scripts/run.sh\n',
                        status=404, mimetype='application/javascript')
    with open(args.socketio_js, 'rb') as f:
        return Response(f.read(), mimetype='application/javascript')


@app.route('/attendance')
def attendance():
    if not args.db:
        return jsonify([])
    import psycopg2
    conn = psycopg2.connect(args.db)
    try:
        with conn.cursor() as cur:
            cur.execute('SET search_path TO %s' % psycopg2.extensions.quote_ident(args.schema, cur))
            cur.execute(
                'SELECT s.external_id, s.name, a.camera_id, a.first_seen, '
                'a.last_seen, a.sightings FROM attendance a '
                'JOIN students s ON s.id = a.student '
                'WHERE a.first_seen::date = current_date ORDER BY a.first_seen')
            rows = [dict(id=r[0], name=r[1], camera=r[2],
                         first_seen=r[3].isoformat(), last_seen=r[4].isoformat(),
                         sightings=r[5]) for r in cur.fetchall()]
    finally:
        conn.close()
    return jsonify(rows)


@sio.on('frame', namespace='/stream')
def on_frame(data):
    # The product's dashboard relays frames to its browsers the same way.
    emit('frame', data, namespace='/stream', broadcast=True, include_self=False)
    return 'ok'


if __name__ == '__main__':
    sio.run(app, host=args.host, port=args.port, log_output=False)
