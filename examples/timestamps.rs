//! Prints every frame's timestamp of a clip (a debugging aid for the decoder).
use opencv::prelude::*;
use runform::video::{Frame, VideoReader};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args_os().nth(1).ok_or("usage: timestamps CLIP")?;
    let mut reader = VideoReader::open(std::path::Path::new(&path))?;
    let mut frame = Frame::default();
    while reader.read_into(&mut frame)? {
        println!(
            "{} {:.4} {}x{}",
            frame.index,
            frame.timestamp_s,
            frame.image.cols(),
            frame.image.rows()
        );
    }
    Ok(())
}
