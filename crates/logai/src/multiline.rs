//! Joining multi-line records (stack traces) for line-oriented sources.
//!
//! A collector that reads a file or a container stream line by line feeds the lines to
//! [`Multiline::push`]; a continuation line (indented, `at ...`, `Caused by:`, `... 3 more`,
//! a Python traceback and its final exception line) is appended to the record before it, and
//! the record is handed out when the next record starts. Records are capped in lines and bytes
//! so a runaway stream cannot grow one without bound.

/// Joins continuation lines to the record before them.
#[derive(Debug, Default)]
pub struct Multiline {
    pending: Option<String>,
    lines: usize,
    in_python_traceback: bool,
}

const MAX_LINES: usize = 500;
const MAX_BYTES: usize = 64 * 1024;

impl Multiline {
    pub fn new() -> Multiline {
        Multiline::default()
    }

    /// Adds one line; returns the previous record when this line starts a new one.
    pub fn push(&mut self, line: &str) -> Option<String> {
        let line = line.trim_end_matches(['\n', '\r']);
        let continues = self.pending.is_some()
            && self.lines < MAX_LINES
            && self
                .pending
                .as_ref()
                .is_some_and(|p| p.len() + line.len() < MAX_BYTES)
            && (is_continuation(line) || (self.in_python_traceback && is_exception_line(line)));
        if continues {
            if line.starts_with("Traceback (most recent call last)") {
                self.in_python_traceback = true;
            } else if self.in_python_traceback && is_exception_line(line) {
                self.in_python_traceback = false;
            }
            if let Some(pending) = self.pending.as_mut() {
                pending.push('\n');
                pending.push_str(line);
            }
            self.lines += 1;
            return None;
        }
        self.in_python_traceback = false;
        self.lines = 1;
        self.pending.replace(line.to_string())
    }

    /// Hands out the record being collected, if any (at end of input or on a timeout).
    pub fn flush(&mut self) -> Option<String> {
        self.lines = 0;
        self.in_python_traceback = false;
        self.pending.take()
    }
}

/// True for a line that continues the record before it.
pub fn is_continuation(line: &str) -> bool {
    if line.trim().is_empty() {
        return false;
    }
    let first = line.as_bytes()[0];
    if first == b' ' || first == b'\t' {
        return true;
    }
    line.starts_with("Caused by:")
        || line.starts_with("Suppressed:")
        || line.starts_with("... ")
        || line.starts_with("Traceback (most recent call last)")
        || line.starts_with("goroutine ")
        || line.starts_with("panic: ")
        || (is_exception_line(line)
            && line.contains('.')
            && !line.starts_with(|c: char| c.is_ascii_digit()))
}

/// `java.lang.IllegalStateException: x`, `ValueError: bad value`.
fn is_exception_line(line: &str) -> bool {
    let name = line.split([':', ' ']).next().unwrap_or("");
    (name.ends_with("Exception") || name.ends_with("Error"))
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'$')
}

/// True when continuation text has stack frames (Java, Python, Go).
pub(crate) fn has_stack_frames(text: &str) -> bool {
    text.lines().any(|line| {
        let trimmed = line.trim_start();
        trimmed.starts_with("at ") && trimmed.contains('(')
            || trimmed.starts_with("File \"")
            || trimmed.starts_with("Traceback (most recent call last)")
            || trimmed.starts_with("goroutine ")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_trace_joins() {
        let mut joiner = Multiline::new();
        let lines = [
            "2026-11-23 10:00:00 ERROR boom",
            "java.lang.IllegalStateException: bad",
            "\tat a.B.c(B.java:1)",
            "Caused by: java.io.IOException: x",
            "\t... 3 more",
            "2026-11-23 10:00:01 INFO next",
        ];
        let mut out = Vec::new();
        for line in lines {
            out.extend(joiner.push(line));
        }
        out.extend(joiner.flush());
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].lines().count(), 5);
    }

    #[test]
    fn python_trace_joins() {
        let mut joiner = Multiline::new();
        let lines = [
            "ERROR:root:failed",
            "Traceback (most recent call last):",
            "  File \"x.py\", line 1, in <module>",
            "ValueError: bad",
            "INFO:root:next",
        ];
        let mut out = Vec::new();
        for line in lines {
            out.extend(joiner.push(line));
        }
        out.extend(joiner.flush());
        assert_eq!(out.len(), 2);
        assert!(out[0].ends_with("ValueError: bad"));
    }
}
