//! Rate limits of browser tokens. A browser token is public (it sits in a page's JavaScript),
//! so what it may send is limited twice: per client address, so that one visitor (or one
//! script copying the token) cannot use up the site's share, and per token, so that many
//! addresses together cannot flood the server either.
//!
//! Each key has two token buckets: requests and bytes (as sent, before decompression). A
//! request is admitted only when both buckets of its address and both of its token hold
//! enough; nothing is taken from any bucket otherwise. The tables are bounded: entries whose
//! buckets have filled up again are the same as new ones and are dropped, and when the
//! address table still holds `max_addresses`, the least recently seen eighth goes.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// One token bucket's settings: refilled at `per_sec`, holding at most `burst`. A rate of 0
/// turns the bucket off.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub per_sec: f64,
    pub burst: f64,
}

impl Rate {
    pub const OFF: Rate = Rate {
        per_sec: 0.0,
        burst: 0.0,
    };

    /// `per_sec` refill with room for `burst`; a burst of 0 means one second's worth.
    pub fn new(per_sec: f64, burst: f64) -> Rate {
        let per_sec = if per_sec.is_finite() && per_sec > 0.0 {
            per_sec
        } else {
            0.0
        };
        let burst = if burst.is_finite() && burst > 0.0 {
            burst
        } else {
            per_sec
        };
        Rate { per_sec, burst }
    }

    fn enabled(self) -> bool {
        self.per_sec > 0.0
    }
}

/// The limits of one kind of key (an address or a token).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KeyLimits {
    pub requests: Rate,
    pub bytes: Rate,
}

impl KeyLimits {
    pub const OFF: KeyLimits = KeyLimits {
        requests: Rate::OFF,
        bytes: Rate::OFF,
    };

    fn enabled(&self) -> bool {
        self.requests.enabled() || self.bytes.enabled()
    }
}

/// What browser tokens may send.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimits {
    pub per_address: KeyLimits,
    pub per_token: KeyLimits,
    /// Most client addresses tracked at once.
    pub max_addresses: usize,
}

impl Default for RateLimits {
    /// Enough for real sites: a page sends a batch every few seconds, and many visitors may
    /// share one address (an office, a mobile carrier's NAT).
    fn default() -> Self {
        RateLimits {
            per_address: KeyLimits {
                requests: Rate::new(40.0, 200.0),
                bytes: Rate::new(2.0 * MIB, 16.0 * MIB),
            },
            per_token: KeyLimits {
                requests: Rate::new(2000.0, 10_000.0),
                bytes: Rate::new(64.0 * MIB, 256.0 * MIB),
            },
            max_addresses: 100_000,
        }
    }
}

const MIB: f64 = 1048576.0;

/// Most browser tokens tracked at once (tokens are few; this only bounds the table).
const MAX_TOKENS: usize = 4096;

/// How often the tables drop entries whose buckets are full again.
const SWEEP_EVERY: Duration = Duration::from_secs(10);

/// Which limit refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitedBy {
    Token,
    Address,
}

impl LimitedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            LimitedBy::Token => "token",
            LimitedBy::Address => "address",
        }
    }
}

/// A refusal: which limit, and how long until the request would be admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    pub by: LimitedBy,
    pub retry_after: Duration,
}

impl Limited {
    /// `retry_after` in whole seconds, at least 1 (for a `Retry-After` header).
    pub fn retry_after_secs(&self) -> u64 {
        let d = self.retry_after;
        (d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1)
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    level: f64,
    at: Instant,
}

impl Bucket {
    fn full(rate: Rate, now: Instant) -> Bucket {
        Bucket {
            level: rate.burst,
            at: now,
        }
    }

    fn refill(&mut self, rate: Rate, now: Instant) {
        if now > self.at {
            let elapsed = now.duration_since(self.at).as_secs_f64();
            self.level = (self.level + elapsed * rate.per_sec).min(rate.burst);
            self.at = now;
        }
    }

    /// How long until `cost` is there (zero: now). A bucket in debt waits even for 0.
    fn wait(&self, rate: Rate, cost: f64) -> Duration {
        if !rate.enabled() || (self.level >= cost && self.level >= 0.0) {
            return Duration::ZERO;
        }
        let missing = cost.max(0.0) - self.level;
        Duration::try_from_secs_f64(missing / rate.per_sec).unwrap_or(Duration::MAX)
    }

    /// Takes `cost`; the bucket may go into debt, at most one burst deep.
    fn take(&mut self, rate: Rate, cost: f64) {
        if rate.enabled() {
            self.level = (self.level - cost).max(-rate.burst);
        }
    }

    fn is_full(&self, rate: Rate) -> bool {
        !rate.enabled() || self.level >= rate.burst
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    requests: Bucket,
    bytes: Bucket,
    seen: Instant,
}

impl Entry {
    fn new(limits: &KeyLimits, now: Instant) -> Entry {
        Entry {
            requests: Bucket::full(limits.requests, now),
            bytes: Bucket::full(limits.bytes, now),
            seen: now,
        }
    }

    fn refill(&mut self, limits: &KeyLimits, now: Instant) {
        self.requests.refill(limits.requests, now);
        self.bytes.refill(limits.bytes, now);
    }

    /// How long until one request of `bytes` fits (a cost larger than a burst needs a full
    /// bucket, not more than it can ever hold).
    fn wait(&self, limits: &KeyLimits, bytes: u64) -> Duration {
        let bytes = (bytes as f64).min(limits.bytes.burst);
        self.requests
            .wait(limits.requests, limits.requests.burst.min(1.0))
            .max(self.bytes.wait(limits.bytes, bytes))
    }

    fn take(&mut self, limits: &KeyLimits, bytes: u64) {
        self.requests
            .take(limits.requests, limits.requests.burst.min(1.0));
        self.bytes
            .take(limits.bytes, (bytes as f64).min(limits.bytes.burst));
    }

    fn is_idle(&self, limits: &KeyLimits) -> bool {
        self.requests.is_full(limits.requests) && self.bytes.is_full(limits.bytes)
    }
}

/// The buckets of one kind of key, at most `cap` of them.
#[derive(Debug)]
struct Table<K> {
    limits: KeyLimits,
    entries: HashMap<K, Entry>,
    cap: usize,
    swept: Instant,
}

impl<K: Hash + Eq> Table<K> {
    fn new(limits: KeyLimits, cap: usize, now: Instant) -> Table<K> {
        Table {
            limits,
            entries: HashMap::new(),
            cap: cap.max(1),
            swept: now,
        }
    }

    /// The entry of `key`, refilled to `now`; a new key gets full buckets, after room is made.
    fn get(&mut self, key: K, now: Instant) -> &mut Entry {
        if now.saturating_duration_since(self.swept) >= SWEEP_EVERY {
            self.sweep(now);
        }
        if !self.entries.contains_key(&key) && self.entries.len() >= self.cap {
            self.sweep(now);
            if self.entries.len() >= self.cap {
                self.evict_least_recent();
            }
        }
        let limits = self.limits;
        let entry = self
            .entries
            .entry(key)
            .or_insert_with(|| Entry::new(&limits, now));
        entry.refill(&limits, now);
        entry.seen = entry.seen.max(now);
        entry
    }

    /// Drops the entries whose buckets are full again: they are the same as new ones.
    fn sweep(&mut self, now: Instant) {
        let limits = self.limits;
        self.entries.retain(|_, e| {
            e.refill(&limits, now);
            !e.is_idle(&limits)
        });
        self.swept = now;
    }

    /// Drops the least recently seen eighth (at least one), so that a full table makes room
    /// for many new keys at the cost of one pass.
    fn evict_least_recent(&mut self) {
        let count = (self.entries.len() / 8).max(1);
        let mut seen: Vec<Instant> = self.entries.values().map(|e| e.seen).collect();
        if seen.is_empty() {
            return;
        }
        let (_, threshold, _) = seen.select_nth_unstable(count - 1);
        let threshold = *threshold;
        let mut left = count;
        self.entries.retain(|_, e| {
            if left > 0 && e.seen <= threshold {
                left -= 1;
                false
            } else {
                true
            }
        });
    }
}

/// The rate limiter of browser tokens, shared by every listener that admits them.
#[derive(Debug)]
pub struct BrowserLimiter {
    limits: RateLimits,
    addresses: Mutex<Table<IpAddr>>,
    tokens: Mutex<Table<String>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The key of a client address: IPv4 as it is, IPv6 by its /64 (one subscriber's network;
/// a host picks addresses within it at will), IPv4-mapped IPv6 as the IPv4 address.
pub fn address_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(bits.into())
        }
        v4 => v4,
    }
}

impl BrowserLimiter {
    pub fn new(limits: RateLimits) -> BrowserLimiter {
        let now = Instant::now();
        BrowserLimiter {
            addresses: Mutex::new(Table::new(limits.per_address, limits.max_addresses, now)),
            tokens: Mutex::new(Table::new(limits.per_token, MAX_TOKENS, now)),
            limits,
        }
    }

    pub fn limits(&self) -> &RateLimits {
        &self.limits
    }

    /// Admits one request of browser token `token` (its id) from `client`, declaring `bytes`
    /// (its `Content-Length`; `None` when it has none: then [`Self::charge_bytes`] charges
    /// them as they arrive).
    pub fn admit(&self, token: &str, client: IpAddr, bytes: Option<u64>) -> Result<(), Limited> {
        self.admit_at(token, client, bytes, Instant::now())
    }

    /// [`Self::admit`] at `now`.
    pub fn admit_at(
        &self,
        token: &str,
        client: IpAddr,
        bytes: Option<u64>,
        now: Instant,
    ) -> Result<(), Limited> {
        let bytes = bytes.unwrap_or(0);
        let by_address = self.limits.per_address.enabled();
        let by_token = self.limits.per_token.enabled();
        // Always addresses, then tokens: the one lock order.
        let mut addresses = by_address.then(|| lock(&self.addresses));
        let mut tokens = by_token.then(|| lock(&self.tokens));
        let address = addresses
            .as_mut()
            .map(|t| (t.limits, t.get(address_key(client), now)));
        if let Some((limits, entry)) = &address {
            let wait = entry.wait(limits, bytes);
            if !wait.is_zero() {
                return Err(Limited {
                    by: LimitedBy::Address,
                    retry_after: wait,
                });
            }
        }
        let token = tokens
            .as_mut()
            .map(|t| (t.limits, t.get(token.to_string(), now)));
        if let Some((limits, entry)) = &token {
            let wait = entry.wait(limits, bytes);
            if !wait.is_zero() {
                return Err(Limited {
                    by: LimitedBy::Token,
                    retry_after: wait,
                });
            }
        }
        for (limits, entry) in address.into_iter().chain(token) {
            entry.take(&limits, bytes);
        }
        Ok(())
    }

    /// Charges `bytes` of an admitted request that declared no length; the buckets may go
    /// into debt, which the next requests wait out.
    pub fn charge_bytes(&self, token: &str, client: IpAddr, bytes: u64) {
        self.charge_bytes_at(token, client, bytes, Instant::now());
    }

    /// [`Self::charge_bytes`] at `now`.
    pub fn charge_bytes_at(&self, token: &str, client: IpAddr, bytes: u64, now: Instant) {
        let bytes = bytes as f64;
        if self.limits.per_address.bytes.enabled() {
            let mut t = lock(&self.addresses);
            let rate = t.limits.bytes;
            t.get(address_key(client), now).bytes.take(rate, bytes);
        }
        if self.limits.per_token.bytes.enabled() {
            let mut t = lock(&self.tokens);
            let rate = t.limits.bytes;
            t.get(token.to_string(), now).bytes.take(rate, bytes);
        }
    }

    /// How many client addresses are tracked now.
    pub fn tracked_addresses(&self) -> usize {
        lock(&self.addresses).entries.len()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn requests_only(address: Rate, token: Rate) -> RateLimits {
        RateLimits {
            per_address: KeyLimits {
                requests: address,
                bytes: Rate::OFF,
            },
            per_token: KeyLimits {
                requests: token,
                bytes: Rate::OFF,
            },
            max_addresses: 1000,
        }
    }

    /// How many of `n` requests at `now` are admitted.
    fn admitted(l: &BrowserLimiter, token: &str, client: &str, n: usize, now: Instant) -> usize {
        (0..n)
            .filter(|_| l.admit_at(token, ip(client), Some(100), now).is_ok())
            .count()
    }

    #[test]
    fn a_burst_passes_then_requests_wait_for_the_refill() {
        let l = BrowserLimiter::new(requests_only(Rate::new(10.0, 5.0), Rate::OFF));
        let t0 = Instant::now();
        assert_eq!(admitted(&l, "t", "192.0.2.1", 20, t0), 5);
        let refused = l.admit_at("t", ip("192.0.2.1"), None, t0).unwrap_err();
        assert_eq!(refused.by, LimitedBy::Address);
        // One request comes back every 100 ms.
        assert_eq!(refused.retry_after, Duration::from_millis(100));
        assert_eq!(refused.retry_after_secs(), 1);
        let t1 = t0 + Duration::from_millis(250);
        assert_eq!(admitted(&l, "t", "192.0.2.1", 20, t1), 2);
        // Never more than the burst, however long the client was away.
        let t2 = t1 + Duration::from_secs(3600);
        assert_eq!(admitted(&l, "t", "192.0.2.1", 20, t2), 5);
    }

    #[test]
    fn each_address_has_its_own_bucket_and_the_token_caps_them_all() {
        let l = BrowserLimiter::new(requests_only(Rate::new(1.0, 3.0), Rate::new(1.0, 7.0)));
        let t0 = Instant::now();
        assert_eq!(admitted(&l, "t", "192.0.2.1", 10, t0), 3);
        assert_eq!(admitted(&l, "t", "192.0.2.2", 10, t0), 3);
        // The token has one request left for the third address.
        assert_eq!(admitted(&l, "t", "192.0.2.3", 10, t0), 1);
        let refused = l.admit_at("t", ip("192.0.2.4"), Some(1), t0).unwrap_err();
        assert_eq!(refused.by, LimitedBy::Token);
        // Another token is not held back by this one, an address is by any token.
        assert_eq!(admitted(&l, "u", "192.0.2.5", 10, t0), 3);
        let refused = l.admit_at("u", ip("192.0.2.1"), Some(1), t0).unwrap_err();
        assert_eq!(refused.by, LimitedBy::Address);
    }

    #[test]
    fn a_refusal_by_the_address_takes_nothing_from_the_token() {
        let l = BrowserLimiter::new(requests_only(Rate::new(1.0, 2.0), Rate::new(1.0, 4.0)));
        let t0 = Instant::now();
        // One address hammering: 2 admitted, 98 refused, the token keeps 2 for others.
        assert_eq!(admitted(&l, "t", "192.0.2.1", 100, t0), 2);
        assert_eq!(admitted(&l, "t", "192.0.2.2", 100, t0), 2);
    }

    #[test]
    fn bytes_are_limited_and_a_large_request_needs_only_a_full_bucket() {
        let limits = RateLimits {
            per_address: KeyLimits {
                requests: Rate::OFF,
                bytes: Rate::new(1000.0, 4000.0),
            },
            per_token: KeyLimits::OFF,
            max_addresses: 10,
        };
        let l = BrowserLimiter::new(limits);
        let a = ip("192.0.2.1");
        let t0 = Instant::now();
        assert!(l.admit_at("t", a, Some(3000), t0).is_ok());
        let refused = l.admit_at("t", a, Some(3000), t0).unwrap_err();
        assert_eq!(refused.retry_after, Duration::from_secs(2));
        assert_eq!(refused.retry_after_secs(), 2);
        // Larger than the burst: admitted once the bucket is full, not never.
        let t1 = t0 + Duration::from_secs(2);
        assert!(l.admit_at("t", a, Some(1 << 30), t1).is_err());
        let t2 = t0 + Duration::from_secs(3);
        assert!(l.admit_at("t", a, Some(1 << 30), t2).is_ok());
        // Bodies without a length are charged as they arrive, into debt.
        let t3 = t2 + Duration::from_secs(4);
        assert!(l.admit_at("t", a, None, t3).is_ok());
        l.charge_bytes_at("t", a, 6000, t3);
        let refused = l.admit_at("t", a, None, t3).unwrap_err();
        assert_eq!(refused.retry_after, Duration::from_secs(2));
        assert!(
            l.admit_at("t", a, None, t3 + Duration::from_secs(2))
                .is_ok()
        );
    }

    #[test]
    fn ipv6_clients_share_their_64_and_mapped_ipv4_is_ipv4() {
        assert_eq!(
            address_key(ip("2001:db8:1:2:aaaa::1")),
            ip("2001:db8:1:2::")
        );
        assert_ne!(
            address_key(ip("2001:db8:1:2::1")),
            address_key(ip("2001:db8:1:3::1"))
        );
        assert_eq!(address_key(ip("::ffff:192.0.2.9")), ip("192.0.2.9"));
        let l = BrowserLimiter::new(requests_only(Rate::new(1.0, 2.0), Rate::OFF));
        let t0 = Instant::now();
        assert_eq!(admitted(&l, "t", "2001:db8::1", 1, t0), 1);
        assert_eq!(admitted(&l, "t", "2001:db8::ffff:2", 5, t0), 1);
    }

    #[test]
    fn idle_addresses_are_dropped_once_their_buckets_are_full() {
        // One request back every ten seconds.
        let l = BrowserLimiter::new(requests_only(Rate::new(0.1, 5.0), Rate::OFF));
        let t0 = Instant::now();
        for i in 0..50 {
            assert!(
                l.admit_at("t", ip(&format!("10.0.0.{i}")), None, t0)
                    .is_ok()
            );
        }
        assert_eq!(l.tracked_addresses(), 50);
        // Ten seconds on, their buckets are full again: the sweep drops them all.
        let later = t0 + SWEEP_EVERY;
        assert_eq!(admitted(&l, "t", "10.0.2.2", 5, later), 5);
        assert_eq!(l.tracked_addresses(), 1);
        assert_eq!(admitted(&l, "t", "10.0.1.1", 1, later), 1);
        assert_eq!(l.tracked_addresses(), 2);
        // Another ten seconds: 10.0.1.1 is full again, 10.0.2.2 (emptied) is not and keeps
        // its bucket with the one request it got back.
        let much_later = later + SWEEP_EVERY;
        assert_eq!(admitted(&l, "t", "10.0.3.3", 1, much_later), 1);
        assert_eq!(l.tracked_addresses(), 2);
        assert_eq!(admitted(&l, "t", "10.0.2.2", 5, much_later), 1);
    }

    #[test]
    fn the_address_table_never_holds_more_than_its_cap() {
        let limits = RateLimits {
            max_addresses: 64,
            ..requests_only(Rate::new(1.0, 3.0), Rate::OFF)
        };
        let l = BrowserLimiter::new(limits);
        let t0 = Instant::now();
        let mut max = 0;
        for i in 0..1000u32 {
            // Every address busy (not idle), a millisecond apart.
            let at = t0 + Duration::from_millis(u64::from(i));
            let a = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            assert!(l.admit_at("t", a, None, at).is_ok());
            max = max.max(l.tracked_addresses());
        }
        assert_eq!(max, 64);
        // The most recent address kept its bucket (2 of 3 left), the oldest were dropped
        // (a dropped one starts full again).
        let now = t0 + Duration::from_millis(1000);
        let newest = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + 999));
        assert_eq!(
            (0..10)
                .filter(|_| l.admit_at("t", newest, None, now).is_ok())
                .count(),
            2
        );
        let oldest = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000));
        assert_eq!(
            (0..10)
                .filter(|_| l.admit_at("t", oldest, None, now).is_ok())
                .count(),
            3
        );
    }

    #[test]
    fn limits_turned_off_admit_everything() {
        let l = BrowserLimiter::new(requests_only(Rate::OFF, Rate::OFF));
        let t0 = Instant::now();
        assert_eq!(admitted(&l, "t", "192.0.2.1", 10_000, t0), 10_000);
        assert_eq!(l.tracked_addresses(), 0);
        assert_eq!(Rate::new(5.0, 0.0).burst, 5.0);
        assert_eq!(Rate::new(f64::NAN, 3.0).per_sec, 0.0);
    }
}
