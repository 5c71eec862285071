//! The families of genomes an experiment compares, as operations on the trained genome.
//!
//! | family | rules G, conductance C | expression X | transmitters Q, receptors R | biases |
//! |---|---|---|---|---|
//! | [`Family::Sampled`] | trained | trained | trained | trained |
//! | [`Family::Baseline1`] | fresh | fresh | fresh | fresh |
//! | [`Family::Baseline2`] | trained | fresh | fresh | trained |
//! | [`Family::Control`] | trained | lineage tree | fresh | fresh |
//!
//! "Fresh" blocks are drawn from their initialisers ([`Genome::initialise`]); the control
//! family's expression comes from a [`Lineage`] tree. Each network of a family is then grown
//! once by synaptogenesis.
//!
//! # Streams
//!
//! Network `index` of a family is the unit `code · 2³² + index` ([`Family::unit`]; codes: sampled
//! 0, baseline 1 → 1, baseline 2 → 2, control 3). Its genome is drawn from
//! `rng::stream(seed, Purpose::Init, unit)` (baselines) or `rng::stream(seed, Purpose::Lineage,
//! unit)` (control), and it should be grown with `Synaptogenesis::sample(seed, unit)`, so no
//! two networks of an experiment share a stream (and [`Genome::random`]'s streams, units 0 to
//! 5 of `Purpose::Init`, stay apart too). The sampled family's units are the plain indices.

use serde::{Deserialize, Serialize};

use super::{BlockName, Genome, Lineage, LineageError};
use crate::rng::{self, Purpose, Stream};

/// A family of networks grown from (variations of) a trained genome.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Family {
    /// The trained genome itself.
    Sampled,
    /// Baseline 1: every block freshly initialised (random genetics).
    Baseline1,
    /// Baseline 2: trained rules and conductances; fresh expression, transmitters and
    /// receptors; trained biases.
    Baseline2,
    /// Control: trained rules and conductances; expression from a lineage tree; fresh
    /// transmitters, receptors and biases.
    Control(Lineage),
}

impl Family {
    /// The family's code in [`Family::unit`].
    pub fn code(&self) -> u64 {
        match self {
            Family::Sampled => 0,
            Family::Baseline1 => 1,
            Family::Baseline2 => 2,
            Family::Control(_) => 3,
        }
    }

    /// The family's name in files and reports: `sampled`, `baseline1`, `baseline2`, `control`.
    pub fn name(&self) -> &'static str {
        match self {
            Family::Sampled => "sampled",
            Family::Baseline1 => "baseline1",
            Family::Baseline2 => "baseline2",
            Family::Control(_) => "control",
        }
    }

    /// The unit of network `index` of this family: `code · 2³² + index`, the index of its
    /// genome's stream and of its synaptogenesis stream.
    ///
    /// # Panics
    ///
    /// If `index ≥ 2³²` (a family holds far fewer networks).
    pub fn unit(&self, index: u64) -> u64 {
        assert!(index < 1 << 32, "network index {index} is too large for a family");
        self.code() << 32 | index
    }

    /// The genome of network `index` of this family under the experiment seed `seed` (see the
    /// module docs for its stream).
    ///
    /// # Errors
    ///
    /// If the control family's lineage settings are invalid.
    pub fn genome(&self, trained: &Genome, seed: u64, index: u64) -> Result<Genome, LineageError> {
        let unit = self.unit(index);
        Ok(match self {
            Family::Sampled => trained.clone(),
            Family::Baseline1 => baseline1(trained, &mut rng::stream(seed, Purpose::Init, unit)),
            Family::Baseline2 => baseline2(trained, &mut rng::stream(seed, Purpose::Init, unit)),
            Family::Control(lineage) => {
                control(trained, lineage, &mut rng::stream(seed, Purpose::Lineage, unit))?
            }
        })
    }
}

/// Baseline 1: a copy of `trained` with every block drawn afresh from its initialiser, in
/// [`BlockName::ALL`] order from `rng`. Architecture, rules mask and learnable flags are kept.
pub fn baseline1(trained: &Genome, rng: &mut Stream) -> Genome {
    let mut genome = trained.clone();
    for name in BlockName::ALL {
        genome.initialise(name, rng);
    }
    genome
}

/// Baseline 2: a copy of `trained` with expression, transmitters and receptors drawn afresh
/// (in that order, from `rng`); the rules, conductances and biases stay trained.
pub fn baseline2(trained: &Genome, rng: &mut Stream) -> Genome {
    let mut genome = trained.clone();
    for name in [BlockName::Expression, BlockName::Transmitters, BlockName::Receptors] {
        genome.initialise(name, rng);
    }
    genome
}

/// Control: a copy of `trained` whose raw expression comes from a lineage tree over all
/// neurons (layer after layer, see [`Lineage::expression`]), and whose transmitters,
/// receptors and biases are drawn afresh, in that order after the tree, from `rng`. The rules
/// and conductances stay trained.
///
/// # Errors
///
/// If the lineage settings are invalid.
pub fn control(
    trained: &Genome,
    lineage: &Lineage,
    rng: &mut Stream,
) -> Result<Genome, LineageError> {
    let mut genome = trained.clone();
    let architecture = genome.architecture();
    let tree = lineage.expression(architecture.neurons(), architecture.genes, rng)?;
    let mut first = 0;
    for layer in genome.raw_mut(BlockName::Expression) {
        let neurons = layer.nrows();
        layer.copy_from(&tree.rows(first, neurons));
        first += neurons;
    }
    for name in [BlockName::Transmitters, BlockName::Receptors, BlockName::Biases] {
        genome.initialise(name, rng);
    }
    Ok(genome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::genome::{Architecture, Learnable};

    fn trained() -> Genome {
        Genome::random(Architecture::cartpole(), None, Learnable::all(), 9).unwrap()
    }

    /// Whether every matrix of a block differs from the trained one (`true`) or every matrix is
    /// bit-identical (`false`); panics on a mixture.
    fn changed(trained: &Genome, genome: &Genome, name: BlockName) -> bool {
        let pairs = trained.block(name).raw.iter().zip(&genome.block(name).raw);
        let differs: Vec<bool> = pairs.map(|(a, b)| a != b).collect();
        assert!(differs.iter().all(|&d| d == differs[0]), "{name}: some matrices changed");
        differs[0]
    }

    fn changes(trained: &Genome, genome: &Genome) -> Vec<bool> {
        BlockName::ALL.iter().map(|&name| changed(trained, genome, name)).collect()
    }

    #[test]
    fn baseline1_changes_every_block() {
        let trained = trained();
        let genome = Family::Baseline1.genome(&trained, 1, 0).unwrap();
        assert_eq!(changes(&trained, &genome), [true; 6]);
        assert_eq!(genome.architecture(), trained.architecture());
        assert_eq!(genome.learnable(), trained.learnable());
    }

    #[test]
    fn baseline2_keeps_rules_and_conductance() {
        let trained = trained();
        let genome = Family::Baseline2.genome(&trained, 1, 0).unwrap();
        // Expression, rules, transmitters, receptors, conductance, biases.
        assert_eq!(changes(&trained, &genome), [true, false, true, true, false, false]);
    }

    #[test]
    fn control_keeps_rules_and_conductance_and_grows_expression_from_a_tree() {
        let trained = trained();
        let genome = Family::Control(Lineage::default()).genome(&trained, 1, 0).unwrap();
        assert_eq!(changes(&trained, &genome), [true, false, true, true, false, true]);

        // Neighbouring cells of the hidden layer (siblings in the tree) are more alike than
        // cells from its two halves.
        let hidden = &genome.block(BlockName::Expression).raw[1];
        let distance = |i: usize, j: usize| (hidden.row(i) - hidden.row(j)).norm_squared();
        let neighbours: f64 = (0..64).map(|m| distance(2 * m, 2 * m + 1)).sum();
        let random_pairs: f64 = (0..64).map(|m| distance(m, 127 - m)).sum();
        assert!(neighbours < 0.3 * random_pairs, "{neighbours} vs {random_pairs}");
    }

    #[test]
    fn invalid_lineages_are_reported() {
        let family = Family::Control(Lineage { division_noise: -1.0 });
        assert_eq!(family.genome(&trained(), 1, 0), Err(LineageError::DivisionNoise(-1.0)));
    }

    #[test]
    fn networks_of_a_family_are_reproducible_and_distinct() {
        let trained = trained();
        for family in [Family::Baseline1, Family::Baseline2, Family::Control(Lineage::default())] {
            let a = family.genome(&trained, 4, 7).unwrap();
            assert_eq!(a, family.genome(&trained, 4, 7).unwrap());
            assert_ne!(a, family.genome(&trained, 4, 8).unwrap());
            assert_ne!(a, family.genome(&trained, 5, 7).unwrap());
        }
        assert_eq!(Family::Sampled.genome(&trained, 4, 7).unwrap(), trained);
        assert_eq!(Family::Sampled.unit(7), 7);
        assert_eq!(Family::Control(Lineage::default()).unit(7), 3 << 32 | 7);
    }

    #[test]
    fn families_read_from_experiment_files() {
        let families: Vec<Family> =
            ron::from_str("[Sampled, Baseline1, Baseline2, Control((division_noise: 0.1))]")
                .unwrap();
        assert_eq!(families[3], Family::Control(Lineage { division_noise: 0.1 }));
    }
}
