//! Renders a strip of frames with the landmarks of a blazepose-peer-v1 file drawn on them, to check by eye
//! whom the pose stage followed (e.g. that it stays on the runner when a coach is in view).
//!
//! `cargo run --release --example render_strip -- CLIP LANDMARKS.json OUT.png [FRAMES]` — FRAMES (default 8)
//! frames evenly spread over the clip, each scaled to 320 pixels wide, in two rows; frames without a pose get a
//! red border.

use std::path::Path;

use anyhow::{Context, Result, bail};
use opencv::core::{self, Mat, Point, Rect, Scalar, Size, Vector};
use opencv::prelude::*;
use opencv::{imgcodecs, imgproc};
use runform::peer::PeerFile;
use runform::video::{Frame, VideoReader};

/// Width of each tile, pixels.
const TILE_WIDTH_PX: i32 = 320;

/// The skeleton's segments, as pairs of landmark indices (MediaPipe's POSE_CONNECTIONS, face left out).
const BONES: [(usize, usize); 22] = [
    (11, 12),
    (11, 13),
    (13, 15),
    (12, 14),
    (14, 16),
    (11, 23),
    (12, 24),
    (23, 24),
    (23, 25),
    (25, 27),
    (27, 29),
    (29, 31),
    (27, 31),
    (24, 26),
    (26, 28),
    (28, 30),
    (30, 32),
    (28, 32),
    (0, 11),
    (0, 12),
    (15, 19),
    (16, 20),
];

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        bail!("usage: render_strip CLIP LANDMARKS.json OUT.png [FRAMES]");
    }
    let count: usize = args.get(4).map_or(Ok(8), |n| n.parse()).context("FRAMES")?;
    let sequence = PeerFile::read(Path::new(&args[2]))?.to_sequence();
    let total = sequence.frames.len();
    let wanted: Vec<usize> = (0..count)
        .map(|k| (k * total.saturating_sub(1)) / count.max(2).saturating_sub(1).max(1))
        .collect();
    let mut reader = VideoReader::open(Path::new(&args[1]))?;
    let mut frame = Frame::default();
    let mut tiles = Vec::new();
    while reader.read_into(&mut frame)? {
        let index = frame.index as usize;
        if !wanted.contains(&index) {
            continue;
        }
        let mut image = frame.image.clone();
        let scale = f64::from(image.cols()) / f64::from(TILE_WIDTH_PX);
        let thickness = (scale * 2.0).round().max(1.0) as i32;
        match sequence.frames.get(index).and_then(|f| f.pose.as_ref()) {
            Some(pose) => {
                let at = |i: usize| Point::new(pose.landmarks[i].x_px as i32, pose.landmarks[i].y_px as i32);
                for (a, b) in BONES {
                    let colour = if a % 2 == 1 && b % 2 == 1 {
                        Scalar::new(255.0, 128.0, 0.0, 0.0)
                    } else {
                        Scalar::new(0.0, 200.0, 255.0, 0.0)
                    };
                    imgproc::line(&mut image, at(a), at(b), colour, thickness, imgproc::LINE_AA, 0)?;
                }
                for i in 0..pose.landmarks.len() {
                    imgproc::circle(
                        &mut image,
                        at(i),
                        thickness * 2,
                        Scalar::new(0.0, 255.0, 0.0, 0.0),
                        -1,
                        imgproc::LINE_AA,
                        0,
                    )?;
                }
            }
            None => {
                let whole = Rect::new(0, 0, image.cols(), image.rows());
                imgproc::rectangle(
                    &mut image,
                    whole,
                    Scalar::new(0.0, 0.0, 255.0, 0.0),
                    thickness * 4,
                    imgproc::LINE_8,
                    0,
                )?;
            }
        }
        let label = format!("{index}");
        imgproc::put_text(
            &mut image,
            &label,
            Point::new(10, (40.0 * scale / 2.0) as i32),
            imgproc::FONT_HERSHEY_SIMPLEX,
            scale,
            Scalar::new(255.0, 255.0, 255.0, 0.0),
            thickness,
            imgproc::LINE_AA,
            false,
        )?;
        let height = (f64::from(image.rows()) / scale).round() as i32;
        let mut tile = Mat::default();
        imgproc::resize(
            &image,
            &mut tile,
            Size::new(TILE_WIDTH_PX, height),
            0.0,
            0.0,
            imgproc::INTER_AREA,
        )?;
        tiles.push(tile);
    }
    if tiles.is_empty() {
        bail!("no frames rendered");
    }
    let per_row = tiles.len().div_ceil(2);
    let mut rows = Vec::new();
    for chunk in tiles.chunks(per_row) {
        let mut row_tiles: Vector<Mat> = chunk.iter().cloned().collect();
        while row_tiles.len() < per_row {
            row_tiles.push(Mat::new_rows_cols_with_default(
                chunk[0].rows(),
                TILE_WIDTH_PX,
                core::CV_8UC3,
                Scalar::all(0.0),
            )?);
        }
        let mut row = Mat::default();
        core::hconcat(&row_tiles, &mut row)?;
        rows.push(row);
    }
    let mut strip = Mat::default();
    core::vconcat(&rows.into_iter().collect::<Vector<Mat>>(), &mut strip)?;
    imgcodecs::imwrite(&args[3], &strip, &Vector::new())?;
    println!("wrote {}", args[3]);
    Ok(())
}
