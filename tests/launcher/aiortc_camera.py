#!/usr/bin/python3
"""A camera as the Windows client is one: Debian's aiortc sends a video file
over WebRTC after a non-trickle `POST /offer` exchange.

    aiortc_camera.py --url http://192.0.2.1:8080/offer --camera-id room-1 \
        --video faces.webm --duration 20 [--token T]

Prints one JSON line per event on stdout ({"event": "answer"|"state"|...})
and exits 0 after --duration seconds of connected streaming, 1 on failure.
The video must last longer than --duration: aiortc's MediaPlayer(loop=True)
stops pacing after the first loop.
"""
import argparse
import asyncio
import json
import sys
import time
import urllib.request

from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaPlayer


def say(**kw):
    print(json.dumps(kw), flush=True)


async def run(args):
    pc = RTCPeerConnection()
    player = MediaPlayer(args.video)
    pc.addTransceiver(player.video, direction="sendonly")
    connected = asyncio.Event()
    failed = asyncio.Event()

    @pc.on("connectionstatechange")
    async def on_state():
        say(event="state", state=pc.connectionState, t=time.time())
        if pc.connectionState == "connected":
            connected.set()
        elif pc.connectionState in ("failed", "closed"):
            failed.set()

    # aiortc gathers every candidate in setLocalDescription: non-trickle
    await pc.setLocalDescription(await pc.createOffer())
    body = {"sdp": pc.localDescription.sdp, "type": "offer"}
    if args.camera_id is not None:
        body["camera_id"] = args.camera_id
    req = urllib.request.Request(args.url, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    if args.token:
        req.add_header("Authorization", "Bearer " + args.token)
    loop = asyncio.get_running_loop()
    try:
        resp = await loop.run_in_executor(
            None, lambda: urllib.request.urlopen(req, timeout=30))
        answer = json.loads(resp.read())
    except Exception as e:  # the status and reason go to the test's log
        say(event="error", error=str(e))
        await pc.close()
        return 1
    say(event="answer", camera_id=answer.get("camera_id"),
        sdp=answer["sdp"])
    await pc.setRemoteDescription(RTCSessionDescription(
        sdp=answer["sdp"], type=answer["type"]))
    try:
        await asyncio.wait_for(connected.wait(), timeout=20)
    except asyncio.TimeoutError:
        say(event="error", error="not connected after 20 s")
        await pc.close()
        return 1
    done = asyncio.ensure_future(failed.wait())
    await asyncio.wait([done], timeout=args.duration)
    ok = not failed.is_set()
    say(event="done", ok=ok, state=pc.connectionState)
    await pc.close()
    return 0 if ok else 1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--camera-id", default=None)
    parser.add_argument("--video", required=True)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--token", default=None)
    args = parser.parse_args()
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
