//! Drain-class template mining with typed masks and evidence-based generalisation.
//!
//! Clusters are indexed by token count and first token. A line joins the most similar cluster
//! of its bucket when every differing token is *soft* (holds a digit or a mask); differing plain
//! words are not merged on sight, because `FOLLOWING`/`LEADING` or `NEW`/`RUNNING` are states
//! that deserve their own templates. Instead, clusters that differ in exactly one word position
//! are counted as siblings, and once a position has shown [`Config::word_variants`] distinct
//! words it becomes a variable (`Invalid user <*> from <*>`).
//!
//! A cluster's id is the [`template_id`] of its first text and is kept when it generalises or
//! absorbs siblings (the oldest member's id wins); the ids it gave up are kept as aliases (see
//! "Template ids" in the crate docs).
//!
//! [`Config::word_variants`]: crate::Config

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::mask::Masked;
use crate::severity::Severity;

/// A template token: a literal (possibly with masked pieces, like `blk_<*>`) or a variable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Tok {
    Var,
    Lit(Box<str>),
    /// A variable with a literal prefix and suffix: `rhost=<*>`, `org.apache.<*>`, `<*>,`.
    Pat(Box<str>, Box<str>),
}

impl Tok {
    fn soft(&self) -> bool {
        match self {
            Tok::Var | Tok::Pat(..) => true,
            Tok::Lit(text) => is_soft(text),
        }
    }

    /// True when a masked token text fits this template token.
    pub fn accepts(&self, text: &str) -> bool {
        match self {
            Tok::Var => true,
            Tok::Lit(literal) => **literal == *text,
            Tok::Pat(prefix, suffix) => {
                text.len() >= prefix.len() + suffix.len()
                    && text.starts_with(&**prefix)
                    && text.ends_with(&**suffix)
            }
        }
    }

    /// The token generalised to also accept `text`: keeps the common prefix up to a delimiter
    /// and the common suffix from one, so `rhost=1.2.3.4` and `rhost=host` give `rhost=<*>`.
    fn generalised(&self, text: &str) -> Tok {
        let (prefix, suffix): (&str, &str) = match self {
            Tok::Var => return Tok::Var,
            Tok::Lit(literal) => (literal, literal),
            Tok::Pat(prefix, suffix) => (prefix, suffix),
        };
        let prefix = common_prefix(prefix, text);
        let suffix = common_suffix(suffix, &text[prefix.len().min(text.len())..]);
        if prefix.is_empty() && suffix.is_empty() {
            Tok::Var
        } else {
            Tok::Pat(prefix.into(), suffix.into())
        }
    }
}

fn is_delimiter(byte: u8) -> bool {
    matches!(
        byte,
        b'=' | b':'
            | b'('
            | b'['
            | b'{'
            | b'"'
            | b'\''
            | b'.'
            | b'/'
            | b'@'
            | b'#'
            | b'$'
            | b'-'
            | b')'
            | b']'
            | b'}'
            | b','
            | b';'
    )
}

fn common_prefix<'a>(a: &'a str, b: &str) -> &'a str {
    let same = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    let candidate = &a.as_bytes()[..same];
    let end = candidate
        .iter()
        .rposition(|b| is_delimiter(*b))
        .map_or(0, |p| p + 1);
    let prefix = &a[..end];
    if prefix.contains("<*>") || prefix.len() == a.len() && a.len() == b.len() {
        return "";
    }
    prefix
}

fn common_suffix<'a>(a: &'a str, b: &str) -> &'a str {
    let same = a
        .bytes()
        .rev()
        .zip(b.bytes().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let start_min = a.len() - same;
    let bytes = a.as_bytes();
    let start = (start_min..a.len()).find(|&i| is_delimiter(bytes[i]) && a.is_char_boundary(i));
    match start {
        Some(start) if !a[start..].contains("<*>") && start > 0 => &a[start..],
        _ => "",
    }
}

fn is_soft(text: &str) -> bool {
    crate::mask::is_soft_text(text)
}

/// Ids a cluster answers to besides its own, at most (older ones are forgotten first).
pub const MAX_ALIASES: usize = 32;

/// One learned template.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cluster {
    pub tokens: Vec<Tok>,
    pub text: String,
    /// The id of the text the cluster was created with ([`template_id`]); kept when the
    /// cluster generalises or absorbs sibling clusters, so records already stored with it stay
    /// in their group.
    pub id: String,
    /// Other ids that stand for this cluster: the ids of its later texts and of clusters merged
    /// into it, oldest first.
    #[serde(default)]
    pub aliases: Vec<String>,
    pub count: u64,
    /// Records processed by the resource when the template first appeared.
    pub first_seen: u64,
    pub last_seen: u64,
    pub sample: String,
    /// Explicit severities seen with this template, by [`Severity`] order.
    pub explicit: [u32; 6],
    /// The content signal of the current text, computed once per text.
    pub content: Option<Severity>,
    /// The positions of the tokens that hold parameters: variables, patterns and literals
    /// holding a mask (`blk_<*>`). Computed with the text.
    #[serde(skip)]
    pub param_positions: Vec<u32>,
    /// Unique to the cluster's tokens: a new one each time they change, from one counter for
    /// all clusters of the process (never 0).
    #[serde(skip)]
    pub stamp: u64,
}

/// The last [`Cluster::stamp`] given.
static STAMPS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl Cluster {
    fn new(tokens: Vec<Tok>, tick: u64, sample: &str, sample_cap: usize) -> Cluster {
        let mut cluster = Cluster {
            tokens,
            text: String::new(),
            id: String::new(),
            aliases: Vec::new(),
            count: 0,
            first_seen: tick,
            last_seen: tick,
            sample: truncate(sample, sample_cap).to_string(),
            explicit: [0; 6],
            content: None,
            param_positions: Vec::new(),
            stamp: 0,
        };
        cluster.refresh_text();
        cluster
    }

    fn refresh_text(&mut self) {
        let mut text = String::with_capacity(self.tokens.len() * 8);
        self.param_positions.clear();
        self.stamp = STAMPS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        for (index, token) in self.tokens.iter().enumerate() {
            let holds_param = match token {
                Tok::Lit(literal) => literal.contains("<*>"),
                Tok::Var | Tok::Pat(..) => true,
            };
            if holds_param {
                self.param_positions
                    .push(u32::try_from(index).unwrap_or(u32::MAX));
            }
            if index > 0 {
                text.push(' ');
            }
            match token {
                Tok::Var => text.push_str("<*>"),
                Tok::Lit(literal) => text.push_str(literal),
                Tok::Pat(prefix, suffix) => {
                    text.push_str(prefix);
                    text.push_str("<*>");
                    text.push_str(suffix);
                }
            }
        }
        let id = template_id(&text);
        if self.id.is_empty() {
            self.id = id;
        } else {
            self.add_alias(id);
        }
        self.content = crate::severity::content_signal(&text);
        self.text = text;
    }

    /// Records `id` as standing for this cluster (not its own id, no duplicates, bounded).
    fn add_alias(&mut self, id: String) {
        if id == self.id || self.aliases.contains(&id) {
            return;
        }
        if self.aliases.len() >= MAX_ALIASES {
            self.aliases.remove(0);
        }
        self.aliases.push(id);
    }

    /// The majority explicit severity seen with this template, when one dominates.
    pub fn explicit_majority(&self) -> Option<Severity> {
        let total: u32 = self.explicit.iter().sum();
        let (index, best) = self
            .explicit
            .iter()
            .enumerate()
            .max_by_key(|(_, count)| **count)?;
        if total >= 3 && u64::from(*best) * 10 >= u64::from(total) * 9 {
            return severity_at(index);
        }
        None
    }
}

fn severity_at(index: usize) -> Option<Severity> {
    [
        Severity::Trace,
        Severity::Debug,
        Severity::Info,
        Severity::Warn,
        Severity::Error,
        Severity::Fatal,
    ]
    .get(index)
    .copied()
}

fn severity_index(severity: Severity) -> usize {
    match severity {
        Severity::Trace => 0,
        Severity::Debug => 1,
        Severity::Info => 2,
        Severity::Warn => 3,
        Severity::Error => 4,
        Severity::Fatal => 5,
    }
}

fn truncate(text: &str, cap: usize) -> &str {
    if text.len() <= cap {
        return text;
    }
    let mut end = cap;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The stable id of a template text: FNV-1a 64, as 16 hex digits. The same text always gives
/// the same id, across restarts, processes and versions.
pub fn template_id(text: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// In-memory hashing only (indexes and caches); never persisted, so it may change.
fn hash_str(hash: u64, text: &str) -> u64 {
    use std::hash::Hasher;
    let mut hasher = rustc_hash::FxHasher::default();
    hasher.write_u64(hash);
    hasher.write(text.as_bytes());
    hasher.write_u8(0xff);
    hasher.finish()
}

const SEED: u64 = 0xcbf2_9ce4_8422_2325;

/// Tunables of the miner; taken from [`crate::Config`].
#[derive(Debug, Clone, Copy)]
pub struct MinerLimits {
    pub max_clusters: usize,
    pub similarity: f64,
    pub word_variants: usize,
    pub sample_cap: usize,
}

#[derive(Debug, Default, Clone)]
struct Siblings {
    words: Vec<Box<str>>,
    clusters: Vec<u32>,
}

/// The template miner of one resource.
#[derive(Debug, Default)]
pub struct Miner {
    slots: Vec<Option<Cluster>>,
    free: Vec<u32>,
    live: usize,
    buckets: FxHashMap<u64, Vec<u32>>,
    exact: FxHashMap<u64, u32>,
    siblings: FxHashMap<u64, Siblings>,
    /// Every id a live cluster answers to (its own and its aliases) → its slot.
    ids: FxHashMap<String, u32>,
    pub evicted: u64,
}

/// The result of matching a line: the cluster slot it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Matched {
    pub slot: u32,
}

const EXACT_CAP: usize = 1 << 16;
const SIBLING_CAP: usize = 1 << 14;

impl Miner {
    pub fn clusters(&self) -> impl Iterator<Item = &Cluster> {
        self.slots.iter().flatten()
    }

    pub fn cluster(&self, slot: u32) -> Option<&Cluster> {
        self.slots.get(slot as usize).and_then(Option::as_ref)
    }

    /// The cluster an id stands for: the one whose own id it is, else one that has it as an
    /// alias.
    pub fn by_id(&self, id: &str) -> Option<&Cluster> {
        self.ids.get(id).and_then(|&slot| self.cluster(slot))
    }

    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Rebuilds a miner from persisted clusters.
    pub fn from_clusters(clusters: Vec<Cluster>) -> Miner {
        let mut miner = Miner::default();
        for mut cluster in clusters {
            cluster.refresh_text();
            miner.insert(cluster);
        }
        miner
    }

    fn bucket_key(length: usize, first: Option<&str>) -> u64 {
        let base = hash_str(SEED, &length.to_string());
        match first {
            Some(text) => hash_str(base, text),
            None => base,
        }
    }

    fn cluster_bucket(cluster: &Cluster) -> u64 {
        let first = match cluster.tokens.first() {
            Some(Tok::Lit(text)) if !is_soft(text) => Some(&**text),
            _ => None,
        };
        Self::bucket_key(cluster.tokens.len(), first)
    }

    fn insert(&mut self, cluster: Cluster) -> u32 {
        let bucket = Self::cluster_bucket(&cluster);
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = Some(cluster);
                slot
            }
            None => {
                self.slots.push(Some(cluster));
                u32::try_from(self.slots.len() - 1).unwrap_or(u32::MAX)
            }
        };
        self.buckets.entry(bucket).or_default().push(slot);
        self.live += 1;
        if let Some(cluster) = self.slots[slot as usize].as_ref() {
            for alias in &cluster.aliases {
                // An alias never takes an id from the cluster that owns it.
                let owner = self
                    .ids
                    .get(alias)
                    .and_then(|&s| self.cluster(s))
                    .is_some_and(|c| c.id == *alias);
                if !owner {
                    self.ids.insert(alias.clone(), slot);
                }
            }
            self.ids.insert(cluster.id.clone(), slot);
        }
        slot
    }

    fn remove(&mut self, slot: u32) -> Option<Cluster> {
        let cluster = self.slots.get_mut(slot as usize)?.take()?;
        for id in std::iter::once(&cluster.id).chain(&cluster.aliases) {
            if self.ids.get(id) == Some(&slot) {
                self.ids.remove(id);
            }
        }
        let bucket = Self::cluster_bucket(&cluster);
        if let Some(list) = self.buckets.get_mut(&bucket) {
            list.retain(|s| *s != slot);
            if list.is_empty() {
                self.buckets.remove(&bucket);
            }
        }
        self.free.push(slot);
        self.live -= 1;
        Some(cluster)
    }

    fn line_hash(masked: &Masked) -> u64 {
        masked.hash
    }

    /// Finds the cluster of a masked line without learning anything.
    pub fn find(&self, masked: &Masked) -> Option<u32> {
        let hash = Self::line_hash(masked);
        if let Some(&slot) = self.exact.get(&hash)
            && let Some(cluster) = self.cluster(slot)
            && matches_exactly(cluster, masked)
        {
            return Some(slot);
        }
        let (best, mismatches) = self.best_candidate(masked)?;
        if mismatches == 0 { Some(best) } else { None }
    }

    /// Finds the best cluster: returns its slot and the number of differing literal positions.
    fn best_candidate(&self, masked: &Masked) -> Option<(u32, usize)> {
        let length = masked.tokens.len();
        let first = masked
            .tokens
            .first()
            .map(|t| masked.token_text(t))
            .filter(|t| !is_soft(t));
        let mut best: Option<(u32, usize, usize)> = None;
        let keys = [
            Self::bucket_key(length, first),
            Self::bucket_key(length, None),
        ];
        let key_count = if first.is_some() { 2 } else { 1 };
        for key in &keys[2 - key_count..] {
            let Some(list) = self.buckets.get(key) else {
                continue;
            };
            for &slot in list {
                let Some(cluster) = self.cluster(slot) else {
                    continue;
                };
                let (equal, differing, hard) = compare(cluster, masked);
                if hard > 1 {
                    continue;
                }
                let better = match best {
                    None => true,
                    Some((_, best_equal, best_differing)) => {
                        equal > best_equal || (equal == best_equal && differing < best_differing)
                    }
                };
                if better && (hard == 0 || differing == 1) {
                    best = Some((slot, equal, differing));
                }
            }
        }
        best.map(|(slot, _, differing)| (slot, differing))
    }

    /// Learns from one masked line and returns its cluster.
    pub fn learn(&mut self, masked: &Masked, sample: &str, tick: u64, limits: &MinerLimits) -> u32 {
        self.learn_known(masked, sample, tick, limits, &mut 0)
    }

    /// [`Miner::learn`], given `known`: the [`Cluster::stamp`] of a cluster this very masked
    /// line matched exactly before (0: none). A cluster with that stamp still has the tokens
    /// it had then, so it matches again without comparing them. `known` is set to the stamp of
    /// the cluster the line matches exactly now, or 0.
    pub fn learn_known(
        &mut self,
        masked: &Masked,
        sample: &str,
        tick: u64,
        limits: &MinerLimits,
        known: &mut u64,
    ) -> u32 {
        let hash = Self::line_hash(masked);
        if let Some(&slot) = self.exact.get(&hash)
            && let Some(cluster) = self.slots.get_mut(slot as usize).and_then(Option::as_mut)
            && ((*known != 0 && *known == cluster.stamp) || matches_exactly(cluster, masked))
        {
            cluster.count += 1;
            cluster.last_seen = tick;
            *known = cluster.stamp;
            return slot;
        }
        *known = 0;
        let slot = self.learn_slow(masked, sample, tick, limits);
        if self.exact.len() >= EXACT_CAP {
            self.exact.clear();
        }
        self.exact.insert(hash, slot);
        slot
    }

    fn learn_slow(
        &mut self,
        masked: &Masked,
        sample: &str,
        tick: u64,
        limits: &MinerLimits,
    ) -> u32 {
        let length = masked.tokens.len();
        if let Some((slot, _)) = self.best_candidate(masked) {
            let cluster = self.slots[slot as usize]
                .as_ref()
                .map(|c| compare(c, masked));
            if let Some((equal, differing, hard)) = cluster {
                let literal = equal + differing;
                let similar = literal == 0 || equal as f64 >= limits.similarity * literal as f64;
                if hard == 0 && similar {
                    self.generalise(slot, masked, tick);
                    return slot;
                }
                if hard == 1 && differing == 1 && length >= 2 {
                    return self.add_sibling(slot, masked, sample, tick, limits);
                }
            }
        }
        let slot = self.add_cluster(masked, sample, tick, limits);
        self.count_first_word_sibling(slot, masked, tick, limits)
    }

    /// A new cluster whose first word is a plain word: clusters are looked up by their first
    /// word, so lines that differ only there (`com.apple.a: job ...`, `com.apple.b: job ...`)
    /// never meet as candidates. They are counted as siblings by the rest of their tokens
    /// instead, and enough distinct first words make that place a variable, as elsewhere.
    fn count_first_word_sibling(
        &mut self,
        slot: u32,
        masked: &Masked,
        tick: u64,
        limits: &MinerLimits,
    ) -> u32 {
        let Some(cluster) = self.cluster(slot) else {
            return slot;
        };
        let word: Box<str> = match cluster.tokens.first() {
            Some(Tok::Lit(word)) if cluster.tokens.len() >= 2 && !is_soft(word) => word.clone(),
            _ => return slot,
        };
        // The rest must say something in words (`onStandStepChanged <*>` and
        // `generating core.<*>` share no word, so they are not one event).
        let shared = cluster.tokens[1..]
            .iter()
            .filter(|t| matches!(t, Tok::Lit(word) if !is_soft(word)))
            .count();
        if masked.tokens.len() != cluster.tokens.len() || shared < 2 {
            return slot;
        }
        let key = sibling_key(&cluster.tokens, 0);
        if self.siblings.len() >= SIBLING_CAP {
            self.siblings.clear();
        }
        let entry = self.siblings.entry(key).or_default();
        if entry.words.contains(&word) {
            return slot;
        }
        entry.words.push(word);
        entry.clusters.push(slot);
        if entry.words.len() < variants_needed(&entry.words, limits) {
            return slot;
        }
        let members = std::mem::take(&mut entry.clusters);
        self.siblings.remove(&key);
        self.merge_siblings(&members, 0, slot, tick)
    }

    fn generalise(&mut self, slot: u32, masked: &Masked, tick: u64) {
        let Some(cluster) = self.slots.get_mut(slot as usize).and_then(Option::as_mut) else {
            return;
        };
        let mut changed = false;
        for (template, token) in cluster.tokens.iter_mut().zip(&masked.tokens) {
            let text = masked.token_text(token);
            if !template.accepts(text) {
                *template = template.generalised(text);
                changed = true;
            }
        }
        cluster.count += 1;
        cluster.last_seen = tick;
        if changed {
            // The first token can change from a literal to a variable: move buckets.
            let moved = self.remove(slot);
            if let Some(mut cluster) = moved {
                cluster.refresh_text();
                let new_slot = self.insert(cluster);
                debug_assert_eq!(new_slot, slot, "a freed slot is reused first");
            }
        }
    }

    fn add_cluster(
        &mut self,
        masked: &Masked,
        sample: &str,
        tick: u64,
        limits: &MinerLimits,
    ) -> u32 {
        if self.live >= limits.max_clusters {
            self.evict(limits.max_clusters);
        }
        let tokens = masked
            .tokens
            .iter()
            .map(|t| Tok::Lit(masked.token_text(t).into()))
            .collect();
        let mut cluster = Cluster::new(tokens, tick, sample, limits.sample_cap);
        cluster.count = 1;
        self.insert(cluster)
    }

    /// A line that differs from `near` in exactly one plain word: a new cluster, counted as a
    /// sibling; enough distinct words at the same position make it a variable.
    fn add_sibling(
        &mut self,
        near: u32,
        masked: &Masked,
        sample: &str,
        tick: u64,
        limits: &MinerLimits,
    ) -> u32 {
        let Some(near_cluster) = self.cluster(near) else {
            return self.add_cluster(masked, sample, tick, limits);
        };
        let Some(position) = hard_position(near_cluster, masked) else {
            return self.add_cluster(masked, sample, tick, limits);
        };
        let near_word: Box<str> = match &near_cluster.tokens[position] {
            Tok::Lit(word) => word.clone(),
            Tok::Var | Tok::Pat(..) => "<*>".into(),
        };
        let key = sibling_key(&near_cluster.tokens, position);
        let slot = self.add_cluster(masked, sample, tick, limits);
        let word: Box<str> = masked.token_text(&masked.tokens[position]).into();
        if self.siblings.len() >= SIBLING_CAP {
            self.siblings.clear();
        }
        let entry = self.siblings.entry(key).or_default();
        for (candidate, cluster) in [(near_word, near), (word, slot)] {
            if !entry.words.contains(&candidate) {
                entry.words.push(candidate);
                entry.clusters.push(cluster);
            }
        }
        if entry.words.len() < variants_needed(&entry.words, limits) {
            return slot;
        }
        let members = std::mem::take(&mut entry.clusters);
        self.siblings.remove(&key);
        self.merge_siblings(&members, position, slot, tick)
    }

    fn merge_siblings(&mut self, members: &[u32], position: usize, newest: u32, tick: u64) -> u32 {
        let mut merged: Option<Cluster> = None;
        // The oldest member lends its id to the merged cluster: the others' become aliases.
        let mut members: Vec<Cluster> = members.iter().filter_map(|&m| self.remove(m)).collect();
        if let Some(oldest) = (0..members.len()).min_by_key(|&i| members[i].first_seen) {
            members.swap(0, oldest);
        }
        for cluster in members {
            match merged.as_mut() {
                None => merged = Some(cluster),
                Some(target) => {
                    target.count += cluster.count;
                    target.first_seen = target.first_seen.min(cluster.first_seen);
                    target.add_alias(cluster.id.clone());
                    for alias in &cluster.aliases {
                        target.add_alias(alias.clone());
                    }
                    for (sum, add) in target.explicit.iter_mut().zip(cluster.explicit) {
                        *sum += add;
                    }
                    for (mine, theirs) in target.tokens.iter_mut().zip(&cluster.tokens) {
                        if mine != theirs {
                            *mine = match theirs {
                                Tok::Lit(text) => mine.generalised(text),
                                _ => Tok::Var,
                            };
                        }
                    }
                }
            }
        }
        let Some(mut cluster) = merged else {
            return newest;
        };
        if let Some(token) = cluster.tokens.get_mut(position)
            && matches!(token, Tok::Lit(_))
        {
            *token = Tok::Var;
        }
        cluster.last_seen = tick;
        cluster.refresh_text();
        self.insert(cluster)
    }

    /// Drops the least recently seen tenth of the clusters.
    fn evict(&mut self, cap: usize) {
        self.keep_newest(cap - (cap / 10).max(1).min(cap));
    }

    /// Drops the least recently seen clusters until at most `keep` are left.
    pub fn keep_newest(&mut self, keep: usize) {
        if self.live <= keep {
            return;
        }
        let mut ages: Vec<(u64, u32)> = self
            .slots
            .iter()
            .enumerate()
            .filter_map(|(slot, c)| {
                c.as_ref()
                    .map(|c| (c.last_seen, u32::try_from(slot).unwrap_or(u32::MAX)))
            })
            .collect();
        ages.sort_unstable();
        let drop = self.live - keep;
        for (_, slot) in ages.into_iter().take(drop) {
            self.remove(slot);
            self.evicted += 1;
        }
        self.exact.clear();
        self.siblings.clear();
    }

    /// Records an explicit severity seen with a template.
    pub fn vote(&mut self, slot: u32, severity: Severity) {
        if let Some(cluster) = self.slots.get_mut(slot as usize).and_then(Option::as_mut) {
            let entry = &mut cluster.explicit[severity_index(severity)];
            *entry = entry.saturating_add(1);
        }
    }
}

fn matches_exactly(cluster: &Cluster, masked: &Masked) -> bool {
    cluster.tokens.len() == masked.tokens.len()
        && cluster
            .tokens
            .iter()
            .zip(&masked.tokens)
            .all(|(template, token)| template.accepts(masked.token_text(token)))
}

/// Compares a line with a cluster: (equal literals, differing literals, differing plain words).
fn compare(cluster: &Cluster, masked: &Masked) -> (usize, usize, usize) {
    let mut equal = 0;
    let mut differing = 0;
    let mut hard = 0;
    for (template, token) in cluster.tokens.iter().zip(&masked.tokens) {
        let text = masked.token_text(token);
        match template {
            Tok::Var => {}
            Tok::Pat(..) => {
                if !template.accepts(text) {
                    differing += 1;
                }
            }
            Tok::Lit(literal) => {
                if **literal == *text {
                    equal += 1;
                } else {
                    differing += 1;
                    if (!token.soft && !template.soft()) || different_keys(literal, text) {
                        hard += 1;
                    }
                }
            }
        }
    }
    (equal, differing, hard)
}

fn hard_position(cluster: &Cluster, masked: &Masked) -> Option<usize> {
    cluster
        .tokens
        .iter()
        .zip(&masked.tokens)
        .position(|(template, token)| match template {
            Tok::Var | Tok::Pat(..) => false,
            Tok::Lit(literal) => {
                let text = masked.token_text(token);
                **literal != *text
                    && ((!token.soft && !template.soft()) || different_keys(literal, text))
            }
        })
}

/// The distinct words one place must show before it becomes a variable. States and actions
/// (`Started`, `Paused`, `LEADING`) tell events apart more often than they hold a value: verb
/// forms need twice the evidence of other words.
fn variants_needed(words: &[Box<str>], limits: &MinerLimits) -> usize {
    if words.iter().all(|w| is_verb_form(w)) {
        limits.word_variants * 2
    } else {
        limits.word_variants
    }
}

/// `Started`, `paused`, `FOLLOWING`: a word ending like an English past tense or gerund.
fn is_verb_form(word: &str) -> bool {
    let word = word.trim_end_matches([',', '.', ':', ';', ')']);
    let lower = |suffix: &str| {
        word.len() >= suffix.len() + 3
            && word.is_char_boundary(word.len() - suffix.len())
            && word[word.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
    };
    word.bytes().all(|b| b.is_ascii_alphabetic()) && (lower("ed") || lower("ing"))
}

/// `num=3,flags=1` and `topActivity=x` are different fields, not two values of one.
fn different_keys(a: &str, b: &str) -> bool {
    match (crate::mask::key_of(a), crate::mask::key_of(b)) {
        (Some(x), Some(y)) => x != y,
        _ => false,
    }
}

fn sibling_key(tokens: &[Tok], position: usize) -> u64 {
    let mut hash = hash_str(SEED, &position.to_string());
    for (index, token) in tokens.iter().enumerate() {
        let text = match token {
            _ if index == position => "\u{1}",
            Tok::Var | Tok::Pat(..) => "<*>",
            Tok::Lit(literal) if is_soft(literal) => "<*>",
            Tok::Lit(literal) => literal,
        };
        hash = hash_str(hash, text);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> MinerLimits {
        MinerLimits {
            max_clusters: 1000,
            similarity: 0.5,
            word_variants: 4,
            sample_cap: 200,
        }
    }

    fn learn(miner: &mut Miner, tick: &mut u64, line: &str) -> String {
        let mut masked = Masked::default();
        masked.fill(line);
        *tick += 1;
        let slot = miner.learn(&masked, line, *tick, &limits());
        miner
            .cluster(slot)
            .map(|c| c.text.clone())
            .unwrap_or_default()
    }

    #[test]
    fn soft_tokens_merge_words_need_evidence() {
        let mut miner = Miner::default();
        let mut tick = 0;
        learn(&mut miner, &mut tick, "Found block rdd_42_3 locally");
        assert_eq!(
            learn(&mut miner, &mut tick, "Found block rdd_42_4 locally"),
            "Found block rdd_<*> locally"
        );
        assert_eq!(
            learn(&mut miner, &mut tick, "state LOOKING"),
            "state LOOKING"
        );
        assert_eq!(
            learn(&mut miner, &mut tick, "state LEADING"),
            "state LEADING"
        );
        assert_eq!(
            learn(&mut miner, &mut tick, "state FOLLOWING"),
            "state FOLLOWING"
        );
        for user in ["alice", "bob", "carol"] {
            learn(
                &mut miner,
                &mut tick,
                &format!("Invalid user {user} from 1.2.3.4"),
            );
        }
        assert_eq!(
            learn(&mut miner, &mut tick, "Invalid user dave from 1.2.3.5"),
            "Invalid user <*> from <*>"
        );
        assert_eq!(
            learn(&mut miner, &mut tick, "Invalid user erin from 1.2.3.5"),
            "Invalid user <*> from <*>"
        );
    }

    #[test]
    fn ids_are_stable() {
        assert_eq!(template_id("a <*>"), template_id("a <*>"));
        assert_eq!(template_id("").len(), 16);
    }
}
