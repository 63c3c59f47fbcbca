#!/usr/bin/env python3
"""Contact sheets + pixel rulers for the hand labels of treadmill_oblique_tiktok.mp4.

Re-creates, from the video alone, every number quoted in
tests/labels/treadmill_oblique_tiktok.evidence.csv and one contact sheet per stance,
so a reviewer can check each IC / TO call by eye.  No pose model is used anywhere.

Usage (from the repository root):
    python tests/labels/tools/treadmill_oblique_tiktok_sheets.py [--out DIR] [--check-ffmpeg]

Needs: python3, opencv-python (cv2 with SIFT), numpy.  ffmpeg only for --check-ffmpeg.
Output goes to --out (default /tmp/treadmill_oblique_tiktok_sheets, never into the repo):
    cuts.csv        per frame pair: runner-band mean abs diff, treadmill-plane jump (px)
    levels.csv      per stance: foot, contact-line intercept c (y = c + k*x), y at x=250
    ruler.csv       per stance/event/frame: gap of the lowest shoe pixel above the contact line
    angles.csv      per IC: sole angle relative to the same step's flat-foot sole (deg)
    sheet_NN.png    stance NN: top row IC-2..IC+1, bottom row TO-1..TO+2 (3x zoom)
    xt_map.png      x-t map of the lowest shoe pixel per column (stances = rising bands)

Pipeline (all coordinates are "stabilised": frame 300 of the clip is the reference):
 1. decode with cv2.VideoCapture (frame index = 0-based decode order);
 2. stabilise every frame onto frame 300 with a similarity transform fitted (SIFT + RANSAC) to the
    treadmill base, the left end of the belt frame and the right upright only (the camera drifts
    ~30 px and rolls ~2 deg over frames 0-70 and 505-537);
 3. background = per-pixel median of the stabilised belt band over +-50 frames; diff = max |frame-bg|;
 4. "shoe bottom" per column x: lowest pixel that is white midsole (gray>105, diff>45, not watermark)
    extended by up to 4 px of black outsole (gray<40) directly below it;
 5. per stance the contact line y = c + k*x (k = -0.037 near foot, -0.047 far foot, from the belt-edge
    perspective); c = median lowest point of the flat foot in IC+1..IC+3 and TO-3..TO-2;
 6. gap(frame) = min over the event window columns of (line(x) - shoe_bottom(x)); IC window x 295-455,
    TO window x 110-295 (near) / 110-272 (far); far-foot columns lying >4 px below the far line belong
    to the near foot and are ignored.
"""
import argparse, csv, math, os, subprocess, sys
from pathlib import Path
import numpy as np
import cv2

CLIP = 'treadmill_oblique_tiktok'
REPO = Path(__file__).resolve().parents[3]
REF = 300                       # reference frame for stabilisation
BAND = (600, 860)               # stabilised rows kept for the belt/feet analysis
K = {'near': -0.037, 'far': -0.047}      # contact-line slopes (image px per px)
WIN = {('near', 'IC'): (295, 455), ('far', 'IC'): (295, 455),
       ('near', 'TO'): (110, 295), ('far', 'TO'): (110, 272)}
# per-event window overrides (step_index, event) -> (x0, x1): the left (far) foot of stance 17 toes off unusually
# far back (toe at x~180) while the right foot swings past it (157: right foot hides it; 158: right heel
# overlaps the left toe at x 160-195), so only x < 195 is read.
WIN_OVERRIDE = {(17, 'TO'): (60, 195)}
# per-stance contact-line override: stance 58's flat-foot level flips by 1.4 px depending on which frames are
# used (its IC/TO move by one frame with it); the mid value is used and both frames are given as alternatives.
LEVEL_OVERRIDE = {58: 816.0}
WM_FROM = 125                   # the TikTok watermark sits over the belt from this frame on


def decode(path):
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(f)
    fps = cap.get(cv2.CAP_PROP_FPS)
    return np.stack(frames), fps


def check_ffmpeg(path, frames, idx, out):
    for n in idx:
        png = Path(out) / f'ffmpeg_{n}.png'
        subprocess.run(['ffmpeg', '-v', 'error', '-y', '-i', str(path), '-vf', f'select=eq(n\\,{n})',
                        '-vframes', '1', str(png)], check=True)
        g = cv2.imread(str(png)).astype(np.int16)
        d = np.abs(g - frames[n].astype(np.int16)).mean()
        print(f'ffmpeg frame {n}: mean |diff| vs cv2 frame {n} = {d:.2f}')


def stabilise(frames):
    """Similarity transforms mapping reference coords -> frame coords, fitted on the treadmill."""
    sift = cv2.SIFT_create(4000, contrastThreshold=0.02)
    mask = np.zeros(frames.shape[1:3], np.uint8)
    mask[835:915, :] = 255          # treadmill base (SL8.0, SUBLITE, vents)
    mask[690:745, 0:170] = 255      # left end of the belt frame
    mask[520:700, 470:576] = 255    # right upright
    gray = lambda i: cv2.cvtColor(frames[i], cv2.COLOR_BGR2GRAY)
    kr, dr = sift.detectAndCompute(gray(REF), mask)
    bf = cv2.BFMatcher()
    W = []
    for i in range(len(frames)):
        k, d = sift.detectAndCompute(gray(i), mask)
        good = [m for m, n2 in bf.knnMatch(dr, d, k=2) if m.distance < 0.8 * n2.distance]
        p0 = np.float32([kr[m.queryIdx].pt for m in good]); p1 = np.float32([k[m.trainIdx].pt for m in good])
        M, _ = cv2.estimateAffinePartial2D(p0, p1, method=cv2.RANSAC, ransacReprojThreshold=1.5)
        W.append(M)
    return np.array(W)


def warp(img, M, interp=cv2.INTER_LINEAR, border=cv2.BORDER_REPLICATE):
    return cv2.warpAffine(np.ascontiguousarray(img), M, (img.shape[1], img.shape[0]),
                          flags=interp | cv2.WARP_INVERSE_MAP, borderMode=border)


def cut_table(frames, W):
    """Evidence for/against scene cuts between consecutive frames."""
    rows = []
    g = [cv2.cvtColor(f, cv2.COLOR_BGR2GRAY)[250:1000, 100:520].astype(np.float32) for f in frames]
    pt = np.array([288.0, 870.0, 1.0])   # a point on the treadmill base
    for i in range(len(frames) - 1):
        d = float(np.abs(g[i + 1] - g[i]).mean())
        jump = float(np.linalg.norm(W[i + 1] @ pt - W[i] @ pt))
        rows.append((i, i + 1, round(d, 2), round(jump, 2), i % 5))
    return rows


def watermark_masks(frames):
    """(a) screen pixels bright in 9 consecutive frames; (b) TikTok text/logo from the 5th percentile."""
    g = np.array([cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) for f in frames])
    n = len(g)
    mn = g.copy()
    for s in range(1, 5):                       # min over a centred 9-frame window
        mn = np.minimum(mn, np.concatenate([g[s:], np.repeat(g[-1:], s, 0)]))
        mn = np.minimum(mn, np.concatenate([np.repeat(g[:1], s, 0), g[:-s]]))
    wm_a = (mn > 170).astype(np.uint8)
    sub = g[130:n:2, 650:820]
    p5 = np.percentile(sub, 5, axis=0)
    sat = np.array([cv2.cvtColor(frames[i], cv2.COLOR_BGR2HSV)[650:820, :, 1] for i in range(130, n, 4)])
    s10 = np.percentile(sat, 10, axis=0)
    wm_b = np.zeros(g.shape[1:], np.uint8)
    wm_b[650:820] = ((p5 > 120) | (s10 > 90)).astype(np.uint8)
    wm_b[:, :340] = 0; wm_b[800:] = 0
    wm_b = cv2.dilate(wm_b, np.ones((3, 3), np.uint8))
    return wm_a, wm_b


def shoe_bottom(stab, diff, wm_a, wm_b, W, BG):
    n = len(stab); y0 = BAND[0]; ya, yb = 690, 845
    # stabilised background gray (for "overlay text only" test of mask a)
    B = np.full((n, stab.shape[2]), np.nan)
    for i in range(n):
        c = min(i // 10 + (1 if i % 10 >= 5 else 0), (n - 1) // 10)   # (ties -> the later centre)
        bgg = cv2.cvtColor(BG[c], cv2.COLOR_BGR2GRAY)[ya - y0:yb - y0]
        ma = warp(wm_a[i] * 255, W[i], cv2.INTER_NEAREST, cv2.BORDER_CONSTANT)[ya:yb]
        ma = cv2.dilate(((ma > 0) & (bgg < 150)).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        if i >= WM_FROM:
            ma |= warp(wm_b * 255, W[i], cv2.INTER_NEAREST, cv2.BORDER_CONSTANT)[ya:yb] > 0
        g = cv2.cvtColor(np.ascontiguousarray(stab[i][ya - y0:yb - y0]), cv2.COLOR_BGR2GRAY).astype(np.int16)
        dd = diff[i][ya - y0:yb - y0]
        bright = ((g > 105) & (dd > 45) & ~ma).astype(np.uint8)
        bright = cv2.morphologyEx(bright, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8)).astype(bool)
        has = bright.any(axis=0); low = (yb - ya - 1) - np.argmax(bright[::-1], axis=0)
        for x in np.nonzero(has)[0]:
            y = low[x]; yy = y
            for dy in range(1, 5):          # black outsole directly under the white midsole
                if y + dy < yb - ya and g[y + dy, x] < 40 and not ma[y + dy, x]:
                    yy = y + dy
                elif yy > y:
                    break
            B[i, x] = ya + yy
    return B


def gap(B, i, foot, c, ev, win=None):
    k = K[foot]; a, b = win or WIN[(foot, ev)]
    xs = np.arange(a, b); bb = B[i, a:b]; line = c + k * xs
    ok = ~np.isnan(bb) & (bb >= line - 45) & (bb <= line + (4 if foot == 'far' else 8))
    if not ok.any():
        return None
    g = line[ok] - bb[ok]; j = int(np.argmin(g))
    return float(g[j]), int(xs[ok][j]), int(bb[ok][j])


def level(B, st, foot, ic, to):
    """Contact-line intercept from the flat foot right after IC and just before heel-off."""
    k = K[foot]
    band = {'near': (798, 832), 'far': (776, 804)}[foot]     # plausible y of the line at x=250
    def low(i, win, c=None, tol=10):
        if i < 0 or i >= len(B):
            return None
        a, b = win; xs = np.arange(a, b); bb = B[i, a:b]
        ok = ~np.isnan(bb)
        if c is not None:
            ok &= np.abs(bb - (c + k * xs)) <= tol
        else:                                              # first guess: stay inside the plausible band
            v = bb - k * xs + k * 250
            ok &= (v >= band[0]) & (v <= band[1])
        return float(np.max(bb[ok] - k * xs[ok])) if ok.any() else None
    icw, tow = WIN[(foot, 'IC')], WIN[('near', 'TO')]
    first = [ic + 1, ic + 2, ic + 3] if ic is not None else [1, 2, 3]
    v = [low(i, icw) for i in first]
    v = [x for x in v if x is not None]
    c = float(np.median(v))
    for _ in range(2):
        vals = [low(i, icw, c) for i in first] + [low(i, tow, c) for i in (to - 3, to - 2)]
        vals = [x for x in vals if x is not None]
        c = float(np.median(vals))
    return c


def sole_angle(B, i, foot, c, win=(240, 470)):
    """Angle (deg) of a line fitted to the sole bottom between 12% and 62% of the foot length."""
    k = K[foot]; g = gap(B, i, foot, c, 'IC', win)
    if g is None:
        return None
    line = lambda x: c + k * x
    ok = lambda x: 0 <= x < B.shape[1] and not np.isnan(B[i, x]) and line(x) - 45 <= B[i, x] <= line(x) + 8
    a = b = g[1]
    while ok(a - 1) or ok(a - 2) or ok(a - 3):
        a -= 1
    while ok(b + 1) or ok(b + 2) or ok(b + 3):
        b += 1
    L = b - a
    if L < 60:
        return None
    xs = np.arange(a + int(0.12 * L), a + int(0.62 * L) + 1); ys = B[i, xs]
    m = ~np.isnan(ys); xs, ys = xs[m], ys[m]
    if len(xs) < 15:
        return None
    for _ in range(3):
        p = np.polyfit(xs, ys, 1); r = ys - np.polyval(p, xs); keep = np.abs(r) < max(1.5, 2 * np.std(r))
        if keep.sum() < 10:
            break
        xs, ys = xs[keep], ys[keep]
    p = np.polyfit(xs, ys, 1)
    return -math.degrees(math.atan(p[0])), float(np.std(ys - np.polyval(p, xs)))


def tile(stab, B, i, foot, c, ev, x0, win, sc=3, w=160, h=80):
    k = K[foot]; y0s = int(np.clip(c + k * (x0 + w / 2) - 55, BAND[0], BAND[1] - h))
    img = stab[i][y0s - BAND[0]:y0s - BAND[0] + h, x0:x0 + w]
    t = cv2.resize(np.ascontiguousarray(img), None, fx=sc, fy=sc, interpolation=cv2.INTER_CUBIC)
    col = (255, 255, 0) if foot == 'near' else (255, 0, 255)
    for x in range(x0, x0 + w, 2):                      # this foot's contact line (dots)
        yy = int(round((c + k * x - y0s + 0.5) * sc))
        if 0 <= yy < t.shape[0]:
            t[yy, int((x - x0 + 0.5) * sc)] = col
    for y in range((y0s // 10 + 1) * 10, y0s + h, 10):   # y ruler
        yy = int((y - y0s) * sc); cv2.line(t, (0, yy), (10, yy), (0, 255, 0), 1)
        cv2.putText(t, str(y), (12, yy + 4), 0, 0.4, (0, 255, 0), 1)
    for x in range((x0 // 20 + 1) * 20, x0 + w, 20):     # x ruler
        xx = int((x - x0) * sc); cv2.line(t, (xx, h * sc - 1), (xx, h * sc - 8), (0, 255, 255), 1)
        if x % 100 == 0:
            cv2.putText(t, str(x), (xx + 2, h * sc - 10), 0, 0.4, (0, 255, 255), 1)
    gg = gap(B, i, foot, c, ev, win)
    if gg:
        px, py = int((gg[1] - x0 + .5) * sc), int((gg[2] - y0s + .5) * sc)
        cv2.line(t, (px - 8, py), (px + 8, py), (0, 0, 255), 1)
    txt = f'{i}' + ('' if gg is None else f' g{gg[0]:+.1f}')   # TRUE frame index burned in
    cv2.putText(t, txt, (t.shape[1] - 175, 28), 0, 0.8, (0, 0, 0), 4)
    cv2.putText(t, txt, (t.shape[1] - 175, 28), 0, 0.8, (0, 255, 255), 2)
    return t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--video', default=str(REPO / '..' / 'shared' / 'videos' / f'{CLIP}.mp4'))
    ap.add_argument('--labels', default=str(REPO / 'tests' / 'labels' / f'{CLIP}.events.csv'))
    ap.add_argument('--out', default=f'/tmp/{CLIP}_sheets')
    ap.add_argument('--check-ffmpeg', action='store_true')
    ap.add_argument('--save-profile', action='store_true', help='also save the shoe-bottom profile (npy)')
    a = ap.parse_args()
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    if str(out.resolve()).startswith(str(REPO.resolve())):
        sys.exit('refusing to write sheets inside the repository')

    frames, fps = decode(a.video)
    n = len(frames)
    print(f'{n} frames decoded, cv2 fps {fps}')
    if a.check_ffmpeg:
        check_ffmpeg(a.video, frames, [0, 150, 312, 537], out)

    W = stabilise(frames)
    with open(out / 'cuts.csv', 'w', newline='') as f:
        wr = csv.writer(f); wr.writerow(['frame_a', 'frame_b', 'runner_band_mean_abs_diff', 'treadmill_jump_px', 'a_mod_5'])
        wr.writerows(cut_table(frames, W))

    stab = np.array([warp(frames[i], W[i])[BAND[0]:BAND[1]] for i in range(n)])
    reg = stab.astype(np.int16)
    BG = {}
    for c in range(0, n, 10):
        lo, hi = max(0, c - 50), min(n, c + 51)
        BG[c // 10] = np.median(reg[lo:hi:2], axis=0).astype(np.uint8)
    diff = np.zeros(stab.shape[:3], np.uint8)
    for i in range(n):   # nearest background centre (ties -> the earlier one)
        b = BG[min(i // 10 + (1 if i % 10 > 5 else 0), (n - 1) // 10)].astype(np.int16)
        diff[i] = np.clip(np.abs(reg[i] - b).max(axis=2), 0, 255)
    del reg
    wm_a, wm_b = watermark_masks(frames)
    B = shoe_bottom(stab, diff, wm_a, wm_b, W, BG)
    if a.save_profile:
        np.save(out / 'shoe_bottom.npy', B)

    # x-t map of the lowest shoe pixel (colour = height: red = low/near foot level, green = far level)
    sub = B[:, 80:540].T
    v = np.nan_to_num(np.clip((sub - 750) / 60, 0, 1) * 255).astype(np.uint8)
    xt = cv2.applyColorMap(v, cv2.COLORMAP_JET); xt[np.isnan(sub)] = 0
    xt = cv2.resize(xt, (n * 4, sub.shape[0]), interpolation=cv2.INTER_NEAREST)
    for f0 in range(0, n, 10):
        cv2.putText(xt, str(f0), (f0 * 4 + 1, 10), 0, 0.3, (255, 255, 255), 1)
    cv2.imwrite(str(out / 'xt_map.png'), xt)

    rows = list(csv.DictReader(open(a.labels)))
    toint = lambda s: int(s) if s not in ('', None) else None
    lv, rul, ang = [], [], []
    for r in rows:
        st = int(r['step_index']); foot = 'near' if r['foot'] == 'right' else 'far'
        ic, to = toint(r['ic_frame']), toint(r['to_frame'])
        if to is None:
            continue
        c = LEVEL_OVERRIDE.get(st) or level(B, st, foot, ic, to)
        lv.append((st, r['foot'], foot, round(c, 2), K[foot], round(c + K[foot] * 250, 1)))
        for ev, f, rng in (('IC', ic, range(-3, 3)), ('TO', to, range(-2, 4))):
            if f is None:
                continue
            win = WIN_OVERRIDE.get((st, ev))
            for d in rng:
                i = f + d
                if 0 <= i < n:
                    g = gap(B, i, foot, c, ev, win)
                    rul.append((st, r['foot'], ev, i, d, None if g is None else round(g[0], 1),
                                None if g is None else g[1], None if g is None else g[2]))
        if ic is not None and ic >= 1:
            ref = [sole_angle(B, i, foot, c) for i in (ic + 1, ic + 2)]
            ref = [x[0] for x in ref if x]
            for i in (ic - 1, ic):
                s = sole_angle(B, i, foot, c)
                gg = gap(B, i, foot, c, 'IC')
                if s and ref:
                    ang.append((st, r['foot'], i, i - ic, round(s[0] - float(np.mean(ref)), 1), round(s[1], 2),
                                None if gg is None else round(gg[0], 1)))
        # contact sheet for this stance
        tiles = []
        for ev, f, rng in (('IC', ic, range(-2, 2)), ('TO', to, range(-1, 3))):
            if f is None:
                tiles.append(np.zeros((240, 480 * 4, 3), np.uint8)); continue
            win = WIN_OVERRIDE.get((st, ev))
            xs = [gap(B, f + d, foot, c, ev, win) for d in rng if 0 <= f + d < n]
            xs = [x[1] for x in xs if x]
            cx = int(np.median(xs)) if xs else (360 if ev == 'IC' else 200)
            cx = int(np.clip(cx, 340, 400)) if ev == 'IC' else int(np.clip(cx, 150, 260))
            row = [tile(stab, B, f + d, foot, c, ev, cx - 80, win) if 0 <= f + d < n
                   else np.zeros((240, 480, 3), np.uint8) for d in rng]
            tiles.append(np.hstack(row))
        lab = np.zeros((24, 480 * 4, 3), np.uint8)
        cv2.putText(lab, f"stance {st} {r['foot']} ({foot} foot)  IC {ic}  TO {to}  status {r['status']}",
                    (4, 17), 0, 0.6, (255, 255, 255), 1)
        cv2.imwrite(str(out / f'sheet_{st:02d}.png'), np.vstack([lab] + tiles))

    with open(out / 'levels.csv', 'w', newline='') as f:
        wr = csv.writer(f); wr.writerow(['step_index', 'foot', 'view', 'c', 'k', 'y_at_x250']); wr.writerows(lv)
    with open(out / 'ruler.csv', 'w', newline='') as f:
        wr = csv.writer(f); wr.writerow(['step_index', 'foot', 'event', 'frame', 'offset', 'gap_px', 'x_lowest', 'y_lowest'])
        wr.writerows(rul)
    with open(out / 'angles.csv', 'w', newline='') as f:
        wr = csv.writer(f); wr.writerow(['step_index', 'foot', 'frame', 'offset_from_ic', 'sole_angle_rel_flat_deg', 'fit_resid_px', 'gap_px'])
        wr.writerows(ang)
    print('written to', out)


if __name__ == '__main__':
    main()
