//! Every argon2id computation of videoreg, citizens' and staff's, runs here, on a bounded
//! pool: at most one per core at once (a semaphore in front of `spawn_blocking`), so that
//! a burst of sign-ins costs at most cores × 19 MiB and never blocks the async workers.
//!
//! Before a request may queue for the pool it is admitted for its client address
//! ([`HashPool::admit`]): one address may have only so many password checks waiting or
//! running at once. A request over that is refused at once, before any work or allocation
//! (the caller answers 429 with `Retry-After`). The computations themselves take an
//! [`Admitted`], so none can run unadmitted.
//!
//! The 19 MiB of memory a computation works in belongs to the pool: one buffer per permit,
//! made on first use and reused by every later computation, so a stream of sign-ins does
//! not allocate and free 19 MiB each (which the allocator, fragmented by the connections
//! around it, kept as resident memory: hundreds of MB after 150 checks).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use std::sync::{Mutex, PoisonError};

use argon2::password_hash::phc::{Output, ParamsString, Salt};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, Version};
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
    /// Working memory not in use, one buffer per computation that has run at once.
    memory: Mutex<Vec<Vec<Block>>>,
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
                memory: Mutex::default(),
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

    /// The argon2id PHC string of `password`, salted (argon2 0.6's defaults: 19 MiB, 2
    /// passes, one lane, 32 bytes).
    pub async fn hash(&self, _admitted: &Admitted, password: String) -> Result<String, Error> {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|e| Error::PasswordHash(e.to_string()))?;
        self.run(move |memory| hash_with(memory, password.as_bytes(), &salt))
            .await?
            .map_err(|e| Error::PasswordHash(e.to_string()))
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
            .run(move |memory| verify_with(memory, password.as_bytes(), &phc))
            .await?;
        Ok(known && matches)
    }

    /// Runs `work` on a blocking thread, with a working-memory buffer of the pool, once a
    /// permit is free. The permit moves into the thread, so that it is held until the
    /// computation ends even if the request is dropped.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T, Error> {
        let permit = Arc::clone(&self.inner.running)
            .acquire_owned()
            .await
            .map_err(|e| Error::Internal(format!("password pool closed: {e}")))?;
        self.inner.runs.fetch_add(1, Ordering::Relaxed);
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let spare = inner
                .memory
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop();
            let mut memory = spare.unwrap_or_default();
            let result = work(&mut memory);
            inner
                .memory
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(memory);
            drop(permit);
            result
        })
        .await
        .map_err(|e| Error::PasswordHash(e.to_string()))
    }
}

/// Computes `argon2` into `out` in `memory`, grown to the blocks the parameters need.
fn compute(
    argon2: &Argon2<'_>,
    memory: &mut Vec<Block>,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), argon2::Error> {
    let blocks = argon2.params().block_count();
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    argon2.hash_password_into_with_memory(password, salt, out, &mut memory[..])
}

/// The PHC string of an argon2id hash of `password` with `salt` and the default parameters.
fn hash_with(
    memory: &mut Vec<Block>,
    password: &[u8],
    salt: &[u8],
) -> Result<String, argon2::password_hash::Error> {
    let params = Params::default();
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    compute(&argon2, memory, password, salt, &mut out)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params)?,
        salt: Some(Salt::new(salt)?),
        hash: Some(Output::new(&out)?),
    };
    Ok(phc.to_string())
}

/// Whether `password` hashes to the PHC string `phc` (any argon2 variant, version and
/// parameters it names); a malformed string never matches.
fn verify_with(memory: &mut Vec<Block>, password: &[u8], phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return false;
    };
    let algorithm = Algorithm::try_from(parsed.algorithm.as_str());
    let version = parsed
        .version
        .map_or(Ok(Version::default()), Version::try_from);
    let (Ok(algorithm), Ok(version), Ok(params)) = (algorithm, version, Params::try_from(&parsed))
    else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    compute(
        &Argon2::new(algorithm, version, params),
        memory,
        password,
        salt.as_ref(),
        &mut out,
    )
    .is_ok()
        && store::secrets::constant_time_eq(&out, expected.as_bytes())
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

    #[tokio::test]
    async fn hashes_agree_with_the_argon2_crates_own_format_both_ways() {
        use argon2::{PasswordHasher, PasswordVerifier};
        let pool = HashPool::new(1, 1);
        let admitted = pool.admit("10.0.0.1").expect("admitted");
        let theirs = Argon2::default()
            .hash_password(b"frase de siempre")
            .map(|h| h.to_string())
            .expect("hash");
        let verify = |pw: &str, phc: &str| pool.verify(&admitted, pw.into(), Some(phc.to_owned()));
        assert!(verify("frase de siempre", &theirs).await.expect("verify"));
        assert!(!verify("frase de nunca", &theirs).await.expect("verify"));
        let ours = pool
            .hash(&admitted, "frase de siempre".into())
            .await
            .expect("hash");
        assert!(
            Argon2::default()
                .verify_password(b"frase de siempre", ours.as_str())
                .is_ok()
        );
        assert_eq!(
            pool.inner.memory.lock().map(|m| m.len()).unwrap_or(9),
            1,
            "one buffer, reused"
        );
    }

    #[test]
    fn the_dummy_hash_costs_what_a_real_one_costs() {
        use argon2::PasswordHasher;
        let real = Argon2::default()
            .hash_password(b"Cuaderno-azul-7")
            .map(|h| h.to_string())
            .expect("hash");
        let params = |phc: &str| phc.rsplitn(3, '$').nth(2).map(str::to_owned);
        assert_eq!(params(DUMMY_HASH), params(&real), "same algorithm and cost");
    }
}
