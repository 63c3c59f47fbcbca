#!/usr/bin/env python3
"""Contact sheets and pixel rulers for overground_side_run_sports2d_demo3.mp4 (hand labels).

Static camera, runner crosses the frame left -> right on a mown lawn in front of a fence; 480x352, so a shoe
is only about 25 px long. The shoes are white; the mask keeps bright, neutral pixels (not skin, not grass).
The method (shared with the radluy clip) is in static_camera_sheets.py; this file gives the clip, its
stances and its shoe colours.

Usage (from the repository root; writes only into --out):
    python3 tests/labels/tools/overground_side_run_sports2d_demo3_sheets.py --out /tmp/demo3 \
        [--events tests/labels/overground_side_run_sports2d_demo3.events.csv]

Without --events it writes only `contact_map.txt` (per frame, the runs of columns holding shoe pixels and
the lowest shoe row of each run), which is how the stances were found.
With --events it writes ic_<step>.png / to_<step>.png (8x crops around each call, true 0-based frame index
and ruler numbers on every tile, the stance level as a dotted red line), `ruler.csv` (every frame of every
stance window) and `evidence.csv` (the rows around each call, as committed).
"""
import numpy as np

from static_camera_sheets import Clip, main


def shoe_colour(f, b):
    """Shoe-coloured: the shoes are white/light grey, much brighter than the grass, neither skin-coloured (R well
    above B) nor green; the legs' skin, the black shorts and the dark blur fringe are left out."""
    B, G, R = f[..., 0], f[..., 1], f[..., 2]
    bright = f.sum(2) > b.sum(2) + 120
    not_skin = (R - B) < 30
    not_grass = (G - np.maximum(R, B)) < 8
    return bright & not_skin & not_grass


CLIP = Clip(
    path="../shared/videos/overground_side_run_sports2d_demo3.mp4",
    # frames without the runner (she leaves the picture at the right edge after frame 33)
    bg_frames=list(range(36, 47)),
    y0=240,
    y1=330,
    zoom=8,
    crop_up=40,
    crop_pad=15,
    diff_t=35,
    shoe_cols_h=18,  # a column belongs to the shoe if its lowest shoe pixel is this close to the level (the
    # white-ish shins reach the mask too; they end 25 px or more above the level)
    dir=1,  # runner moves to image RIGHT: the toe is the shoe's right end
    # per stance: step, planted-foot columns (xa, xb) seen in contact_map.txt, settled frames (foot flat and
    # still, chosen on the sheets), window (first, last frame rendered)
    stances=[
        (1, (74, 102), [6, 7], (1, 14)),
        (2, (214, 248), [15, 16], (10, 23)),
        (3, (366, 400), [26, 27], (19, 32)),
    ],
    shoe_colour=shoe_colour,
)

if __name__ == "__main__":
    main(CLIP)
