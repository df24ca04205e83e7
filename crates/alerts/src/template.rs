//! The part of Go's text/template that Prometheus rule labels and annotations use:
//! `{{ $labels.service }}`, `{{ $value }}`, `{{ .Labels.x }}`, `{{ .Value }}`,
//! `{{ humanize $value }}`, `{{ $value | humanizePercentage }}`, `{{ printf "%.2f" $value }}`,
//! `{{ index $labels "k" }}`, `{{- trimmed -}}`. Control actions (`if`, `range`) are refused
//! when a rule is loaded, with the reason.

use std::collections::BTreeMap;

/// A parsed template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(String),
    /// Commands joined by `|`; each command's result is the last argument of the next.
    Pipeline(Vec<Command>),
}

#[derive(Debug, Clone, PartialEq)]
struct Command {
    func: Option<Func>,
    args: Vec<Operand>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Func {
    Humanize,
    Humanize1024,
    HumanizePercentage,
    HumanizeDuration,
    Printf,
    ToUpper,
    ToLower,
    Title,
    Index,
}

#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Labels(Option<String>),
    ExternalLabels(Option<String>),
    Value,
    Str(String),
    Num(f64),
}

/// What a template is rendered with.
pub struct Data<'a> {
    pub labels: &'a BTreeMap<String, String>,
    pub external_labels: &'a BTreeMap<String, String>,
    pub value: f64,
}

enum Val<'a> {
    Str(String),
    Num(f64),
    Map(&'a BTreeMap<String, String>),
}

impl Val<'_> {
    fn text(&self) -> String {
        match self {
            Val::Str(s) => s.clone(),
            Val::Num(n) => format_g(*n, 17),
            Val::Map(m) => {
                let pairs: Vec<String> = m.iter().map(|(k, v)| format!("{k}:{v}")).collect();
                format!("map[{}]", pairs.join(" "))
            }
        }
    }

    fn num(&self) -> Result<f64, String> {
        match self {
            Val::Num(n) => Ok(*n),
            Val::Str(s) => s
                .trim()
                .parse()
                .map_err(|_| format!("cannot read {s:?} as a number")),
            Val::Map(_) => Err("a map is not a number".to_string()),
        }
    }
}

impl Template {
    /// Parses `text`; the error says what is wrong and where.
    pub fn parse(text: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find("{{") {
            let mut literal = rest[..open].to_string();
            let mut inner = &rest[open + 2..];
            let close = inner.find("}}").ok_or_else(|| {
                format!(
                    "unclosed action at offset {}",
                    text.len() - rest.len() + open
                )
            })?;
            let mut body = &inner[..close];
            if let Some(b) = body.strip_prefix('-') {
                literal = literal.trim_end().to_string();
                body = b;
            }
            let trim_after = body.ends_with('-');
            if trim_after {
                body = &body[..body.len() - 1];
            }
            if !literal.is_empty() {
                parts.push(Part::Text(literal));
            }
            parts.push(Part::Pipeline(parse_pipeline(body.trim())?));
            inner = &inner[close + 2..];
            rest = if trim_after {
                inner.trim_start()
            } else {
                inner
            };
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        Ok(Template { parts })
    }

    pub fn render(&self, data: &Data) -> Result<String, String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Pipeline(cmds) => out.push_str(&run_pipeline(cmds, data)?.text()),
            }
        }
        Ok(out)
    }
}

/// Renders `text` once (parse and render), for callers that keep no parsed template.
pub fn render(text: &str, data: &Data) -> Result<String, String> {
    Template::parse(text)?.render(data)
}

fn parse_pipeline(body: &str) -> Result<Vec<Command>, String> {
    if body.is_empty() {
        return Err("empty action {{ }}".to_string());
    }
    if body.starts_with("/*") {
        return Ok(vec![Command {
            func: None,
            args: vec![Operand::Str(String::new())],
        }]);
    }
    let mut cmds = Vec::new();
    for piece in split_outside_quotes(body, '|') {
        cmds.push(parse_command(piece.trim())?);
    }
    Ok(cmds)
}

fn parse_command(text: &str) -> Result<Command, String> {
    let words = words(text)?;
    let Some((first, rest)) = words.split_first() else {
        return Err("empty command in a pipeline".to_string());
    };
    let func = match first.as_str() {
        "humanize" => Some(Func::Humanize),
        "humanize1024" => Some(Func::Humanize1024),
        "humanizePercentage" => Some(Func::HumanizePercentage),
        "humanizeDuration" => Some(Func::HumanizeDuration),
        "printf" => Some(Func::Printf),
        "toUpper" => Some(Func::ToUpper),
        "toLower" => Some(Func::ToLower),
        "title" => Some(Func::Title),
        "index" => Some(Func::Index),
        w if w.starts_with('$') || w.starts_with('.') || w.starts_with('"') => None,
        w if w.parse::<f64>().is_ok() => None,
        "if" | "else" | "end" | "range" | "with" | "define" | "template" | "block" => {
            return Err(format!("template action '{first}' is not supported"));
        }
        other => return Err(format!("function \"{other}\" not defined")),
    };
    let operands = if func.is_some() { rest } else { &words[..] };
    let mut args = Vec::new();
    for w in operands {
        args.push(parse_operand(w)?);
    }
    if func.is_none() && args.len() != 1 {
        return Err(format!("can't give argument to non-function {first}"));
    }
    Ok(Command { func, args })
}

fn parse_operand(w: &str) -> Result<Operand, String> {
    if let Some(s) = w.strip_prefix('"') {
        return Ok(Operand::Str(unquote(s)?));
    }
    if let Ok(n) = w.parse::<f64>() {
        return Ok(Operand::Num(n));
    }
    let field = |prefix: &str| -> Option<Option<String>> {
        let rest = w.strip_prefix(prefix)?;
        if rest.is_empty() {
            return Some(None);
        }
        rest.strip_prefix('.').map(|k| Some(k.to_string()))
    };
    if let Some(k) = field("$labels").or_else(|| field(".Labels")) {
        return Ok(Operand::Labels(k));
    }
    if let Some(k) = field("$externalLabels").or_else(|| field(".ExternalLabels")) {
        return Ok(Operand::ExternalLabels(k));
    }
    if w == "$value" || w == ".Value" {
        return Ok(Operand::Value);
    }
    Err(format!("undefined variable or field: {w}"))
}

fn unquote(s: &str) -> Result<String, String> {
    let body = s
        .strip_suffix('"')
        .ok_or_else(|| "unterminated quoted string".to_string())?;
    let mut out = String::new();
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => return Err("unterminated escape".to_string()),
            }
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

/// Splits on `sep` outside double quotes.
fn split_outside_quotes(text: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == sep && !quoted => {
                out.push(&text[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    out.push(&text[start..]);
    out
}

/// Words separated by spaces, quoted strings kept whole (with their quotes).
fn words(text: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let (mut quoted, mut escaped) = (false, false);
    for c in text.chars() {
        if quoted {
            current.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                quoted = false;
            }
        } else if c.is_whitespace() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
        } else {
            quoted = c == '"';
            current.push(c);
        }
    }
    if quoted {
        return Err("unterminated quoted string".to_string());
    }
    if !current.is_empty() {
        out.push(current);
    }
    Ok(out)
}

fn operand_value<'a>(op: &Operand, data: &Data<'a>) -> Val<'a> {
    let lookup = |m: &'a BTreeMap<String, String>, k: &Option<String>| match k {
        None => Val::Map(m),
        // A missing label renders as "<no value>", as Go's templates do.
        Some(k) => Val::Str(
            m.get(k)
                .cloned()
                .unwrap_or_else(|| "<no value>".to_string()),
        ),
    };
    match op {
        Operand::Labels(k) => lookup(data.labels, k),
        Operand::ExternalLabels(k) => lookup(data.external_labels, k),
        Operand::Value => Val::Num(data.value),
        Operand::Str(s) => Val::Str(s.clone()),
        Operand::Num(n) => Val::Num(*n),
    }
}

fn run_pipeline<'a>(cmds: &[Command], data: &Data<'a>) -> Result<Val<'a>, String> {
    let mut carried: Option<Val<'a>> = None;
    for cmd in cmds {
        let mut args: Vec<Val<'a>> = cmd.args.iter().map(|a| operand_value(a, data)).collect();
        if let Some(prev) = carried.take() {
            args.push(prev);
        }
        carried = Some(match cmd.func {
            None => args
                .pop()
                .ok_or_else(|| "a pipeline stage has no value".to_string())?,
            Some(f) => call(f, args)?,
        });
    }
    carried.ok_or_else(|| "empty pipeline".to_string())
}

fn one<'a>(name: &str, mut args: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    if args.len() != 1 {
        return Err(format!("{name} takes one argument, got {}", args.len()));
    }
    args.pop()
        .ok_or_else(|| format!("{name} takes one argument"))
}

fn call<'a>(f: Func, args: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    Ok(Val::Str(match f {
        Func::Humanize => humanize(one("humanize", args)?.num()?),
        Func::Humanize1024 => humanize_1024(one("humanize1024", args)?.num()?),
        Func::HumanizePercentage => {
            format!(
                "{}%",
                format_g(one("humanizePercentage", args)?.num()? * 100.0, 4)
            )
        }
        Func::HumanizeDuration => humanize_duration(one("humanizeDuration", args)?.num()?),
        Func::ToUpper => one("toUpper", args)?.text().to_uppercase(),
        Func::ToLower => one("toLower", args)?.text().to_lowercase(),
        Func::Title => title(&one("title", args)?.text()),
        Func::Printf => printf(args)?,
        Func::Index => {
            let [map, key] = <[Val; 2]>::try_from(args)
                .map_err(|_| "index takes a map and a key".to_string())?;
            match map {
                Val::Map(m) => m.get(&key.text()).cloned().unwrap_or_default(),
                _ => return Err("index of something that is not a map".to_string()),
            }
        }
    }))
}

fn title(s: &str) -> String {
    let mut out = String::new();
    let mut start = true;
    for c in s.chars() {
        if start && c.is_alphabetic() {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        start = !c.is_alphanumeric();
    }
    out
}

/// Go's `%.{precision}g`: significant digits, trailing zeros dropped, an exponent when the
/// number is very large or small.
pub fn format_g(v: f64, precision: usize) -> String {
    if v.is_nan() {
        return "NaN".to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.to_string();
    }
    if v == 0.0 {
        return "0".to_string();
    }
    let p = precision.max(1);
    let sci = format!("{:.*e}", p - 1, v);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= p as i32 {
        let m = trim_zeros(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{m}e{sign}{:02}", exp.abs());
    }
    let decimals = (p as i32 - 1 - exp).max(0) as usize;
    trim_zeros(&format!("{v:.decimals$}"))
}

fn trim_zeros(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}

fn humanize(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format_g(v, 4);
    }
    if v.abs() >= 1.0 {
        let mut x = v;
        let mut prefix = "";
        for p in ["k", "M", "G", "T", "P", "E", "Z", "Y"] {
            if x.abs() < 1000.0 {
                break;
            }
            prefix = p;
            x /= 1000.0;
        }
        return format!("{}{prefix}", format_g(x, 4));
    }
    let mut x = v;
    let mut prefix = "";
    for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
        if x.abs() >= 1.0 {
            break;
        }
        prefix = p;
        x *= 1000.0;
    }
    format!("{}{prefix}", format_g(x, 4))
}

fn humanize_1024(v: f64) -> String {
    if v.abs() <= 1.0 || !v.is_finite() {
        return format_g(v, 4);
    }
    let mut x = v;
    let mut prefix = "";
    for p in ["ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"] {
        if x.abs() < 1024.0 {
            break;
        }
        prefix = p;
        x /= 1024.0;
    }
    format!("{}{prefix}", format_g(x, 4))
}

fn humanize_duration(v: f64) -> String {
    if !v.is_finite() {
        return format_g(v, 4);
    }
    if v.abs() >= 1.0 {
        let sign = if v < 0.0 { "-" } else { "" };
        let secs = v.abs() as i64;
        let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
        return match (d, h, m) {
            (0, 0, 0) => format!("{sign}{}s", format_g(v.abs(), 4)),
            (0, 0, _) => format!("{sign}{m}m {s}s"),
            (0, _, _) => format!("{sign}{h}h {m}m {s}s"),
            _ => format!("{sign}{d}d {h}h {m}m {s}s"),
        };
    }
    if v == 0.0 {
        return "0s".to_string();
    }
    for (unit, scale) in [("ms", 1e3), ("us", 1e6)] {
        if (v * scale).abs() >= 1.0 {
            return format!("{}{unit}", format_g(v * scale, 4));
        }
    }
    format!("{}ns", format_g(v * 1e9, 4))
}

/// `printf` with the verbs rule templates use: `%s %v %d %f %g %e %%`, with a precision.
fn printf(mut args: Vec<Val>) -> Result<String, String> {
    if args.is_empty() {
        return Err("printf needs a format".to_string());
    }
    let format = args.remove(0).text();
    let mut values = args.into_iter();
    let mut out = String::new();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut precision: Option<usize> = None;
        if chars.peek() == Some(&'.') {
            chars.next();
            let mut digits = String::new();
            while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                digits.push(*d);
                chars.next();
            }
            precision = Some(digits.parse().unwrap_or(0));
        }
        let verb = chars
            .next()
            .ok_or_else(|| "printf: a format ends in %".to_string())?;
        if verb == '%' {
            out.push('%');
            continue;
        }
        let v = values
            .next()
            .ok_or_else(|| format!("printf: no value for %{verb}"))?;
        out.push_str(&match verb {
            's' | 'v' => v.text(),
            'd' => format!("{}", v.num()?.trunc() as i64),
            'f' => format!("{:.*}", precision.unwrap_or(6), v.num()?),
            'e' => format!("{:.*e}", precision.unwrap_or(6), v.num()?),
            'g' => format_g(v.num()?, precision.unwrap_or(17)),
            other => return Err(format!("printf: verb %{other} is not supported")),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn render_with(text: &str, value: f64) -> Result<String, String> {
        let labels: BTreeMap<String, String> =
            [("service".to_string(), "payment".to_string())].into();
        let external = BTreeMap::new();
        render(
            text,
            &Data {
                labels: &labels,
                external_labels: &external,
                value,
            },
        )
    }

    #[test]
    fn labels_values_and_functions_render() {
        assert_eq!(
            render_with("{{ $labels.service }} errors at {{ $value }}", 0.25).unwrap(),
            "payment errors at 0.25"
        );
        assert_eq!(
            render_with("{{ .Labels.service }}", 1.0).unwrap(),
            "payment"
        );
        assert_eq!(
            render_with("{{ humanize $value }}", 1234567.0).unwrap(),
            "1.235M"
        );
        assert_eq!(
            render_with("{{ humanize $value }}", 0.0123).unwrap(),
            "12.3m"
        );
        assert_eq!(
            render_with("{{ $value | humanizePercentage }}", 0.0856).unwrap(),
            "8.56%"
        );
        assert_eq!(
            render_with("{{ humanizeDuration $value }}", 3725.0).unwrap(),
            "1h 2m 5s"
        );
        assert_eq!(
            render_with("{{ humanizeDuration $value }}", 0.25).unwrap(),
            "250ms"
        );
        assert_eq!(
            render_with("{{ printf \"%.2f\" $value }}", 0.12345).unwrap(),
            "0.12"
        );
        assert_eq!(
            render_with("{{ index $labels \"service\" }}", 0.0).unwrap(),
            "payment"
        );
        assert_eq!(
            render_with("{{ $labels.nope }}", 0.0).unwrap(),
            "<no value>"
        );
        assert_eq!(render_with("a  {{- $value -}}  b", 2.0).unwrap(), "a2b");
        assert_eq!(
            render_with("{{ $labels.service | toUpper }}", 0.0).unwrap(),
            "PAYMENT"
        );
    }

    #[test]
    fn unknown_functions_and_control_actions_are_refused() {
        let e = Template::parse("{{ frobnicate $value }}").unwrap_err();
        assert!(e.contains("frobnicate"), "{e}");
        let e = Template::parse("{{ if $value }}x{{ end }}").unwrap_err();
        assert!(e.contains("not supported"), "{e}");
        assert!(Template::parse("{{ $value ").is_err());
        assert!(Template::parse("{{ $nope }}").is_err());
    }

    #[test]
    fn go_g_format() {
        assert_eq!(format_g(1234.5678, 4), "1235");
        assert_eq!(format_g(0.000012345, 4), "1.234e-05");
        assert_eq!(format_g(12.0, 4), "12");
        assert_eq!(format_g(1e21, 4), "1e+21");
    }
}
