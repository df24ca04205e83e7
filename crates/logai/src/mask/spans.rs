//! Values written over more than one token: a size with a conversion for people
//! (`1190 bytes (1.16 KB)`), a bound below a unit (`<1 sec`), the target and protocol of a
//! quoted request line (`"GET /v2/servers HTTP/1.1"`). Their number of tokens varies from line
//! to line of one event (`0 bytes` / `1190 bytes (1.16 KB)`, `00:02` / `<1 sec`), or they are
//! one value in several pieces, and the miner compares lines token by token, so each is made as
//! many tokens as its plain form. Decided by where digits, units and quotes are, never by the
//! digits' values (the mask memo relies on that).

use super::{Masked, ValueKind, duration_unit_factor, number_with_unit, size_unit_factor};

/// Punctuation that may follow a quantity and stays literal.
const TRAIL: [char; 4] = [',', ';', '.', ':'];

impl Masked {
    /// Folds the values of the module's doc into the tokens of their plain forms.
    pub(super) fn fold_spans(&mut self, message: &str) {
        if self.params.is_empty() || self.tokens.len() < 2 {
            return;
        }
        let mut index = 0;
        while index + 1 < self.tokens.len() {
            // A quantity starts at a value, so at a soft token; a request line at a method.
            if self.tokens[index].soft {
                if !self.fold_bound(message, index) {
                    self.fold_conversion(message, index);
                }
            } else if index + 2 < self.tokens.len() {
                self.fold_request(message, index);
            }
            index += 1;
        }
    }

    /// `"GET /v2/servers/detail HTTP/1.1"`: in a quoted request line the target and the
    /// protocol after the method are one value, the request (`"GET <*>"`), as the method alone
    /// tells requests apart.
    fn fold_request(&mut self, message: &str, index: usize) {
        let original = |token: &super::Token| &message[token.original.0..token.original.1];
        let method = original(&self.tokens[index]);
        if !method.strip_prefix('"').is_some_and(is_method) {
            return;
        }
        let protocol = original(&self.tokens[index + 2]);
        let Some((version, after)) = protocol
            .strip_prefix("HTTP/")
            .and_then(|rest| rest.split_once('"'))
        else {
            return;
        };
        if version.is_empty()
            || !version.bytes().all(|b| b.is_ascii_digit() || b == b'.')
            || !after.chars().all(|c| TRAIL.contains(&c))
        {
            return;
        }
        let start = self.tokens[index + 1].original.0;
        let end = self.tokens[index + 2].original.0 + "HTTP/".len() + version.len();
        let suffix = format!("\"{after}");
        self.fold_into_value(index + 1, index + 2, (start, end), &suffix, ValueKind::Url);
    }

    /// `<1 sec`, `>5 min`: a bound sign glued to a number, then a duration unit, is one value
    /// (where other lines of the event write a clock, `00:02`, in its place). Only after a word
    /// it qualifies: at the start of a message `<24` is rather a direction mark and a
    /// connection number (`<24 ms k2 2`, a command echoed).
    fn fold_bound(&mut self, message: &str, index: usize) -> bool {
        if index == 0 {
            return false;
        }
        let token = self.tokens[index];
        let text = &message[token.original.0..token.original.1];
        let Some(number) = text.strip_prefix(['<', '>']) else {
            return false;
        };
        if number_with_unit(number) != Some(ValueKind::Number) {
            return false;
        }
        let next = self.tokens[index + 1];
        let unit_text = &message[next.original.0..next.original.1];
        let unit = unit_text.trim_end_matches(TRAIL);
        if duration_unit_factor(unit).is_none() {
            return false;
        }
        let end = next.original.0 + unit.len();
        let suffix = unit_text[unit.len()..].to_string();
        self.fold_into_value(
            index,
            index + 1,
            (token.original.0, end),
            &suffix,
            ValueKind::Duration,
        );
        true
    }

    /// `1190 bytes (1.16 KB)`: a number and its unit, then the same quantity in another unit in
    /// parentheses. The conversion joins the unit's token, as literal text of it: the template
    /// is that of `0 bytes` (`<*> bytes`), and the value parameter is the first number.
    fn fold_conversion(&mut self, message: &str, index: usize) {
        if index + 2 >= self.tokens.len() {
            return;
        }
        let unit_token = self.tokens[index + 1];
        let number = &message[self.tokens[index].original.0..self.tokens[index].original.1];
        let unit = &message[unit_token.original.0..unit_token.original.1];
        if number_with_unit(number) != Some(ValueKind::Number) || !is_unit(unit) {
            return;
        }
        let open = self.tokens[index + 2];
        if !message[open.original.0..].starts_with('(') {
            return;
        }
        // The conversion ends at the first `)`, within this token or the next one.
        let mut last = index + 2;
        let mut close = message[open.original.0..open.original.1].find(')');
        if close.is_none() && last + 1 < self.tokens.len() {
            last += 1;
            let token = self.tokens[last];
            close = message[token.original.0..token.original.1]
                .find(')')
                .map(|at| at + token.original.0 - open.original.0);
        }
        let Some(close) = close else {
            return;
        };
        let close = open.original.0 + close;
        let inner = &message[open.original.0 + 1..close];
        let end = self.tokens[last].original.1;
        let suffix = &message[close + 1..end];
        if !is_quantity(inner) || !suffix.chars().all(|c| TRAIL.contains(&c)) {
            return;
        }
        let masked_start = self.text.len();
        self.text.push_str(unit);
        self.text.push_str(suffix);
        self.tokens[index + 1].masked = (masked_start, self.text.len());
        self.tokens[index + 1].original.1 = end;
        self.tokens.drain(index + 2..=last);
        self.params
            .retain(|p| p.end <= open.original.0 || p.start >= end);
    }
}

/// The methods of an HTTP request line.
fn is_method(word: &str) -> bool {
    matches!(
        word,
        "GET" | "POST" | "PUT" | "DELETE" | "HEAD" | "PATCH" | "OPTIONS" | "CONNECT" | "TRACE"
    )
}

/// A size or duration unit written as a word of its own (`bytes`, `KB`, `sec`).
fn is_unit(word: &str) -> bool {
    size_unit_factor(word).is_some() || duration_unit_factor(word).is_some()
}

/// `1.16 KB`, `1.16KB`, `3 sec`: a number with a unit, with or without a blank between.
fn is_quantity(text: &str) -> bool {
    match text.split_once(' ') {
        Some((number, unit)) => {
            number_with_unit(number) == Some(ValueKind::Number) && is_unit(unit)
        }
        None => matches!(
            number_with_unit(text),
            Some(ValueKind::Size | ValueKind::Duration)
        ),
    }
}
