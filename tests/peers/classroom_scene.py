"""A synthetic classroom: the shared identities' photos as students seated in
rows, small at the back and larger at the front, for the launcher's tests and
the classroom benchmark.

    layout(n, width, height, sizes, people) -> [Seat]
    Scene(seats, width, height).frame(i) -> HxWx3 uint8 BGR

Faces are the 150x150 identity crops shrunk to the seat's size with area
averaging (as a camera's optics would) and padded by half their side with
edge pixels, so a detector sees a head; each face bobs a few pixels with
its own phase (students move), on a background with desks and a little
sensor noise. Images 2-5 of each person sit in seats; image 1 is the
gallery's. A Seat says who sits where at which face size, so a result can
be scored per seat and per size.
"""
import math
import os
from collections import namedtuple

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TESTDATA = os.environ.get(
    'SURVEILLX_TESTDATA',
    os.path.join(HERE, '..', '..', '..', 'shared', 'testdata'))
PEOPLE = ['amy', 'bernadette', 'howard', 'leonard', 'penny', 'raj',
          'sheldon', 'stuart']

# cx, cy: centre of the face at rest; side: face size in pixels; image: the
# identity photo's number (2-5); phase: of its motion
Seat = namedtuple('Seat', 'person image side cx cy phase')


def absent(variant):
    """Two of the eight people, different for each layout: whoever names
    them at that camera names someone who is not there."""
    return (PEOPLE[variant % 8], PEOPLE[(variant + 3) % 8])


def layout(variant, width=1280, height=720, sizes=(32, 40, 56, 80),
           columns=7, absent=(), images=(2, 3, 4)):
    """Rows of @columns seats, back (top, sizes[0]) to front, of the
    people not @absent. @variant (0, 1, 2, ...) shifts who sits where and
    the rows' stagger, so layouts differ in what falls on a sweep tile's
    edge."""
    people = [p for p in PEOPLE if p not in absent]
    seats = []
    rows = len(sizes)
    n = 0
    for r, side in enumerate(sizes):
        # rows lower in the frame as they come nearer; larger faces need
        # more room
        cy = int(height * (0.12 + 0.78 * r / max(1, rows - 1)))
        cy = min(max(cy, side), height - side)
        stagger = ((variant * 53 + r * 37) % 60)
        pitch = (width - 120) / columns
        for c in range(columns):
            cx = int(60 + pitch * c + pitch / 2 + stagger - 30)
            person = people[(n + variant * 3) % len(people)]
            image = images[((n // len(people)) + variant) % len(images)]
            seats.append(Seat(person, image, side, cx, cy,
                              (n * 2.399 + variant) % (2 * math.pi)))
            n += 1
    return seats


def _face(person, image, side):
    import cv2
    path = os.path.join(TESTDATA, 'faces', 'identities',
                        '%s%d.png' % (person, image))
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    if img is None:
        raise SystemExit('cannot read %s' % path)
    small = cv2.resize(img, (side, side), interpolation=cv2.INTER_AREA)
    pad = side // 2
    return cv2.copyMakeBorder(small, pad, pad, pad, pad, cv2.BORDER_REPLICATE)


class Scene:
    """Frames of a classroom whose students bob by up to @amplitude px
    (one period every @period frames)."""

    def __init__(self, seats, width=1280, height=720, amplitude=3,
                 period=90, noise=3.0, seed=1):
        self.seats = seats
        self.width, self.height = width, height
        self.amplitude, self.period = amplitude, period
        self.faces = [_face(s.person, s.image, s.side) for s in seats]
        bg = np.full((height, width, 3), (150, 160, 165), np.uint8)
        # desks: darker bands under each row, something for the encoder
        for s in seats:
            y = s.cy + s.side
            bg[max(0, y):min(height, y + s.side // 2),
               max(0, s.cx - s.side):min(width, s.cx + s.side)] = (70, 90, 120)
        self.background = bg
        rng = np.random.default_rng(seed)
        self.noise = [rng.normal(0, noise, (height, width, 3)).astype(np.int16)
                      for _ in range(7)] if noise else None

    def position(self, k, i):
        """Top-left of seat @k's padded face in frame @i."""
        s = self.seats[k]
        a = self.amplitude
        t = 2 * math.pi * i / self.period + s.phase
        dx = int(round(a * math.cos(t)))
        dy = int(round(a * math.sin(2 * t) / 2))
        face = self.faces[k]
        return s.cx + dx - face.shape[1] // 2, s.cy + dy - face.shape[0] // 2

    def frame(self, i):
        out = self.background.copy()
        for k, face in enumerate(self.faces):
            x, y = self.position(k, i)
            h, w = face.shape[:2]
            x0, y0 = max(0, x), max(0, y)
            x1, y1 = min(self.width, x + w), min(self.height, y + h)
            if x1 > x0 and y1 > y0:
                out[y0:y1, x0:x1] = face[y0 - y:y1 - y, x0 - x:x1 - x]
        if self.noise is not None:
            out = np.clip(out.astype(np.int16) + self.noise[i % len(self.noise)],
                          0, 255).astype(np.uint8)
        return out


def seat_of(seats, x, y, w, h, scale=1.0):
    """Index of the seat a detected box (in a frame scaled by @scale) lies
    on, or None: its centre within half a face side of the seat's (the
    motion is smaller than that)."""
    cx, cy = (x + w / 2) / scale, (y + h / 2) / scale
    for k, s in enumerate(seats):
        if abs(cx - s.cx) <= s.side * 0.6 and abs(cy - s.cy) <= s.side * 0.6:
            return k
    return None


if __name__ == '__main__':
    import argparse
    import cv2
    ap = argparse.ArgumentParser(description='write one classroom frame')
    ap.add_argument('out')
    ap.add_argument('--variant', type=int, default=0)
    ap.add_argument('--width', type=int, default=1280)
    ap.add_argument('--height', type=int, default=720)
    a = ap.parse_args()
    seats = layout(a.variant, a.width, a.height)
    cv2.imwrite(a.out, Scene(seats, a.width, a.height).frame(0))
    print('%d seats' % len(seats))
