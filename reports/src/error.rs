//! Errors as values, each naming the file (and line) it is about.

use std::fmt;
use std::path::PathBuf;

/// Anything that can go wrong reading, writing or drawing a report.
#[derive(Debug)]
pub enum ReportError {
    /// A file or directory could not be read, written or created.
    Io {
        /// The path involved.
        path: PathBuf,
        /// What was being done, e.g. `read`, `write`, `create directory`.
        action: &'static str,
        /// The underlying error.
        source: std::io::Error,
    },
    /// `summary.json` is not valid JSON or does not have the expected shape.
    Json {
        /// The file.
        path: PathBuf,
        /// The underlying error (it carries line and column).
        source: serde_json::Error,
    },
    /// A line of `timeline.csv` could not be parsed.
    Csv {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong, naming the column where there is one.
        message: String,
    },
    /// A record parses but is not a record this version can report on (an old format,
    /// totals that contradict each other).
    Record {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A chart could not be drawn or encoded.
    Plot {
        /// The file being drawn.
        path: PathBuf,
        /// The backend's message.
        message: String,
    },
    /// The arguments make no report (e.g. a comparison with no variants).
    Invalid {
        /// What is wrong.
        message: String,
    },
}

impl fmt::Display for ReportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReportError::Io {
                path,
                action,
                source,
            } => write!(f, "cannot {action} {}: {source}", path.display()),
            ReportError::Json { path, source } => write!(f, "{}: {source}", path.display()),
            ReportError::Csv {
                path,
                line,
                message,
            } => write!(f, "{}:{line}: {message}", path.display()),
            ReportError::Record { path, message } => write!(f, "{}: {message}", path.display()),
            ReportError::Plot { path, message } => {
                write!(f, "cannot draw {}: {message}", path.display())
            }
            ReportError::Invalid { message } => f.write_str(message),
        }
    }
}

impl std::error::Error for ReportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ReportError::Io { source, .. } => Some(source),
            ReportError::Json { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl ReportError {
    pub(crate) fn io(
        path: impl Into<PathBuf>,
        action: &'static str,
        source: std::io::Error,
    ) -> Self {
        ReportError::Io {
            path: path.into(),
            action,
            source,
        }
    }

    /// Whether this is a failure to write output (a full disk, a permission, a chart
    /// that could not be encoded) rather than a record that cannot be read.
    pub fn is_output(&self) -> bool {
        match self {
            ReportError::Io { action, .. } => *action != "read",
            ReportError::Plot { .. } => true,
            _ => false,
        }
    }
}
