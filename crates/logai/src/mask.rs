//! Tokenising a message and masking the values whose type gives them away.
//!
//! A message is split on blanks. Each token is first checked whole (URL, path, IP and port,
//! UUID, email, hex, version, number with a duration or size unit, boolean); otherwise it is
//! split on punctuation and the numeric and hex pieces are masked, so `blk_-123` becomes
//! `blk_<*>` and `jk2_init()` stays as it is. Tokens left with a digit or a mask are *soft*:
//! the miner may generalise them on little evidence. Runs of repeated masked tokens
//! (`@0x1 @0x2 @0x3`, stack addresses) fold into one, so lists of any length share a template.

use crate::header::word_at;

mod spans;

/// One masked token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    /// Range of the masked text in [`Masked::text`].
    pub masked: (usize, usize),
    /// Range of the original text in the message.
    pub original: (usize, usize),
    /// Contains a mask or a digit: a likely variable.
    pub soft: bool,
    /// The original text may hold `=` or `:` (it may name a value); false only when it holds
    /// neither.
    pub keyish: bool,
}

/// A masked value: its original range in the message and its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param {
    pub start: usize,
    pub end: usize,
    pub kind: ValueKind,
}

/// The type a masked value was recognised as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    Number,
    Hex,
    Uuid,
    Ip,
    Path,
    Url,
    Email,
    Version,
    Duration,
    Size,
    Bool,
    Time,
    Word,
}

/// The masked form of one message, reused between calls to avoid allocations.
#[derive(Debug, Default, Clone)]
pub struct Masked {
    pub text: String,
    pub tokens: Vec<Token>,
    pub params: Vec<Param>,
    /// A hash of the masked tokens (their texts and where they split), set by [`Masked::fill`]:
    /// what the miner looks templates up by. In memory only, never persisted.
    pub hash: u64,
}

impl Masked {
    pub fn token_text(&self, token: &Token) -> &str {
        &self.text[token.masked.0..token.masked.1]
    }

    /// Masks `message` into `self`, replacing what was there.
    pub fn fill(&mut self, message: &str) {
        self.text.clear();
        self.tokens.clear();
        self.params.clear();
        let bytes = message.as_bytes();
        let mut position = 0;
        // The previous token was `key:`: the line names the value that follows.
        let mut after_key = false;
        while position < bytes.len() {
            while position < bytes.len() && bytes[position].is_ascii_whitespace() {
                position += 1;
            }
            if position >= bytes.len() {
                break;
            }
            let start = position;
            // The classes any byte of the token has, and those every byte has.
            let mut marks = 0;
            let mut common = PLAIN;
            while position < bytes.len() {
                let class = BYTE_CLASS[usize::from(bytes[position])];
                if class & BLANK != 0 {
                    break;
                }
                common &= class;
                marks |= class;
                position += 1;
            }
            let mut all_plain = common != 0;
            let equals = marks & EQUALS != 0;
            let mut keyish = marks & (EQUALS | COLON) != 0;
            let named = after_key;
            after_key = is_colon_key(&message[start..position]);
            // A quoted value follows `key=` or, after `key:`, opens the token.
            let may_quote = equals || (named && matches!(bytes[start], b'"' | b'\''));
            if may_quote && let Some(end) = quoted_span(message, start, position, named) {
                // `key="two words"` / `key: "two words"`: one value, whatever its blanks.
                position = end;
                all_plain = false;
                keyish = true;
            }
            if named && self.push_named_value(message, start, position) {
                continue;
            }
            if self.absorb_unit(message, start, position) {
                continue;
            }
            if all_plain
                && !has_value_word(&message[start..position])
                && !(marks & DOT != 0
                    && is_host_name(message[start..position].trim_end_matches([',', '.'])))
            {
                // Only letters and `_.-',`: the token stays as written (what `push_token`
                // makes of it too, without its checks), holds no value and is not soft.
                let masked_start = self.text.len();
                self.text.push_str(&message[start..position]);
                self.tokens.push(Token {
                    masked: (masked_start, self.text.len()),
                    original: (start, position),
                    soft: false,
                    keyish: false,
                });
                continue;
            }
            self.push_token(message, start, position, keyish, marks);
        }
        self.fold_dates(message);
        self.fold_spans(message);
        self.fold_name_lists(message);
        self.fold_runs();
        self.hash = self.tokens_hash();
    }

    /// Replaces tokens `first..=last` by one value token `<*>` followed by `suffix` (the last
    /// token's punctuation), and the parameters inside `value` (original range) by one of
    /// `kind`.
    fn fold_into_value(
        &mut self,
        first: usize,
        last: usize,
        value: (usize, usize),
        suffix: &str,
        kind: ValueKind,
    ) {
        let (start, end) = value;
        let masked_start = self.text.len();
        self.text.push_str("<*>");
        self.text.push_str(suffix);
        self.tokens[first] = Token {
            masked: (masked_start, self.text.len()),
            original: (start, self.tokens[last].original.1),
            soft: true,
            keyish: false,
        };
        self.tokens.drain(first + 1..=last);
        let at = self
            .params
            .iter()
            .position(|p| p.start >= start)
            .unwrap_or(self.params.len());
        self.params.retain(|p| p.end <= start || p.start >= end);
        let at = at.min(self.params.len());
        self.params.insert(at, Param { start, end, kind });
    }

    /// Folds a list of three or more numbered names of one kind (`an14 an15 an16`, `node1
    /// node2 node3`) into one value, as runs of masked values fold: lists of any length then
    /// share a template.
    fn fold_name_lists(&mut self, message: &str) {
        if self.tokens.len() < 3 {
            return;
        }
        let prefix_of = |token: &Token| -> Option<&str> {
            // A numbered name holds a digit, so its token is soft (most tokens are not).
            if !token.soft {
                return None;
            }
            let text = &message[token.original.0..token.original.1];
            let letters = text.bytes().take_while(u8::is_ascii_alphabetic).count();
            let digits = text.len() - letters;
            (letters > 0 && digits > 0 && text.as_bytes()[letters..].iter().all(u8::is_ascii_digit))
                .then(|| &text[..letters])
        };
        let mut index = 0;
        while index + 2 < self.tokens.len() {
            let Some(prefix) = prefix_of(&self.tokens[index]) else {
                index += 1;
                continue;
            };
            let mut last = index;
            while last + 1 < self.tokens.len() && prefix_of(&self.tokens[last + 1]) == Some(prefix)
            {
                last += 1;
            }
            if last - index < 2 {
                index = last + 1;
                continue;
            }
            let (start, end) = (self.tokens[index].original.0, self.tokens[last].original.1);
            self.fold_into_value(index, last, (start, end), "", ValueKind::Word);
            index += 1;
        }
    }

    /// Folds a date written in words inside a message (`at Fri Jul  1 07:57:30 2005`,
    /// `Fri, 01 Jul 2005 07:57:30 +0000`) into one time value: its weekday and month names
    /// would otherwise stay literal and split one event into a template per day of the week.
    /// Decided by where digits are and which words are month and weekday names, never by the
    /// digits' values (the mask memo relies on that).
    fn fold_dates(&mut self, message: &str) {
        if self.params.len() < 2 {
            return;
        }
        let mut index = 0;
        while index < self.tokens.len() {
            let original = |t: &Token| &message[t.original.0..t.original.1];
            if !is_clock(original(&self.tokens[index]).trim_end_matches(',')) {
                index += 1;
                continue;
            }
            let word = |i: usize| original(&self.tokens[i]).trim_end_matches(',');
            let digits = |i: usize, lengths: &[usize]| {
                let w = word(i);
                lengths.contains(&w.len()) && w.bytes().all(|b| b.is_ascii_digit())
            };
            let month = |i: usize| crate::timestamp::month_number(word(i)).is_some();
            // Backwards: `Mon DD`, `DD Mon YYYY` or `Mon DD YYYY`, then an optional weekday.
            let mut first = None;
            if index >= 2 && digits(index - 1, &[1, 2]) && month(index - 2) {
                first = Some(index - 2);
            } else if index >= 3
                && digits(index - 1, &[4])
                && ((month(index - 2) && digits(index - 3, &[1, 2]))
                    || (digits(index - 2, &[1, 2]) && month(index - 3)))
            {
                first = Some(index - 3);
            }
            let Some(mut first) = first else {
                index += 1;
                continue;
            };
            if first > 0 && crate::timestamp::is_weekday(word(first - 1)) {
                first -= 1;
            }
            // Forwards: an optional year, `AM`/`PM`, then an optional zone.
            let mut last = index;
            if last + 1 < self.tokens.len() && digits(last + 1, &[4]) {
                last += 1;
            }
            if last + 1 < self.tokens.len() && matches!(word(last + 1), "AM" | "PM" | "am" | "pm") {
                last += 1;
            }
            if last + 1 < self.tokens.len() && is_zone_word(word(last + 1)) {
                last += 1;
            }
            let start = self.tokens[first].original.0;
            let end_token = self.tokens[last];
            let end_text = original(&end_token);
            let core_end = end_text.trim_end_matches([',', '.', ';', ')', ']']).len();
            let end = end_token.original.0 + core_end;
            self.fold_into_value(
                first,
                last,
                (start, end),
                &end_text[core_end..],
                ValueKind::Time,
            );
            index = first + 1;
        }
    }

    /// The hash of the tokens' texts, one after the other, and of their lengths.
    fn tokens_hash(&self) -> u64 {
        use std::hash::Hasher;
        let mut hasher = rustc_hash::FxHasher::default();
        // Usually `text` is the tokens' texts end to end; folding and units leave replaced
        // texts in it, and then the tokens' texts are put together first.
        let mut end = 0;
        let contiguous = self.tokens.iter().all(|t| {
            let next = t.masked.0 == end;
            end = t.masked.1;
            next
        }) && end == self.text.len();
        if contiguous {
            hasher.write(self.text.as_bytes());
        } else {
            let mut joined = Vec::with_capacity(self.text.len());
            for token in &self.tokens {
                joined.extend_from_slice(&self.text.as_bytes()[token.masked.0..token.masked.1]);
            }
            hasher.write(&joined);
        }
        for token in &self.tokens {
            hasher.write_usize(token.masked.1 - token.masked.0);
        }
        hasher.finish()
    }

    /// The value after `key:` when it is quoted (`"two words"`) or one item of a list (`bob,`):
    /// masked whole, its quotes and separator kept. False when it is neither.
    fn push_named_value(&mut self, message: &str, start: usize, end: usize) -> bool {
        let token = &message[start..end];
        let quote = token.as_bytes()[0];
        let (lead, trail) = if matches!(quote, b'"' | b'\'') {
            let trail = token[1..]
                .bytes()
                .rev()
                .take_while(|b| matches!(b, b',' | b';' | b'.' | b')' | b']' | b'}'))
                .count();
            if token.len() < 2 + trail || token.as_bytes()[token.len() - trail - 1] != quote {
                return false;
            }
            (1, trail + 1)
        } else {
            let trail = token
                .bytes()
                .rev()
                .take_while(|b| matches!(b, b',' | b';'))
                .count();
            if trail == 0 || token.len() == trail || token.bytes().any(is_structure_byte) {
                return false;
            }
            (0, trail)
        };
        let core = &token[lead..token.len() - trail];
        if core.is_empty() {
            return false;
        }
        let masked_start = self.text.len();
        self.text.push_str(&token[..lead]);
        self.text.push_str("<*>");
        self.text.push_str(&token[token.len() - trail..]);
        self.params.push(Param {
            start: start + lead,
            end: start + lead + core.len(),
            kind: whole_kind(core).unwrap_or(ValueKind::Word),
        });
        self.tokens.push(Token {
            masked: (masked_start, self.text.len()),
            original: (start, end),
            soft: true,
            keyish: true,
        });
        true
    }

    /// `16.0 B,` / `2.6 KB`: a size unit after a bare number is part of the value.
    fn absorb_unit(&mut self, message: &str, start: usize, end: usize) -> bool {
        let word = &message[start..end];
        // Every size unit starts with one of these letters.
        if !matches!(word.as_bytes()[0], b'B' | b'K' | b'M' | b'G' | b'T') {
            return false;
        }
        let unit = word.trim_end_matches([',', ';', ')', '.']);
        let is_unit = matches!(
            unit,
            "B" | "KB" | "MB" | "GB" | "TB" | "KiB" | "MiB" | "GiB" | "TiB"
        );
        let Some(previous) = self.tokens.last_mut() else {
            return false;
        };
        if !is_unit || &self.text[previous.masked.0..previous.masked.1] != "<*>" {
            return false;
        }
        let kind_is_number = self
            .params
            .last()
            .is_some_and(|p| p.kind == ValueKind::Number && p.end == previous.original.1);
        if !kind_is_number {
            return false;
        }
        previous.original.1 = start + unit.len();
        if let Some(param) = self.params.last_mut() {
            param.end = start + unit.len();
            param.kind = ValueKind::Size;
        }
        let suffix = &word[unit.len()..];
        if !suffix.is_empty() {
            // The unit's punctuation stays literal: `<*>,`.
            let masked_start = self.text.len();
            self.text.push_str("<*>");
            self.text.push_str(suffix);
            previous.masked = (masked_start, self.text.len());
            previous.original.1 = end;
        }
        true
    }

    /// Masks one token; `keyish`: it holds `=` or `:` (see [`Token::keyish`]); `marks`: the
    /// [`BYTE_CLASS`] bits of its bytes.
    fn push_token(&mut self, message: &str, start: usize, end: usize, keyish: bool, marks: u16) {
        let token = &message[start..end];
        let masked_start = self.text.len();
        let params_before = self.params.len();
        // Surrounding punctuation stays literal: `(stack`, `[preauth]`, `port,`.
        let lead = token
            .bytes()
            .take_while(|b| matches!(b, b'(' | b'[' | b'{' | b'"' | b'\'' | b'<' | b':'))
            .count();
        let body = &token[lead..];
        let trail = body
            .bytes()
            .rev()
            .take_while(|b| {
                matches!(
                    b,
                    b')' | b']' | b'}' | b'"' | b'\'' | b',' | b';' | b'.' | b':' | b'>' | b'!'
                )
            })
            .count();
        let mut core = &body[..body.len() - trail];
        let mut trail = trail;
        // A path swallows the dots after it (`part-00011.`), as path matching does.
        if core.starts_with('/') && body[core.len()..].starts_with('.') {
            let dots = body[core.len()..]
                .bytes()
                .take_while(|b| *b == b'.')
                .count();
            core = &body[..core.len() + dots];
            trail -= dots;
        }
        let core_start = start + lead;
        self.text.push_str(&token[..lead]);
        let plain = core
            .bytes()
            .all(|b| b.is_ascii_alphabetic() || matches!(b, b'_' | b'.' | b'-' | b'\'' | b','))
            && !has_value_word(core)
            && !(marks & DOT != 0 && is_host_name(core));
        if plain {
            // Words without digits or markers: nothing to mask (the common case, kept fast).
            // Such a token holds no digit, mask or `=`, so it is never soft.
            self.text.push_str(core);
            self.text.push_str(&body[body.len() - trail..]);
            self.tokens.push(Token {
                masked: (masked_start, self.text.len()),
                original: (start, end),
                soft: false,
                keyish,
            });
            return;
        } else if let Some(value_at) = pair_value(core) {
            // `key=value`: the line names the value, so it is a variable from the first record
            // on (not after several values were seen), whatever it looks like.
            let value = &core[value_at..];
            self.text.push_str(&core[..value_at]);
            self.text.push_str("<*>");
            self.params.push(Param {
                start: core_start + value_at,
                end: core_start + core.len(),
                kind: whole_kind(value).unwrap_or(ValueKind::Word),
            });
        } else if let Some(kind) = marked_kind(core, marks) {
            self.text.push_str("<*>");
            self.params.push(Param {
                start: core_start,
                end: core_start + core.len(),
                kind,
            });
        } else if core.len() == body.len() || !core.is_empty() {
            self.mask_pieces(core, core_start);
        }
        self.text.push_str(&body[body.len() - trail..]);
        let masked_end = self.text.len();
        let masked = &self.text[masked_start..masked_end];
        let soft = self.params.len() > params_before || is_soft_text(masked);
        self.tokens.push(Token {
            masked: (masked_start, masked_end),
            original: (start, end),
            soft,
            keyish,
        });
    }

    /// Splits a token on punctuation and masks numeric and hex pieces.
    fn mask_pieces(&mut self, core: &str, offset: usize) {
        let bytes = core.as_bytes();
        let mut position = 0;
        while position < bytes.len() {
            let byte = bytes[position];
            if !byte.is_ascii_alphanumeric() {
                // A sign glued to a number (`blk_-69`, `=-1`) belongs to the value.
                let signed = byte == b'-'
                    && bytes.get(position + 1).is_some_and(u8::is_ascii_digit)
                    && (position == 0 || !bytes[position - 1].is_ascii_alphanumeric());
                if !signed {
                    self.text.push(char::from(byte));
                    position += 1;
                    continue;
                }
            }
            let start = position;
            if byte == b'-' {
                position += 1;
            }
            while position < bytes.len() && bytes[position].is_ascii_alphanumeric() {
                position += 1;
            }
            // `1.5` or `0.0.6` inside a token is one number.
            while position + 1 < bytes.len()
                && bytes[position] == b'.'
                && bytes[position + 1].is_ascii_digit()
                && bytes[start..position]
                    .iter()
                    .all(|b| b.is_ascii_digit() || *b == b'.' || *b == b'-')
            {
                let group_end = (position + 1..bytes.len())
                    .find(|&i| !bytes[i].is_ascii_alphanumeric())
                    .unwrap_or(bytes.len());
                if !bytes[position + 1..group_end]
                    .iter()
                    .all(u8::is_ascii_digit)
                {
                    break;
                }
                position = group_end;
            }
            let piece = &core[start..position];
            match piece_kind(piece) {
                Some(kind) => {
                    // Masks joined only by glue (`1##2`, `3.4`, `5-6`) are one value.
                    let keep = self.text.trim_end_matches(['#', '.', '_', '-']).len();
                    let glue = self.text.len() - keep;
                    let glued = glue > 0
                        && self.text[..keep].ends_with("<*>")
                        && self
                            .params
                            .last()
                            .is_some_and(|p| p.end >= offset && p.end + glue == offset + start);
                    if glued {
                        self.text.truncate(keep);
                        if let Some(last) = self.params.last_mut() {
                            last.end = offset + position;
                        }
                    } else {
                        self.text.push_str("<*>");
                        self.params.push(Param {
                            start: offset + start,
                            end: offset + position,
                            kind,
                        });
                    }
                }
                None => self.text.push_str(piece),
            }
        }
    }

    /// Folds runs of identical masked shapes (`@<*> @<*> @<*>)`) into one token.
    fn fold_runs(&mut self) {
        if self.tokens.len() < 2 || self.params.len() < 2 {
            return;
        }
        let mut index = 0;
        while index + 1 < self.tokens.len() {
            // A token that is not soft holds no mask, so it is not foldable (the common case).
            if !self.tokens[index].soft {
                index += 1;
                continue;
            }
            let shape = shape_of(self.token_text(&self.tokens[index]));
            let bare = shape == "<*>";
            if !bare && !foldable(shape) {
                index += 1;
                continue;
            }
            let mut last = index;
            while last + 1 < self.tokens.len()
                && shape_of(self.token_text(&self.tokens[last + 1])) == shape
            {
                last += 1;
            }
            // Bare values fold only as a long list (`channels 1 2 3 ... 165`): a few in a row
            // are columns of their own (`speeds ( 3552 3534 3375 )`).
            let long_enough = if bare {
                last - index + 1 >= BARE_LIST
            } else {
                last > index
            };
            if long_enough {
                let first = self.tokens[index];
                let end_token = self.tokens[last];
                // The folded token keeps the last token's trailing punctuation.
                let first_text = self.token_text(&first).to_string();
                let last_text = self.token_text(&end_token).to_string();
                let prefix_len = first_text.find(shape).unwrap_or(0);
                let suffix_start = last_text
                    .find(shape)
                    .map_or(last_text.len(), |p| p + shape.len());
                let folded = format!(
                    "{}{}{}",
                    &first_text[..prefix_len],
                    shape,
                    &last_text[suffix_start..]
                );
                let masked_start = self.text.len();
                self.text.push_str(&folded);
                self.tokens[index] = Token {
                    masked: (masked_start, self.text.len()),
                    original: (first.original.0, end_token.original.1),
                    soft: true,
                    keyish: true,
                };
                self.tokens.drain(index + 1..=last);
            }
            index += 1;
        }
    }
}

/// `07:57:30`, `7:57`, `07:57:30.123`: a clock time, by where its digits are.
fn is_clock(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.len() < 4 || bytes.len() > 15 || !(bytes[1] == b':' || bytes[2] == b':') {
        return false;
    }
    let mut parts = text.split(':');
    let Some(hours) = parts.next() else {
        return false;
    };
    if !(1..=2).contains(&hours.len()) || !hours.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let mut count = 0;
    for part in parts {
        count += 1;
        let whole = part.split(['.', ',']).next().unwrap_or(part);
        if whole.len() != 2
            || !part
                .bytes()
                .all(|b| b.is_ascii_digit() || b == b'.' || b == b',')
        {
            return false;
        }
    }
    (1..=2).contains(&count)
}

/// A time zone after a date: `UTC`, `GMT`, `CEST`, `+0000`, `-05:00`, `Z`.
fn is_zone_word(text: &str) -> bool {
    let bytes = text.as_bytes();
    match bytes.first() {
        Some(b'+' | b'-') => {
            bytes.len() >= 3 && bytes[1..].iter().all(|b| b.is_ascii_digit() || *b == b':')
        }
        Some(_) => {
            (1..=4).contains(&bytes.len())
                && bytes.iter().all(u8::is_ascii_uppercase)
                && (text.ends_with('T') || text == "Z" || text == "UTC")
        }
        None => false,
    }
}

/// Bare values in a row that make a list, folded into one.
const BARE_LIST: usize = 8;

/// Longer messages are masked without the memo: they repeat less often, and the memo's
/// memory stays bounded by `slots * MEMO_MAX_BYTES` of text.
pub const MEMO_MAX_BYTES: usize = 256;

/// The masked forms of recently seen messages, shared by every resource of an engine.
///
/// Masking is a pure function of the message text, and services repeat their messages exactly
/// (`Starting flush`, `connection closed`): on a repeat the masked form is copied instead of
/// worked out again. Most other messages repeat with other numbers in them (`Received block
/// blk_-1608 of size 91178`), and masking looks at where digits are, never at which digits they
/// are, with one exception: `0x` opens a hex number. So the memo is keyed by the message's
/// *shape*, every ASCII digit read as `0`, and a message of the same shape as the slot's gets
/// the slot's masked form when that form holds no digit (every digit was masked away, so the
/// two masked texts are the same) and no digit of the slot's message is followed by `x` or `X`.
/// Token and parameter positions are the same, since every digit stands where it stood.
/// Direct-mapped: a message's shape picks its one slot, a miss overwrites it.
#[derive(Debug, Default, Clone)]
pub struct MaskMemo {
    slots: Vec<MemoSlot>,
    /// Slots when first used (a power of two; 0: no memo).
    capacity: usize,
    /// Messages masked through the memo, how many of them it answered, and how many of those
    /// by their shape (the slot held the same shape with other digits).
    pub lookups: u64,
    pub hits: u64,
    pub shape_hits: u64,
}

#[derive(Debug, Default, Clone)]
struct MemoSlot {
    message: String,
    masked: Masked,
    named: Named,
    /// The masked form serves every message of the message's shape (see [`MaskMemo`]).
    shape_wide: bool,
}

/// The attributes a message names (`user=alice`, `took 35ms`), worked out by the engine the
/// first time its output is asked for, and kept with the masked form (a pure function of the
/// message too).
#[derive(Debug, Default, Clone)]
pub struct Named {
    /// `list` holds the message's named attributes.
    pub known: bool,
    pub list: Vec<(String, serde_json::Value)>,
    /// The stamp of the template the message's masked form last matched exactly (0: none; see
    /// `Miner::learn_known`).
    pub matched: u64,
}

/// A masked message and, when the memo keeps it, its named attributes.
pub struct Found<'a> {
    pub masked: &'a Masked,
    pub named: Option<&'a mut Named>,
}

impl MaskMemo {
    /// A memo of about `slots` entries (rounded up to a power of two; 0 disables it).
    pub fn new(slots: usize) -> MaskMemo {
        MaskMemo {
            capacity: if slots == 0 {
                0
            } else {
                slots.next_power_of_two()
            },
            ..MaskMemo::default()
        }
    }

    /// The masked form of `message`: the memo's, or `scratch` filled when the memo keeps none
    /// (disabled, or a message too long). Nothing is copied: a new message is masked into the
    /// slot it replaces.
    pub fn masked<'a>(&'a mut self, scratch: &'a mut Masked, message: &str) -> &'a Masked {
        self.find(scratch, message).masked
    }

    /// [`MaskMemo::masked`], with the message's named attributes when the memo keeps it.
    pub fn find<'a>(&'a mut self, scratch: &'a mut Masked, message: &str) -> Found<'a> {
        if self.capacity == 0 || message.len() > MEMO_MAX_BYTES {
            scratch.fill(message);
            return Found {
                masked: scratch,
                named: None,
            };
        }
        if self.slots.is_empty() {
            self.slots.resize_with(self.capacity, MemoSlot::default);
        }
        let hash = shape_hash(message.as_bytes());
        // The multiply-based hash mixes best into its high bits.
        let bits = self.capacity.trailing_zeros();
        let index = hash.checked_shr(64 - bits).unwrap_or(0) as usize;
        let slot = &mut self.slots[index];
        self.lookups += 1;
        match compare_shapes(slot.message.as_bytes(), message.as_bytes()) {
            Likeness::Same => self.hits += 1,
            Likeness::SameShape if slot.shape_wide => {
                self.hits += 1;
                self.shape_hits += 1;
                slot.message.clear();
                slot.message.push_str(message);
                // The named values are the message's own; the template match is the masked
                // form's, which is the same.
                slot.named.known = false;
            }
            _ => {
                slot.masked.fill(message);
                slot.message.clear();
                slot.message.push_str(message);
                slot.named.known = false;
                slot.named.matched = 0;
                slot.shape_wide = !slot.masked.text.bytes().any(|b| b.is_ascii_digit())
                    && !message
                        .as_bytes()
                        .windows(2)
                        .any(|w| w[0].is_ascii_digit() && matches!(w[1], b'x' | b'X'));
            }
        }
        Found {
            masked: &slot.masked,
            named: Some(&mut slot.named),
        }
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `word` that is an ASCII digit.
fn digit_bytes(word: u64) -> u64 {
    // Digits become 0..=9; bytes with their high bit set can never be digits.
    let offset = word ^ (0x30 * ONES);
    // With each byte's high bit set first, subtracting 10 borrows from no neighbour: the high
    // bit stays set exactly in the bytes whose low seven bits are 10 or more.
    let ten_or_more = (offset | HIGH_BITS) - 10 * ONES;
    !ten_or_more & !offset & HIGH_BITS
}

/// A hash of the message's shape: its bytes with every ASCII digit read as `0`.
fn shape_hash(bytes: &[u8]) -> u64 {
    const SEED: u64 = 0xf135_7aea_2e62_a9c5;
    let mut hash = bytes.len() as u64;
    let mut at = 0;
    while at < bytes.len() {
        let word = word_at(bytes, at);
        // `0`..`9` are 0x30..0x39: clearing the low nibble of a digit makes it `0`.
        let shape = word & !((digit_bytes(word) >> 7) * 0x0f);
        hash = (hash.rotate_left(26) ^ shape).wrapping_mul(SEED);
        at += 8;
    }
    hash
}

#[derive(Debug, PartialEq, Eq)]
enum Likeness {
    Same,
    /// The same bytes but for digits that stand for other digits.
    SameShape,
    Different,
}

fn compare_shapes(kept: &[u8], message: &[u8]) -> Likeness {
    if kept.len() != message.len() {
        return Likeness::Different;
    }
    let mut same = true;
    let mut at = 0;
    while at < kept.len() {
        let (a, b) = (word_at(kept, at), word_at(message, at));
        if a != b {
            // The high bit of every byte that differs.
            let differ = a ^ b;
            let differing = (((differ & !HIGH_BITS) + !HIGH_BITS) | differ) & HIGH_BITS;
            if differing & !(digit_bytes(a) & digit_bytes(b)) != 0 {
                return Likeness::Different;
            }
            same = false;
        }
        at += 8;
    }
    if same {
        Likeness::Same
    } else {
        Likeness::SameShape
    }
}

/// Bytes that give a value inner structure (`Rect(0, 0)`, `{a=1}`, `x=y`): such values are
/// masked piece by piece, not whole.
fn is_structure_byte(byte: u8) -> bool {
    matches!(
        byte,
        b'=' | b'(' | b')' | b'[' | b']' | b'{' | b'}' | b'<' | b'>'
    )
}

/// A key as lines write them: a letter, then letters, digits and `_.-`.
fn is_key_text(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 40
        && key.as_bytes()[0].is_ascii_alphabetic()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// `key:` alone: the next token is the value it names.
fn is_colon_key(token: &str) -> bool {
    token
        .strip_suffix(':')
        .is_some_and(|key| !key.ends_with(':') && is_key_text(key))
}

/// Where the value of a `key=value` token (without its outer punctuation) starts, after an
/// opening quote: `user=alice` → 5, `name="bob` → 6. `None` when the token is no such pair, the
/// value is empty, or the value has structure of its own (`Rect(0,`, `a=b=c`).
fn pair_value(core: &str) -> Option<usize> {
    let equals = core.bytes().position(|b| b == b'=')?;
    if !is_key_text(&core[..equals]) {
        return None;
    }
    let rest = &core[equals + 1..];
    let value = rest.trim_start_matches(['"', '\'']);
    if value.is_empty() || rest.len() - value.len() > 1 || value.bytes().any(is_structure_byte) {
        return None;
    }
    Some(core.len() - value.len())
}

/// A quoted value that runs past the blank-separated token `start..end`: `key="two words"` or,
/// after `key:`, `"two words"`. Returns the end of the token holding the closing quote.
fn quoted_span(message: &str, start: usize, end: usize, after_key: bool) -> Option<usize> {
    let token = &message[start..end];
    let open = if after_key {
        0
    } else {
        let equals = token.bytes().position(|b| b == b'=')?;
        let key = token[..equals].trim_start_matches(['(', '[', '{']);
        if !is_key_text(key) {
            return None;
        }
        equals + 1
    };
    let quote = *token.as_bytes().get(open)?;
    if !matches!(quote, b'"' | b'\'') || token.as_bytes()[open + 1..].contains(&quote) {
        return None;
    }
    let bytes = message.as_bytes();
    let limit = bytes.len().min(end + 512);
    let close = (end..limit).find(|&i| bytes[i] == quote)?;
    Some(
        (close + 1..bytes.len())
            .find(|&i| bytes[i].is_ascii_whitespace())
            .unwrap_or(bytes.len()),
    )
}

/// The bytes of a plain word (see `push_token`), none of them leading or trailing punctuation
/// except `'`, `,` and `.`, which are plain too.
const fn is_plain_byte(byte: u8) -> bool {
    byte.is_ascii_alphabetic() || matches!(byte, b'_' | b'.' | b'-' | b'\'' | b',')
}

/// [`BYTE_CLASS`] bit: `u8::is_ascii_whitespace`.
const BLANK: u16 = 1;
/// [`BYTE_CLASS`] bit: [`is_plain_byte`].
const PLAIN: u16 = 2;
/// [`BYTE_CLASS`] bits of single bytes (`=`, `:`, `/`, `@`, `.`, `-`) and of digits: what the
/// tokeniser and [`whole_kind`] look for before trying their checks.
const EQUALS: u16 = 4;
const COLON: u16 = 8;
const SLASH: u16 = 16;
const AT: u16 = 32;
const DOT: u16 = 64;
const DASH: u16 = 128;
const DIGIT: u16 = 256;

/// The classes of every byte, so the tokenising loop does one lookup per byte.
static BYTE_CLASS: [u16; 256] = {
    let mut table = [0u16; 256];
    let mut byte = 0;
    while byte < 256 {
        #[allow(clippy::cast_possible_truncation)]
        let value = byte as u8;
        if value.is_ascii_whitespace() {
            table[byte] |= BLANK;
        }
        if is_plain_byte(value) {
            table[byte] |= PLAIN;
        }
        if value.is_ascii_digit() {
            table[byte] |= DIGIT;
        }
        table[byte] |= match value {
            b'=' => EQUALS,
            b':' => COLON,
            b'/' => SLASH,
            b'@' => AT,
            b'.' => DOT,
            b'-' => DASH,
            _ => 0,
        };
        byte += 1;
    }
    table
};

/// True when a word holds a value word that is masked (`true`, `false`, `null`, ...).
fn has_value_word(core: &str) -> bool {
    let bytes = core.as_bytes();
    bytes.windows(4).any(|w| {
        // Cheap first-byte filter before comparing the whole window.
        matches!(w[0], b't' | b'f' | b'n' | b'T' | b'F')
            && matches!(
                w,
                b"true" | b"fals" | b"null" | b"True" | b"Fals" | b"TRUE" | b"FALS"
            )
    })
}

/// A likely variable: holds a mask or a digit, or is `key=value` with a value.
/// `SOCKS5`, `HTTP2`, `IPV6`, `SHA1`: an upper-case name with one digit after it names a
/// protocol or an algorithm, like a plain word, rather than holding a value.
fn is_versioned_name(bytes: &[u8]) -> bool {
    let Some((last, name)) = bytes.split_last() else {
        return false;
    };
    last.is_ascii_digit() && name.len() >= 2 && name.iter().all(u8::is_ascii_uppercase)
}

pub fn is_soft_text(masked: &str) -> bool {
    let bytes = masked.as_bytes();
    if is_versioned_name(bytes) {
        return false;
    }
    let mut first_equals = None;
    for (index, &byte) in bytes.iter().enumerate() {
        match byte {
            b'0'..=b'9' => return true,
            b'<' if bytes.get(index + 1..index + 3) == Some(b"*>") => return true,
            b'=' if first_equals.is_none() => first_equals = Some(index),
            _ => {}
        }
    }
    // `key=value`: the first `=` has something on both sides.
    first_equals.is_some_and(|index| index > 0 && index + 1 < bytes.len())
}

/// The key of a `key=value` token, when it has one.
pub fn key_of(masked: &str) -> Option<&str> {
    let trimmed = masked.trim_start_matches(['(', '[', '{', '"', '\'', ':']);
    let (key, _) = trimmed.split_once('=')?;
    (!key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')))
    .then_some(key)
}

/// True for shapes worth folding: a mask with a marker glued to it (`@<*>`, `0x<*>`), not a
/// bare mask with punctuation (`<*>:` of `ip: code:` must stay two values).
fn foldable(shape: &str) -> bool {
    // One pass: masks are skipped as `split("<*>")` would, other bytes are checked.
    let bytes = shape.as_bytes();
    let (mut mask, mut marker) = (false, false);
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index..].starts_with(b"<*>") {
            mask = true;
            index += 3;
            continue;
        }
        marker |= !matches!(
            bytes[index],
            b':' | b'=' | b',' | b';' | b'.' | b'(' | b')' | b'[' | b']'
        );
        index += 1;
    }
    mask && marker
}

fn shape_of(masked: &str) -> &str {
    masked
        .trim_start_matches(['(', '[', '{', '"', '\''])
        .trim_end_matches([')', ']', '}', '"', '\'', ',', ';', '.'])
}

/// Types recognised on a whole token (without its surrounding punctuation).
fn whole_kind(core: &str) -> Option<ValueKind> {
    // One pass over the bytes (one lookup each) decides which recognisers can possibly match.
    let marks = core
        .bytes()
        .fold(0, |marks, byte| marks | BYTE_CLASS[usize::from(byte)]);
    marked_kind(core, marks)
}

/// [`whole_kind`] given `marks`: the [`BYTE_CLASS`] bits of `core`'s bytes, or of more bytes
/// around it (a mark only lets a recogniser try).
fn marked_kind(core: &str, marks: u16) -> Option<ValueKind> {
    let bytes = core.as_bytes();
    if bytes.is_empty() {
        return None;
    }
    let has = |mark: u16| marks & mark != 0;
    let (digit, colon, slash) = (has(DIGIT), has(COLON), has(SLASH));
    let (at, dot, dash) = (has(AT), has(DOT), has(DASH));
    if colon && slash && core.contains("://") {
        return Some(ValueKind::Url);
    }
    if bytes[0] == b'/' && bytes.len() > 1 && bytes[1] != b'/' {
        return Some(ValueKind::Path);
    }
    if digit && colon && is_clock(core) {
        // A clock is one value however many fields it has (`00:02`, `01:02:03`).
        return Some(ValueKind::Time);
    }
    if digit && (dot || colon) && (is_ip_port(core) || is_host_port(core)) {
        return Some(ValueKind::Ip);
    }
    if dot && is_host_name(core) {
        return Some(ValueKind::Ip);
    }
    if digit && dash && is_numbered_name(core) {
        return Some(ValueKind::Ip);
    }
    if bytes.len() == 36 && is_uuid(core) {
        return Some(ValueKind::Uuid);
    }
    if at && is_email(core) {
        return Some(ValueKind::Email);
    }
    if digit && dot && is_version(core) {
        return Some(ValueKind::Version);
    }
    if digit && let Some(kind) = number_with_unit(core) {
        return Some(kind);
    }
    if bytes.len() <= 5
        && matches!(
            core,
            "true" | "false" | "null" | "True" | "False" | "TRUE" | "FALSE"
        )
    {
        return Some(ValueKind::Bool);
    }
    None
}

fn piece_kind(piece: &str) -> Option<ValueKind> {
    let digits = piece.strip_prefix('-').unwrap_or(piece);
    if digits.is_empty() {
        return None;
    }
    if matches!(digits, "true" | "false" | "null") {
        return Some(ValueKind::Bool);
    }
    if digits.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && digits.as_bytes()[0].is_ascii_digit()
    {
        return Some(ValueKind::Number);
    }
    if let Some(hex) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
        && !hex.is_empty()
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return Some(ValueKind::Hex);
    }
    if digits.len() >= 6
        && digits
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && digits.bytes().any(|b| b.is_ascii_digit())
        && digits.bytes().any(|b| b.is_ascii_alphabetic())
    {
        return Some(ValueKind::Hex);
    }
    if digits.len() >= 8
        && digits
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
        && digits.bytes().filter(u8::is_ascii_digit).count() >= 4
    {
        return Some(ValueKind::Hex);
    }
    None
}

/// An IPv4 address with an optional port (`10.1.2.3:50010`), or else an IPv6 address.
fn is_ip_port(core: &str) -> bool {
    let bytes = core.as_bytes();
    // The address ends at the last `:` when digits (a port) follow it.
    let address_len = match memchr::memrchr(b':', bytes) {
        Some(colon)
            if colon + 1 < bytes.len() && bytes[colon + 1..].iter().all(u8::is_ascii_digit) =>
        {
            colon
        }
        _ => bytes.len(),
    };
    // Four dot-separated parts of one to three digits each.
    let (mut parts, mut digits) = (0, 0);
    for &byte in &bytes[..address_len] {
        if byte == b'.' && digits > 0 {
            parts += 1;
            digits = 0;
        } else if byte.is_ascii_digit() && digits < 3 {
            digits += 1;
        } else {
            return is_ipv6(core);
        }
    }
    if digits == 0 {
        return is_ipv6(core);
    }
    parts == 3
}

/// `db-7.example.com:5432`, `msra-sa-41/10.1.2.3:8030`: a host name with a port or an address.
/// `mtalk.google.com`, `proxy.cs.example.edu.hk`: a fully qualified host name, told by its
/// last label (a generic top-level domain, or a two-letter country code after two labels or
/// more that is no common file extension). Lower-case labels only, and not a reverse-DNS
/// identifier (`com.example.job`), which names code rather than a host.
fn is_host_name(core: &str) -> bool {
    const GENERIC: &[&str] = &[
        "com", "net", "org", "edu", "gov", "mil", "int", "io", "info", "biz", "dev", "app",
        "cloud", "local", "internal", "lan", "arpa", "test", "example",
    ];
    const FILES: &[&str] = &[
        "py", "sh", "rs", "go", "pl", "md", "so", "rb", "cc", "ts", "gz", "xz", "db", "js", "ps",
        "ml", "hs", "cs", "fs", "vb", "el", "mk", "in", "am", "ac", "tf",
    ];
    let bytes = core.as_bytes();
    if bytes.len() < 4 || bytes.len() > 253 || !bytes[0].is_ascii_alphanumeric() {
        return false;
    }
    // The last label first: it rejects almost every other token at once.
    let Some(last_dot) = bytes.iter().rposition(|b| *b == b'.') else {
        return false;
    };
    let last = &core[last_dot + 1..];
    let generic = GENERIC.contains(&last);
    let country =
        last.len() == 2 && last.bytes().all(|b| b.is_ascii_lowercase()) && !FILES.contains(&last);
    if !(generic || country) {
        return false;
    }
    let mut labels = 1;
    let mut label_len = 0;
    let mut first_end = None;
    for (index, &byte) in bytes.iter().enumerate() {
        match byte {
            b'.' => {
                if label_len == 0 || bytes[index - 1] == b'-' {
                    return false;
                }
                first_end.get_or_insert(index);
                labels += 1;
                label_len = 0;
            }
            b'a'..=b'z' | b'0'..=b'9' => label_len += 1,
            b'-' if label_len > 0 => label_len += 1,
            _ => return false,
        }
        if label_len > 63 {
            return false;
        }
    }
    let first = &core[..first_end.unwrap_or(0)];
    !GENERIC.contains(&first) && (generic || labels >= 3)
}

fn is_host_port(core: &str) -> bool {
    let (rest, port) = match core.rsplit_once(':') {
        Some((rest, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => {
            (rest, true)
        }
        _ => (core, false),
    };
    let (host, address) = match rest.split_once('/') {
        Some((host, address)) => (host, Some(address)),
        None => (rest, None),
    };
    let host_like = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        && host.bytes().any(|b| b.is_ascii_alphabetic());
    if !host_like {
        return false;
    }
    match address {
        Some(address) => is_ip_port(address),
        // A host and its port vary together (`db-3:5432`, `cache.internal:6379`,
        // `localhost:8080`): one value, or every host would make a template of its own.
        None => {
            let numbered = host.bytes().any(|b| b.is_ascii_digit())
                && host.bytes().any(|b| b == b'.' || b == b'-');
            let dotted = host.contains('.') && !host.ends_with('.') && !host.starts_with('.');
            port && (numbered || dotted || host == "localhost")
        }
    }
}

/// `mesos-slave-13`, `web-3`: a name with a numbered suffix (hosts, pods, workers).
fn is_numbered_name(core: &str) -> bool {
    let Some(dash) = core.bytes().rposition(|b| b == b'-') else {
        return false;
    };
    let (name, number) = (&core[..dash], &core[dash + 1..]);
    !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit())
        && !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
        && name.as_bytes()[0].is_ascii_lowercase()
}

fn is_ipv6(core: &str) -> bool {
    let colons = core.bytes().filter(|b| *b == b':').count();
    colons >= 2
        && core.len() >= 3
        && core
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.' || b == b'%')
        && core.bytes().any(|b| b.is_ascii_hexdigit())
}

fn is_uuid(core: &str) -> bool {
    let bytes = core.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(index, byte)| match index {
            8 | 13 | 18 | 23 => *byte == b'-',
            _ => byte.is_ascii_hexdigit(),
        })
}

fn is_email(core: &str) -> bool {
    let Some((user, domain)) = core.split_once('@') else {
        return false;
    };
    !user.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && user
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'+'))
        && domain
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'))
        && domain.bytes().any(|b| b.is_ascii_alphabetic())
}

fn is_version(core: &str) -> bool {
    let digits = core.strip_prefix(['v', 'V']).unwrap_or(core);
    let mut groups = 0;
    for group in digits.split('.') {
        if group.is_empty() || !group.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
        groups += 1;
    }
    groups >= 3 || (groups >= 2 && digits.len() < core.len())
}

/// `35ms`, `1.5s`, `64MB`, `-12`, `3.14`: a number, possibly with a duration or size unit.
pub fn number_with_unit(core: &str) -> Option<ValueKind> {
    let unsigned = core.strip_prefix(['-', '+']).unwrap_or(core);
    let digits_end = unsigned
        .bytes()
        .position(|b| !(b.is_ascii_digit() || b == b'.'))
        .unwrap_or(unsigned.len());
    if digits_end == 0 || !unsigned.as_bytes()[0].is_ascii_digit() {
        return None;
    }
    let number = &unsigned[..digits_end];
    if number.bytes().filter(|b| *b == b'.').count() > 1 || number.ends_with('.') {
        return None;
    }
    let unit = &unsigned[digits_end..];
    if unit.is_empty() {
        return Some(ValueKind::Number);
    }
    if duration_unit_factor(unit).is_some() {
        return Some(ValueKind::Duration);
    }
    if size_unit_factor(unit).is_some() {
        return Some(ValueKind::Size);
    }
    None
}

/// Milliseconds per unit for the duration units logs use.
pub fn duration_unit_factor(unit: &str) -> Option<f64> {
    Some(match unit {
        "ns" => 1e-6,
        "us" | "µs" | "μs" => 1e-3,
        "ms" | "msec" | "msecs" | "millis" => 1.0,
        "s" | "sec" | "secs" | "seconds" => 1e3,
        "m" | "min" | "mins" | "minutes" => 60e3,
        "h" | "hr" | "hrs" | "hours" => 3600e3,
        _ => return None,
    })
}

/// Bytes per unit for the size units logs use.
pub fn size_unit_factor(unit: &str) -> Option<f64> {
    Some(match unit {
        "B" | "b" | "bytes" => 1.0,
        "KB" | "kB" | "K" | "k" => 1e3,
        "KiB" => 1024.0,
        "MB" | "M" => 1e6,
        "MiB" => 1_048_576.0,
        "GB" | "G" => 1e9,
        "GiB" => 1_073_741_824.0,
        "TB" | "T" => 1e12,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(message: &str) -> String {
        let mut out = Masked::default();
        out.fill(message);
        out.tokens
            .iter()
            .map(|t| out.token_text(t))
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn host_names_are_values_code_names_are_not() {
        assert_eq!(
            masked("could not resolve proxy.cs.example.edu.hk, trying mtalk.google.com."),
            "could not resolve <*>, trying <*>."
        );
        assert_eq!(
            masked("flush_zone corpus.test (www.shop.internal): done"),
            "flush_zone <*> (<*>): done"
        );
        // Reverse-DNS identifiers, modules, files and sentences stay words.
        for kept in [
            "job com.apple.cache.daily ran",
            "loaded nova.compute.manager from os.path",
            "see main.py and util.go or a.b.rs",
            "Done. Next step.",
            "class org.Example.Thing",
        ] {
            assert_eq!(masked(kept), kept);
        }
    }

    #[test]
    fn long_lists_of_bare_values_fold_short_runs_stay_columns() {
        assert_eq!(
            masked("Supported channels 1 2 3 4 5 6 7 8 9 10 11 36 40"),
            masked("Supported channels 1 2 3 4 5 6 7 8 9 10 11 12 13 36 40 44 48 149 153")
        );
        assert_eq!(
            masked("Fan speeds ( 3552 3534 3375 3515 3479 )"),
            "Fan speeds ( <*> <*> <*> <*> <*> )"
        );
    }

    #[test]
    fn lists_of_numbered_names_fold() {
        assert_eq!(
            masked("failed to resolve data source name an14 an15 an16 an17 now"),
            masked("failed to resolve data source name bn7 bn8 bn9 now")
        );
        // Two names are two values, and names of different kinds are not a list.
        assert_eq!(masked("link node1 node2 up"), "link node1 node2 up");
        assert_eq!(masked("eth0 lo1 wlan2 up"), "eth0 lo1 wlan2 up");
    }

    #[test]
    fn typed_values_are_masked() {
        assert_eq!(
            masked("PacketResponder 1 for block blk_-6952295868487656571 terminating"),
            "PacketResponder <*> for block blk_<*> terminating"
        );
        assert_eq!(
            masked("from 10.251.73.220:50010 to /10.1.1.1"),
            "from <*> to <*>"
        );
        assert_eq!(
            masked("jk2_init() Found child 6725 in scoreboard slot 10"),
            "jk2_init() Found child <*> in scoreboard slot <*>"
        );
        assert_eq!(
            masked("took 35ms size 64MB at http://x/y"),
            "took <*> size <*> at <*>"
        );
        assert_eq!(
            masked("id 123e4567-e89b-12d3-a456-426614174000 mail bob@example.com"),
            "id <*> mail <*>"
        );
        assert_eq!(
            masked("uid=0 euid=0 tty=ssh ruser= rhost=1.2.3.4"),
            "uid=<*> euid=<*> tty=<*> ruser= rhost=<*>"
        );
        assert_eq!(
            masked("placed by user=alice in 35ms (name=\"two words\", mode='x')"),
            "placed by user=<*> in <*> (name=\"<*>\", mode='<*>')"
        );
        assert_eq!(
            masked("acquire tag=\"View Lock\" ok, reason: \"a b c\" to: bob, x: y"),
            "acquire tag=\"<*>\" ok, reason: \"<*>\" to: <*>, x: y"
        );
        assert_eq!(
            masked("rect=Rect(0, 0) n=a=b Error: Connection refused"),
            "rect=Rect(<*>, <*>) n=a=b Error: Connection refused"
        );
        assert_eq!(masked("ok /etc/httpd/conf/workers2.properties"), "ok <*>");
        assert_eq!(masked("Stack v6.1.7601.23505 with"), "Stack <*> with");
        assert_eq!(masked("isScreenOn true"), "isScreenOn <*>");
    }

    /// The one-pass IPv4 check answers what splitting on `:` and `.` answers.
    #[test]
    fn ip_ports_are_what_splitting_finds() {
        fn by_splitting(core: &str) -> bool {
            let host = core
                .rsplit_once(':')
                .filter(|(_, port)| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()));
            let address = host.map_or(core, |(address, _)| address);
            let mut parts = 0;
            for part in address.split('.') {
                if part.is_empty() || part.len() > 3 || !part.bytes().all(|b| b.is_ascii_digit()) {
                    return is_ipv6(core);
                }
                parts += 1;
            }
            parts == 4
        }
        // Every string of up to six bytes from an alphabet that reaches every branch, and
        // some longer ones.
        let alphabet = [b'1', b'2', b'.', b':', b'a', b'%'];
        let mut cases: Vec<String> = vec![
            "10.251.73.220:50010".into(),
            "1.2.3.4".into(),
            "1.2.3.4:".into(),
            "1.2.3.4:x".into(),
            "1234.2.3.4".into(),
            "fe80::1%eth0".into(),
            "::1".into(),
            "10:30:00".into(),
            "1.2.3.4.5".into(),
            "".into(),
        ];
        let mut frontier = vec![String::new()];
        for _ in 0..6 {
            let mut next = Vec::new();
            for prefix in &frontier {
                for &byte in &alphabet {
                    let mut s = prefix.clone();
                    s.push(char::from(byte));
                    next.push(s);
                }
            }
            cases.extend(next.iter().cloned());
            frontier = next;
        }
        for case in &cases {
            assert_eq!(is_ip_port(case), by_splitting(case), "{case:?}");
        }
    }

    #[test]
    fn byte_classes_match_their_predicates() {
        for byte in 0..=u8::MAX {
            let class = BYTE_CLASS[usize::from(byte)];
            assert_eq!(class & BLANK != 0, byte.is_ascii_whitespace(), "{byte}");
            assert_eq!(class & PLAIN != 0, is_plain_byte(byte), "{byte}");
            assert_eq!(class & DIGIT != 0, byte.is_ascii_digit(), "{byte}");
            for (bit, only) in [
                (EQUALS, b'='),
                (COLON, b':'),
                (SLASH, b'/'),
                (AT, b'@'),
                (DOT, b'.'),
                (DASH, b'-'),
            ] {
                assert_eq!(class & bit != 0, byte == only, "{byte}");
            }
        }
    }

    /// Every byte at every position of a word: [`digit_bytes`] marks exactly the digits.
    #[test]
    fn digit_bytes_marks_the_digits_and_nothing_else() {
        for byte in 0..=u8::MAX {
            for position in 0..8 {
                // The byte among neighbours that are digits and neighbours that are not.
                for fill in [b'0', b'9', b'/', b':', 0xff, 0x00, b'a'] {
                    let mut bytes = [fill; 8];
                    bytes[position] = byte;
                    let marks = digit_bytes(u64::from_le_bytes(bytes));
                    for (at, &b) in bytes.iter().enumerate() {
                        let marked = marks >> (at * 8) & 0x80 != 0;
                        assert_eq!(marked, b.is_ascii_digit(), "{bytes:?} at {at}");
                    }
                    assert_eq!(marks & !HIGH_BITS, 0);
                }
            }
        }
        assert_eq!(compare_shapes(b"took 35ms", b"took 35ms"), Likeness::Same);
        assert_eq!(
            compare_shapes(b"took 35ms", b"took 99ms"),
            Likeness::SameShape
        );
        assert_eq!(
            compare_shapes(b"took 35ms", b"took 3 ms"),
            Likeness::Different
        );
        assert_eq!(
            compare_shapes(b"took 35ms", b"took 355ms"),
            Likeness::Different
        );
        assert_eq!(compare_shapes(b"", b""), Likeness::Same);
        // Past the first word, and in a last partial word.
        assert_eq!(
            compare_shapes(b"block blk_123 of size 64", b"block blk_987 of size 99"),
            Likeness::SameShape
        );
        assert_eq!(
            compare_shapes(b"block blk_123 of size 64", b"block blk_987 of size 9a"),
            Likeness::Different
        );
        assert_eq!(
            shape_hash(b"block blk_123 of size 64"),
            shape_hash(b"block blk_987 of size 99")
        );
        assert_ne!(shape_hash(b"took 35ms"), shape_hash(b"took 35ns"));
    }

    /// Every testdata line and tricky ones, each with its digits replaced by pseudo-random
    /// ones: masked through the memo (by shape, mostly) exactly as masking masks it.
    #[test]
    fn messages_of_one_shape_get_what_masking_gives() {
        let mut lines = crate::testdata_lines();
        lines.extend(
            [
                // `0x` opens a hex number, `1x` does not.
                "flags 0x1f set on 0x7ffd",
                "flags 1x1f set on 9x7ffd",
                "size 0X10 of 4X20",
                // Digits kept in the masked text.
                "GET /index.html HTTP/1.1 200",
                "HTTP/2.0 503 from v1 of api2",
                "10.0.0.1:8080 10.0.0.100 256.1.1.1 1.2.3.4.5 fe80::1 ::1",
                "took 35ms, 2.5 s, 64MB, 1.5KB, -12, +3, 3.14.15, 1., 007",
                "user=alice id=42 count: 7 retries: 0 errors: \"0 of 3\"",
                "worker-12 mesos-slave-3 db-7.example.com:5432 a1b2c3d4e5f6",
                "550e8400-e29b-41d4-a716-446655440000 DEADBEEF01234567 @0x1",
                "0 errors, 1 warning, 12 files, 2026-11-23T10:00:00Z",
            ]
            .map(str::to_string),
        );
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut memo = MaskMemo::new(64);
        let mut scratch = Masked::default();
        for round in 0..6 {
            for line in &lines {
                let variant: String = line
                    .chars()
                    .map(|c| {
                        if c.is_ascii_digit() && round > 0 {
                            state ^= state << 13;
                            state ^= state >> 7;
                            state ^= state << 17;
                            // Round 1 makes every digit 0 (`0x` from `1x`), the others any.
                            let digit = if round == 1 { 0 } else { state % 10 };
                            char::from(b'0' + digit as u8)
                        } else {
                            c
                        }
                    })
                    .collect();
                for text in [line.as_str(), &variant] {
                    let through_memo = memo.masked(&mut scratch, text).clone();
                    let mut direct = Masked::default();
                    direct.fill(text);
                    assert_eq!(through_memo.text, direct.text, "{text:?}");
                    assert_eq!(through_memo.tokens, direct.tokens, "{text:?}");
                    assert_eq!(through_memo.params, direct.params, "{text:?}");
                    assert_eq!(through_memo.hash, direct.hash, "{text:?}");
                }
            }
        }
        assert!(
            memo.shape_hits * 4 > memo.lookups,
            "{} of {} by shape",
            memo.shape_hits,
            memo.lookups
        );
    }

    #[test]
    fn the_memo_answers_what_masking_gives() {
        // Repeats, near-repeats, collisions in a four-slot memo, the empty message, and one
        // over the memo's length limit.
        let long = format!("payload {} bytes", "x9".repeat(MEMO_MAX_BYTES));
        let messages = [
            "Starting flush of map output",
            "took 35ms for user=alice",
            "Starting flush of map output",
            "took 36ms for user=alice",
            "",
            "connection from 10.0.0.1:8080 closed",
            "took 35ms for user=alice",
            long.as_str(),
            "@0x1 @0x2 @0x3 done",
            "connection from 10.0.0.1:8080 closed",
            long.as_str(),
            "",
            "@0x1 @0x2 @0x3 done",
        ];
        let mut memo = MaskMemo::new(4);
        let mut scratch = Masked::default();
        for round in 0..3 {
            for message in messages {
                let through_memo = memo.masked(&mut scratch, message);
                let mut direct = Masked::default();
                direct.fill(message);
                assert_eq!(
                    through_memo.text, direct.text,
                    "{message:?} in round {round}"
                );
                assert_eq!(through_memo.tokens, direct.tokens, "{message:?}");
                assert_eq!(through_memo.params, direct.params, "{message:?}");
            }
        }
        assert_eq!(memo.lookups, 3 * (messages.len() as u64 - 2));
        assert!(memo.hits > 0 && memo.hits < memo.lookups, "{memo:?}");
        // One slot: every message meets the previous one's entry, here of the same length.
        let mut one = MaskMemo::new(1);
        for message in [
            "user alice logged in",
            "user 12345 logged in",
            "user alice logged in",
        ] {
            let through_memo = one.masked(&mut scratch, message);
            let mut direct = Masked::default();
            direct.fill(message);
            assert_eq!(through_memo.text, direct.text, "{message:?}");
            assert_eq!(through_memo.params, direct.params, "{message:?}");
        }
        let mut off = MaskMemo::new(0);
        off.masked(&mut scratch, messages[0]);
        let through_memo = off.masked(&mut scratch, messages[0]).clone();
        assert_eq!((off.lookups, off.hits), (0, 0));
        let mut direct = Masked::default();
        direct.fill(messages[0]);
        assert_eq!(through_memo.text, direct.text);
    }

    #[test]
    fn the_hash_is_of_the_tokens_texts_however_they_were_made() {
        let tokens = |message: &str| {
            let mut masked = Masked::default();
            masked.fill(message);
            let texts: Vec<String> = masked
                .tokens
                .iter()
                .map(|t| masked.token_text(t).to_string())
                .collect();
            (texts, masked.hash)
        };
        // Folded runs and absorbed units leave replaced texts behind in `text`.
        for (a, b) in [
            ("at @0x1 @0x2 @0x3 done", "at @0x9 done"),
            ("read 16.0 B, done", "read 17 B, done"),
        ] {
            let (texts_a, hash_a) = tokens(a);
            let (texts_b, hash_b) = tokens(b);
            assert_eq!(texts_a, texts_b, "{a:?} / {b:?}");
            assert_eq!(hash_a, hash_b, "{a:?} / {b:?}");
        }
        // Where tokens split counts: `ab c` and `a bc` hash apart.
        assert_ne!(tokens("ab c").1, tokens("a bc").1);
    }

    #[test]
    fn runs_fold() {
        assert_eq!(
            masked("called (stack @0x7fed806eb5d @0x7fef9fb9b6d @0xff83db2f)"),
            "called (stack @<*>)"
        );
        assert_eq!(masked("REPORT : 1 2 3 4"), "REPORT : <*> <*> <*> <*>");
        assert_eq!(masked("from 1.2.3.4: 11: Bye"), "from <*>: <*>: Bye");
        assert_eq!(masked("steps=15##70##548"), "steps=<*>");
        assert_eq!(
            masked("Old: msra-sa-41/10.190.173.170:8030 New: msra-sa-41:8030"),
            "Old: <*> New: <*>"
        );
        assert_eq!(masked("onExtend:1514038530000"), "onExtend:<*>");
        assert_eq!(
            masked("(estimated size 16.0 B, free 2.6 KB)"),
            "(estimated size <*>, free <*>)"
        );
        assert_eq!(
            masked("adj=0.0userId=0 ok:false"),
            "adj=<*>.0userId=<*> ok:<*>"
        );
        assert_eq!(masked("on host mesos-slave-13"), "on host <*>");
    }
}
