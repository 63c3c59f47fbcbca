#!/usr/bin/env python3
"""Contact sheets and pixel rulers for tests/labels/overground_side_tracking_vertical.*

Hand-labelling aid (no pose model, no runform).  Run from the repository root:

    python tests/labels/tools/overground_side_tracking_vertical_sheets.py [--out DIR]

It needs opencv-python and numpy.  Everything it writes goes to --out (default
/tmp/overground_side_tracking_vertical_sheets); nothing is written into the repository.

Method
------
The camera pans (and is carried along), so "the foot stands still" has to be judged
relative to the pavement.  For every pair of consecutive frames the script fits a
ground-plane homography H[t] (frame t -> t+1) to KLT corners tracked on the paving
(rows >= 450, low saturation, RANSAC, forward-backward check).  Chaining them gives, for
each stance, a ground-stabilised view in the coordinates of one reference frame of that
stance: in that view the pavement is fixed, so a foot in contact is fixed too.

In the stabilised view the white shoe is segmented (V above a per-stance threshold,
low saturation), the blob nearest to the tracked foot is replaced by its convex hull (the
grey logo and outsole notches would otherwise break the sole line) and measured, in pixels
of the reference frame (0.5 px steps: the canvas is up-sampled 2x):
  gap_fore_px   forefoot gap: its stance level (median over the flat part of the stance)
                minus the lowest row within the front 30 % of the shoe
  gap_rear_px   the same for the rear 30 % (heel)
  gap_px        min(gap_fore_px, gap_rear_px): how far the part of the sole that is
                closest to the ground is above its stance level
  gap_lowest_px the plain lowest shoe pixel against the stance level of that pixel
  dtoe_px       front-most shoe column minus its mid-stance value: the foot's motion
                relative to the pavement (runner runs to image-left: negative = forward)
  sole_angle_rel_deg  angle of the heel-bottom -> ball-bottom line minus its value in the
                flat part of the stance (= against the ground line), toes-up positive
  foot_dx_raw / ground_dx_raw  raw image motion since the previous frame of the shoe's
                bottom band and of the pavement under it (from H); equal while in contact
The decision rules are coded in rule_calls() and their result is printed next to the
labelled calls (the labels were checked on the sheets, see the .md).

Outputs in --out:
  ruler.csv                       every measured frame of every stance
  evidence.csv                    the ruler at IC-2..IC+1 and TO-1..TO+2 (+ alternatives)
  ground_motion.csv               pavement motion per frame at image point (203, 600)
  sheet_<step>_<foot>_IC.png      tiles IC-2..IC+1, ground-stabilised, 2-6x (about 360 px
                                  wide), stance level dotted red, mid-stance toe x cyan
  sheet_<step>_<foot>_TO.png      tiles TO-1..TO+2
  wide_<step>_<foot>.png          the whole measured range, every frame
Tile labels are the true 0-based decode indices of cv2.VideoCapture.read().
"""
import argparse
import csv
import os

import cv2
import numpy as np

CLIP = "../shared/videos/overground_side_tracking_vertical.mp4"
S = 2.0  # up-sampling of the stabilised canvas (measurements are reported in original px)

# One entry per stance, in time order.  box = (x0, y0, x1, y1) in the reference frame's
# pixel coordinates, seed = a point on the foot in the reference frame, vt = V threshold of
# the white-shoe mask, rng = frames measured, flat = frames used for the stance level,
# ic / to = the calls (None = not seen in the clip).
STANCES = [
    dict(step=0, foot="left", ref=0, box=(214, 395, 280, 440), seed=(230, 418), vt=195,
         rng=(0, 3), flat=(0, 0), ic=None, to=0),
    dict(step=1, foot="right", ref=6, box=(190, 395, 330, 475), seed=(238, 440), vt=205,
         rng=(0, 13), flat=(5, 8), ic=4, to=9),
    dict(step=2, foot="left", ref=16, box=(150, 400, 330, 490), seed=(270, 472), vt=205,
         rng=(9, 23), flat=(15, 18), ic=14, to=19),
    dict(step=3, foot="right", ref=28, box=(150, 430, 340, 545), seed=(260, 510), vt=215,
         rng=(18, 40), flat=(26, 28), ic=24, to=32, ic_alt=25, to_alt=33),
    dict(step=4, foot="left", ref=60, box=(60, 440, 330, 600), seed=(170, 545), vt=225,
         rng=(44, 110), flat=(66, 78), ic=57, to=101, ic_alt=56, to_alt=102),
    dict(step=5, foot="right", ref=145, box=(90, 470, 330, 600), seed=(212, 540), vt=225,
         rng=(120, 160), flat=(146, 150), ic=137, to=157, ic_alt=136),
    dict(step=6, foot="left", ref=164, box=(150, 440, 340, 560), seed=(250, 505), vt=215,
         rng=(156, 171), flat=(163, 165), ic=163, to=166, to_alt=167),
    dict(step=7, foot="right", ref=173, box=(150, 420, 300, 500), seed=(228, 462), vt=215,
         rng=(166, 174), flat=(173, 174), ic=173, to=None),
]


def decode(path):
    cap = cv2.VideoCapture(path)
    frames = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(f)
    return frames


def ground_homographies(frames):
    """H[t] maps pavement points of frame t to frame t+1."""
    H = []
    for t in range(len(frames) - 1):
        a = cv2.cvtColor(frames[t], cv2.COLOR_BGR2GRAY)
        b = cv2.cvtColor(frames[t + 1], cv2.COLOR_BGR2GRAY)
        hsv = cv2.cvtColor(frames[t], cv2.COLOR_BGR2HSV)
        m = ((hsv[..., 1] < 45) & (hsv[..., 2] < 232)).astype(np.uint8) * 255
        m[:450] = 0
        m = cv2.erode(m, np.ones((7, 7), np.uint8))
        p = cv2.goodFeaturesToTrack(a, 800, 0.005, 6, mask=m, blockSize=7)
        q, st, _ = cv2.calcOpticalFlowPyrLK(a, b, p, None, winSize=(21, 21), maxLevel=3)
        pb, st2, _ = cv2.calcOpticalFlowPyrLK(b, a, q, None, winSize=(21, 21), maxLevel=3)
        ok = (st[:, 0] == 1) & (st2[:, 0] == 1) & (np.linalg.norm((pb - p)[:, 0], axis=1) < 0.5)
        h, _ = cv2.findHomography(p[ok], q[ok], cv2.RANSAC, 1.0)
        H.append(h)
    return H


def chain(H, n, ref):
    """G[t] maps frame t to frame ref."""
    G = [None] * n
    G[ref] = np.eye(3)
    for t in range(ref - 1, -1, -1):
        G[t] = G[t + 1] @ H[t]
    for t in range(ref + 1, n):
        G[t] = G[t - 1] @ np.linalg.inv(H[t - 1])
    return G


def stabilised(frames, G, t, box):
    x0, y0, x1, y1 = box
    T = np.array([[S, 0, -S * x0], [0, S, -S * y0], [0, 0, 1.0]])
    M = T @ G[t]
    img = cv2.warpPerspective(frames[t], M, (int(S * (x1 - x0)), int(S * (y1 - y0))),
                              flags=cv2.INTER_CUBIC)
    return img, M


def shoe_mask(img, vt):
    hsv = cv2.cvtColor(img, cv2.COLOR_BGR2HSV)
    m = ((hsv[..., 2] > vt) & (hsv[..., 1] < 70)).astype(np.uint8)
    return cv2.morphologyEx(m, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))


def hull(blob):
    """Filled convex hull of the shoe blob: bridges the grey logo / outsole notches that the
    white threshold leaves in the sole line (the lowest row is unchanged)."""
    pts = cv2.findNonZero(blob)
    out = np.zeros_like(blob)
    cv2.fillConvexPoly(out, cv2.convexHull(pts), 1)
    return out


def measure(frames, H, st):
    n = len(frames)
    G = chain(H, n, st["ref"])
    box = st["box"]
    x0, y0 = box[0], box[1]
    a, b = st["rng"]
    order = list(range(st["ref"], b + 1)) + list(range(st["ref"] - 1, a - 1, -1))
    res = {}
    prev = (np.array(st["seed"], float) - [x0, y0]) * S
    for t in order:
        if t == st["ref"] - 1:
            prev = res[st["ref"]]["_cen"]
        img, M = stabilised(frames, G, t, box)
        m = shoe_mask(img, st["vt"])
        k, lab, stats, cen = cv2.connectedComponentsWithStats(m)
        cands = [i for i in range(1, k) if stats[i, 4] >= 40]
        if not cands:
            continue
        # nearest sizeable blob to where the foot was in the neighbouring frame
        i = min(cands, key=lambda i: np.hypot(*(cen[i] - prev)) - 0.02 * stats[i, 4])
        blob = hull((lab == i).astype(np.uint8))
        ys, xs = np.nonzero(blob)
        rows = np.bincount(ys)
        low = max(r for r in range(len(rows)) if rows[r] >= 3)
        toe, heel = xs.min(), xs.max()
        L = max(heel - toe, 1)
        fsel, rsel = xs < toe + 0.3 * L, xs > heel - 0.3 * L
        fi, ri = np.argmax(ys[fsel]), np.argmax(ys[rsel])
        # sole profile: lowest shoe pixel per column; ball point 15-35 % of the length from
        # the toe, heel point in the rear 20 %
        prof = np.full(heel - toe + 1, -1)
        np.maximum.at(prof, xs - toe, ys)
        ball = toe + np.arange(int(0.15 * L), int(0.35 * L) + 1)
        hl = toe + np.arange(int(0.80 * L), L + 1)
        bx_, hx_ = ball[np.argmax(prof[ball - toe])], hl[np.argmax(prof[hl - toe])]
        # bottom point back into the raw frame (for raw image motion)
        band = ys >= low - 4 * S
        raw = cv2.perspectiveTransform(np.float32([[[xs[band].mean(), ys[band].mean()]]]),
                                       np.linalg.inv(M))[0, 0]
        res[t] = dict(_cen=cen[i], lowest=low / S + y0, toe_x=toe / S + x0, heel_x=heel / S + x0,
                      fore=ys[fsel][fi] / S + y0, fore_x=xs[fsel][fi] / S + x0,
                      rear=ys[rsel][ri] / S + y0, rear_x=xs[rsel][ri] / S + x0,
                      area=stats[i, 4] / S / S, raw=raw,
                      ball=(bx_ / S + x0, prof[bx_ - toe] / S + y0),
                      heelpt=(hx_ / S + x0, prof[hx_ - toe] / S + y0))
        prev = cen[i]
    fa, fb = st["flat"]
    flat = [res[t] for t in range(fa, fb + 1) if t in res]
    level = np.median([r["lowest"] for r in flat])
    lf = np.median([r["fore"] for r in flat])
    lr = np.median([r["rear"] for r in flat])
    toe0 = np.median([r["toe_x"] for r in flat])
    ang0 = np.median([sole_angle(r) for r in flat])
    heel0 = np.median([r["heel_x"] for r in flat])
    L = heel0 - toe0
    zoombox = (int(toe0 - max(0.6 * L, 20)), int(level - max(1.0 * L, 40)),
               int(heel0 + max(0.4 * L, 15)), int(level + max(0.25 * L, 8)))
    rows = []
    for t in range(a, b + 1):
        if t not in res:
            continue
        r = res[t]
        foot_dx = ground_dx = ""
        if t - 1 in res:
            foot_dx = r["raw"][0] - res[t - 1]["raw"][0]
            p = np.float32([[res[t - 1]["raw"]]])
            ground_dx = cv2.perspectiveTransform(p, H[t - 1])[0, 0][0] - p[0, 0, 0]
        rows.append(dict(step_index=st["step"], foot=st["foot"], frame=t,
                         gap_px=min(lf - r["fore"], lr - r["rear"]),
                         gap_fore_px=lf - r["fore"], gap_rear_px=lr - r["rear"],
                         gap_lowest_px=level - r["lowest"],
                         dtoe_px=r["toe_x"] - toe0,
                         lowest_y=r["lowest"], toe_x=r["toe_x"], heel_x=r["heel_x"],
                         sole_angle_rel_deg=sole_angle(r) - ang0,
                         foot_dx_raw=foot_dx, ground_dx_raw=ground_dx,
                         stance_level_y=level, area_px=r["area"]))
    return rows, G, level, toe0, zoombox


def rule_calls(rows, has_ic):
    """The written decision rules, applied to the ruler numbers of one stance.
    IC: first frame in which the forefoot or the heel is within 1.0 px of its stance level and
        that same part sinks by no more than another 1.0 px in the next frame (the descent
        has stopped), with the toe within 2 px of its mid-stance position.
    TO: last frame after IC before the toe starts to move forward over the ground
        (dtoe < -1.5 px) or the forefoot is more than 2 px above its level (the 0.5-1 px of
        slack over IC allows for motion blur and for the dark outsole rim, which faces the
        camera near toe-off and makes the white sole edge read high)."""
    by = {r["frame"]: r for r in rows}
    ic = None
    if has_ic:
        for t in sorted(by):
            r, nx = by[t], by.get(t + 1)
            if nx is None or abs(r["dtoe_px"]) > 2.0:
                continue
            if any(r[k] <= 1.0 and r[k] - nx[k] <= 1.0 for k in ("gap_fore_px", "gap_rear_px")):
                ic = t
                break
    t = ic if ic is not None else min(by)
    to = None
    while t in by and by[t]["gap_fore_px"] <= 2.0 and by[t]["dtoe_px"] >= -1.5:
        to = t
        t += 1
    if t not in by:          # still in contact at the end of the measured range
        to = None
    return ic, to


def sole_angle(r):
    """Angle of the heel-bottom -> ball-bottom line, toes-up positive (runner faces left)."""
    (bx, by), (hx, hy) = r["ball"], r["heelpt"]
    return np.degrees(np.arctan2(hy - by, hx - bx))


def tile(frames, G, box, t, level, toe0, zoom):
    img, _ = stabilised(frames, G, t, box)
    img = cv2.resize(img, None, fx=zoom / S, fy=zoom / S, interpolation=cv2.INTER_CUBIC)
    y = int(round((level - box[1]) * zoom))
    x = int(round((toe0 - box[0]) * zoom))
    if 0 <= y < img.shape[0]:
        img[y, ::5] = (0, 0, 255)          # stance level (dotted red)
    if 0 <= x < img.shape[1]:
        img[::5, x] = (255, 255, 0)        # mid-stance toe position (dotted cyan)
    cv2.putText(img, str(t), (4, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (255, 0, 255), 2)
    return img


def grid(tiles, ncol):
    while len(tiles) % ncol:
        tiles.append(np.zeros_like(tiles[0]))
    return np.vstack([np.hstack(tiles[i:i + ncol]) for i in range(0, len(tiles), ncol)])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clip", default=CLIP)
    ap.add_argument("--out", default="/tmp/overground_side_tracking_vertical_sheets")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    frames = decode(args.clip)
    n = len(frames)
    print("decoded", n, "frames")
    H = ground_homographies(frames)
    # pavement motion per frame: shows the speed ramp and the skipped source frame at 86->87
    with open(os.path.join(args.out, "ground_motion.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["frame", "next_frame", "ground_dx_px", "ground_dy_px"])
        for t, h in enumerate(H):
            d = cv2.perspectiveTransform(np.float32([[[203, 600]]]), h)[0, 0] - [203, 600]
            w.writerow([t, t + 1, "%.2f" % d[0], "%.2f" % d[1]])
    allrows = []
    for st in STANCES:
        rows, G, level, toe0, zb = measure(frames, H, st)
        allrows += rows
        ric, rto = rule_calls(rows, st["ic"] is not None)
        print("step %d %s: rules give IC %s TO %s; labelled IC %s (alt %s) TO %s (alt %s)" % (
            st["step"], st["foot"], ric, rto, st["ic"], st.get("ic_alt"), st["to"],
            st.get("to_alt")))
        tag = "%d_%s" % (st["step"], st["foot"])
        zoom = max(2.0, min(6.0, 360.0 / (zb[2] - zb[0])))   # tiles about 360 px wide
        if st["ic"] is not None:
            ts = [t for t in range(st["ic"] - 2, st["ic"] + 2) if 0 <= t < n]
            cv2.imwrite(os.path.join(args.out, "sheet_%s_IC.png" % tag),
                        grid([tile(frames, G, zb, t, level, toe0, zoom) for t in ts], 4))
        if st["to"] is not None:
            ts = [t for t in range(st["to"] - 1, st["to"] + 3) if 0 <= t < n]
            cv2.imwrite(os.path.join(args.out, "sheet_%s_TO.png" % tag),
                        grid([tile(frames, G, zb, t, level, toe0, zoom) for t in ts], 4))
        a, b = st["rng"]
        cv2.imwrite(os.path.join(args.out, "wide_%s.png" % tag),
                    grid([tile(frames, G, zb, t, level, toe0, zoom) for t in range(a, b + 1)], 6))
        for r in rows:
            print("step %d %-5s f%3d contact %5.1f fore %5.1f rear %5.1f dtoe %5.1f ang %6.1f "
                  "foot_dx %s ground_dx %s" % (
                      r["step_index"], r["foot"], r["frame"], r["gap_px"], r["gap_fore_px"],
                      r["gap_rear_px"], r["dtoe_px"], r["sole_angle_rel_deg"],
                      "%.1f" % r["foot_dx_raw"] if r["foot_dx_raw"] != "" else "-",
                      "%.1f" % r["ground_dx_raw"] if r["ground_dx_raw"] != "" else "-"))
    # evidence: the ruler around every call (IC-2..IC+1, TO-1..TO+2, plus the alternatives)
    ev = []
    for st in STANCES:
        rows = {r["frame"]: r for r in allrows if r["step_index"] == st["step"]}
        for event, call, span in (("IC", st["ic"], range(-2, 2)), ("TO", st["to"], range(-1, 3))):
            if call is None:
                continue
            alt = st.get(event.lower() + "_alt")
            fr_ = sorted(set(call + k for k in span) | ({alt} if alt is not None else set()))
            for t in fr_:
                if t in rows:
                    e = dict(step_index=st["step"], foot=st["foot"], event=event, frame=t,
                             role="call" if t == call else ("alt" if t == alt else "context"))
                    e.update({k: v for k, v in rows[t].items()
                              if k not in ("step_index", "foot", "frame")})
                    ev.append(e)
    with open(os.path.join(args.out, "evidence.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(ev[0].keys()))
        w.writeheader()
        for r in ev:
            w.writerow({k: ("%.1f" % v if isinstance(v, (float, np.floating)) else v)
                        for k, v in r.items()})
    with open(os.path.join(args.out, "ruler.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(allrows[0].keys()))
        w.writeheader()
        for r in allrows:
            w.writerow({k: ("%.2f" % v if isinstance(v, (float, np.floating)) else v)
                        for k, v in r.items()})


if __name__ == "__main__":
    main()
