#!/usr/bin/env python3
"""Contact sheets + pixel rulers for treadmill_oblique_sprint_with_coach.mp4 (hand-labelled foot contacts).

Run from the repository root (needs opencv-python, numpy; no pose model is used anywhere):

    python tests/labels/tools/treadmill_oblique_sprint_with_coach_sheets.py \
        [--video ../shared/videos/treadmill_oblique_sprint_with_coach.mp4] [--out /tmp/tosc_sheets] \
        [--events tests/labels/treadmill_oblique_sprint_with_coach.events.csv] [--cache /tmp/tosc_roi.npy]

What it does
 1. Decodes every frame with cv2.VideoCapture (frame index = 0-based decode order) and stabilises the hand-held
    camera: SIFT features on the treadmill deck / console (static, same depth as the belt) are matched to
    frame 0 and a similarity transform (RANSAC) maps each frame onto frame 0. After this the belt edges stay
    within ~2 px (far edge y~549, near edge y~650 at x=600, tilt ~0.035 px/px). Only the foot region is kept.
 2. Background = per-pixel temporal median of the stabilised foot region (belt without feet). The coach's hand
    edge at belt level is found per frame; pixels right of it are ignored.
 3. Shoes: saturated orange pixels (the athlete's shoes) -> blobs. For each blob the lowest "shoe" pixel is taken
    from the foreground (|frame-bg| large and warm or brighter than the belt, so the dark shadows are excluded),
    which includes the white midsole. low_yc = lowest y corrected for the belt tilt to x=640.
 4. Each stance in STANCES (seed frame + x of the shoe on the belt) is tracked backwards/forwards by nearest-blob
    matching. stance level = median of the 3 largest low_yc of the track (7 in the 4x slow-motion section),
    blobs clear of the coach's hand. gap_px = level - low_yc (px above the belt, >0 = above).
    vx = horizontal speed of the blob centre (px/frame; the belt carries a stance foot to +x).
 5. Writes ruler.csv (every tracked frame of every stance), evidence.csv (frames around each labelled event,
    with the ankle/sock height for TO frames and the raw image-plane sole angle for IC frames) and PNG sheets:
    one row per event, tiles IC-2..IC+2 / TO-2..TO+2 around the tracked shoe at 1.7x, TRUE frame index burned
    in, the stance level drawn as a yellow dotted line, the lowest shoe pixel as a magenta cross, gap and vx
    printed. --cache keeps the stabilised region in an .npy between runs.
"""
import argparse, csv, os, sys
import cv2
import numpy as np

ROI = (380, 380, 1000, 720)          # x0, y0, x1, y1 of the stabilised foot region kept in memory
COACH_X = 872                        # typical stabilised x of the coach's hand edge at belt level (per-frame: coach_edge)
TILT = 0.035                         # belt-line slope in the stabilised image (px of y per px of x)

# (step label, anatomical foot, seed frame, x of the shoe centre at the seed frame)
# left = near foot (camera sees the runner's left side), right = far foot.  See the .md for the evidence.
STANCES = [
    ('A', 'left', 34, 629), ('B', 'right', 41, 705), ('C', 'left', 47, 692), ('D', 'right', 53, 704),
    ('E', 'left', 60, 756), ('F', 'right', 66, 740), ('G', 'left', 72, 704), ('H', 'right', 79, 753),
    ('I', 'left', 85, 709), ('J', 'right', 92, 777), ('K', 'left', 98, 728), ('L', 'right', 105, 726),
    ('M', 'left', 119, 723), ('N', 'right', 146, 725), ('O', 'left', 172, 694), ('P', 'right', 200, 715),
    ('Q', 'left', 227, 700), ('R', 'right', 255, 731), ('S', 'left', 282, 718), ('T', 'right', 302, 703),
    ('U', 'left', 309, 680), ('V', 'right', 316, 697), ('W', 'left', 323, 716), ('X', 'right', 330, 727),
    ('Y', 'left', 336, 647), ('Z', 'right', 343, 673), ('AA', 'left', 350, 696), ('AB', 'right', 357, 713),
    ('AC', 'left', 364, 701), ('AD', 'right', 371, 755),
    # mount / dismount contacts (excluded rows; 'level' is then the belt or the near-side deck under that foot)
    ('d0', 'left', 20, 660), ('m2', 'right', 25, 516),
    ('e1', 'left', 385, 777), ('e2', 'right', 396, 560),
]


def decode_stabilised(path):
    """Decode every frame (cv2 order = frame index) and map it onto frame 0 with a similarity transform
    estimated from SIFT features on the treadmill deck and console only (static, at the belt's depth).
    Returns the stabilised foot region ROI of every frame and the number of RANSAC inliers per frame."""
    cap = cv2.VideoCapture(path)
    ok, f0 = cap.read()
    if not ok:
        sys.exit(f'cannot read {path}')
    h, w = f0.shape[:2]
    mask = np.zeros((h, w), np.uint8)
    mask[480:720, 150:880] = 255     # deck, belt edges, front rail foot
    mask[300:600, 0:280] = 255       # console (mounted on the treadmill)
    sift = cv2.SIFT_create(4000)
    k0, d0 = sift.detectAndCompute(cv2.cvtColor(f0, cv2.COLOR_BGR2GRAY), mask)
    bf = cv2.BFMatcher()
    x0, y0, x1, y1 = ROI
    out, inliers = [], []
    f = f0
    while ok:
        k, d = sift.detectAndCompute(cv2.cvtColor(f, cv2.COLOR_BGR2GRAY), mask)
        good = [p for p, q in bf.knnMatch(d, d0, k=2) if p.distance < 0.75 * q.distance]
        src = np.float32([k[p.queryIdx].pt for p in good])
        dst = np.float32([k0[p.trainIdx].pt for p in good])
        M, inl = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=1.5)
        inliers.append(int(inl.sum()))
        s = cv2.warpAffine(f, M, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        out.append(s[y0:y1, x0:x1].copy())
        ok, f = cap.read()
    return np.stack(out), inliers


def coach_edge(roi):
    """Per frame: stabilised x of the left edge of the coach's hand at belt level (rows 600-645)."""
    X0, Y0 = ROI[0], ROI[1]
    raw = []
    for im in roi:
        h = cv2.cvtColor(im[600 - Y0:645 - Y0, 850 - X0:960 - X0], cv2.COLOR_BGR2HSV).astype(int)
        skin = (h[..., 0] >= 3) & (h[..., 0] <= 20) & (h[..., 1] > 60) & (h[..., 1] < 170) & (h[..., 2] > 90)
        xs = np.nonzero(skin.sum(0) >= 20)[0]
        raw.append(xs.min() + 850 if len(xs) else 960)
    raw = np.array(raw, float)
    raw[raw < 866] = np.nan                      # the runner's shoe passing in front of the hand
    out = np.array([np.nanmedian(raw[max(0, i - 7):i + 8]) for i in range(len(raw))])
    return np.nan_to_num(out, nan=COACH_X).astype(int)


def shoe_blobs(roi, bg, bgv, cedge=COACH_X):
    """Orange shoe blobs of one stabilised ROI frame, each with its lowest shoe pixel (incl. the white sole).
    Pixels right of the coach's hand edge (cedge - 2) are ignored (they belong to the coach)."""
    X0, Y0 = ROI[0], ROI[1]
    hsv = cv2.cvtColor(roi, cv2.COLOR_BGR2HSV).astype(int)
    orange = ((hsv[..., 0] <= 9) | (hsv[..., 0] >= 172)) & (hsv[..., 1] > 135) & (hsv[..., 2] > 80)
    orange = cv2.morphologyEx(orange.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    orange[:, cedge - 2 - X0:] = 0              # the coach's hand and red shorts
    diff = np.abs(roi.astype(int) - bg).sum(2)
    warm = (roi[..., 2].astype(int) - roi[..., 0].astype(int)) > 12
    fg = (diff > 45) & (warm | (hsv[..., 2] - bgv > 25))
    fg = cv2.morphologyEx(fg.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    fg[:, cedge - 2 - X0:] = 0                   # coach's forearm / hand: never part of a shoe
    n, lab, st, cen = cv2.connectedComponentsWithStats(orange)
    _, flab = cv2.connectedComponents(fg)
    blobs = []
    for j in range(1, n):
        x, y, w, h, a = st[j]
        if a < 150:
            continue
        labs = np.unique(flab[lab == j])
        labs = labs[labs > 0]
        comp = np.isin(flab, labs) if len(labs) else (lab == j)
        xa, xb = max(0, x - 12), min(comp.shape[1], x + w + 12)
        sub = comp[y:, xa:xb]
        yy, xx = np.nonzero(sub)
        if len(yy) == 0:
            yy, xx = np.nonzero(lab[y:, xa:xb] == j)
        ybot = yy.max() + y + Y0
        xbot = int(np.median(xx[yy >= yy.max() - 1])) + xa + X0
        blobs.append(dict(area=int(a), x_toe=int(x + X0), x_heel=int(x + w - 1 + X0), top=int(y + Y0),
                          cx=float(cen[j, 0] + X0), low_y=int(ybot), low_x=int(xbot),
                          low_yc=float(ybot - TILT * (xbot - 640)), cedge=int(cedge)))
    return blobs


def track(blobs, f0, x0, nback, nfwd):
    """Follow one shoe from its seed blob by nearest-blob matching with a constant-velocity prediction."""
    seed = min(blobs[f0], key=lambda b: abs(b['cx'] - x0))
    out = {f0: seed}
    for d, nmax in ((1, nfwd), (-1, nback)):
        prev, v = seed, (0.0, 0.0)
        for k in range(1, nmax + 1):
            f = f0 + d * k
            if not 0 <= f < len(blobs):
                break
            cands = [(abs(b['cx'] - prev['cx'] - v[0]) + 2.0 * abs(b['low_yc'] - prev['low_yc'] - v[1]), b)
                     for b in blobs[f]]
            if not cands:
                break
            c, b = min(cands, key=lambda t: t[0])
            if c > 220 or b['x_toe'] >= b['cedge'] - 3:
                break
            v = (b['cx'] - prev['cx'], b['low_yc'] - prev['low_yc'])
            prev = b
            out[f] = b
    return out


def ruler(blobs):
    rows = {}
    for name, foot, f0, x0 in STANCES:
        slow = 110 <= f0 <= 300
        tr = track(blobs, f0, x0, 16 if slow else 6, 16 if slow else 6)
        clear = [b['low_yc'] for f, b in tr.items() if b['x_heel'] < b['cedge'] - 6]
        level = float(np.median(sorted(clear)[-(7 if slow else 3):]))   # median of the lowest 3 (7 in slow motion)
        rs = []
        for f in sorted(tr):
            b = tr[f]
            pb = tr.get(f - 1)
            rs.append(dict(step=name, foot=foot, frame=f, cx=round(b['cx'], 1), x_toe=b['x_toe'],
                           x_heel=b['x_heel'], low_x=b['low_x'], low_yc=round(b['low_yc'], 1),
                           level=round(level, 1), gap_px=round(level - b['low_yc'], 1),
                           vx=round(b['cx'] - pb['cx'], 1) if pb else '',
                           vheel=(b['x_heel'] - pb['x_heel']) if pb else '',
                           near_coach=int(b['x_heel'] >= b['cedge'] - 6), coach_x=b['cedge']))
        rows[name] = rs
    return rows


def ankle_y(roi, bg, f, cedge):
    """Lowest pixel of the dark sock (ankle) that is not background, in the zone where toe-offs happen
    (x 720 .. coach hand). Used when the shoe itself goes behind the coach's hand: while the foot is on the
    belt this stays on a plateau (~557 px), after toe-off it rises."""
    X0, Y0 = ROI[0], ROI[1]
    xa, xb, ya, yb = 720, int(cedge) - 2, 460, 620
    im = roi[f, ya - Y0:yb - Y0, xa - X0:xb - X0]
    hsv = cv2.cvtColor(im, cv2.COLOR_BGR2HSV)
    d = np.abs(im.astype(int) - bg[ya - Y0:yb - Y0, xa - X0:xb - X0]).sum(2)
    m = ((hsv[..., 2] < 100) & (hsv[..., 1] < 120) & (d > 60)).astype(np.uint8)
    m = cv2.morphologyEx(m, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    n, lab, st, _ = cv2.connectedComponentsWithStats(m)
    if n < 2:
        return ''
    j = 1 + int(np.argmax(st[1:, 4]))
    if st[j, 4] < 60:
        return ''
    return int(np.nonzero(lab == j)[0].max() + ya)


def sole_angle_img(roi, bg, bgv, f, r):
    """Image-plane angle (deg) of the lower outline of the shoe against the belt line, toes-up positive
    (the runner faces -x). NOT a foot angle: the view is elevated (~30 deg) and the feet are toed out,
    which biases the near (left) foot negative and the far (right) foot positive by several degrees."""
    X0, Y0 = ROI[0], ROI[1]
    x0, x1 = int(r['x_toe']), int(r['x_heel'])
    L = x1 - x0
    ly = int(r['low_yc'] + TILT * (r['low_x'] - 640))
    im = roi[f].astype(int)
    hsv = cv2.cvtColor(roi[f], cv2.COLOR_BGR2HSV).astype(int)
    fg = (np.abs(im - bg).sum(2) > 45) & (((im[..., 2] - im[..., 0]) > 12) | (hsv[..., 2] - bgv > 25))
    fg = cv2.morphologyEx(fg.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    xs, ys = [], []
    for x in range(x0 + L // 10, x1 - L // 10 + 1):
        nz = np.nonzero(fg[ly - 45 - Y0:ly + 3 - Y0, x - X0])[0]
        if len(nz):
            xs.append(x)
            ys.append(nz.max() + ly - 45)
    if len(xs) < 10:
        return ''
    xs, ys = np.array(xs), np.array(ys)
    p = np.polyfit(xs, ys, 1)
    res = np.abs(ys - np.polyval(p, xs))
    keep = res <= np.percentile(res, 80)
    p = np.polyfit(xs[keep], ys[keep], 1)
    return round(float(np.degrees(np.arctan(p[0])) - np.degrees(np.arctan(TILT))), 1)


def draw_tile(roi, f, r, cx, cy, z=1.7, half=(90, 60)):
    """3x zoom crop around (cx, cy) (stabilised coords) with index, level dots and the lowest-pixel mark."""
    X0, Y0 = ROI[0], ROI[1]
    hw, hh = half
    xa, ya = int(cx - hw - X0), int(cy - hh - Y0)
    xa = min(max(xa, 0), roi.shape[2] - 2 * hw)
    ya = min(max(ya, 0), roi.shape[1] - 2 * hh)
    crop = roi[f, ya:ya + 2 * hh, xa:xa + 2 * hw]
    t = cv2.resize(crop, None, fx=z, fy=z, interpolation=cv2.INTER_CUBIC)
    if r is not None:
        for xx in range(0, 2 * hw, 4):               # stance level (tilt-corrected) as dots
            X = xx + xa + X0
            Y = r['level'] + TILT * (X - 640) - Y0 - ya
            cv2.circle(t, (int(xx * z), int(Y * z)), 1, (0, 255, 255), -1)
        lx, ly = r['low_x'] - X0 - xa, r['low_yc'] + TILT * (r['low_x'] - 640) - Y0 - ya
        cv2.drawMarker(t, (int(lx * z), int(ly * z)), (255, 0, 255), cv2.MARKER_CROSS, 14, 1)
        txt = f"gap {r['gap_px']:+.0f} vx {r['vx']}"
        cv2.putText(t, txt, (4, t.shape[0] - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 2)
        cv2.putText(t, txt, (4, t.shape[0] - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1)
    cv2.putText(t, str(f), (4, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.75, (0, 0, 0), 4)
    cv2.putText(t, str(f), (4, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.75, (0, 255, 255), 2)
    return t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--video', default='../shared/videos/treadmill_oblique_sprint_with_coach.mp4')
    ap.add_argument('--out', default='/tmp/treadmill_oblique_sprint_with_coach_sheets')
    ap.add_argument('--events', default='tests/labels/treadmill_oblique_sprint_with_coach.events.csv')
    ap.add_argument('--cache', default='', help='optional .npy to keep the stabilised ROI between runs')
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    if a.cache and os.path.exists(a.cache):
        roi = np.load(a.cache)
    else:
        roi, inl = decode_stabilised(a.video)
        print(f'{len(roi)} frames decoded and stabilised (min RANSAC inliers {min(inl)})', file=sys.stderr)
        if a.cache:
            np.save(a.cache, roi)
    bg = np.median(roi[20::2], axis=0).astype(np.uint8)
    bgv = cv2.cvtColor(bg, cv2.COLOR_BGR2HSV)[..., 2].astype(int)
    bg = bg.astype(int)
    cedge = coach_edge(roi)
    blobs = [shoe_blobs(r, bg, bgv, c) for r, c in zip(roi, cedge)]
    rows = ruler(blobs)
    del blobs
    keys = ['step', 'foot', 'frame', 'cx', 'x_toe', 'x_heel', 'low_x', 'low_yc', 'level', 'gap_px', 'vx',
            'vheel', 'near_coach', 'coach_x']
    with open(os.path.join(a.out, 'ruler.csv'), 'w', newline='') as fh:
        w = csv.DictWriter(fh, keys)
        w.writeheader()
        for name, _, _, _ in STANCES:
            w.writerows(rows[name])
    if not os.path.exists(a.events):
        print('no events file; ruler.csv written only', file=sys.stderr)
        return
    ev = list(csv.DictReader(open(a.events)))
    label_of = {}          # events.csv step_index -> STANCES label, matched by foot and IC/TO frame
    for e in ev:
        if e['status'] == 'excluded' and not e['ic_frame']:
            continue
        for name, foot, f0, _ in STANCES:
            fr = [r['frame'] for r in rows[name]]
            ref = int(e['ic_frame'] or e['to_frame'])
            if foot == e['foot'] and min(fr) <= ref <= max(fr):
                label_of[e['step_index']] = name
    evid = []
    sheet_rows = []
    for e in ev:
        name = label_of.get(e['step_index'])
        if name is None:
            continue
        byf = {r['frame']: r for r in rows[name]}
        for kind, col, rng in (('IC', 'ic_frame', range(-2, 3)), ('TO', 'to_frame', range(-2, 3))):
            if not e[col]:
                continue
            c = int(e[col])
            tiles = []
            ref = byf.get(c) or byf[min(byf, key=lambda f: abs(f - c))]
            cy = ref['level'] + TILT * (ref['low_x'] - 640) - 35
            for d in rng:
                f = c + d
                r = byf.get(f)
                if 0 <= f < len(roi):
                    g = lambda k: r[k] if r is not None else ''
                    evid.append(dict(step_index=e['step_index'], foot=e['foot'], event=kind, frame=f, rel=d,
                                     gap_px=g('gap_px'), lowest_y_tiltcorr=g('low_yc'), stance_level=ref['level'],
                                     x_centre=g('cx'), vx_px_per_frame=g('vx'), x_toe=g('x_toe'),
                                     x_heel=g('x_heel'), near_coach=g('near_coach'), coach_hand_x=cedge[f],
                                     ankle_y=ankle_y(roi, bg, f, cedge[f]) if kind == 'TO' else '',
                                     sole_angle_img_deg=(sole_angle_img(roi, bg, bgv, f, r)
                                                         if kind == 'IC' and r is not None else ''),
                                     shoe_tracked=int(r is not None)))
                if 0 <= f < len(roi):
                    near = byf[min(byf, key=lambda g: abs(g - f))]
                    cx = r['cx'] if r is not None else min(near['cx'], COACH_X - 30)
                    tiles.append(draw_tile(roi, f, r, cx, cy - (0 if r is not None else 20)))
            head = np.zeros((tiles[0].shape[0], 110, 3), np.uint8)
            for k, s in enumerate([f"step {e['step_index']}", e['foot'], f"{kind} {c}",
                                   f"alt {e[col.replace('_frame', '_alt_frame')]}"]):
                cv2.putText(head, s, (4, 26 + 26 * k), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 2)
            sheet_rows.append(np.hstack([head] + tiles))
    with open(os.path.join(a.out, 'evidence.csv'), 'w', newline='') as fh:
        w = csv.DictWriter(fh, list(evid[0].keys()))
        w.writeheader()
        w.writerows(evid)
    wmax = max(r.shape[1] for r in sheet_rows)
    sheet_rows = [np.pad(r, ((0, 0), (0, wmax - r.shape[1]), (0, 0))) for r in sheet_rows]
    for k in range(0, len(sheet_rows), 4):
        cv2.imwrite(os.path.join(a.out, f'sheet_{k // 4:02d}.png'), np.vstack(sheet_rows[k:k + 4]))
    print(f'wrote {a.out}/ruler.csv, evidence.csv and {(len(sheet_rows) + 3) // 4} sheets', file=sys.stderr)


if __name__ == '__main__':
    main()
