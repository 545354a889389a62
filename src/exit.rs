//! How a command ends, as the process sees it: [`Exit`] is what a command returns when it
//! ran (all well, or partly failed), and [`code`] turns that — or the error that stopped
//! it — into the exit code: 0 success, 1 partial failure or runtime error, 2 usage or
//! configuration error. It is a leaf (it knows only `error`), so every command group of
//! `cli` and `main` can use it without depending on each other.

use crate::error::Result;

/// What a command that ran to its end reports to `main`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything the command was asked to do was done.
    Ok,
    /// The command ran but something partly failed (e.g. some sources).
    Partial,
}

/// The process exit code of a command's outcome.
pub fn code(outcome: &Result<Exit>) -> u8 {
    match outcome {
        Ok(Exit::Ok) => 0,
        Ok(Exit::Partial) => 1,
        Err(e) if e.is_usage() => 2,
        Err(_) => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn outcomes_map_to_the_documented_codes() {
        assert_eq!(code(&Ok(Exit::Ok)), 0);
        assert_eq!(code(&Ok(Exit::Partial)), 1);
        assert_eq!(code(&Err(Error::UnknownSource("x".into()))), 2);
        assert_eq!(code(&Err(Error::Task("boom".into()))), 1);
    }
}
