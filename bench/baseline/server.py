#!/usr/bin/python3
"""The Python design surveillx-launcher replaces, rebuilt from Debian
packages only, as the benchmark's baseline: FastAPI (uvicorn) answers
`POST /offer` with aiortc; per video track one asyncio task does

    frame = await track.recv()                      # aiortc: libvpx via PyAV
    img = frame.to_ndarray(format='bgr24')          # every frame
    every 0.2 s: cv2.imencode('.jpg', img, quality 80), base64,
        sio.emit('frame', {'frame', 'camera_id', 'timestamp'},
                 namespace='/stream')              # python-socketio Client

The Socket.IO client is one synchronous `socketio.Client` for the process
(its own threads; `emit` queues and never blocks), connected at start.
Face recognition is left out: dlib's Python module is not packaged by
Debian (the launcher's comparable rows are the pipelines without
facerecog).

    server.py --address 192.0.2.1 --port 0 --sio-url http://127.0.0.1:5000

Prints "listening on http://ADDR:PORT" once serving. Routes:
  POST /offer  {"sdp", "type": "offer", "camera_id"} -> {"sdp", "type",
               "camera_id"} (aiortc gathers before answering: non-trickle)
  GET /metrics the launcher's names for what it counts:
               surveillx_cameras, surveillx_camera_frames_in_total (decoded
               frames), surveillx_camera_frames_emitted_total
"""
import argparse
import asyncio
import base64
import logging
import socket
import time
import uuid

import cv2
import socketio
import uvicorn
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse

EMIT_INTERVAL = 0.2  # 5 frames/s to the dashboard
JPEG_QUALITY = 80

app = FastAPI()
peers = {}   # camera_id -> RTCPeerConnection
stats = {}   # camera_id -> {"frames_in", "frames_emitted"}
sio = socketio.Client()


async def consume(track, camera_id):
    st = stats.setdefault(camera_id, {'frames_in': 0, 'frames_emitted': 0})
    next_emit = 0.0
    while True:
        try:
            frame = await track.recv()
        except MediaStreamError:
            return
        st['frames_in'] += 1
        img = frame.to_ndarray(format='bgr24')
        now = time.time()
        if now < next_emit:
            continue
        next_emit = next_emit + EMIT_INTERVAL
        if next_emit <= now:
            next_emit = now + EMIT_INTERVAL
        ok, jpeg = cv2.imencode('.jpg', img,
                                [int(cv2.IMWRITE_JPEG_QUALITY), JPEG_QUALITY])
        if not ok:
            continue
        sio.emit('frame', {'frame': base64.b64encode(jpeg).decode('ascii'),
                           'camera_id': camera_id,
                           'timestamp': time.time()}, namespace='/stream')
        st['frames_emitted'] += 1


async def close_peer(camera_id, pc):
    if peers.get(camera_id) is pc:
        del peers[camera_id]
    await pc.close()


@app.post('/offer')
async def offer(request: Request):
    params = await request.json()
    if params.get('type') != 'offer' or 'sdp' not in params:
        return JSONResponse({'error': 'not an offer'}, status_code=400)
    camera_id = str(params.get('camera_id') or
                    'cam-' + uuid.uuid4().hex[:8])
    old = peers.pop(camera_id, None)
    if old is not None:  # the camera reconnected
        await old.close()
    pc = RTCPeerConnection()
    peers[camera_id] = pc

    @pc.on('track')
    def on_track(track):
        if track.kind == 'video':
            asyncio.ensure_future(consume(track, camera_id))

    @pc.on('connectionstatechange')
    async def on_state():
        if pc.connectionState in ('failed', 'closed'):
            await close_peer(camera_id, pc)

    await pc.setRemoteDescription(RTCSessionDescription(
        sdp=params['sdp'], type='offer'))
    await pc.setLocalDescription(await pc.createAnswer())
    return {'sdp': pc.localDescription.sdp, 'type': pc.localDescription.type,
            'camera_id': camera_id}


@app.get('/metrics')
async def metrics():
    lines = ['surveillx_cameras %d' % len(peers)]
    for name, key in (('surveillx_camera_frames_in_total', 'frames_in'),
                      ('surveillx_camera_frames_emitted_total',
                       'frames_emitted')):
        for cid in sorted(stats):
            lines.append('%s{camera_id="%s"} %d' % (name, cid,
                                                    stats[cid][key]))
    return PlainTextResponse('\n'.join(lines) + '\n')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--address', default='127.0.0.1')
    ap.add_argument('--port', type=int, default=8080)
    ap.add_argument('--sio-url', default='http://127.0.0.1:5000')
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    # WebSocket straight away (polling needs python3-requests; with it the
    # client would upgrade to WebSocket anyway)
    sio.connect(args.sio_url, namespaces=['/stream'], transports=['websocket'])
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.address, args.port))
    host, port = sock.getsockname()
    print('listening on http://%s:%d/' % (host, port), flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level='warning',
                                           access_log=False))
    try:
        server.run(sockets=[sock])
    finally:
        sio.disconnect()


if __name__ == '__main__':
    main()
