#!/usr/bin/env python3
"""Contact sheets and pixel rulers for overground_side_run_sports2d_demo3.mp4 (hand labels).

Static camera, runner crosses the frame left -> right on a mown lawn in front of a fence; 480x352, so a shoe
is only about 25 px long. The shoes are white; the mask keeps bright, neutral pixels (not skin, not grass).
Same method as tools/overground_side_openpose_overlay_radluy_sheets.py (this file started as a copy).

Usage (from the repository root; writes only into --out):
    python3 tests/labels/tools/overground_side_run_sports2d_demo3_sheets.py --out /tmp/demo3 \
        [--events tests/labels/overground_side_run_sports2d_demo3.events.csv]

Without --events it writes only `contact_map.txt` (per frame, the runs of columns holding shoe pixels and
the lowest shoe row of each run), which is how the stances were found.
With --events it writes ic_<step>.png / to_<step>.png (8x crops around each call, true 0-based frame index
and ruler numbers on every tile, the stance level as a dotted red line), `ruler.csv` (every frame of every
stance window) and `evidence.csv` (the rows around each call, as committed).
"""
import argparse
import csv
import math
import os

import cv2
import numpy as np

CLIP = "../shared/videos/overground_side_run_sports2d_demo3.mp4"
# frames without the runner (she leaves the picture at the right edge after frame 33)
BG_FRAMES = list(range(36, 47))
Y0, Y1 = 240, 330  # band that holds every foot near the ground
ZOOM, CROP_UP, CROP_PAD = 8, 40, 15  # sheet tiles: zoom, px shown above the level, px either side of the ROI
DIFF_T = 35
SHOE_COLS_H = 18  # a column belongs to the shoe if its lowest shoe pixel is this close to the level (the
# white-ish shins reach the mask too; they end 25 px or more above the level)
DIR = 1  # runner moves to image RIGHT: the toe is the shoe's right end
# per stance: step, planted-foot columns (xa, xb) seen in contact_map.txt, settled frames (foot flat and
# still, chosen on the sheets), window (first, last frame rendered)
STANCES = [
    (1, (74, 102), [6, 7], (1, 14)),
    (2, (214, 248), [15, 16], (10, 23)),
    (3, (366, 400), [26, 27], (19, 32)),
]


def read_frames(path):
    cap = cv2.VideoCapture(path)
    frames = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(f)
    return frames


def shoe_mask(f, bg):
    """Shoe pixels (changed, white, not skin, not grass) and all changed pixels."""
    f = f.astype(np.int16)[Y0:Y1]
    b = bg[Y0:Y1]
    d = np.abs(f - b).max(axis=2)
    changed = d > DIFF_T
    B, G, R = f[..., 0], f[..., 1], f[..., 2]
    # positively shoe-coloured: the shoes are white/light grey, much brighter than the grass, neither
    # skin-coloured (R well above B) nor green; the legs' skin, the black shorts and the dark blur fringe
    # are left out
    bright = f.sum(2) > b.sum(2) + 120
    not_skin = (R - B) < 30
    not_grass = (G - np.maximum(R, B)) < 8
    shoe = changed & bright & not_skin & not_grass
    shoe = cv2.morphologyEx(shoe.astype(np.uint8), cv2.MORPH_OPEN, np.ones((2, 2), np.uint8)) > 0
    return shoe, changed


def lowest(mask, xa, xb):
    """Absolute y of the lowest True pixel per column in [xa, xb) (-1 where none)."""
    m = mask[:, xa:xb]
    return np.where(m.any(0), Y0 + m.shape[0] - 1 - np.argmax(m[::-1], axis=0), -1)


def rulers(frames, bg, t, roi, level):
    xa, xb = roi
    shoe, changed = shoe_mask(frames[t], bg)
    ls = lowest(shoe, xa, xb)
    lc = lowest(changed, xa, xb)
    out = {"gap_any_px": "", "gap_shoe_px": "", "gap_toe_px": "", "gap_heel_px": "",
           "toe_x": "", "heel_x": "", "sole_angle_deg": ""}
    if (lc > 0).any():
        out["gap_any_px"] = int(level - lc[lc > 0].max())
    # the shoe: columns whose lowest shoe pixel is within SHOE_COLS_H px of the level
    cols = np.nonzero((ls > 0) & (ls >= level - SHOE_COLS_H))[0]
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
        # sole line heel-bottom -> toe-bottom, toes up positive (ground is level within 1.6 deg here,
        # corrected with GROUND_SLOPE)
        dx = abs(xt - xh)
        if dx > 10:
            ang = math.degrees(math.atan2(yt - yh, dx)) * -1
            out["sole_angle_deg"] = round(ang + DIR * math.degrees(math.atan(GROUND_SLOPE)), 1)
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


GROUND_SLOPE = 0.0  # set in main from the stance levels


def main():
    global GROUND_SLOPE
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--events")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    frames = read_frames(CLIP)
    print("frames", len(frames), frames[0].shape)
    bg = np.median(np.array([frames[i] for i in BG_FRAMES]), axis=0).astype(np.int16)
    W = frames[0].shape[1]

    if not a.events:
        # contact map: per frame, the runs of columns holding shoe pixels, with the lowest shoe row of each
        # run (absolute y); a planted foot is a run that keeps its columns and its lowest row
        with open(os.path.join(a.out, "contact_map.txt"), "w") as fh:
            for t in range(len(frames)):
                shoe, _ = shoe_mask(frames[t], bg)
                low = lowest(shoe, 0, W)
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
            shoe, _ = shoe_mask(frames[t], bg)
            l = lowest(shoe, xa, xb)
            ys.append(l.max())
        levels[step] = float(np.median(ys))
    xs = np.array([(s[1][0] + s[1][1]) / 2 for s in STANCES])
    ys = np.array([levels[s[0]] for s in STANCES])
    p = np.polyfit(xs, ys, 1)
    GROUND_SLOPE = p[0]
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
            r, shoe = rulers(frames, bg, t, roi, level)
            if r["toe_x"] != "":
                bx0, bx1 = min(r["toe_x"], r["heel_x"]), max(r["toe_x"], r["heel_x"])
                dx, dy = shift(frames, t, (bx0, int(level) - 30, bx1 + 1, int(level) + 2))
            else:
                dx, dy = "", ""
            r.update({"foot_dx_next_px": dx, "foot_dy_next_px": dy})
            per[t] = r
        # heel column shift to the next frame (the template shift above is fooled by the leg and blur;
        # shoe-sized patches match poorly at this scale, the rear end of the shoe mask is steadier)
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
                r = per.get(t) or rulers(frames, bg, t, roi, level)[0]
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

if __name__ == "__main__":
    main()
