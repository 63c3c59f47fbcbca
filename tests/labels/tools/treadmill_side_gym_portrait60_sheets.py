#!/usr/bin/env python3
"""Contact sheets and pixel rulers for the fixture clip treadmill_side_gym_portrait60.mp4.

Hand-labelling aid only: plain image arithmetic (median background, colour thresholds, template
matching). No pose model, no runform.

    python3 tests/labels/tools/treadmill_side_gym_portrait60_sheets.py --out /tmp/tsg60 \
        [--video ../shared/videos/treadmill_side_gym_portrait60.mp4] \
        [--events tests/labels/treadmill_side_gym_portrait60.events.csv]

Needs numpy + opencv-python. Run from the repository root; write --out OUTSIDE the repository
(sheets contain video pixels). Takes ~1 minute on one core.

Outputs in --out:
  ic_<step>_<foot>_<frame>.png   tiles IC-3..IC+2 of the landing zone (x 820-1080), 3x zoom
  to_<step>_<foot>_<frame>.png   tiles TO-2..TO+3 of the push-off zone (x 400-680), 3x zoom
      every tile: true decode index burned in, stance line as green dots, red dots = lowest
      pixel of the T45 ruler in each column
  ruler.csv        per event and per frame of its window: the numbers listed below
  frame_gaps.csv   per frame: landing-zone and push-off-zone rulers, heel x and heel shift
  xt_contact.png   x-t map (rows = frames x3): white = T45 gap <= 2, dark red = 3..12
Without --events, events come from simple automatic candidates (first/last frame with gap <= 2).

Geometry (full-resolution pixels of the 1080x1920 portrait frame)
  * Static camera at belt height; the belt is seen edge-on. The STANCE LINE is the upper boundary
    of the light rail edge in front of the runner's belt: a straight line through the strongest
    dark->light vertical step of the median background, fitted for x in [540, 880]
    (y = 1400.5 - 0.0511 x: it rises 2.9 deg to the right). A shoe standing on the belt never
    goes below it.
  * gap = number of background rows between a shoe pixel and the stance line (0 = touching).
  * Landing zone x >= 760 (heel strikes at x ~ 880-1000), push-off zone x < 760 (toe-offs at
    x ~ 440-560). During every event window the other foot is far from the belt in that zone.
Rulers
  gap45      lowest pixel with max-channel |frame - median| > 45 (3-px horizontal box blur),
             minimum over the zone's columns. Caveat: the shoe's shadow on the glossy belt sits
             at belt level under a hovering foot and can read 2-6 px one frame early.
  gap_shoe   as gap45 but pixels that look like that shadow (darker than the background,
             brownish R-B > 8, luminance > 20) are removed; 3rd-smallest over columns.
             Used for the toe-off calls.
  gap_black  lowest pixel with luminance < 15 (the LEFT shoe's black heel outsole), 3rd-smallest.
  gap_red    lowest pixel whose (R-G) exceeds the background's by > 20 (the RIGHT shoe's
             pink/red heel), 3rd-smallest.
  heel_x     rear edge of the landing foot: leftmost landing-zone column with >= 3 T45 pixels
             5..35 rows above the stance line.
  heel_dx    horizontal shift (px) of a 70x48 px heel patch from frame t to t+1, by normalised
             cross-correlation (cv2.matchTemplate). Belt speed is ~ -37 px/frame; a heel that
             moves at >= 85 % of it (dx <= -32) from frame t on is on the belt at t.
"""
import argparse
import csv
import os

import cv2
import numpy as np

Y0, Y1 = 1000, 1420          # rows of the foot strip kept in memory
ZONE = 760                   # landing zone x >= ZONE, push-off zone 380 <= x < ZONE
BELT_FRACTION = 0.85


def decode(path):
    cap = cv2.VideoCapture(path)
    strip = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        strip.append(f[Y0:Y1].copy())
    return np.stack(strip)


def fit_stance_line(bg):
    g = bg.astype(np.float32).mean(2)
    xs = np.arange(540, 881)
    ys = []
    for x in xs:
        seed = 1359.5 - 0.053 * (x - 800)          # rough line read off the median image
        a = int(seed) - 12 - Y0
        d = np.diff(g[a:a + 25, x - 1:x + 2].mean(1))
        k = int(np.argmax(d))
        off = 0.0
        if 0 < k < len(d) - 1:
            den = d[k - 1] - 2 * d[k] + d[k + 1]
            off = 0.5 * (d[k - 1] - d[k + 1]) / den if den != 0 else 0.0
        ys.append(a + Y0 + k + 0.5 + off)
    return np.polyfit(xs, np.array(ys), 1)


def lowest_gap(mask, tops, x0, x1, span=150):
    """per column: rows between the lowest True pixel (<= tops[x]) and the line; nan if none."""
    out = np.full(mask.shape[1], np.nan)
    for x in range(x0, x1):
        nz = np.nonzero(mask[tops[x] - span:tops[x] + 1, x])[0]
        if len(nz):
            out[x] = span - nz[-1]
    return out


def kth(a, k):
    a = a[np.isfinite(a)]
    return float(np.sort(a)[k - 1]) if len(a) >= k else float('nan')


def measure(strip, bg, edge):
    n, _, w = strip.shape[:3]
    tops = np.floor(edge).astype(int) - 1 - Y0     # last row fully above the stance line
    e = edge.astype(int) - Y0
    bgi = bg.astype(np.int16)
    bgY = 0.114 * bgi[..., 0] + 0.587 * bgi[..., 1] + 0.299 * bgi[..., 2]
    bgRG = bgi[..., 2] - bgi[..., 1]
    G45 = np.full((n, w), np.nan)
    M = {k: np.full((n, 2), np.nan) for k in ('shoe', 'black', 'red')}   # [landing, push-off]
    heel = np.full(n, np.nan)
    for t in range(n):
        f = strip[t].astype(np.int16)
        D = cv2.blur(np.abs(f - bgi).max(2).astype(np.float32), (3, 1))
        Y = 0.114 * f[..., 0] + 0.587 * f[..., 1] + 0.299 * f[..., 2]
        m45 = D > 45
        G45[t] = lowest_gap(m45, tops, 380, w)
        shadow = (Y < bgY) & ((f[..., 2] - f[..., 0]) > 8) & (Y > 20)
        shoe = cv2.morphologyEx((m45 & ~shadow).astype(np.uint8), cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
        Yb = cv2.blur(Y.astype(np.float32), (3, 1))
        RG = cv2.blur(((f[..., 2] - f[..., 1]) - bgRG).astype(np.float32), (3, 1))
        for name, mk in (('shoe', shoe.astype(bool)), ('black', Yb < 15), ('red', RG > 20)):
            g = lowest_gap(mk, tops, 380, w, span=60)
            M[name][t] = (kth(g[ZONE:], 3), kth(g[380:ZONE], 3))
        hc = np.array([m45[e[x] - 35:e[x] - 5, x].sum() for x in range(ZONE, w)])
        c = np.nonzero(hc >= 3)[0]
        if len(c):
            heel[t] = ZONE + c[0]
    # heel patch shift t -> t+1
    dx = np.full(n, np.nan)
    for t in range(n - 1):
        if not np.isfinite(heel[t]):
            continue
        x0 = int(min(heel[t] - 5, w - 70 - 25))
        ee = e[x0 + 35]
        a = strip[t][ee - 50:ee - 2, x0:x0 + 70].astype(np.float32)
        lo = max(x0 - 80, 0)
        b = strip[t + 1][ee - 56:ee + 18, lo:x0 + 95].astype(np.float32)
        r = cv2.matchTemplate(b, a, cv2.TM_CCOEFF_NORMED)
        _, mx, _, loc = cv2.minMaxLoc(r)
        if mx > 0.6:
            dx[t] = loc[0] + lo - x0
    return G45, M, heel, dx


def zmin(a):
    return float(np.nanmin(a)) if np.isfinite(a).any() else float('nan')


def tile(strip, t, edge, G45, x0, x1, y0, y1, s, tag):
    c = cv2.resize(strip[t][y0 - Y0:y1 - Y0, x0:x1], None, fx=s, fy=s, interpolation=cv2.INTER_NEAREST)
    for x in range(x0, x1, 3):
        cv2.circle(c, ((x - x0) * s, int(round((edge[x] - y0) * s))), 1, (0, 255, 0), -1)
    for x in range(x0, x1, 2):
        g = G45[t, x]
        if np.isfinite(g):
            yy = np.floor(edge[x]) - g
            if y0 <= yy < y1:
                cv2.circle(c, ((x - x0) * s + 1, int((yy - y0) * s)), 1, (0, 0, 255), -1)
    for yy in range(y0 - y0 % 10 + 10, y1, 10):
        cv2.line(c, (0, (yy - y0) * s), (8 if yy % 50 else 16, (yy - y0) * s), (0, 255, 255), 1)
        if yy % 50 == 0:
            cv2.putText(c, str(yy), (18, (yy - y0) * s + 4), 0, 0.4, (0, 255, 255), 1)
    for xx in range(x0 - x0 % 20 + 20, x1, 20):
        cv2.line(c, ((xx - x0) * s, 0), ((xx - x0) * s, 6), (255, 0, 255), 1)
        if xx % 40 == 0:
            cv2.putText(c, str(xx), ((xx - x0) * s + 2, 16), 0, 0.4, (255, 0, 255), 1)
    cv2.rectangle(c, (0, c.shape[0] - 30), (360, c.shape[0]), (0, 0, 0), -1)
    cv2.putText(c, f'frame {t}  {tag}', (6, c.shape[0] - 8), 0, 0.7, (255, 255, 255), 2)
    return c


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--video', default='../shared/videos/treadmill_side_gym_portrait60.mp4')
    ap.add_argument('--events', default=None)
    ap.add_argument('--out', required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)

    strip = decode(a.video)
    n, w = len(strip), strip.shape[2]
    print('decoded frames:', n)
    bg = np.median(strip, axis=0).astype(np.uint8)
    p = fit_stance_line(bg)
    edge = np.polyval(p, np.arange(w))
    print('stance line: y = %.2f %+.5f x  (y(450)=%.1f, y(800)=%.1f, y(1000)=%.1f)'
          % (p[1], p[0], edge[450], edge[800], edge[1000]))
    G45, M, heel, dx = measure(strip, bg, edge)
    land45 = np.array([zmin(G45[t, ZONE:]) for t in range(n)])
    push45 = np.array([zmin(G45[t, 380:ZONE]) for t in range(n)])

    with open(os.path.join(a.out, 'frame_gaps.csv'), 'w', newline='') as f:
        wr = csv.writer(f)
        wr.writerow(['frame', 'land_gap45', 'land_gap_shoe', 'land_gap_black', 'land_gap_red', 'heel_x',
                     'heel_dx_next', 'push_gap45', 'push_gap_shoe'])
        for t in range(n):
            wr.writerow([t, land45[t], M['shoe'][t, 0], M['black'][t, 0], M['red'][t, 0], heel[t], dx[t],
                         push45[t], M['shoe'][t, 1]])

    xt = np.zeros((n, w - 380, 3), np.uint8)
    g = G45[:, 380:]
    xt[(g > 2) & (g <= 12)] = (0, 0, 160)
    xt[g <= 2] = (255, 255, 255)
    xt = cv2.resize(xt, (w - 380, n * 3), interpolation=cv2.INTER_NEAREST)
    for t in range(0, n, 5):
        cv2.line(xt, (0, 3 * t), (6 if t % 10 else 14, 3 * t), (0, 255, 0), 1)
        if t % 10 == 0:
            cv2.putText(xt, str(t), (16, 3 * t + 4), 0, 0.35, (0, 255, 0), 1)
    cv2.imwrite(os.path.join(a.out, 'xt_contact.png'), xt)

    if a.events:
        evs = []
        for r in csv.DictReader(open(a.events)):
            k, foot = int(r['step_index']), r['foot']
            if r['ic_frame']:
                evs.append((k, foot, 'IC', int(r['ic_frame'])))
            if r['to_frame']:
                evs.append((k, foot, 'TO', int(r['to_frame'])))
    else:
        ics = [t for t in range(3, n) if land45[t] <= 2 and land45[t - 1] > 2 and land45[t - 3] > 10]
        tos = [t for t in range(n - 1) if push45[t] <= 2 and push45[t + 1] > 2 and (t + 2 >= n or push45[t + 2] > 10)]
        evs = sorted([(-1, 'unknown', 'IC', t) for t in ics] + [(-1, 'unknown', 'TO', t) for t in tos],
                     key=lambda e: e[3])

    with open(os.path.join(a.out, 'ruler.csv'), 'w', newline='') as f:
        wr = csv.writer(f)
        wr.writerow(['step_index', 'foot', 'event', 'call_frame', 'frame', 'rel', 'gap45_px', 'gap_shoe_px',
                     'gap_black_px', 'gap_red_px', 'heel_x_px', 'heel_dx_next_px'])
        for k, foot, ev, t0 in evs:
            if ev == 'IC':
                rng, geo, z = range(t0 - 3, t0 + 3), (820, 1080, 1255, 1380), 0
            else:
                rng, geo, z = range(t0 - 2, t0 + 4), (400, 680, 1265, 1392), 1
            tiles = []
            for t in rng:
                if not 0 <= t < n:
                    continue
                g45 = land45[t] if ev == 'IC' else push45[t]
                row = [k, foot, ev, t0, t, t - t0, g45, M['shoe'][t, z]]
                row += [M['black'][t, 0], M['red'][t, 0], heel[t], dx[t]] if ev == 'IC' else ['', '', '', '']
                wr.writerow(row)
                tiles.append(tile(strip, t, edge, G45, *geo, 3, f'{ev}{t - t0:+d} g45={g45:.0f}'))
            rows = []
            for i in range(0, len(tiles), 2):
                pair = tiles[i:i + 2] if i + 1 < len(tiles) else [tiles[i], np.zeros_like(tiles[i])]
                rows.append(np.hstack(pair))
            cv2.imwrite(os.path.join(a.out, f'{ev.lower()}_{k:02d}_{foot}_{t0:03d}.png'), np.vstack(rows))
    print('wrote', a.out)


if __name__ == '__main__':
    main()
