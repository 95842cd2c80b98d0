#!/usr/bin/python3
"""tests/peers/sio_server.py, unchanged, plus one record for the benchmark:
for each `frame` event, its receive time and the frame index the load
generator drew into the pixels (marker.py), read from the JPEG.

    sio_marks.py --port P [sio_server.py's options]

  GET /control/marks  -> [[camera_id, t_ms, index or null], ...]
                         (?dump=DIR also writes the first 20 JPEGs whose
                         marker could not be read there, to look at)
  GET /control/reset  -> also clears the marks

The JPEGs are kept (from the last reset on) and read only when /control/marks
is asked, after the measurement: the server's CPU while measuring is
sio_server.py's own.
"""
import os
import runpy
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, '..', '..', 'tests', 'peers', 'sio_server.py')
sys.path.insert(0, HERE)

# sio_server.py parses sys.argv, monkey-patches eventlet and builds the app;
# run under another name, it stops short of serving
g = runpy.run_path(SERVER, run_name='sio_marks')
app, socketio, lock = g['app'], g['socketio'], g['lock']
on_frame, control_reset = g['on_frame'], g['control_reset']
marks = []  # (camera_id, t_ms, JPEG as sent: base64 str or bytes)


def on_frame_marked(data):
    received = time.time() * 1000.0
    result = on_frame(data)
    if isinstance(data, dict):
        with lock:
            marks.append((data.get('camera_id'), received, data.get('frame')))
    return result


# replaces sio_server's handler (python-socketio keeps one per event)
socketio.on_event('frame', on_frame_marked, namespace='/stream')


def reset():
    with lock:
        marks.clear()
    return control_reset()


app.view_functions['control_reset'] = reset


@app.route('/control/marks')
def control_marks():
    import base64

    import marker
    from flask import jsonify, request
    with lock:
        taken = list(marks)
    dump = request.args.get('dump')
    dumped = 0
    out = []
    for camera_id, t, frame in taken:
        try:
            raw = base64.b64decode(frame) if isinstance(frame, str) \
                else bytes(frame)
            index = marker.read_jpeg(raw)
        except Exception:
            raw, index = b'', None
        if index is None and dump and dumped < 20:
            dumped += 1
            with open(os.path.join(dump, 'unread-%s-%d.jpg' % (
                    camera_id, int(t))), 'wb') as f:
                f.write(raw)
        out.append([camera_id, round(t, 2), index])
    return jsonify(out)


if __name__ == '__main__':
    args = g['args']
    print('sio_marks: listening on 127.0.0.1:%d' % args.port, flush=True)
    socketio.run(app, host='127.0.0.1', port=args.port, log_output=False)
