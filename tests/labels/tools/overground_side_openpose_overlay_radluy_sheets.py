#!/usr/bin/env python3
"""Contact sheets and pixel rulers for overground_side_openpose_overlay_radluy.mp4 (hand labels).

Static camera at ground level, runner crosses the frame right -> left on a concrete path. The frames are
OpenPose renders: a coloured skeleton (saturated blue / cyan / green / magenta lines and dots) is drawn
over the runner, including dots on each shoe. The rulers ignore those colours (see `shoe_colour`); the
labeller judged contact from the shoe and sole pixels, not from the drawn lines. The method (shared with the
sports2d demo3 clip) is in static_camera_sheets.py; this file gives the clip, its stances and its shoe colours.

Usage (from the repository root; writes only into --out):
    python3 tests/labels/tools/overground_side_openpose_overlay_radluy_sheets.py --out /tmp/radluy \
        [--events tests/labels/overground_side_openpose_overlay_radluy.events.csv]

Without --events it writes only `contact_map.txt` (per frame, the runs of columns holding shoe pixels and
the lowest shoe row of each run), which is how the stances were found.
With --events it writes ic_<step>.png / to_<step>.png (4x crops around each call, true 0-based frame index
and ruler numbers on every tile, the stance level as a dotted red line), `ruler.csv` (every frame of every
stance window) and `evidence.csv` (the rows around each call, as committed).
"""
import numpy as np

from static_camera_sheets import Clip, main


def shoe_colour(f, b):
    """Shoe-coloured: the red upper or the white midsole (brighter than the path), not the skeleton overlay and
    not a shadow; everything else that changed (cast shadow on the path, dark blur fringe) is left out."""
    B, G, R = f[..., 0], f[..., 1], f[..., 2]
    overlay = (B > R + 50) | (G > R + 60)
    dark = (f < b - 10).all(axis=2)
    fs = f.sum(2) + 1
    bs = b.sum(2) + 1
    chroma = np.abs(f / fs[..., None] - b / bs[..., None]).max(2)
    shadow = dark & (chroma < 0.05)
    red = (R > G + 35) & (R > B + 35)
    bright = f.sum(2) > b.sum(2) + 60
    return ~overlay & ~shadow & (red | bright)


CLIP = Clip(
    path="../shared/videos/overground_side_openpose_overlay_radluy.mp4",
    # frames without the runner (he enters at frame 2 and leaves after 63)
    bg_frames=list(range(0, 2)) + list(range(66, 88)),
    y0=530,
    y1=640,
    zoom=4,
    crop_up=75,
    crop_pad=40,
    diff_t=40,
    shoe_cols_h=45,
    dir=-1,  # runner moves to image LEFT: the toe is the shoe's left end
    # per stance: step, planted-foot columns (xa, xb) seen in contact_map.txt, settled frames (foot flat and
    # still, chosen on the sheets), window (first, last frame rendered). Step 6 (the foot lands at the left image
    # edge, no event seen) has no entry.
    stances=[
        (1, (1150, 1216), [7, 8], (2, 14)),
        (2, (905, 975), [19, 20], (12, 26)),
        (3, (670, 726), [30, 31], (24, 37)),
        (4, (424, 492), [40, 41], (34, 48)),
        (5, (190, 245), [50, 51], (44, 59)),
    ],
    shoe_colour=shoe_colour,
)

if __name__ == "__main__":
    main(CLIP)
