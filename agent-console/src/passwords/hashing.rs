//! Every argon2id computation of videoreg, citizens' and staff's, runs here, on a bounded
//! pool: at most one per core at once (a semaphore in front of `spawn_blocking`), so that
//! a burst of sign-ins costs at most cores × 19 MiB and never blocks the async workers.
//!
//! Before a request may queue for the pool it is admitted for its client address
//! ([`HashPool::admit`]): one address may have only so many password checks waiting or
//! running at once. A request over that is refused at once, before any work or allocation
//! (the caller answers 429 with `Retry-After`). The computations themselves take an
//! [`Admitted`], so none can run unadmitted.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use signaling::per_address::{AddressSlot, PerAddress};
use tokio::sync::Semaphore;

use super::MAX_BYTES;
use crate::Error;

/// Verified against when there is no stored hash, so that the work is the same: an argon2id
/// hash (the same parameters as real ones: 19 MiB, 2 passes) of a password nobody kept.
pub const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$TZdHVbF75bubUfjIvGbmrg$rrUHwZp3/sHcQWautc22fwRMgz5wtXkQ1n3BtG3Hl2k";

/// Seconds a client refused for too many checks at once is told to wait (`Retry-After`).
pub const RETRY_AFTER_SECS: u32 = 1;

/// The bounded pool of password computations. Cheap to clone; clones share the pool.
#[derive(Debug, Clone)]
pub struct HashPool {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// One permit per computation allowed at once.
    running: Arc<Semaphore>,
    /// Checks admitted (waiting or running) per client address.
    admitted: PerAddress,
    /// Computations started so far.
    runs: AtomicU64,
}

/// A client address's admission to the pool; given back when dropped.
#[derive(Debug)]
pub struct Admitted {
    _slot: AddressSlot,
}

impl HashPool {
    /// A pool of `threads` computations at once (at least one), admitting `per_address`
    /// checks per client address.
    pub fn new(threads: usize, per_address: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                running: Arc::new(Semaphore::new(threads.max(1))),
                admitted: PerAddress::new(per_address),
                runs: AtomicU64::new(0),
            }),
        }
    }

    /// A pool with one computation per core, admitting `per_address` checks per address.
    pub fn sized_to_cores(per_address: usize) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Self::new(cores, per_address)
    }

    /// Admits one password check from `addr`, or `None` when that address already has as
    /// many waiting or running as it may: refuse the request then, without hashing.
    pub fn admit(&self, addr: &str) -> Option<Admitted> {
        self.inner
            .admitted
            .try_take(addr)
            .map(|slot| Admitted { _slot: slot })
    }

    /// How many argon2 computations have started since the pool was made.
    pub fn runs(&self) -> u64 {
        self.inner.runs.load(Ordering::Relaxed)
    }

    /// The argon2id PHC string of `password`, salted.
    pub async fn hash(&self, _admitted: &Admitted, password: String) -> Result<String, Error> {
        self.run(move || {
            Argon2::default()
                .hash_password(password.as_bytes())
                .map(|h| h.to_string())
                .map_err(|e| Error::PasswordHash(e.to_string()))
        })
        .await?
    }

    /// Whether `password` matches `stored`, a PHC string; with no stored hash the same work
    /// is done against [`DUMMY_HASH`] and the answer is no. A malformed hash never matches;
    /// a password over 256 bytes is refused without hashing.
    pub async fn verify(
        &self,
        _admitted: &Admitted,
        password: String,
        stored: Option<String>,
    ) -> Result<bool, Error> {
        if password.len() > MAX_BYTES {
            return Ok(false);
        }
        let known = stored.is_some();
        let phc = stored.unwrap_or_else(|| DUMMY_HASH.to_owned());
        let matches = self
            .run(move || {
                Argon2::default()
                    .verify_password(password.as_bytes(), phc.as_str())
                    .is_ok()
            })
            .await?;
        Ok(known && matches)
    }

    /// Runs `work` on a blocking thread once a permit is free. The permit moves into the
    /// thread, so that it is held until the computation ends even if the request is dropped.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Error> {
        let permit = Arc::clone(&self.inner.running)
            .acquire_owned()
            .await
            .map_err(|e| Error::Internal(format!("password pool closed: {e}")))?;
        self.inner.runs.fetch_add(1, Ordering::Relaxed);
        tokio::task::spawn_blocking(move || {
            let result = work();
            drop(permit);
            result
        })
        .await
        .map_err(|e| Error::PasswordHash(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_salted_and_verify() {
        let pool = HashPool::new(1, 1);
        let admitted = pool.admit("10.0.0.1").expect("admitted");
        let h1 = pool
            .hash(&admitted, "lámpara verde".into())
            .await
            .expect("hash");
        let h2 = pool
            .hash(&admitted, "lámpara verde".into())
            .await
            .expect("hash");
        assert!(h1.starts_with("$argon2id$"));
        assert_ne!(h1, h2, "salted");
        let verify = |pw: &str, stored: Option<&str>| {
            pool.verify(&admitted, pw.into(), stored.map(str::to_owned))
        };
        assert!(verify("lámpara verde", Some(&h1)).await.expect("verify"));
        assert!(!verify("lampara verde", Some(&h1)).await.expect("verify"));
        assert!(!verify("x", Some("not a hash")).await.expect("verify"));
        assert!(
            !verify("x", None).await.expect("verify"),
            "the dummy never matches"
        );
        assert_eq!(pool.runs(), 6);
        assert!(!verify(&"x".repeat(300), Some(&h1)).await.expect("verify"));
        assert_eq!(pool.runs(), 6, "an overlong password is not hashed");
    }

    #[test]
    fn an_address_over_its_share_is_refused_and_others_are_admitted() {
        let pool = HashPool::new(1, 2);
        let _a = pool.admit("10.0.0.1").expect("first");
        let b = pool.admit("10.0.0.1").expect("second");
        assert!(pool.admit("10.0.0.1").is_none());
        assert!(pool.admit("10.0.0.2").is_some());
        drop(b);
        assert!(pool.admit("10.0.0.1").is_some());
    }

    #[test]
    fn the_dummy_hash_costs_what_a_real_one_costs() {
        let real = Argon2::default()
            .hash_password(b"Cuaderno-azul-7")
            .map(|h| h.to_string())
            .expect("hash");
        let params = |phc: &str| phc.rsplitn(3, '$').nth(2).map(str::to_owned);
        assert_eq!(params(DUMMY_HASH), params(&real), "same algorithm and cost");
    }
}
