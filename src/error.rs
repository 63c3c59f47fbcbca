//! Exit codes: the one place that says which failure ends the program with which status.
//!
//! Every error type in the library maps to one [`Exit`] through [`HasExit`]; `main` prints the error's one-sentence
//! message and exits with that code. The table [`EXIT_CODES`] is what `runform --help` and README.md show, so the
//! documentation cannot drift from the code.

/// A documented process exit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Exit {
    /// Everything asked for was done.
    Success = 0,
    /// A bug or an unexpected system failure (please report it).
    Internal = 1,
    /// The command line could not be understood (clap's own code).
    Usage = 2,
    /// The input path does not exist.
    InputNotFound = 10,
    /// The input path is a directory, not a video file.
    InputIsDirectory = 11,
    /// The input file is empty (0 bytes).
    InputEmpty = 12,
    /// The input file is not a video container that can be decoded (text, random bytes, an image…).
    InputNotVideo = 13,
    /// The input video is truncated or corrupt (an incomplete copy or download).
    InputTruncated = 14,
    /// The input file holds no video stream (audio only, subtitles…).
    InputNoVideoStream = 15,
    /// The input video is too short to analyse (a single frame or a still image).
    InputTooShort = 16,
    /// The input file cannot be read (permissions or an I/O error).
    InputUnreadable = 17,
    /// An input file is not a runform report (compare) or not of the format asked for.
    InputNotReport = 18,
    /// The ONNX Runtime library is missing or is not a usable ONNX Runtime.
    RuntimeMissing = 20,
    /// A pose model file is missing or damaged.
    ModelMissing = 21,
    /// An output file or folder could not be written.
    OutputFailed = 30,
    /// A batch ran, but at least one clip in it failed, or (`--summarize`) is not finished yet; each is named in
    /// the batch summary.
    BatchIncomplete = 40,
    /// `runform serve` could not start (its address is taken or cannot be listened on).
    ServeFailed = 50,
}

impl Exit {
    /// The numeric status passed to the operating system.
    pub const fn code(self) -> u8 {
        self as u8
    }
}

/// Every exit status with the sentence that documents it, in numeric order.
pub const EXIT_CODES: &[(Exit, &str)] = &[
    (Exit::Success, "success"),
    (Exit::Internal, "internal error (a bug: please report it)"),
    (Exit::Usage, "the command line could not be understood"),
    (Exit::InputNotFound, "the input path does not exist"),
    (Exit::InputIsDirectory, "the input path is a directory"),
    (Exit::InputEmpty, "the input file is empty (0 bytes)"),
    (Exit::InputNotVideo, "the input file is not a decodable video"),
    (Exit::InputTruncated, "the input video is truncated or corrupt"),
    (Exit::InputNoVideoStream, "the input file has no video stream"),
    (Exit::InputTooShort, "the input video is too short (a single frame)"),
    (
        Exit::InputUnreadable,
        "the input file cannot be read (permissions, I/O)",
    ),
    (
        Exit::InputNotReport,
        "an input file is not a runform report (compare) or a session manifest (batch)",
    ),
    (Exit::RuntimeMissing, "the ONNX Runtime library is missing or unusable"),
    (Exit::ModelMissing, "a pose model file is missing or damaged"),
    (Exit::OutputFailed, "an output file could not be written"),
    (
        Exit::BatchIncomplete,
        "batch: some clips failed or are not finished (named in batch-summary.csv)",
    ),
    (Exit::ServeFailed, "serve: the server could not listen on its address"),
];

/// Errors that know which exit status they end the program with.
pub trait HasExit {
    /// The exit status for this error.
    fn exit(&self) -> Exit;
}

/// The exit-code table as text, for `--help` and README.md.
pub fn exit_code_table() -> String {
    let mut table = String::from("Exit codes:\n");
    for (exit, meaning) in EXIT_CODES {
        table.push_str(&format!("  {:>3}  {meaning}\n", exit.code()));
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_code_table_is_complete_sorted_and_distinct() {
        let codes: Vec<u8> = EXIT_CODES.iter().map(|(exit, _)| exit.code()).collect();
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(codes, sorted, "codes must be distinct and in numeric order");
        assert_eq!(codes.len(), 17, "every Exit variant must be documented in EXIT_CODES");
        assert!(exit_code_table().contains(" 14  the input video is truncated or corrupt"));
    }
}
