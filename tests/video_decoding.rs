//! Decoding real and generated clips: frame counts, true timestamps, rotation, and bounded reads.

mod common;

use std::path::Path;

use opencv::core::Vec3b;
use opencv::prelude::*;
use runform::video::{Frame, VideoReader};

/// Frame counts of the fixtures as `ffprobe -count_frames -show_entries stream=nb_read_frames` reports them
/// (FFmpeg 5.1), i.e. decoded by an independent tool, not by runform.
const FFPROBE_FRAME_COUNTS: [(&str, u64); 15] = [
    ("overground_side_grass_pace_overlay.mp4", 667),
    ("overground_side_openpose_overlay_radluy.mp4", 88),
    ("overground_side_run_sports2d_demo3.mp4", 47),
    ("overground_side_track_screenrec.mp4", 271),
    ("overground_side_tracking_vertical.mp4", 175),
    ("rear_overground_openpose_overlay_radluy.mp4", 103),
    ("treadmill_oblique_sprint_with_coach.mp4", 402),
    ("treadmill_oblique_tiktok.mp4", 538),
    ("treadmill_side_cropped_feet_stock.mp4", 315),
    ("treadmill_side_gym_portrait60.mp4", 388),
    ("walk_front_studio_inplace.mp4", 380),
    ("walk_rear_forest_pexels.mp4", 178),
    ("walk_side_indoor_sports2d_demo4.mp4", 401),
    ("walk_side_sports2d_demo.mp4", 230),
    ("walk_side_studio_inplace.mp4", 380),
];

/// Every timestamp of a clip, in decode order.
fn timestamps(path: &Path) -> Vec<f64> {
    let mut reader = VideoReader::open(path).unwrap_or_else(|e| panic!("{e}"));
    let mut frame = Frame::default();
    let mut times = Vec::new();
    while reader.read_into(&mut frame).unwrap_or_else(|e| panic!("{e}")) {
        times.push(frame.timestamp_s);
    }
    times
}

#[test]
fn every_fixture_decodes_with_ffprobes_frame_count_and_rising_timestamps() {
    let Some(videos) = common::shared_videos() else { return };
    for (name, expected) in FFPROBE_FRAME_COUNTS {
        let times = timestamps(&videos.join(name));
        assert_eq!(times.len() as u64, expected, "{name}: decoded frame count");
        assert_eq!(times[0], 0.0, "{name}: first timestamp");
        assert!(
            times.windows(2).all(|pair| pair[1] > pair[0]),
            "{name}: timestamps must rise"
        );
    }
}

#[test]
fn fixture_metadata_matches_the_container() {
    let Some(videos) = common::shared_videos() else { return };
    let reader = VideoReader::open(&videos.join("treadmill_side_gym_portrait60.mp4")).expect("opens");
    let info = reader.info();
    assert_eq!((info.width_px, info.height_px), (1080, 1920));
    assert_eq!(info.fps, 60.0);
    assert_eq!(info.frame_count, 388);
    assert_eq!(info.codec, "h264");
    assert_eq!(info.rotation_deg, 0);
    assert_eq!(info.file_size_byte, 3_811_142);
    assert_eq!(
        info.sha256,
        "8dc68c9a4587b9d1a878022aadd5401417dbe006953e3c17c9ce9fd95d641bd5"
    );
    let vp9 = VideoReader::open(&videos.join("walk_side_sports2d_demo.mp4")).expect("opens");
    assert_eq!(vp9.info().codec, "vp9");
}

#[test]
fn rotated_phone_clip_comes_out_upright() {
    let dir = tempfile::tempdir().expect("temp dir");
    let stored = common::make_clip(dir.path(), "stored.mp4", 64, 32, 10);
    let rotated = dir.path().join("rotated.mp4");
    // A display matrix of 90° clockwise, as phones write for portrait video.
    common::ffmpeg(
        &[
            "-i",
            stored.to_str().expect("utf-8"),
            "-c",
            "copy",
            "-metadata:s:v:0",
            "rotate=90",
        ]
        .into_iter()
        .chain([rotated.to_str().expect("utf-8")])
        .collect::<Vec<_>>(),
    );
    let mut reader = VideoReader::open(&rotated).expect("opens");
    assert_eq!(reader.info().rotation_deg, 90);
    assert_eq!((reader.info().width_px, reader.info().height_px), (32, 64));
    let mut frame = Frame::default();
    assert!(reader.read_into(&mut frame).expect("decodes"));
    assert_eq!((frame.image.cols(), frame.image.rows()), (32, 64));
    // The white bar down the stored frame's left edge is along the top after a clockwise quarter turn.
    let top = frame.image.at_2d::<Vec3b>(2, 16).expect("pixel")[0];
    let bottom = frame.image.at_2d::<Vec3b>(61, 16).expect("pixel")[0];
    assert!(top > 200 && bottom < 50, "top {top}, bottom {bottom}");
}

#[test]
fn variable_frame_rate_clip_gets_its_true_timestamps() {
    let dir = tempfile::tempdir().expect("temp dir");
    let vfr = dir.path().join("vfr.mp4");
    // 20 frames 1/30 s apart, then 20 frames 1/10 s apart.
    common::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc=s=64x48:r=30",
        "-frames:v",
        "40",
        "-vf",
        "setpts='if(lt(N,20),N/30,20/30+(N-20)/10)/TB'",
        "-fps_mode",
        "vfr",
        "-pix_fmt",
        "yuv420p",
        "-c:v",
        "libx264",
        "-bf",
        "0",
        vfr.to_str().expect("utf-8"),
    ]);
    let times = timestamps(&vfr);
    let probed = common::ffprobe_frame_times(&vfr);
    assert_eq!(times.len(), 40);
    assert_eq!(probed.len(), 40);
    for (i, (t, expected)) in times.iter().zip(&probed).enumerate() {
        assert!(
            (t - expected).abs() < 0.001,
            "frame {i}: {t} s, ffprobe says {expected} s"
        );
    }
    // The second half really is slower: a constant-rate assumption would put the last frame at 39/30 s.
    assert!(times[39] > 2.5, "last frame at {} s", times[39]);
}

#[test]
fn a_reused_frame_buffer_is_not_reallocated() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clip = common::make_clip(dir.path(), "clip.mp4", 64, 32, 12);
    let mut reader = VideoReader::open(&clip).expect("opens");
    let mut frame = Frame::default();
    assert!(reader.read_into(&mut frame).expect("decodes"));
    let buffer = frame.image.data();
    let mut count = 1;
    while reader.read_into(&mut frame).expect("decodes") {
        assert_eq!(
            frame.image.data(),
            buffer,
            "frame {} was decoded into a new buffer",
            frame.index
        );
        count += 1;
    }
    assert_eq!(count, 12);
}
