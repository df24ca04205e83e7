//! JavaScript stack traces as frames: V8's (`    at fn (url:line:col)`) and the
//! SpiderMonkey/JavaScriptCore shape (`fn@url:line:col`), and back to text.

/// One frame of a stack trace. Lines and columns are 1-based, as browsers print them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub function: Option<String>,
    pub url: String,
    pub line: u32,
    pub column: u32,
}

impl Frame {
    /// The file part of the frame's URL: its path without query or fragment.
    pub fn path(&self) -> &str {
        crate::route::path_of(&self.url)
    }

    /// The last segment of [`Frame::path`].
    pub fn file_name(&self) -> &str {
        let path = self.path();
        path.rsplit('/').next().unwrap_or(path)
    }
}

/// The frames of a stack trace, in order (innermost first); lines that are not frames (the
/// message line, `<anonymous>`, native code) are skipped.
pub fn parse(stack: &str) -> Vec<Frame> {
    stack.lines().filter_map(parse_line).take(200).collect()
}

fn parse_line(line: &str) -> Option<Frame> {
    let line = line.trim();
    if let Some(rest) = line.strip_prefix("at ") {
        return parse_v8(rest.trim_start_matches("async "));
    }
    // `fn@url:l:c`; the url itself may hold '@' (in user info), so split at the first.
    let (function, location) = match line.find('@') {
        Some(i) => (&line[..i], &line[i + 1..]),
        None => ("", line),
    };
    if !location.contains("://") {
        return None;
    }
    let (url, line_no, column) = split_location(location)?;
    Some(Frame {
        function: (!function.is_empty()).then(|| function.to_string()),
        url: url.to_string(),
        line: line_no,
        column,
    })
}

fn parse_v8(rest: &str) -> Option<Frame> {
    let (function, location) = match (rest.rfind(" ("), rest.ends_with(')')) {
        (Some(i), true) => (Some(&rest[..i]), &rest[i + 2..rest.len() - 1]),
        _ => (None, rest),
    };
    let (url, line, column) = split_location(location)?;
    Some(Frame {
        function: function.map(str::to_string),
        url: url.to_string(),
        line,
        column,
    })
}

/// `url:line:col` → its parts.
fn split_location(location: &str) -> Option<(&str, u32, u32)> {
    let (rest, column) = location.rsplit_once(':')?;
    let (url, line) = rest.rsplit_once(':')?;
    let line: u32 = line.parse().ok()?;
    let column: u32 = column.parse().ok()?;
    if url.is_empty() {
        return None;
    }
    Some((url, line, column))
}

/// The frames as a V8-style stack trace under `header` (`Type: message`).
pub fn format(header: &str, frames: &[Frame]) -> String {
    let mut out = String::from(header);
    for f in frames {
        out.push_str("\n    at ");
        match &f.function {
            Some(name) => {
                out.push_str(name);
                out.push_str(" (");
                push_location(&mut out, f);
                out.push(')');
            }
            None => push_location(&mut out, f),
        }
    }
    out
}

fn push_location(out: &mut String, f: &Frame) {
    out.push_str(&f.url);
    out.push(':');
    out.push_str(&f.line.to_string());
    out.push(':');
    out.push_str(&f.column.to_string());
}

/// The first line of a stack that is not a frame (V8 starts with `Type: message`).
pub fn header(stack: &str) -> Option<&str> {
    let first = stack.lines().next()?.trim();
    (!first.is_empty() && parse_line(first).is_none()).then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v8_and_firefox_stacks() {
        let v8 = "TypeError: Cannot read properties of undefined (reading 'id')\n    at renderCart (https://shop.example.com/assets/app.3f9a.js:1:2345)\n    at async https://shop.example.com/assets/app.3f9a.js:1:999\n    at <anonymous>";
        let frames = parse(v8);
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[0].function.as_deref(), Some("renderCart"));
        assert_eq!(frames[0].line, 1);
        assert_eq!(frames[0].column, 2345);
        assert_eq!(frames[0].file_name(), "app.3f9a.js");
        assert_eq!(frames[1].function, None);
        assert_eq!(
            header(v8),
            Some("TypeError: Cannot read properties of undefined (reading 'id')")
        );

        let ff = "renderCart@https://shop.example.com/assets/app.js:1:2345\n@https://shop.example.com/assets/app.js?v=2:3:4\n";
        let frames = parse(ff);
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[1].function, None);
        assert_eq!(frames[1].path(), "/assets/app.js");
        assert_eq!(header(ff), None);
    }

    #[test]
    fn format_round_trips() {
        let text =
            "Error: x\n    at f (https://a.example/a.js:1:2)\n    at https://a.example/b.js:3:4";
        let frames = parse(text);
        assert_eq!(format("Error: x", &frames), text);
    }

    proptest::proptest! {
        #[test]
        fn parsing_never_panics(s in "\\PC{0,200}") {
            let _ = parse(&s);
            let _ = header(&s);
        }
    }
}
