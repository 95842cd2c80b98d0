#!/usr/bin/python3
"""A camera as the Windows client is one: Debian's aiortc sends a video file
over WebRTC, speaking one of the launcher's three signaling shapes.

    aiortc_camera.py --url http://192.0.2.1:8080 --camera-id room-1 \
        --video faces.webm --duration 20 [--token T] \
        [--signaling seed|fastrtc|whip] [--trickle] [--data-channel] \
        [--delete] [--codec VP8|H264]

  seed     POST /offer {"sdp","type","camera_id"} (non-trickle, the seed's)
  fastrtc  POST /webrtc/offer {"sdp","type","webrtc_id"}; with --trickle the
           offer goes without candidates and each follows as
           {"type":"ice-candidate",...}; --data-channel opens one as
           FastRTC's clients do
  whip     POST /whip/{camera_id} application/sdp -> 201 + Location; with
           --trickle the candidates follow in PATCH sdpfrags; --delete sends
           DELETE at the end

--fallback-url URL (repeatable) makes it a camera that keeps streaming as
the Windows client does: when its connection dies (ICE consent fails, ~30 s
in aiortc 1.4), or a launcher cannot be reached, it offers again to the
next URL of --url and the fallbacks, round robin, until --duration has
passed since it first connected. Either way it follows a full launcher's
redirect: WHIP's 307 Location, or the JSON routes' 503 {"launcher": URL}.

--codec offers that video codec only (aiortc encodes VP8 and H.264: libvpx
and libx264 through PyAV); by default aiortc offers VP8 first, then H.264.

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
import urllib.error
import urllib.parse
import urllib.request

from aiortc import RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.contrib.media import MediaPlayer


def say(**kw):
    print(json.dumps(kw), flush=True)


def request(method, url, body, content_type, token):
    """(status, headers, body text); HTTP errors are returned, not raised."""
    req = urllib.request.Request(url, data=body, method=method)
    if content_type:
        req.add_header("Content-Type", content_type)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(req, timeout=30) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()
    except OSError as e:  # refused, unreachable, timed out: no launcher
        return 0, {}, str(e)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are the caller's: urllib would not repeat a POST's body
    on a 307 anyway."""

    def redirect_request(self, *args, **kwargs):
        return None


def split_candidates(sdp):
    """The SDP without its candidate lines, and [(mid, index, candidate)]."""
    kept, found = [], []
    mid, index = None, -1
    for line in sdp.splitlines():
        if line.startswith("m="):
            index += 1
            mid = None
        elif line.startswith("a=mid:"):
            mid = line[6:]
        if line.startswith("a=candidate:"):
            found.append((mid, index, line[2:]))
        elif line != "a=end-of-candidates":
            kept.append(line)
    return "\r\n".join(kept) + "\r\n", found


def ufrag_pwd(sdp):
    ufrag = pwd = None
    for line in sdp.splitlines():
        if line.startswith("a=ice-ufrag:") and ufrag is None:
            ufrag = line[12:]
        elif line.startswith("a=ice-pwd:") and pwd is None:
            pwd = line[10:]
    return ufrag, pwd


async def signal(args, pc, loop):
    """Sends the offer (and trickled candidates); returns the answer SDP."""
    sdp = pc.localDescription.sdp
    candidates = []
    if args.trickle:
        sdp, candidates = split_candidates(sdp)
        say(event="trickle", candidates=len(candidates))
        if args.withhold_candidates:  # a control for the tests
            candidates = []

    def run(*a):
        return loop.run_in_executor(None, lambda: request(*a))

    base = args.base.rstrip("/")
    if args.signaling == "whip":
        url = base + "/whip/" + args.camera_id
        for _ in range(4):  # a full launcher names another (307)
            status, headers, text = await run(
                "POST", url, sdp.encode(), "application/sdp", args.token)
            if status != 307:
                break
            url = urllib.parse.urljoin(url, headers["Location"])
            say(event="redirect", status=status, location=url)
            args.base = url.rsplit("/whip/", 1)[0]
        if status != 201:
            raise RuntimeError("WHIP POST: %d %s" % (status, text))
        answer_sdp = text
        location = urllib.parse.urljoin(url, headers["Location"])
        say(event="whip", location=headers["Location"],
            links=headers.get_all("Link") or [])
        args.location = location
        if candidates:
            ufrag, pwd = ufrag_pwd(sdp)
            lines = ["a=ice-ufrag:" + ufrag, "a=ice-pwd:" + pwd]
            for mid, index, cand in candidates:
                lines += ["m=video 9 UDP/TLS/RTP/SAVPF 0", "a=mid:%s" % mid,
                          "a=" + cand]
            lines.append("a=end-of-candidates")
            status, _, text = await run(
                "PATCH", location, ("\r\n".join(lines) + "\r\n").encode(),
                "application/trickle-ice-sdpfrag", args.token)
            say(event="patch", status=status, body=text)
            if status != 204:
                raise RuntimeError("WHIP PATCH: %d %s" % (status, text))
        return answer_sdp, location

    body = {"sdp": sdp, "type": "offer"}
    if args.camera_id is not None:
        body["camera_id"] = args.camera_id
    path = "/offer"
    if args.signaling == "fastrtc":
        path = "/webrtc/offer"
        body["webrtc_id"] = args.webrtc_id
        if args.camera_id is not None and args.camera_id_in_query:
            del body["camera_id"]
            path += "?camera_id=" + urllib.parse.quote(args.camera_id)
    # FastRTC's clients trickle while the offer is answered: send the
    # candidates concurrently with the offer, as they would
    offer = run("POST", base + path, json.dumps(body).encode(),
                "application/json", args.token)
    offer = asyncio.ensure_future(offer)
    for mid, index, cand in candidates:
        await asyncio.sleep(0.05)
        msg = {"type": "ice-candidate", "webrtc_id": args.webrtc_id,
               "candidate": {"candidate": cand, "sdpMid": mid,
                             "sdpMLineIndex": index}}
        status, _, text = await run("POST", base + "/webrtc/offer",
                                    json.dumps(msg).encode(),
                                    "application/json", args.token)
        say(event="candidate", status=status, body=json.loads(text))
    status, _, text = await offer
    if status == 503:
        try:
            reply = json.loads(text)
            other = reply.get("launcher") or reply.get("meta", {}).get(
                "launcher")
        except ValueError:
            other = None
        if other and not getattr(args, "redirected", False):
            # a full launcher named one with room: offer there, once
            say(event="redirect", status=status, location=other)
            args.base = other
            args.redirected = True
            return await signal(args, pc, loop)
    if status != 200:
        raise RuntimeError("offer: HTTP %d %s" % (status, text))
    answer = json.loads(text)
    if answer.get("status") == "failed":
        raise RuntimeError("offer failed: %s" % text)
    return answer, None


async def run(args):
    """One connection, or with fallbacks a camera that reconnects."""
    urls = [args.url] + args.fallback_url
    if not args.fallback_url:
        args.base = args.url
        return await stream(args, args.duration)
    end = None
    attempt = 0
    while True:
        args.base = urls[attempt % len(urls)]
        args.redirected = False
        attempt += 1
        left = args.duration if end is None else end - time.time()
        if left <= 0:
            say(event="done", ok=True, state="finished")
            return 0
        t0 = time.time()
        code = await stream(args, left, keep_going=True)
        if code == 0:
            return 0
        if end is None and code == 2:  # it connected, then died
            end = t0 + args.duration
        if end is not None and time.time() >= end:
            say(event="done", ok=False, state="gave up")
            return 1
        say(event="reconnecting", after=attempt, t=time.time())
        await asyncio.sleep(1.0)


async def stream(args, duration, keep_going=False):
    """0: streamed @duration; 1: never connected; 2: connected, then the
    connection died (keep_going: no "done" line then)."""
    pc = RTCPeerConnection()
    player = MediaPlayer(args.video)
    transceiver = pc.addTransceiver(player.video, direction="sendonly")
    if args.codec:
        # only this codec (and its retransmission) in the offer
        wanted = "video/" + args.codec.upper()
        codecs = [c for c in RTCRtpSender.getCapabilities("video").codecs
                  if c.mimeType.upper() in (wanted.upper(), "VIDEO/RTX")]
        transceiver.setCodecPreferences(codecs)
    channel = None
    if args.data_channel:
        channel = pc.createDataChannel("text")

        @channel.on("open")
        def on_open():
            say(event="datachannel", state="open")
    connected = asyncio.Event()
    failed = asyncio.Event()

    @pc.on("connectionstatechange")
    async def on_state():
        say(event="state", state=pc.connectionState, t=time.time())
        if pc.connectionState == "connected":
            connected.set()
        elif pc.connectionState in ("failed", "closed"):
            failed.set()

    # aiortc gathers every candidate in setLocalDescription
    await pc.setLocalDescription(await pc.createOffer())
    loop = asyncio.get_running_loop()
    args.location = None
    try:
        answer, args.location = await signal(args, pc, loop)
    except Exception as e:  # the status and reason go to the test's log
        say(event="error", error=str(e))
        await pc.close()
        return 1
    if isinstance(answer, str):  # WHIP: the body is the answer SDP
        answer = {"sdp": answer, "type": "answer"}
    say(event="answer", camera_id=answer.get("camera_id"), sdp=answer["sdp"],
        url=args.base, t=time.time())
    await pc.setRemoteDescription(RTCSessionDescription(
        sdp=answer["sdp"], type="answer"))
    try:
        await asyncio.wait_for(connected.wait(), timeout=20)
    except asyncio.TimeoutError:
        say(event="error", error="not connected after 20 s")
        await pc.close()
        return 1
    done = asyncio.ensure_future(failed.wait())
    await asyncio.wait([done], timeout=duration)
    ok = not failed.is_set()
    if not ok and keep_going:
        await pc.close()
        await asyncio.sleep(0)
        return 2
    if channel is not None:
        say(event="datachannel", state=channel.readyState)
    if args.delete and args.location:
        status, _, text = await loop.run_in_executor(
            None, lambda: request("DELETE", args.location, None, None,
                                  args.token))
        say(event="delete", status=status)
        ok = ok and status == 200
    say(event="done", ok=ok, state=pc.connectionState)
    await pc.close()
    return 0 if ok else 1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True,
                        help="the launcher's base URL (or its /offer URL)")
    parser.add_argument("--camera-id", default=None)
    parser.add_argument("--video", required=True)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--token", default=None)
    parser.add_argument("--signaling", choices=["seed", "fastrtc", "whip"],
                        default="seed")
    parser.add_argument("--webrtc-id", default=None)
    parser.add_argument("--camera-id-in-query", action="store_true")
    parser.add_argument("--trickle", action="store_true")
    parser.add_argument("--data-channel", action="store_true")
    parser.add_argument("--codec", default=None,
                        help="offer only this video codec (VP8, H264)")
    parser.add_argument("--delete", action="store_true")
    parser.add_argument("--fallback-url", action="append", default=[],
                        help="another launcher to reconnect to when the "
                        "connection dies (repeatable)")
    parser.add_argument("--withhold-candidates", action="store_true",
                        help="with --trickle: never send them (ICE can only "
                        "learn the camera's address from its checks)")
    args = parser.parse_args()
    if args.url.endswith("/offer"):
        args.url = args.url[:-len("/offer")]
    if args.signaling == "whip" and not args.camera_id:
        parser.error("--signaling whip needs --camera-id")
    if args.webrtc_id is None:
        args.webrtc_id = "rtc" + str(int(time.time() * 1000) % 10 ** 8)
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
