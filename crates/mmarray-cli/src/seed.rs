//! Seeds of random fills: the given one, or one that differs from run to run,
//! printed so that the fill can be repeated.

use std::io::Write;

/// A seed that differs from run to run.
pub(crate) fn random_seed() -> u64 {
    use std::hash::BuildHasher;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    std::collections::hash_map::RandomState::new().hash_one((nanos, std::process::id()))
}

/// The seed to use: the given one, or a random one (then `true`: to be printed).
pub(crate) fn seed_or_random(seed: Option<u64>) -> (u64, bool) {
    seed.map_or_else(|| (random_seed(), true), |seed| (seed, false))
}

/// Prints a seed that was not given on stderr, so that the fill can be repeated.
pub(crate) fn announce_seed((seed, random): (u64, bool)) {
    if random {
        let _ = writeln!(std::io::stderr(), "seed: {seed}");
    }
}
