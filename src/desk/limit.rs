//! A per-client rate limit for the public status page (`web.status_requests_per_minute`; SPEC
//! "Officers' desk": over the limit, 429), so tracking codes cannot be guessed by brute force.
//!
//! Built on `governor`'s keyed GCRA limiter: each client may make `per_minute` requests in a
//! burst, then one more each `60 s / per_minute`. Clients are keyed by address, and IPv6 clients
//! by their /64, as one subscriber usually holds a whole /64 and could otherwise rotate through
//! it. Memory stays bounded: a client's entry is forgotten once it has been quiet for a minute
//! (swept every [`SWEEP_EVERY`] checks, or by [`PerClient::housekeep`] from a timer), and while
//! more than [`MAX_CLIENTS`] clients are remembered, new requests are turned away until the
//! oldest entries expire: under a flood of distinct addresses the page degrades, the process
//! does not grow.

use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};

/// Sweep forgotten clients after this many checks.
pub const SWEEP_EVERY: u64 = 1024;

/// At most this many clients are remembered (some megabytes).
pub const MAX_CLIENTS: usize = 100_000;

/// Over the limit: try again after this long (for the `Retry-After` header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub Duration);

impl RetryAfter {
    /// Whole seconds, rounded up and at least 1, as `Retry-After` wants.
    pub fn seconds(&self) -> u64 {
        let s = self.0.as_secs() + u64::from(self.0.subsec_nanos() > 0);
        s.max(1)
    }
}

type Limiter<C> =
    RateLimiter<IpAddr, DashMapStateStore<IpAddr>, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// Requests per minute per client address.
pub struct PerClient<C: Clock = DefaultClock> {
    limiter: Limiter<C>,
    checks: AtomicU64,
    max_clients: usize,
    period: Duration,
}

impl PerClient {
    pub fn new(per_minute: NonZeroU32) -> PerClient {
        PerClient::with_clock(per_minute, DefaultClock::default(), MAX_CLIENTS)
    }
}

impl<C: Clock> PerClient<C> {
    /// With a given clock (a fake one in tests) and bound on remembered clients.
    pub fn with_clock(per_minute: NonZeroU32, clock: C, max_clients: usize) -> PerClient<C> {
        let quota = Quota::per_minute(per_minute);
        PerClient {
            period: quota.replenish_interval(),
            limiter: RateLimiter::dashmap_with_clock(quota, clock),
            checks: AtomicU64::new(0),
            max_clients,
        }
    }

    /// Count one request from `client`; `Err` when it is over its limit.
    pub fn check(&self, client: IpAddr) -> Result<(), RetryAfter> {
        let n = self.checks.fetch_add(1, Ordering::Relaxed);
        if n % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.housekeep();
        }
        if self.limiter.len() >= self.max_clients {
            self.housekeep();
            if self.limiter.len() >= self.max_clients {
                return Err(RetryAfter(self.period));
            }
        }
        self.limiter
            .check_key(&key(client))
            .map_err(|not_until| RetryAfter(not_until.wait_time_from(self.limiter.clock().now())))
    }

    /// Forget clients whose limit has fully recovered, and give the memory back.
    pub fn housekeep(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }

    /// Clients remembered now.
    pub fn clients(&self) -> usize {
        self.limiter.len()
    }
}

/// The address a limit applies to: IPv4 as is (also when mapped into IPv6), IPv6 by its /64.
fn key(client: IpAddr) -> IpAddr {
    match client.to_canonical() {
        IpAddr::V6(a) => IpAddr::V6(Ipv6Addr::from(u128::from(a) & (u128::MAX << 64))),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use governor::clock::FakeRelativeClock;

    use super::*;

    fn limiter(
        per_minute: u32,
        max_clients: usize,
    ) -> (PerClient<FakeRelativeClock>, FakeRelativeClock) {
        let clock = FakeRelativeClock::default();
        let per_minute = NonZeroU32::new(per_minute).unwrap();
        (
            PerClient::with_clock(per_minute, clock.clone(), max_clients),
            clock,
        )
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_client_over_its_limit_is_told_when_to_come_back() {
        let (limit, clock) = limiter(3, MAX_CLIENTS);
        let client = ip("203.0.113.7");
        for _ in 0..3 {
            assert_eq!(limit.check(client), Ok(()));
        }
        let Err(retry) = limit.check(client) else {
            panic!("the fourth request in a minute passed");
        };
        assert_eq!(retry.0, Duration::from_secs(20));
        assert_eq!(retry.seconds(), 20);
        clock.advance(Duration::from_secs(20));
        assert_eq!(limit.check(client), Ok(()));
        assert!(limit.check(client).is_err());
    }

    #[test]
    fn one_clients_flood_does_not_lock_out_another() {
        let (limit, _) = limiter(2, MAX_CLIENTS);
        for _ in 0..10 {
            let _ = limit.check(ip("203.0.113.7"));
        }
        assert_eq!(limit.check(ip("198.51.100.1")), Ok(()));
        assert!(limit.check(ip("::ffff:203.0.113.7")).is_err());
    }

    #[test]
    fn ipv6_clients_share_the_limit_of_their_64() {
        let (limit, _) = limiter(2, MAX_CLIENTS);
        assert_eq!(limit.check(ip("2001:db8:1:2::1")), Ok(()));
        assert_eq!(limit.check(ip("2001:db8:1:2:ffff::9")), Ok(()));
        assert!(limit.check(ip("2001:db8:1:2::abcd")).is_err());
        assert_eq!(limit.check(ip("2001:db8:1:3::1")), Ok(()));
    }

    #[test]
    fn quiet_clients_are_forgotten() {
        let (limit, clock) = limiter(30, MAX_CLIENTS);
        for i in 0..5000u32 {
            limit
                .check(IpAddr::from((0x0a00_0000 + i).to_be_bytes()))
                .unwrap();
        }
        assert_eq!(limit.clients(), 5000);
        clock.advance(Duration::from_secs(61));
        limit.housekeep();
        assert_eq!(limit.clients(), 0);
    }

    #[test]
    fn sweeping_happens_without_a_timer() {
        let (limit, clock) = limiter(30, MAX_CLIENTS);
        for i in 0..1000u32 {
            limit
                .check(IpAddr::from((0x0a00_0000 + i).to_be_bytes()))
                .unwrap();
        }
        clock.advance(Duration::from_secs(61));
        for _ in 0..SWEEP_EVERY {
            let _ = limit.check(ip("203.0.113.7"));
        }
        assert!(limit.clients() < 10, "{}", limit.clients());
    }

    #[test]
    fn a_flood_of_new_addresses_is_turned_away_instead_of_growing_memory() {
        let (limit, clock) = limiter(30, 100);
        for i in 0..100u32 {
            limit
                .check(IpAddr::from((0x0a00_0000 + i).to_be_bytes()))
                .unwrap();
        }
        let Err(retry) = limit.check(ip("203.0.113.7")) else {
            panic!("the 101st client was remembered");
        };
        assert_eq!(retry.0, Duration::from_secs(2));
        assert_eq!(limit.clients(), 100);
        clock.advance(Duration::from_secs(61));
        assert_eq!(limit.check(ip("203.0.113.7")), Ok(()));
        assert_eq!(limit.clients(), 1);
    }
}
