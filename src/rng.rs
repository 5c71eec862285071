//! Reproducible random streams.
//!
//! Every random draw in synaptogen comes from a [`Stream`], a ChaCha8 generator: portable,
//! seedable and with 2^64 independent streams per key. A unit of parallel work (an episode, a
//! sampled network, an evolution candidate) gets its own stream derived from the experiment's
//! seed, a [`Purpose`] and the unit's index, so the numbers it sees do not depend on which
//! thread runs it or in which order.

use rand::SeedableRng;

/// The generator used throughout synaptogen.
pub type Stream = rand::rngs::ChaCha8Rng;

/// What a family of streams is used for; each purpose gets its own key, so streams of different
/// purposes never overlap even at equal indices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u64)]
pub enum Purpose {
    /// Initialising parameter blocks.
    Init = 1,
    /// Training (exploration, minibatches).
    Training = 2,
    /// Resetting tasks in evaluation episodes.
    Evaluation = 3,
    /// Growing (sampling) networks.
    Synaptogenesis = 4,
    /// Evolution strategies (search noise).
    Evolution = 5,
    /// Lineage trees of the control family.
    Lineage = 6,
    /// Fitting count models to connectomes (folds, restarts).
    Fitting = 7,
    /// Periodic evaluation during training (kept apart from the final evaluation).
    Validation = 8,
}

/// SplitMix64 finaliser: a bijective mix of 64 bits.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The stream for unit `index` of `purpose` under the experiment seed `seed`.
///
/// The key is derived from `(seed, purpose)`, the ChaCha stream number is `index`.
pub fn stream(seed: u64, purpose: Purpose, index: u64) -> Stream {
    let key = mix(mix(seed) ^ (purpose as u64).wrapping_mul(0xD6E8_FEB8_6659_FD93));
    let mut rng = Stream::seed_from_u64(key);
    rng.set_stream(index);
    rng
}

/// A stream for sub-unit `sub` of unit `index` (for example episode `sub` of network `index`).
pub fn substream(seed: u64, purpose: Purpose, index: u64, sub: u64) -> Stream {
    stream(mix(seed ^ mix(index.wrapping_add(0x5851_F42D_4C95_7F2D))), purpose, sub)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: u64 = stream(7, Purpose::Evaluation, 3).random();
        let b: u64 = stream(7, Purpose::Evaluation, 3).random();
        let c: u64 = stream(7, Purpose::Evaluation, 4).random();
        let d: u64 = stream(7, Purpose::Training, 3).random();
        let e: u64 = substream(7, Purpose::Evaluation, 3, 0).random();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
        assert_ne!(a, e);
    }
}
