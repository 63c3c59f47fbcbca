"""Contact sheets and pixel rulers for a clip filmed with a static camera, the runner crossing the picture (hand
labels): the method shared by `overground_side_openpose_overlay_radluy_sheets.py` and
`overground_side_run_sports2d_demo3_sheets.py`, which give the clip, its stances and what a shoe pixel looks like.

A median background of the frames without the runner; per frame the shoe pixels (changed from the background and
shoe-coloured, by the clip's rule) in a band near the ground; per stance its level (the lowest shoe pixel of the
planted columns in its settled frames) and a ground line through the levels; around each call the rulers (gaps of
the lowest changed, shoe, toe and heel pixels to the level, the sole's angle, the foot's shift to the next frame)
and a sheet of zoomed tiles with the true 0-based frame index.

Without --events a clip script writes only `contact_map.txt` (per frame, the runs of columns holding shoe pixels
and the lowest shoe row of each run), which is how the stances were found. With --events it writes
ic_<step>.png / to_<step>.png, `ruler.csv` (every frame of every stance window) and `evidence.csv` (the rows
around each call, as committed).
"""
import argparse
import csv
import math
import os
from dataclasses import dataclass
from typing import Callable

import cv2
import numpy as np


@dataclass
class Clip:
    """What a clip script gives: the clip and how to read it."""

    path: str
    bg_frames: list  # frames without the runner, for the median background
    y0: int  # band that holds every foot near the ground: rows y0..y1
    y1: int
    zoom: int  # sheet tiles: zoom, px shown above the level, px either side of the ROI
    crop_up: int
    crop_pad: int
    diff_t: int  # a pixel changed from the background by more than this (any channel)
    shoe_cols_h: int  # a column belongs to the shoe if its lowest shoe pixel is this close to the level
    dir: int  # -1: the runner moves to image left (the toe is the shoe's left end); 1: to the right
    # per stance: step, planted-foot columns (xa, xb) seen in contact_map.txt, settled frames (foot flat and
    # still, chosen on the sheets), window (first, last frame rendered)
    stances: list
    # the clip's shoe colours: (frame, background) band crops as int16 BGR -> mask of shoe-coloured pixels
    shoe_colour: Callable


def read_frames(path):
    """Every frame in cv2.VideoCapture.read() order."""
    cap = cv2.VideoCapture(path)
    frames = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(f)
    return frames


def shoe_mask(clip, f, bg):
    """Shoe pixels (changed and shoe-coloured by the clip's rule) and all changed pixels, in the band."""
    f = f.astype(np.int16)[clip.y0:clip.y1]
    b = bg[clip.y0:clip.y1]
    d = np.abs(f - b).max(axis=2)
    changed = d > clip.diff_t
    shoe = changed & clip.shoe_colour(f, b)
    shoe = cv2.morphologyEx(shoe.astype(np.uint8), cv2.MORPH_OPEN, np.ones((2, 2), np.uint8)) > 0
    return shoe, changed


def lowest(clip, mask, xa, xb):
    """Absolute y of the lowest True pixel per column in [xa, xb) (-1 where none)."""
    m = mask[:, xa:xb]
    return np.where(m.any(0), clip.y0 + m.shape[0] - 1 - np.argmax(m[::-1], axis=0), -1)


def rulers(clip, frames, bg, t, roi, level, ground_slope):
    xa, xb = roi
    DIR = clip.dir
    shoe, changed = shoe_mask(clip, frames[t], bg)
    ls = lowest(clip, shoe, xa, xb)
    lc = lowest(clip, changed, xa, xb)
    out = {"gap_any_px": "", "gap_shoe_px": "", "gap_toe_px": "", "gap_heel_px": "",
           "toe_x": "", "heel_x": "", "sole_angle_deg": ""}
    if (lc > 0).any():
        out["gap_any_px"] = int(level - lc[lc > 0].max())
    # the shoe: columns whose lowest shoe pixel is within shoe_cols_h px of the level
    cols = np.nonzero((ls > 0) & (ls >= level - clip.shoe_cols_h))[0]
    if len(cols) >= 5:
        out["gap_shoe_px"] = int(level - ls[cols].max())
        x0, x1 = cols.min(), cols.max()
        n = x1 - x0 + 1
        third = max(3, int(0.3 * n))
        toe_cols = cols[cols < x0 + third] if DIR < 0 else cols[cols > x1 - third]
        heel_cols = cols[cols > x1 - third] if DIR < 0 else cols[cols < x0 + third]
        yt, yh = ls[toe_cols].max(), ls[heel_cols].max()
        xt = toe_cols[np.argmax(ls[toe_cols])]
        xh = heel_cols[np.argmax(ls[heel_cols])]
        out["gap_toe_px"] = int(level - yt)
        out["gap_heel_px"] = int(level - yh)
        out["toe_x"] = int(xa + (x0 if DIR < 0 else x1))
        out["heel_x"] = int(xa + (x1 if DIR < 0 else x0))
        # sole line heel-bottom -> toe-bottom, toes up positive, corrected with the ground line's slope
        dx = abs(xt - xh)
        if dx > 10:
            ang = math.degrees(math.atan2(yt - yh, dx)) * -1
            out["sole_angle_deg"] = round(ang + DIR * math.degrees(math.atan(ground_slope)), 1)
    return out, shoe


def shift(frames, t, box):
    """Horizontal/vertical shift of the shoe patch box=(x0,y0,x1,y1) from frame t to t+1."""
    if t + 1 >= len(frames):
        return "", ""
    x0, y0, x1, y1 = box
    a = cv2.cvtColor(frames[t], cv2.COLOR_BGR2GRAY)[y0:y1, x0:x1]
    sx0, sx1 = max(0, x0 - 70), min(frames[0].shape[1], x1 + 70)
    sy0, sy1 = max(0, y0 - 25), min(frames[0].shape[0], y1 + 25)
    b = cv2.cvtColor(frames[t + 1], cv2.COLOR_BGR2GRAY)[sy0:sy1, sx0:sx1]
    if a.size == 0 or b.shape[0] < a.shape[0] or b.shape[1] < a.shape[1]:
        return "", ""
    r = cv2.matchTemplate(b, a, cv2.TM_CCOEFF_NORMED)
    _, _, _, loc = cv2.minMaxLoc(r)
    return int(sx0 + loc[0] - x0), int(sy0 + loc[1] - y0)


def main(clip):
    """Reads --out and --events and writes the contact map, or the sheets and rulers, for `clip`."""
    DIR, STANCES, ZOOM, CROP_UP, CROP_PAD = clip.dir, clip.stances, clip.zoom, clip.crop_up, clip.crop_pad
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--events")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    frames = read_frames(clip.path)
    print("frames", len(frames), frames[0].shape)
    bg = np.median(np.array([frames[i] for i in clip.bg_frames]), axis=0).astype(np.int16)
    W = frames[0].shape[1]

    if not a.events:
        # contact map: per frame, the runs of columns holding shoe pixels, with the lowest shoe row of each
        # run (absolute y); a planted foot is a run that keeps its columns and its lowest row
        with open(os.path.join(a.out, "contact_map.txt"), "w") as fh:
            for t in range(len(frames)):
                shoe, _ = shoe_mask(clip, frames[t], bg)
                low = lowest(clip, shoe, 0, W)
                runs, start = [], None
                for x in range(W + 1):
                    inside = x < W and low[x] > 0
                    if inside and start is None:
                        start = x
                    if not inside and start is not None:
                        if x - start >= 4:
                            runs.append("%d-%d y%d" % (start, x - 1, low[start:x].max()))
                        start = None
                fh.write("%d %s\n" % (t, " | ".join(runs)))
        return

    # stance level per stance: median lowest shoe pixel of the planted columns in the settled frames
    levels = {}
    for step, (xa, xb), settled, _ in STANCES:
        ys = []
        for t in settled:
            shoe, _ = shoe_mask(clip, frames[t], bg)
            l = lowest(clip, shoe, xa, xb)
            ys.append(l.max())
        levels[step] = float(np.median(ys))
    xs = np.array([(s[1][0] + s[1][1]) / 2 for s in STANCES])
    ys = np.array([levels[s[0]] for s in STANCES])
    p = np.polyfit(xs, ys, 1)
    ground_slope = p[0]
    print("stance levels", {k: round(v, 1) for k, v in levels.items()})
    print("line through them: y = %.1f %+.4f x (tilt %.2f deg), residuals %s" % (
        p[1], p[0], math.degrees(math.atan(p[0])), np.round(ys - np.polyval(p, xs), 1).tolist()))

    calls = list(csv.DictReader(open(a.events)))
    ruler_rows, ev_rows = [], []
    for step, (xa, xb), settled, (w0, w1) in STANCES:
        level = levels[step]
        roi = (max(0, xa - 20), min(W, xb + 50)) if DIR < 0 else (max(0, xa - 50), min(W, xb + 20))
        per = {}
        for t in range(w0, min(w1, len(frames) - 1) + 1):
            r, shoe = rulers(clip, frames, bg, t, roi, level, ground_slope)
            if r["toe_x"] != "":
                bx0, bx1 = min(r["toe_x"], r["heel_x"]), max(r["toe_x"], r["heel_x"])
                dx, dy = shift(frames, t, (bx0, int(level) - 30, bx1 + 1, int(level) + 2))
            else:
                dx, dy = "", ""
            r.update({"foot_dx_next_px": dx, "foot_dy_next_px": dy})
            per[t] = r
        # heel column shift to the next frame (the template shift above is fooled by a drawn skeleton, the
        # legs and blur; the heel end of the shoe mask is steadier)
        for t, r in per.items():
            nxt = per.get(t + 1)
            r["heel_dx_next_px"] = (nxt["heel_x"] - r["heel_x"]) if nxt and "" not in (
                nxt["heel_x"], r["heel_x"]) else ""
            ruler_rows.append(dict(step=step, frame=t, level_y=round(level, 1), **r))
        row = next((c for c in calls if int(c["step_index"]) == step), None)
        if row is None:
            continue
        for ev, rel in (("IC", range(-3, 3)), ("TO", range(-2, 4))):
            call = row["ic_frame"] if ev == "IC" else row["to_frame"]
            alt = row["ic_alt_frame"] if ev == "IC" else row["to_alt_frame"]
            if call == "":
                continue
            call = int(call)
            tiles = []
            for k in rel:
                t = call + k
                if t < 0 or t >= len(frames):
                    continue
                role = "call" if k == 0 else ("alt" if alt != "" and t == int(alt) else "context")
                r = per.get(t) or rulers(clip, frames, bg, t, roi, level, ground_slope)[0]
                ev_rows.append(dict(step_index=step, foot=row["foot"], event=ev, call_frame=call, frame=t,
                                    rel=k, role=role, level_y=round(level, 1),
                                    **{c: r.get(c, "") for c in EVCOLS}))
                cx0, cx1 = max(0, roi[0] - CROP_PAD), min(W, roi[1] + CROP_PAD)
                cy0, cy1 = int(level) - CROP_UP, min(frames[0].shape[0], int(level) + 15)
                crop = frames[t][cy0:cy1, cx0:cx1].copy()
                z = cv2.resize(crop, None, fx=ZOOM, fy=ZOOM, interpolation=cv2.INTER_NEAREST)
                ly = int((level - cy0) * ZOOM + ZOOM // 2)
                z[ly, ::6] = (0, 0, 255)
                z[ly + 1, ::6] = (0, 0, 255)
                cv2.putText(z, "%d %s" % (t, role), (6, 30), 0, 1.0, (0, 255, 255), 2)
                txt = "any %s shoe %s toe %s heel %s hdx %s ang %s" % (
                    r["gap_any_px"], r["gap_shoe_px"], r["gap_toe_px"], r["gap_heel_px"],
                    r.get("heel_dx_next_px", ""), r["sole_angle_deg"])
                cv2.putText(z, txt, (6, z.shape[0] - 10), 0, 0.7, (255, 255, 255), 2)
                tiles.append(z)
            while len(tiles) % 2:
                tiles.append(np.zeros_like(tiles[0]))
            sheet = np.vstack([np.hstack(tiles[i:i + 2]) for i in range(0, len(tiles), 2)])
            cv2.imwrite(os.path.join(a.out, "%s_%d.png" % (ev.lower(), step)), sheet)
    with open(os.path.join(a.out, "ruler.csv"), "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(ruler_rows[0].keys()))
        w.writeheader()
        w.writerows(ruler_rows)
    if ev_rows:
        with open(os.path.join(a.out, "evidence.csv"), "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(ev_rows[0].keys()))
            w.writeheader()
            w.writerows(ev_rows)


EVCOLS = ["gap_any_px", "gap_shoe_px", "gap_toe_px", "gap_heel_px", "toe_x", "heel_x", "heel_dx_next_px",
          "foot_dx_next_px",
          "foot_dy_next_px", "sole_angle_deg"]
