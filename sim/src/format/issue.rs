//! A problem in a scenario file as a value: the field path and what is wrong
//! ([`Issue`]), and the checks of single values that the core of the file and every
//! workload's part share. The loader adds the line and column.

use super::dist::Dist;
use super::duration::Dur;

/// One problem in a scenario: the field path (`faults[2].omission.rate`) and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issue {
    /// Field path, as in the file; empty for the whole scenario.
    pub path: String,
    /// What is wrong and what to write instead.
    pub message: String,
}

/// The result of one validation step.
pub type Checked = Result<(), Issue>;

/// An issue at `path`.
pub fn issue(path: impl Into<String>, message: impl Into<String>) -> Issue {
    Issue {
        path: path.into(),
        message: message.into(),
    }
}

/// Above 0.
pub fn positive(path: &str, value: Dur, example: &str) -> Checked {
    if value.0.is_zero() {
        return Err(issue(
            path,
            format!("must be above 0 (write e.g. {example})"),
        ));
    }
    Ok(())
}

/// A probability, 0..1.
pub fn rate(path: &str, value: f64) -> Checked {
    if !(value.is_finite() && (0.0..=1.0).contains(&value)) {
        return Err(issue(
            path,
            format!("{value} is not a probability: write a number from 0 to 1 (e.g. 0.05)"),
        ));
    }
    Ok(())
}

/// In (0, 1].
pub fn unit_fraction(path: &str, value: f64, example: &str) -> Checked {
    if !(value.is_finite() && value > 0.0 && value <= 1.0) {
        return Err(issue(
            path,
            format!(
                "{value} is out of range: write a number above 0 and at most 1 (e.g. {example})"
            ),
        ));
    }
    Ok(())
}

/// A valid distribution.
pub fn dist(path: &str, value: &Dist) -> Checked {
    value.validate().map_err(|message| issue(path, message))
}

/// At least 0.
pub fn non_negative(path: &str, value: f64, example: &str) -> Checked {
    if !(value.is_finite() && value >= 0.0) {
        return Err(issue(
            path,
            format!("{value} is out of range: write a number of at least 0 (e.g. {example})"),
        ));
    }
    Ok(())
}
