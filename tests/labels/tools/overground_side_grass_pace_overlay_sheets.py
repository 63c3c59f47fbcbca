#!/usr/bin/env python3
"""Contact sheets and pixel rulers for tests/labels/overground_side_grass_pace_overlay.*

Hand-labelling aid (no pose model, no runform).  Run from the repository root:

    python tests/labels/tools/overground_side_grass_pace_overlay_sheets.py [--out DIR]

It needs opencv-python and numpy and takes about a minute on one core.  Everything it
writes goes to --out (default /tmp/overground_side_grass_pace_overlay_sheets); nothing is
written into the repository.

The clip
--------
A barefoot runner on a lawn, side view, running to image-RIGHT; the camera follows him
(pans / is carried along), so the grass streams to image-left at 11-50 px per frame.  The
clip is an edit of five takes (cuts after frames 61, 204, 344 and 523); each take has its
own pace caption (6:30, 5:15, 3:45, 3:00, 2:10 /km).  The caption switches one frame after
the picture at the 204|205 cut (at 206).

Method
------
Ground motion.  For every pair of consecutive frames of a take the script matches a grid
of 56x22 px grass patches (rows >= 330, away from the runner) into the next frame by
normalised cross-correlation (the grass is motion-blurred, so KLT corners do not work) and
fits a RANSAC homography H[t] (frame t -> t+1).  Chaining them gives a ground-stabilised
view in the pixel coordinates of a reference frame: in that view the lawn is fixed, so a
foot in contact is fixed too.

Foot.  Bare skin is segmented against the grass in Lab colour (L above the 90th
percentile of the lower image + 22 and a above the median + 5).  Near the tracked point
the connected skin blob is the leg; its part within 16 px of its lowest row is the foot.

Stance level.  The grass hides the lowest part of the sole, so "the ground" is defined
from what is visible: the stance level is the median lowest visible skin row of that foot
in its settled frames (frames in which it is unambiguously planted; chosen on the sheets
and fixed in STANCES, so the level does not depend on the calls), measured in the
stabilised view.  Each event gets its own reference frame close to it (the chained
stabilisation drifts by up to about 1-2 px over 6-8 frames):
  IC window: reference = first settled frame, level from the first two settled frames
  TO window: reference = last settled frame, level from the last two settled frames
For stances cut by a take boundary or by the clip the only settled frame may be the call
frame itself; its gap is then 0 by construction (said in the events note).
Measured per frame, in px of the reference frame:
  gap_px         min(gap_fore_px, gap_rear_px, gap_lowest_px)
  gap_fore_px    forefoot (front 35 % of the foot) lowest row against its level
  gap_rear_px    heel (rear 30 %) lowest row against its level
  gap_lowest_px  lowest foot row against the stance level
  dtoe_px        front-most foot column minus its settled value: motion over the ground,
                 positive = forward (the runner runs to image-right)
  sole_angle_rel_deg  heel-bottom -> forefoot-bottom line against the same line in the
                 settled frames, toes-up positive (over 0.65 of the foot length)
  foot_dx_raw / ground_dx_raw  raw image motion to the next frame of the bottom of the
                 foot and of the grass under it (from H): equal while the foot is planted

Decision rules (rule_ic / rule_to below; the labels in STANCES were checked on the sheets):
  IC = first frame whose lowest sole part is within 1.0 px of the stance level, with the toe
       within 12 px of its settled position.  Alternative = the frame before if it is within
       2.5 px of the level and within 6 px of the settled toe position, else the frame after
       if the foot still moved more than 3 px over the ground into it.
  TO = last frame after IC whose forefoot is within 1.5 px of its late-stance level and whose
       toe is not more than 5 px ahead of its late-stance position (the foot is smeared by
       30-45 px/frame of pan in the fast takes, so its front edge jitters by 3-4 px; one frame
       <= 3 px high followed by a frame back within is treated as noise).  Alternative = the frame after
       if its forefoot is within 3 px, else the frame before if the call is >= 1 px high.
  first_air_frame = TO + 1.
  Manual departures (explained in the events notes): step 40 IC, steps 61 and 66 TO, and the
  extra alternatives of steps 24, 28 and 67.  main() prints "rule" next to every label.
Strike (strike() below), decided in the IC frame: both ends within 1.5 px of their levels ->
  midfoot, angle taken from the last airborne frame IC-1; heel lower -> rearfoot if the sole
  is > 8 deg toes-up, else midfoot; forefoot lower -> forefoot if < -5 deg, else midfoot.

Outputs in --out
  sheet_<step>_<foot>_IC.png / _TO.png  tiles IC-2..IC+1 / TO-1..TO+2, ground-stabilised,
                                  4x, stance level dotted red, settled toe column dotted cyan,
                                  the TRUE decode index on every tile and the ruler numbers
  wide_<step>_<foot>.png          IC-3..TO+3 of each stance, 3x (TO window's reference)
  ruler.csv                       every measured frame of every event window
  evidence.csv                    IC-2..IC+1 and TO-1..TO+2 (+ alternatives) of every call
  ground_motion.csv               grass motion per frame at image point (180, 540), RANSAC
                                  inliers/residual and the mean absolute frame difference
  takes.csv                       per take: frames, caption, step intervals, contact frames,
                                  stance-foot ground speed (real-time check)
Tile labels are the true 0-based decode indices of cv2.VideoCapture.read().
"""
import argparse
import csv
import os

import cv2
import numpy as np

CLIP = "../shared/videos/overground_side_grass_pace_overlay.mp4"
S = 2.0                       # up-sampling of the stabilised canvas for measuring
CUTS = (61, 204, 344, 523)    # last frame of each take
TAKES = [(0, 61, "6:30/km"), (62, 204, "5:15/km"), (205, 344, "3:45/km"),
         (345, 523, "3:00/km"), (524, 666, "2:10/km")]

# One row per stance in time order:
#   (step, foot, status, ic, ic_alt, to, to_alt, settled, seed)
# settled = (first, last): frames in which the foot is unambiguously planted (chosen on the
#   sheets, fixed here so that the levels do not depend on the calls).  The IC window uses
#   the first two of them (reference = first), the TO window the last two (reference = last).
# seed = (frame, x, y): a point under the foot while it is planted (from the lowest-skin
#   track), used to find the foot in the event reference frames.  None = not seen.
STANCES = [
    (0, "right", "partial", None, None, 0, None, (0, 0), (0, 104, 551)),
    (1, "left", "full", 1, 0, 8, None, (2, 7), (7, 136, 557)),
    (2, "right", "full", 12, 11, 19, None, (13, 18), (18, 125, 549)),
    (3, "left", "full", 23, None, 31, None, (24, 30), (29, 125, 561)),
    (4, "right", "full", 33, None, 41, None, (34, 40), (40, 128, 566)),
    (5, "left", "full", 45, None, 53, None, (46, 52), (51, 132, 575)),
    (6, "right", "excluded", 57, 56, None, None, (58, 60), (60, 144, 564)),
    (7, "left", "excluded", None, None, 64, 63, (62, 63), (64, 102, 526)),
    (8, "right", "full", 68, 69, 74, 75, (69, 73), (73, 132, 501)),
    (9, "left", "full", 81, 80, 86, 85, (82, 85), (84, 154, 496)),
    (10, "right", "full", 90, 91, 96, None, (91, 95), (94, 156, 492)),
    (11, "left", "full", 101, 102, 107, 106, (102, 105), (105, 166, 491)),
    (12, "right", "full", 112, 113, 118, 117, (113, 117), (116, 148, 498)),
    (13, "left", "full", 123, 122, 128, None, (124, 127), (127, 145, 511)),
    (14, "right", "full", 133, None, 138, None, (134, 137), (137, 135, 500)),
    (15, "left", "full", 144, None, 151, None, (145, 150), (148, 143, 503)),
    (16, "right", "full", 155, None, 160, 161, (156, 159), (159, 133, 501)),
    (17, "left", "full", 166, None, 172, 171, (167, 171), (170, 133, 512)),
    (18, "right", "full", 177, None, 182, 183, (178, 181), (181, 123, 515)),
    (19, "left", "full", 189, 188, 194, None, (190, 193), (192, 136, 542)),
    (20, "right", "excluded", 200, 199, None, None, (201, 203), (201, 156, 541)),
    (21, "left", "excluded", None, None, 206, 205, (205, 205), (207, 68, 544)),
    (22, "right", "full", 211, None, 215, 216, (212, 214), (214, 132, 518)),
    (23, "left", "full", 222, None, 226, 227, (223, 225), (224, 160, 500)),
    (24, "right", "full", 231, 232, 236, 237, (233, 235), (234, 170, 488)),
    (25, "left", "full", 242, None, 246, 247, (243, 245), (244, 191, 473)),
    (26, "right", "full", 251, 252, 257, None, (252, 256), (255, 163, 506)),
    (27, "left", "full", 263, 262, 267, None, (264, 266), (265, 156, 502)),
    (28, "right", "full", 273, 272, 277, None, (274, 276), (276, 132, 494)),
    (29, "left", "full", 283, 284, 287, 288, (284, 286), (286, 133, 485)),
    (30, "right", "full", 293, None, 298, None, (294, 297), (297, 106, 478)),
    (31, "left", "full", 304, 303, 307, 308, (305, 306), (307, 98, 463)),
    (32, "right", "full", 313, None, 318, None, (314, 317), (317, 85, 454)),
    (33, "left", "full", 324, 323, 329, 328, (325, 327), (327, 118, 462)),
    (34, "right", "full", 334, None, 339, None, (335, 338), (338, 92, 461)),
    (35, "left", "excluded", 344, None, None, None, (344, 344), (344, 176, 431)),
    (36, "right", "excluded", None, None, 345, None, (345, 345), (345, 16, 536)),
    (37, "left", "full", 350, 349, 352, None, (350, 351), (351, 124, 558)),
    (38, "right", "full", 357, 358, 360, 361, (358, 359), (360, 116, 552)),
    (39, "left", "full", 367, None, 371, 370, (368, 370), (369, 148, 542)),
    (40, "right", "full", 376, 378, 379, 380, (378, 378), (378, 134, 528)),
    (41, "left", "full", 385, None, 389, 388, (386, 388), (387, 162, 515)),
    (42, "right", "full", 394, None, 398, None, (395, 397), (396, 146, 515)),
    (43, "left", "full", 404, None, 407, 408, (405, 406), (406, 154, 519)),
    (44, "right", "full", 413, None, 416, 417, (414, 415), (415, 143, 515)),
    (45, "left", "full", 423, None, 426, None, (424, 425), (424, 158, 510)),
    (46, "right", "full", 431, 432, 435, None, (432, 434), (433, 145, 505)),
    (47, "left", "full", 441, None, 445, None, (442, 444), (442, 162, 511)),
    (48, "right", "full", 449, 450, 453, None, (450, 452), (452, 119, 525)),
    (49, "left", "full", 460, None, 463, None, (461, 462), (461, 155, 527)),
    (50, "right", "full", 469, None, 473, None, (470, 472), (471, 124, 525)),
    (51, "left", "full", 478, 479, 482, None, (479, 481), (480, 158, 509)),
    (52, "right", "full", 487, 488, 492, None, (489, 491), (490, 144, 494)),
    (53, "left", "full", 497, None, 501, None, (498, 500), (499, 174, 481)),
    (54, "right", "full", 506, 507, 511, None, (507, 510), (509, 152, 465)),
    (55, "left", "full", 517, 516, 520, None, (518, 519), (518, 170, 464)),
    (56, "right", "excluded", None, None, 525, None, (524, 524), (525, 101, 519)),
    (57, "left", "full", 530, None, 533, 532, (531, 532), (531, 147, 531)),
    (58, "right", "full", 537, None, 540, None, (538, 539), (538, 135, 529)),
    (59, "left", "full", 544, 545, 548, 547, (545, 546), (545, 186, 537)),
    (60, "right", "full", 552, None, 555, 554, (553, 553), (553, 159, 536)),
    (61, "left", "full", 560, None, 562, 561, (560, 561), (560, 208, 533)),
    (62, "right", "full", 567, None, 570, None, (568, 569), (568, 188, 528)),
    (63, "left", "full", 575, 576, 578, None, (576, 577), (576, 199, 535)),
    (64, "right", "full", 583, None, 586, 585, (584, 585), (584, 185, 527)),
    (65, "left", "full", 591, None, 594, None, (592, 593), (591, 218, 527)),
    (66, "right", "full", 599, None, 601, 602, (600, 600), (599, 196, 519)),
    (67, "left", "full", 606, 607, 609, 610, (608, 608), (607, 188, 524)),
    (68, "right", "full", 614, None, 617, None, (615, 616), (615, 163, 515)),
    (69, "left", "full", 622, 621, 625, 624, (623, 623), (622, 182, 515)),
    (70, "right", "full", 629, None, 632, None, (630, 631), (630, 174, 507)),
    (71, "left", "full", 637, None, 639, 640, (638, 638), (637, 205, 522)),
    (72, "right", "full", 644, None, 647, None, (645, 646), (645, 169, 520)),
    (73, "left", "full", 651, None, 654, None, (652, 653), (652, 195, 525)),
    (74, "right", "full", 659, None, 662, 663, (660, 661), (660, 188, 513)),
    (75, "left", "partial", 666, None, None, None, (666, 666), (665, 250, 473)),
]



# ----------------------------------------------------------------------------- basics
def decode(path):
    cap = cv2.VideoCapture(path)
    frames = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(f)
    return frames


def take_of(t):
    for a, b, _ in TAKES:
        if a <= t <= b:
            return a, b
    raise ValueError(t)


def skin_thresholds(frame):
    """Bare skin is brighter (Lab L) and redder (Lab a) than the lawn."""
    lab = cv2.cvtColor(frame[380:], cv2.COLOR_BGR2LAB).astype(np.float32)
    return np.percentile(lab[..., 0], 90) + 22, np.median(lab[..., 1]) + 5


def skin_mask(img, thr):
    lab = cv2.cvtColor(img, cv2.COLOR_BGR2LAB).astype(np.float32)
    return ((lab[..., 0] > thr[0]) & (lab[..., 1] > thr[1])).astype(np.uint8)


def runner_mask(frame):
    g = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    m = skin_mask(frame, skin_thresholds(frame)) | (g < 40).astype(np.uint8)
    m[:300] = 1
    return cv2.dilate(m, np.ones((13, 13), np.uint8)) > 0


# ----------------------------------------------------------------------- ground motion
PW, PH = 56, 22


def ground_homographies(frames):
    """H[t] maps grass points of frame t to frame t+1 (None across a cut)."""
    n = len(frames)
    H, info = [None] * (n - 1), np.zeros((n - 1, 3))
    prep = [cv2.GaussianBlur(f.astype(np.float32).mean(2), (0, 0), 1.2) for f in frames]

    def sub(v0, v1, v2):
        d = v0 - 2 * v1 + v2
        return 0.0 if d == 0 else 0.5 * (v0 - v2) / d

    for t in range(n - 1):
        if t in CUTS:
            continue
        a, b, rm = prep[t], prep[t + 1], runner_mask(frames[t])
        src, dst = [], []
        for y0 in range(330, 636 - PH - 4, 16):
            for x0 in range(4, 360 - PW - 4, 20):
                if rm[y0:y0 + PH, x0:x0 + PW].any():
                    continue
                T = a[y0:y0 + PH, x0:x0 + PW]
                if T.std() < 2.0:
                    continue
                xs0, xs1 = max(0, x0 - 90), min(360, x0 + PW + 45)
                ys0, ys1 = max(0, y0 - 18), min(636, y0 + PH + 18)
                r = cv2.matchTemplate(b[ys0:ys1, xs0:xs1], T, cv2.TM_CCOEFF_NORMED)
                _, mv, _, (px, py) = cv2.minMaxLoc(r)
                if mv < 0.6 or px in (0, r.shape[1] - 1) or py in (0, r.shape[0] - 1):
                    continue
                ox = sub(r[py, px - 1], r[py, px], r[py, px + 1])
                oy = sub(r[py - 1, px], r[py, px], r[py + 1, px])
                src.append((x0 + PW / 2, y0 + PH / 2))
                dst.append((px + xs0 + PW / 2 + ox, py + ys0 + PH / 2 + oy))
        src, dst = np.float32(src), np.float32(dst)
        if len(src) >= 8:
            h, inl = cv2.findHomography(src, dst, cv2.RANSAC, 1.5)
            if h is not None:
                inl = inl[:, 0] > 0
                res = np.linalg.norm(cv2.perspectiveTransform(src[inl][None], h)[0] - dst[inl], axis=1)
                H[t], info[t] = h, (len(src), inl.sum(), np.median(res))
    return H, info


def chain(H, ref, lo, hi):
    """G[t] maps frame t to frame ref, lo <= t <= hi (one take)."""
    G = {ref: np.eye(3)}
    for t in range(ref - 1, lo - 1, -1):
        G[t] = G[t + 1] @ H[t]
    for t in range(ref + 1, hi + 1):
        G[t] = G[t - 1] @ np.linalg.inv(H[t - 1])
    return G


def stab_crop(frame, G, box, s):
    x0, y0, x1, y1 = box
    M = np.array([[s, 0, -s * x0], [0, s, -s * y0], [0, 0, 1.0]]) @ G
    img = cv2.warpPerspective(frame, M, (int(round(s * (x1 - x0))), int(round(s * (y1 - y0)))),
                              flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0))
    return img, M


# ------------------------------------------------------------------------ measurement
def measure(frames, H, ref, seed, rng):
    """Foot blob per frame in the ground-stabilised view of frame ref (canvas S x)."""
    lo, hi = take_of(ref)
    a, b = max(rng[0], lo), min(rng[1], hi)
    G = chain(H, ref, a, b)
    sx, sy = seed
    box = (sx - 120, sy - 70, sx + 100, sy + 14)
    x0, y0 = box[0], box[1]
    res, prev = {}, np.array([sx - x0, sy - y0]) * S
    for t in list(range(ref, b + 1)) + list(range(ref - 1, a - 1, -1)):
        if t == ref - 1 and ref in res:
            prev = res[ref]["_pt"]
        img, M = stab_crop(frames[t], G[t], box, S)
        m = skin_mask(img, skin_thresholds(frames[t]))
        m &= cv2.warpPerspective(np.ones(frames[t].shape[:2], np.uint8), M, (m.shape[1], m.shape[0]))
        # only near the foot's position in the neighbouring frame (the legs are joined
        # through the thighs, so whole blobs are too big)
        win = np.zeros_like(m)
        win[int(max(0, prev[1] - 35 * S)):int(prev[1] + 12 * S),
            int(max(0, prev[0] - 45 * S)):int(prev[0] + 45 * S)] = 1
        k, lab, stats, _ = cv2.connectedComponentsWithStats(m & win, connectivity=8)
        best, bd = None, 1e9
        for i in range(1, k):
            if stats[i, 4] < 12 * S * S:
                continue
            ys, xs = np.nonzero(lab == i)
            pt = np.array([xs[ys >= ys.max() - 2 * S].mean(), ys.max()])
            d = np.hypot(*(pt - prev))
            if d < bd:
                best, bd, bpt = i, d, pt
        if best is None or bd > 60 * S:
            continue
        ys, xs = np.nonzero(lab == best)
        rows = np.bincount(ys)
        low = max(r for r in range(len(rows)) if rows[r] >= 2)
        foot = ys >= low - 16 * S
        prof = np.full(m.shape[1], -1)
        np.maximum.at(prof, xs[foot], ys[foot])
        bot = ys >= low - 3 * S
        raw = cv2.perspectiveTransform(np.float32([[[xs[bot].mean(), low]]]), np.linalg.inv(M))[0, 0]
        res[t] = dict(_pt=bpt, _prof=prof, lowest=low / S + y0, toe_x=xs[foot].max() / S + x0,
                      back_x=xs[bot].min() / S + x0, raw=raw)
        prev = bpt
    return res, G, box


def zone_low(q, box, lo, hi):
    prof = q["_prof"]
    a = max(int(round((lo - box[0]) * S)), 0)
    b = min(int(round((hi - box[0]) * S)), len(prof) - 1)
    seg = prof[a:b + 1]
    seg = seg[seg >= 0]
    return None if len(seg) == 0 else seg.max() / S + box[1]


def analyse(res, box, flat, H):
    fl = [t for t in flat if t in res]
    L = np.median([res[t]["toe_x"] - res[t]["back_x"] for t in fl])
    for q in res.values():
        q["fore"] = zone_low(q, box, q["toe_x"] - 0.35 * L, q["toe_x"])
        q["rear"] = zone_low(q, box, q["toe_x"] - L, q["toe_x"] - 0.7 * L)
    lev = np.median([res[t]["lowest"] for t in fl])
    lf = np.median([res[t]["fore"] for t in fl if res[t]["fore"] is not None])
    lr = np.median([res[t]["rear"] for t in fl if res[t]["rear"] is not None])
    toe0 = np.median([res[t]["toe_x"] for t in fl])
    out = {}
    for t in sorted(res):
        q = res[t]
        gf = None if q["fore"] is None else lf - q["fore"]
        gr = None if q["rear"] is None else lr - q["rear"]
        o = dict(gap=min(v for v in (gf, gr, lev - q["lowest"]) if v is not None),
                 gap_fore=gf, gap_rear=gr, gap_lowest=lev - q["lowest"], dtoe=q["toe_x"] - toe0,
                 ang=None if gf is None or gr is None else
                 float(np.degrees(np.arctan2(gf - gr, 0.65 * L))),
                 lowest=q["lowest"], toe_x=q["toe_x"], foot_dx=None, ground_dx=None)
        if t + 1 in res and t < len(H) and H[t] is not None:
            p = cv2.perspectiveTransform(np.float32([[q["raw"]]]), H[t])[0, 0]
            o["foot_dx"] = float(res[t + 1]["raw"][0] - q["raw"][0])
            o["ground_dx"] = float(p[0] - q["raw"][0])
        out[t] = o
    return out, dict(level=lev, lf=lf, lr=lr, toe0=toe0, L=L)


def flats(st, ev):
    f0, f1 = st[7]
    return [f0, min(f0 + 1, f1)] if ev == "ic" else [max(f1 - 1, f0), f1]


def seed_in(H, seed, ref):
    f, x, y = seed
    lo, hi = take_of(f)
    G = chain(H, ref, min(ref, f), max(ref, f))
    p = cv2.perspectiveTransform(np.float32([[[x, y]]]), G[f])[0, 0]
    return float(p[0]), float(p[1])


def event_window(frames, H, st, ev):
    step, _, _, ic, _, to, _, _, seed = st
    fl = flats(st, ev)
    ref = fl[0] if ev == "ic" else fl[-1]
    t0 = ic if ev == "ic" else to
    rng = (t0 - 5, t0 + 4)
    res, G, box = measure(frames, H, ref, seed_in(H, seed, ref), rng)
    out, lv = analyse(res, box, fl, H)
    return dict(out=out, lv=lv, G=G, ref=ref, flat=fl)


# -------------------------------------------------------------------------- the rules
def rule_ic(out):
    for t in sorted(out):
        o = out[t]
        if o["gap"] <= 1.0 and abs(o["dtoe"]) <= 12:
            alt = None
            p, n = out.get(t - 1), out.get(t + 1)
            if p is not None and p["gap"] <= 2.5 and abs(p["dtoe"]) <= 6:
                alt = t - 1
            elif n is not None and abs(n["dtoe"] - o["dtoe"]) > 3.0:
                alt = t + 1
            return t, alt
    return None, None


def gfore(o):
    return o["gap_fore"] if o["gap_fore"] is not None else o["gap"]


def rule_to(out, ic):
    ts = [t for t in sorted(out) if ic is None or t > ic]
    ok = lambda t: gfore(out[t]) <= 1.5 and out[t]["dtoe"] <= 5.0
    last = None
    for i, t in enumerate(ts):
        if ok(t):
            last = t
            continue
        if last is None:
            continue
        if gfore(out[t]) <= 3.0 and i + 1 < len(ts) and ok(ts[i + 1]):
            continue
        break
    if last is None:
        return None, None
    alt = None
    if last + 1 in out and gfore(out[last + 1]) <= 3.0:
        alt = last + 1
    elif gfore(out[last]) >= 1.0:
        alt = last - 1
    return last, alt


def strike(out, ic):
    """Strike pattern and foot angle at IC (or at IC-1 when the foot is already flat)."""
    o = out.get(ic)
    if o is None or o["gap_fore"] is None or o["gap_rear"] is None:
        return None, None, None
    gf, gr, a = o["gap_fore"], o["gap_rear"], o["ang"]
    frame = ic
    if gf <= 1.5 and gr <= 1.5:          # both ends reached the level in the same frame
        p = out.get(ic - 1)
        if p is not None and p["ang"] is not None:
            a, frame = p["ang"], ic - 1
        return "midfoot", a, frame
    if gr < gf:                           # heel first
        return ("rearfoot" if a > 8 else "midfoot"), a, frame
    return ("forefoot" if a < -5 else "midfoot"), a, frame


# ------------------------------------------------------------------------------ sheets
def tiles(frames, w, ts, s=4, wide=False):
    lv = w["lv"]
    cx = lv["toe0"] - lv["L"] / 2
    vb = (cx - 40, lv["level"] - 38, cx + 40, lv["level"] + 8)
    row = []
    for t in ts:
        if t not in w["G"]:
            row.append(np.zeros((int(46 * s), int(80 * s), 3), np.uint8))
            continue
        img, _ = stab_crop(frames[t], w["G"][t], vb, s)
        y = int(round((lv["level"] - vb[1]) * s))
        img[y, [x for x in range(img.shape[1]) if x % 6 < 2]] = (0, 0, 255)
        xt = int(round((lv["toe0"] - vb[0]) * s))
        if 0 <= xt < img.shape[1]:
            img[[yy for yy in range(img.shape[0]) if yy % 6 < 2], xt] = (255, 255, 0)
        cv2.putText(img, str(t), (4, 24), 0, 0.8, (0, 0, 255), 2)
        o = w["out"].get(t)
        if o is not None and not wide:
            f = lambda v: "." if v is None else "%.1f" % v
            cv2.putText(img, "gap %s fore %s heel %s" % (f(o["gap"]), f(o["gap_fore"]), f(o["gap_rear"])),
                        (4, img.shape[0] - 22), 0, 0.45, (255, 255, 255), 1)
            cv2.putText(img, "dtoe %s angle %s" % (f(o["dtoe"]), f(o["ang"])),
                        (4, img.shape[0] - 6), 0, 0.45, (255, 255, 255), 1)
        row.append(img)
    return np.hstack(row)


# -------------------------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="/tmp/overground_side_grass_pace_overlay_sheets")
    ap.add_argument("--clip", default=CLIP)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    frames = decode(args.clip)
    print(f"decoded {len(frames)} frames")
    H, info = ground_homographies(frames)

    # ground motion, frame differences
    with open(os.path.join(args.out, "ground_motion.csv"), "w", newline="") as fh:
        wr = csv.writer(fh)
        wr.writerow(["frame", "ground_dx", "ground_dy", "n_patches", "n_inliers", "median_residual_px",
                     "mean_abs_diff_to_next"])
        for t in range(len(frames) - 1):
            d = np.abs(frames[t + 1].astype(np.int16) - frames[t]).mean()
            if H[t] is None:
                wr.writerow([t, "", "", 0, 0, "", "%.2f" % d])
                continue
            p = cv2.perspectiveTransform(np.float32([[[180, 540]]]), H[t])[0, 0]
            wr.writerow([t, "%.2f" % (p[0] - 180), "%.2f" % (p[1] - 540), int(info[t][0]), int(info[t][1]),
                         "%.2f" % info[t][2], "%.2f" % d])

    ruler = open(os.path.join(args.out, "ruler.csv"), "w", newline="")
    evid = open(os.path.join(args.out, "evidence.csv"), "w", newline="")
    cols = ["step_index", "foot", "event", "frame", "role", "gap_px", "gap_fore_px", "gap_rear_px",
            "gap_lowest_px", "dtoe_px", "sole_angle_rel_deg", "foot_dx_raw", "ground_dx_raw",
            "stance_level_y", "ref_frame"]
    rw, ew = csv.writer(ruler), csv.writer(evid)
    rw.writerow(cols)
    ew.writerow(cols)
    fmt = lambda v: "" if v is None else "%.1f" % v
    speeds = {i: [] for i in range(len(TAKES))}
    for st in STANCES:
        step, foot, status, ic, ic_alt, to, to_alt, _, seed = st
        W = {}
        for ev, t0, alt in (("ic", ic, ic_alt), ("to", to, to_alt)):
            if t0 is None:
                continue
            w = W[ev] = event_window(frames, H, st, ev)
            out = w["out"]
            rng = range(t0 - 2, t0 + 2) if ev == "ic" else range(t0 - 1, t0 + 3)
            want = set(rng) | ({alt} if alt is not None else set())
            for t in sorted(out):
                o = out[t]
                role = "call" if t == t0 else "alt" if t == alt else "context"
                row = [step, foot, ev.upper(), t, role, fmt(o["gap"]), fmt(o["gap_fore"]), fmt(o["gap_rear"]),
                       fmt(o["gap_lowest"]), fmt(o["dtoe"]), fmt(o["ang"]), fmt(o["foot_dx"]),
                       fmt(o["ground_dx"]), "%.1f" % w["lv"]["level"], w["ref"]]
                rw.writerow(row)
                if t in want:
                    ew.writerow(row)
            cv2.imwrite(os.path.join(args.out, f"sheet_{step:02d}_{foot}_{ev.upper()}.png"),
                        tiles(frames, w, list(rng)))
        # rule check, strike, stance-foot ground speed
        msg = [f"step {step:2d} {foot:5s} {status:8s}"]
        if "ic" in W:
            r = rule_ic(W["ic"]["out"])
            sp = strike(W["ic"]["out"], ic)
            msg.append(f"IC {ic}/{ic_alt} rule {r[0]}/{r[1]} strike {sp[0]} angle "
                       f"{'' if sp[1] is None else '%.0f' % sp[1]} (frame {sp[2]})")
        if "to" in W:
            r = rule_to(W["to"]["out"], ic)
            msg.append(f"TO {to}/{to_alt} rule {r[0]}/{r[1]}")
            if ic is not None and status == "full":
                o = W["to"]["out"]
                g = [o[t]["ground_dx"] for t in range(ic + 1, to) if t in o and o[t]["ground_dx"] is not None]
                k = [i for i, (a, b, _) in enumerate(TAKES) if a <= to <= b][0]
                speeds[k] += g
        print("  ".join(msg))
        if "ic" in W and "to" in W:
            ts = list(range(ic - 3, to + 4))
            rows = [tiles(frames, W["to"], ts[i:i + 6], s=3, wide=True) for i in range(0, len(ts), 6)]
            rows = [np.pad(r, ((0, 4), (0, rows[0].shape[1] - r.shape[1]), (0, 0))) for r in rows]
            cv2.imwrite(os.path.join(args.out, f"wide_{step:02d}_{foot}.png"), np.vstack(rows))
    ruler.close()
    evid.close()

    # per take: step rhythm and speed (real-time check)
    with open(os.path.join(args.out, "takes.csv"), "w", newline="") as fh:
        wr = csv.writer(fh)
        wr.writerow(["take", "first_frame", "last_frame", "caption", "ic_frames", "step_intervals",
                     "contact_frames", "median_ground_dx_under_stance_foot_px_per_frame"])
        for k, (a, b, cap) in enumerate(TAKES):
            ics = [s[3] for s in STANCES if s[3] is not None and a <= s[3] <= b]
            ct = [s[5] - s[3] + 1 for s in STANCES if s[2] == "full" and a <= s[3] <= b]
            wr.writerow([k, a, b, cap, " ".join(map(str, ics)), " ".join(map(str, np.diff(ics))),
                         " ".join(map(str, ct)), "%.1f" % np.median(speeds[k]) if speeds[k] else ""])
    print("wrote", args.out)


if __name__ == "__main__":
    main()
