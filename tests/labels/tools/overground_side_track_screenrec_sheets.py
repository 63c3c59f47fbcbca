#!/usr/bin/env python3
"""Contact sheets and pixel rulers for overground_side_track_screenrec.mp4 (hand labels).

A phone screen recording of a coaching video playing in an app (UI bars at the top and bottom). Frames 0-34 show
the video paused, 34-45 the player zooming to full screen, 35-60 real-time playback of a panning shot, and from
61 on the same shot in slow motion (about 4x). Only 33-62 are measured here: the stances of the real-time part.
The camera pans with the runner (he faces and runs to image LEFT), so a planted shoe moves in the image with the
ground (40-64 px/frame to the right); there is no fixed ground row and no useful background model. The ground
shift is measured on the track itself (rows 540-620, the side of the frame away from the runner, high-passed,
phase correlation): it equals the far background's shift, i.e. the camera turns and does not travel. The shoes
are saturated cyan and are the only cyan below the shorts, so the shoe is a colour blob tracked frame to frame.

Usage (from the repository root; writes only into --out):
    python3 tests/labels/tools/overground_side_track_screenrec_sheets.py --out /tmp/screenrec \
        --events tests/labels/overground_side_track_screenrec.events.csv

Writes `timing.csv` (per frame: mean abs difference to the next frame, background shift of rows 80-150 by
phase correlation, repeat flag), `ruler.csv` (per stance and frame: the tracked shoe's lowest row, heel and toe
bottoms and ends, centroid and heel-end shifts against the ground shift, sole angle) and
`<step>_<first>_<last>.png` sheets (4x crops following the shoe, true
0-based frame index, repeat flag and rulers on every tile, the stance level dotted red) and `evidence.csv`
(the committed evidence rows).
"""
import argparse
import csv
import os

import cv2
import numpy as np

from static_camera_sheets import read_frames

CLIP = "../shared/videos/overground_side_track_screenrec.mp4"
Y0, Y1 = 380, 690  # rows below the shorts and above the bottom UI bar
# per step: foot, frames tracked, seed point (x, y) on the shoe in the first frame, settled frames (flat and
# still, chosen on the sheets) that give the stance level, call frames written to the evidence file
STANCES = [
    (0, "left", (33, 47), (500, 490), [40, 41], list(range(34, 47))),
    (1, "right", (44, 56), (602, 450), [49, 50], list(range(45, 56))),
    (2, "left", (52, 62), (727, 420), [60, 61], list(range(54, 62))),
]


def cyan(f):
    hsv = cv2.cvtColor(f, cv2.COLOR_BGR2HSV)
    m = (hsv[..., 0] > 78) & (hsv[..., 0] < 108) & (hsv[..., 1] > 110) & (hsv[..., 2] > 110)
    m[:Y0] = False
    m[Y1:] = False
    return m


def bg_shift(frames, t):
    if t + 1 >= len(frames):
        return "", ""
    a = cv2.cvtColor(frames[t], cv2.COLOR_BGR2GRAY)[80:150].astype(np.float32)
    b = cv2.cvtColor(frames[t + 1], cv2.COLOR_BGR2GRAY)[80:150].astype(np.float32)
    (dx, _), r = cv2.phaseCorrelate(a, b, cv2.createHanningWindow(a.shape[::-1], cv2.CV_32F))
    return round(dx, 1), round(r, 2)


def ground_shift(frames, t, runner_x):
    """Horizontal shift of the track (rows 540-620) from t to t+1, on the half of the frame without the runner."""
    if t + 1 >= len(frames):
        return "", ""
    x0, x1 = (0, 380) if runner_x > 512 else (644, 1024)
    a = cv2.cvtColor(frames[t], cv2.COLOR_BGR2GRAY)[540:620, x0:x1].astype(np.float32)
    b = cv2.cvtColor(frames[t + 1], cv2.COLOR_BGR2GRAY)[540:620, x0:x1].astype(np.float32)
    a -= cv2.GaussianBlur(a, (0, 0), 8)
    b -= cv2.GaussianBlur(b, (0, 0), 8)
    (dx, _), r = cv2.phaseCorrelate(a, b, cv2.createHanningWindow(a.shape[::-1], cv2.CV_32F))
    return round(dx, 1), round(r, 2)


def shoe_numbers(mask):
    """Lowest row, toe (left end) and heel (right end) x, heel and toe bottoms of one blob mask."""
    cols = np.nonzero(mask.any(0))[0]
    x0, x1 = cols.min(), cols.max()
    low = np.where(mask.any(0), mask.shape[0] - 1 - np.argmax(mask[::-1], axis=0), -1)
    third = max(3, int(0.3 * (x1 - x0 + 1)))
    toe = low[x0:x0 + third]
    heel = low[x1 - third + 1:x1 + 1]
    return dict(bottom_y=int(low.max()), toe_x=int(x0), heel_x=int(x1), heel_bottom_y=int(heel.max()),
                toe_bottom_y=int(toe.max()))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--events", help="the committed calls, to mark call/alt rows in evidence.csv")
    a = ap.parse_args()
    roles = {}
    if a.events:
        for c in csv.DictReader(open(a.events)):
            for key, role in (("ic_frame", "call"), ("to_frame", "call"), ("ic_alt_frame", "alt"),
                              ("to_alt_frame", "alt")):
                if c[key]:
                    roles[(int(c["step_index"]), int(c[key]))] = role
    os.makedirs(a.out, exist_ok=True)
    frames = read_frames(CLIP)
    print("frames", len(frames), frames[0].shape)
    diffs = [float(np.abs(frames[t + 1].astype(np.int16) - frames[t]).mean()) for t in range(len(frames) - 1)]
    with open(os.path.join(a.out, "timing.csv"), "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["frame", "diff_to_next", "bg_dx_next_px", "bg_corr", "repeat_of_previous"])
        for t in range(len(frames)):
            dx, r = bg_shift(frames, t)
            w.writerow([t, round(diffs[t], 2) if t < len(diffs) else "", dx, r,
                        int(t > 0 and diffs[t - 1] < 2.0)])

    rows, ev = [], []
    for step, foot, (f0, f1), seed, settled, evframes in STANCES:
        cx, cy = seed
        per = {}
        for t in range(f0, f1 + 1):
            m = cyan(frames[t]).astype(np.uint8)
            n, lab, st, cen = cv2.connectedComponentsWithStats(m)
            cand = [k for k in range(1, n) if st[k][4] >= 25]
            if not cand:
                continue
            k = min(cand, key=lambda k: (cen[k][0] - cx) ** 2 + (cen[k][1] - cy) ** 2)
            if (cen[k][0] - cx) ** 2 + (cen[k][1] - cy) ** 2 > 90 ** 2:
                continue
            r = shoe_numbers(lab == k)
            r.update(cx=round(float(cen[k][0]), 1), cy=round(float(cen[k][1]), 1))
            per[t] = r
            cx, cy = cen[k]
        level = float(np.median([per[t]["bottom_y"] for t in settled]))
        for t in sorted(per):
            r = per[t]
            nxt = per.get(t + 1)
            r["shoe_dx_next_px"] = round(nxt["cx"] - r["cx"], 1) if nxt else ""
            r["gap_px"] = round(level - r["bottom_y"], 1)
            r["gap_heel_px"] = round(level - r["heel_bottom_y"], 1)
            r["gap_toe_px"] = round(level - r["toe_bottom_y"], 1)
            bdx, _ = bg_shift(frames, t)
            r["bg_dx_next_px"] = bdx
            gdx, gcorr = ground_shift(frames, t, r["cx"])
            r["ground_dx_next_px"] = gdx
            r["ground_corr"] = gcorr
            r["shoe_minus_ground_px"] = round(r["shoe_dx_next_px"] - gdx, 1) if "" not in (
                r["shoe_dx_next_px"], gdx) else ""
            # the heel end's own shift against the ground: the centroid also moves when the forefoot comes
            # down around a planted heel, the heel end does not
            r["heel_minus_ground_px"] = round(nxt["heel_x"] - r["heel_x"] - gdx, 1) if nxt and gdx != "" else ""
            # sole line (lower edge of the cyan upper, parallel to the sole) against the image rows, toes up
            # positive; the heel and toe bottoms are about 0.7 of the shoe length apart
            length = 0.7 * (r["heel_x"] - r["toe_x"])
            r["sole_angle_deg"] = round(float(np.degrees(np.arctan2(r["toe_bottom_y"] * -1.0 + r["heel_bottom_y"],
                                                                     length))), 1) if length > 10 else ""
            r["repeat_of_previous"] = int(t > 0 and diffs[t - 1] < 2.0)
            rows.append(dict(step=step, foot=foot, frame=t, level_y=level, **r))
            if t in evframes:
                ev.append(dict(step_index=step, foot=foot, frame=t, role=roles.get((step, t), "context"),
                               level_y=level,
                               **{c: r[c] for c in EVCOLS}))
        # sheet: 4x crops that follow the shoe, 3 per row
        tiles = []
        for t in sorted(per):
            r = per[t]
            x0 = int(min(max(0, r["cx"] - 70), frames[0].shape[1] - 140))
            y0 = int(level) - 70
            crop = frames[t][y0:y0 + 90, x0:x0 + 140].copy()
            z = cv2.resize(crop, None, fx=4, fy=4, interpolation=cv2.INTER_NEAREST)
            ly = int((level - y0) * 4 + 2)
            z[ly, ::6] = (0, 0, 255)
            z[ly + 1, ::6] = (0, 0, 255)
            cv2.putText(z, "%d%s" % (t, " REPEAT" if r["repeat_of_previous"] else ""), (6, 32), 0, 1.1,
                        (0, 0, 200), 3)
            cv2.putText(z, "gap %s heel %s toe %s hrel %s gnd %s ang %s" % (
                r["gap_px"], r["gap_heel_px"], r["gap_toe_px"], r["heel_minus_ground_px"], r["ground_dx_next_px"],
                r["sole_angle_deg"]),
                        (6, z.shape[0] - 10), 0, 0.75, (0, 0, 0), 2)
            tiles.append(z)
        while len(tiles) % 3:
            tiles.append(np.zeros_like(tiles[0]))
        sheet = np.vstack([np.hstack(tiles[i:i + 3]) for i in range(0, len(tiles), 3)])
        cv2.imwrite(os.path.join(a.out, "%d_%d_%d.png" % (step, f0, f1)), sheet)
        print("step", step, "level", level)
    with open(os.path.join(a.out, "ruler.csv"), "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)
    with open(os.path.join(a.out, "evidence.csv"), "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(ev[0].keys()))
        w.writeheader()
        w.writerows(ev)


EVCOLS = ["repeat_of_previous", "gap_px", "gap_heel_px", "gap_toe_px", "heel_x", "toe_x", "shoe_dx_next_px",
          "ground_dx_next_px", "shoe_minus_ground_px", "heel_minus_ground_px", "bg_dx_next_px", "sole_angle_deg"]

if __name__ == "__main__":
    main()
