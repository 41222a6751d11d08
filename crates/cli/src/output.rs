//! Writing to stdout and stderr without panicking: a full disk is a
//! one-line error (exit 2), a reader that went away (`| head`) ends the
//! command quietly, as Unix tools do.

use crate::Fatal;
use std::io::Write;

/// One line on stdout, flushed at once (scripts read it as it comes).
pub fn line(text: impl std::fmt::Display) -> Result<(), Fatal> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")
        .and_then(|_| out.flush())
        .map_err(Fatal::output)
}

/// A note for the user on stderr. Nothing is lost when it cannot be
/// written: stdout and the exit status carry the result.
pub fn note(text: impl std::fmt::Display) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}
