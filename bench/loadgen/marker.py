"""Frame index drawn into the pixels of the benchmark video, read back from
the JPEGs the dashboard receives: end-to-end latency without touching either
server under test.

A row of 16x16 blocks (macroblock aligned, so VP8 and JPEG keep them crisp)
along the bottom-left of a 640x480 frame: white, black (sync), 12 index
bits MSB first (white = 1), one even-parity block. Frame i of the video
carries i % 4096. In a larger frame the blocks grow with its width (32 px
at 1280), so a copy scaled to 640 wide for the dashboard reads the same.
"""
import numpy as np

BLOCK = 16
BITS = 12
MODULO = 1 << BITS
WIDTH, HEIGHT = 640, 480
Y0 = HEIGHT - BLOCK
N_BLOCKS = 2 + BITS + 1


def _blocks(index):
    bits = [(index >> (BITS - 1 - k)) & 1 for k in range(BITS)]
    return [1, 0] + bits + [sum(bits) & 1]


def draw(bgr, index):
    """Draws the marker of @index into a uint8 BGR image (any size from
    640 wide up)."""
    block = BLOCK * bgr.shape[1] // WIDTH
    y0 = bgr.shape[0] - block
    for k, b in enumerate(_blocks(index % MODULO)):
        bgr[y0:y0 + block, k * block:(k + 1) * block] = 255 if b else 0
    return bgr


def read_gray(gray):
    """Index from a greyscale image of a marked frame at any scale, or None
    when the sync or parity blocks do not match (not a marked frame, or
    damaged)."""
    b = BLOCK * gray.shape[1] // WIDTH
    y0 = gray.shape[0] - b
    q = b // 4
    if gray.shape[0] < y0 + b or gray.shape[1] < N_BLOCKS * b:
        return None
    row = gray[y0 + q:y0 + b - q]
    vals = [int(row[:, k * b + q:(k + 1) * b - q].mean() > 127)
            for k in range(N_BLOCKS)]
    if vals[0] != 1 or vals[1] != 0:
        return None
    bits = vals[2:2 + BITS]
    if (sum(bits) & 1) != vals[-1]:
        return None
    index = 0
    for bit in bits:
        index = (index << 1) | bit
    return index


def read_jpeg(jpeg):
    """Index from JPEG bytes (decoded at half size, greyscale: ~1 ms)."""
    import cv2
    gray = cv2.imdecode(np.frombuffer(jpeg, np.uint8),
                        cv2.IMREAD_REDUCED_GRAYSCALE_2)
    if gray is None:
        return None
    return read_gray(gray)
