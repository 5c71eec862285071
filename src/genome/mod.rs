//! The genome: five biological parameter blocks and the biases.
//!
//! Every weight of a network is derived from five quantities, each stored as a *raw* block and
//! mapped to its biological value by a fixed [`Map`]:
//!
//! | block | raw shape | biological value |
//! |---|---|---|
//! | [`BlockName::Expression`] X | per layer, `N_l x g` | `E = X ⊙ X` |
//! | [`BlockName::Rules`] Ĝ | `g x g` | `G = σ(Ĝ / τ)` (or the banded form under a rules mask) |
//! | [`BlockName::Transmitters`] Q | per layer `l < L`, `N_l x k` | row-wise softmax |
//! | [`BlockName::Receptors`] R | per layer `l > 0`, `N_l x 2k` | row-wise softmax |
//! | [`BlockName::Conductance`] Ĉ | `k x 2k` | `C = s · P ⊙ σ(Ĉ)` |
//! | [`BlockName::Biases`] b | per layer `l > 0`, `1 x N_l` | `b` |
//!
//! Each block may be learnable or frozen; only learnable blocks appear in
//! [`Genome::parameters`] and so only they are ever changed by an optimiser.
//!
//! The [`Family`] operations derive the genomes of an experiment's comparison families from a
//! trained genome (the control family through a [`Lineage`] tree).

mod family;
mod file;
mod lineage;
mod map;
mod mask;

pub use family::{Family, baseline1, baseline2, control};
pub use file::{BlockFile, GenomeFile, ReferenceBlocks, ReferenceNetwork, rows_to_matrix};
pub use lineage::{Lineage, LineageError};
pub use map::{Map, polarity};
pub use mask::RulesMask;

use std::fmt;
use std::path::PathBuf;

use nalgebra::DMatrix;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};

use crate::rng::{self, Purpose, Stream};

/// The sizes and fixed constants of a genome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Architecture {
    /// Neurons per layer, input first: `[N_0, ..., N_L]`, at least two layers.
    pub layers: Vec<usize>,
    /// Number of synapse-forming genes `g`.
    pub genes: usize,
    /// Number of neurotransmitters `k` (each has two receptors).
    pub transmitters: usize,
    /// Temperature `τ` of the rule sigmoid.
    pub rules_temperature: f64,
    /// Conductance scale `s`.
    pub conductance_scale: f64,
}

impl Architecture {
    /// The paper's CartPole architecture: layers `[4, 128, 2]`, g = 16, k = 3, τ = 0.1, s = 1.
    pub fn cartpole() -> Self {
        Architecture {
            layers: vec![4, 128, 2],
            genes: 16,
            transmitters: 3,
            rules_temperature: 0.1,
            conductance_scale: 1.0,
        }
    }

    /// Number of connections `L` (layers minus one).
    pub fn connections(&self) -> usize {
        self.layers.len().saturating_sub(1)
    }

    /// Total number of neurons `N = Σ N_l`.
    pub fn neurons(&self) -> usize {
        self.layers.iter().sum()
    }

    /// Checks the rules every architecture must follow.
    pub fn check(&self) -> Result<(), GenomeError> {
        let rule = |ok: bool, rule: &str| {
            if ok { Ok(()) } else { Err(GenomeError::Architecture(rule.into())) }
        };
        rule(self.layers.len() >= 2, "a network needs at least two layers (input and output)")?;
        rule(self.layers.iter().all(|&n| n > 0), "every layer needs at least one neuron")?;
        rule(self.genes > 0, "genes must be at least 1")?;
        rule(self.transmitters > 0, "transmitters must be at least 1")?;
        rule(
            self.rules_temperature.is_finite() && self.rules_temperature > 0.0,
            "rules_temperature must be a positive number",
        )?;
        rule(
            self.conductance_scale.is_finite() && self.conductance_scale > 0.0,
            "conductance_scale must be a positive number",
        )
    }

    /// The expected raw shape `(rows, cols)` of each matrix of a block, in layer order.
    pub fn block_shapes(&self, name: BlockName) -> Vec<(usize, usize)> {
        let (g, k, layers) = (self.genes, self.transmitters, &self.layers);
        match name {
            BlockName::Expression => layers.iter().map(|&n| (n, g)).collect(),
            BlockName::Rules => vec![(g, g)],
            BlockName::Transmitters => layers[..layers.len() - 1].iter().map(|&n| (n, k)).collect(),
            BlockName::Receptors => layers[1..].iter().map(|&n| (n, 2 * k)).collect(),
            BlockName::Conductance => vec![(k, 2 * k)],
            BlockName::Biases => layers[1..].iter().map(|&n| (1, n)).collect(),
        }
    }
}

/// The six parameter blocks of a genome, in their canonical order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BlockName {
    /// Gene expression X, one `N_l x g` matrix per layer.
    Expression,
    /// Genetic rules Ĝ, one `g x g` matrix.
    Rules,
    /// Transmitter logits Q, one `N_l x k` matrix per pre-synaptic layer.
    Transmitters,
    /// Receptor logits R, one `N_l x 2k` matrix per post-synaptic layer.
    Receptors,
    /// Conductance logits Ĉ, one `k x 2k` matrix.
    Conductance,
    /// Biases, one `1 x N_l` matrix per post-synaptic layer.
    Biases,
}

impl BlockName {
    /// All blocks in canonical order (the order of [`Genome::parameters`]).
    pub const ALL: [BlockName; 6] = [
        BlockName::Expression,
        BlockName::Rules,
        BlockName::Transmitters,
        BlockName::Receptors,
        BlockName::Conductance,
        BlockName::Biases,
    ];

    /// The name used in experiment and genome files.
    pub fn as_str(self) -> &'static str {
        match self {
            BlockName::Expression => "expression",
            BlockName::Rules => "rules",
            BlockName::Transmitters => "transmitters",
            BlockName::Receptors => "receptors",
            BlockName::Conductance => "conductance",
            BlockName::Biases => "biases",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for BlockName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which blocks an experiment learns; the others stay frozen at their initial values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Learnable {
    /// Learn the expression X (default true).
    pub expression: bool,
    /// Learn the genetic rules G (default true).
    pub rules: bool,
    /// Learn the transmitters Q (default true).
    pub transmitters: bool,
    /// Learn the receptors R (default true).
    pub receptors: bool,
    /// Learn the conductance C (default true).
    pub conductance: bool,
    /// Learn the biases (default true).
    pub biases: bool,
}

impl Default for Learnable {
    fn default() -> Self {
        Learnable::all()
    }
}

impl Learnable {
    /// Every block learnable.
    pub fn all() -> Self {
        Learnable {
            expression: true,
            rules: true,
            transmitters: true,
            receptors: true,
            conductance: true,
            biases: true,
        }
    }

    /// Whether `name` is learnable.
    pub fn get(&self, name: BlockName) -> bool {
        match name {
            BlockName::Expression => self.expression,
            BlockName::Rules => self.rules,
            BlockName::Transmitters => self.transmitters,
            BlockName::Receptors => self.receptors,
            BlockName::Conductance => self.conductance,
            BlockName::Biases => self.biases,
        }
    }
}

/// One parameter block: its raw matrices (one per layer, or a single shared one) and whether it
/// is learnable.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    /// Raw values, in layer order.
    pub raw: Vec<DMatrix<f64>>,
    /// Whether optimisers may change this block.
    pub learnable: bool,
}

/// The biological values of all blocks (the maps of [`Map`] applied to the raw blocks).
#[derive(Debug, Clone)]
pub struct Biology {
    /// `E_l = X_l ⊙ X_l`, per layer, `N_l x g`.
    pub expression: Vec<DMatrix<f64>>,
    /// Rule probabilities `G`, `g x g`.
    pub rules: DMatrix<f64>,
    /// Transmitter distributions, per pre-synaptic layer, `N_l x k`, rows sum to one.
    pub transmitters: Vec<DMatrix<f64>>,
    /// Receptor distributions, per post-synaptic layer, `N_l x 2k`, rows sum to one.
    pub receptors: Vec<DMatrix<f64>>,
    /// Signed conductances `C`, `k x 2k`.
    pub conductance: DMatrix<f64>,
}

/// A gradient (or any other quantity) with the shape of a genome's raw blocks.
#[derive(Debug, Clone, PartialEq)]
pub struct Gradient {
    /// One list of matrices per block, in [`BlockName::ALL`] order; a frozen block's list is
    /// empty.
    pub blocks: [Vec<DMatrix<f64>>; 6],
}

impl Gradient {
    /// The gradient of one block (empty for a frozen block).
    pub fn block(&self, name: BlockName) -> &[DMatrix<f64>] {
        &self.blocks[name.index()]
    }

    /// The learnable part as one flat vector, in the order of [`Genome::parameters`].
    pub fn flatten(&self) -> Vec<f64> {
        let mut flat = Vec::new();
        for matrices in &self.blocks {
            for m in matrices {
                flat.extend_from_slice(m.as_slice());
            }
        }
        flat
    }
}

/// Errors in building, loading or checking a genome.
#[derive(Debug, thiserror::Error)]
pub enum GenomeError {
    /// The architecture breaks a rule.
    #[error("invalid architecture: {0}")]
    Architecture(String),
    /// A block has the wrong number of matrices.
    #[error("block `{block}` has {found} matrices, expected {expected}")]
    BlockCount {
        /// The block.
        block: BlockName,
        /// Matrices expected.
        expected: usize,
        /// Matrices found.
        found: usize,
    },
    /// A matrix of a block has the wrong shape.
    #[error("block `{block}`, matrix {index}: shape {found:?}, expected {expected:?}")]
    Shape {
        /// The block.
        block: BlockName,
        /// Which matrix (layer order).
        index: usize,
        /// Expected (rows, cols).
        expected: (usize, usize),
        /// Found (rows, cols).
        found: (usize, usize),
    },
    /// A raw value is NaN or infinite.
    #[error("block `{block}`, matrix {index} holds a value that is not finite")]
    NotFinite {
        /// The block.
        block: BlockName,
        /// Which matrix (layer order).
        index: usize,
    },
    /// A rules mask does not fit.
    #[error("rules mask: {0}")]
    Mask(String),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file could not be parsed.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong, with line and column where known.
        message: String,
    },
}

/// A genome: architecture, optional rules mask, and the six parameter blocks.
#[derive(Debug, Clone, PartialEq)]
pub struct Genome {
    architecture: Architecture,
    rules_mask: Option<RulesMask>,
    polarity: DMatrix<f64>,
    blocks: [Block; 6],
}

impl Genome {
    /// A genome with every block drawn from its initialiser (see [`Genome::initialise`]), using
    /// the stream of [`Purpose::Init`] for `seed`.
    pub fn random(
        architecture: Architecture,
        rules_mask: Option<RulesMask>,
        learnable: Learnable,
        seed: u64,
    ) -> Result<Self, GenomeError> {
        architecture.check()?;
        let blocks = BlockName::ALL.map(|name| Block {
            raw: architecture
                .block_shapes(name)
                .iter()
                .map(|&(r, c)| DMatrix::zeros(r, c))
                .collect(),
            learnable: learnable.get(name),
        });
        let mut genome = Genome::from_blocks(architecture, rules_mask, blocks)?;
        for name in BlockName::ALL {
            genome.initialise(name, &mut rng::stream(seed, Purpose::Init, name.index() as u64));
        }
        Ok(genome)
    }

    /// A genome from given raw blocks (in [`BlockName::ALL`] order), checked against the
    /// architecture.
    pub fn from_blocks(
        architecture: Architecture,
        rules_mask: Option<RulesMask>,
        blocks: [Block; 6],
    ) -> Result<Self, GenomeError> {
        architecture.check()?;
        if let Some(mask) = &rules_mask
            && mask.genes() != architecture.genes
        {
            return Err(GenomeError::Mask(format!(
                "mask is {0} x {0} but the genome has {1} genes",
                mask.genes(),
                architecture.genes
            )));
        }
        for (name, block) in BlockName::ALL.iter().zip(&blocks) {
            let shapes = architecture.block_shapes(*name);
            if shapes.len() != block.raw.len() {
                return Err(GenomeError::BlockCount {
                    block: *name,
                    expected: shapes.len(),
                    found: block.raw.len(),
                });
            }
            for (index, (m, &expected)) in block.raw.iter().zip(&shapes).enumerate() {
                let found = (m.nrows(), m.ncols());
                if found != expected {
                    return Err(GenomeError::Shape { block: *name, index, expected, found });
                }
                if m.iter().any(|v| !v.is_finite()) {
                    return Err(GenomeError::NotFinite { block: *name, index });
                }
            }
        }
        let polarity = polarity(architecture.transmitters);
        Ok(Genome { architecture, rules_mask, polarity, blocks })
    }

    /// The architecture.
    pub fn architecture(&self) -> &Architecture {
        &self.architecture
    }

    /// The rules mask, if the genome has biological rules.
    pub fn rules_mask(&self) -> Option<&RulesMask> {
        self.rules_mask.as_ref()
    }

    /// The fixed polarity matrix `P` (`k x 2k`).
    pub fn polarity(&self) -> &DMatrix<f64> {
        &self.polarity
    }

    /// One block.
    pub fn block(&self, name: BlockName) -> &Block {
        &self.blocks[name.index()]
    }

    /// The raw matrices of one block, mutably (shapes must be kept).
    pub fn raw_mut(&mut self, name: BlockName) -> &mut [DMatrix<f64>] {
        &mut self.blocks[name.index()].raw
    }

    /// Marks blocks learnable or frozen.
    pub fn set_learnable(&mut self, learnable: Learnable) {
        for name in BlockName::ALL {
            self.blocks[name.index()].learnable = learnable.get(name);
        }
    }

    /// Which blocks are learnable.
    pub fn learnable(&self) -> Learnable {
        let get = |name: BlockName| self.block(name).learnable;
        Learnable {
            expression: get(BlockName::Expression),
            rules: get(BlockName::Rules),
            transmitters: get(BlockName::Transmitters),
            receptors: get(BlockName::Receptors),
            conductance: get(BlockName::Conductance),
            biases: get(BlockName::Biases),
        }
    }

    /// The map from raw values to biological values of a block.
    pub fn map(&self, name: BlockName) -> Map<'_> {
        let arch = &self.architecture;
        match name {
            BlockName::Expression => Map::Square,
            BlockName::Rules => match &self.rules_mask {
                None => Map::Sigmoid { temperature: arch.rules_temperature },
                Some(mask) => Map::BandedSigmoid { temperature: arch.rules_temperature, mask },
            },
            BlockName::Transmitters | BlockName::Receptors => Map::RowSoftmax,
            BlockName::Conductance => {
                Map::SignedSigmoid { polarity: &self.polarity, scale: arch.conductance_scale }
            }
            BlockName::Biases => Map::Identity,
        }
    }

    /// The variance of the normal initialiser `N(0, variance)` of matrix `index` of a block:
    /// X: `2/g`, Ĝ: `1/g²`, Q: `2/k`, R: `1/k`, Ĉ: `1/(2k²)`, `b_l`: `2/(N_{l-1} + 1)`.
    pub fn init_variance(&self, name: BlockName, index: usize) -> f64 {
        let g = self.architecture.genes as f64;
        let k = self.architecture.transmitters as f64;
        match name {
            BlockName::Expression => 2.0 / g,
            BlockName::Rules => 1.0 / (g * g),
            BlockName::Transmitters => 2.0 / k,
            BlockName::Receptors => 1.0 / k,
            BlockName::Conductance => 1.0 / (2.0 * k * k),
            BlockName::Biases => 2.0 / (self.architecture.layers[index] as f64 + 1.0),
        }
    }

    /// Draws a block afresh from its initialiser (see [`Genome::init_variance`]), matrix by
    /// matrix, each in column-major order.
    pub fn initialise(&mut self, name: BlockName, rng: &mut Stream) {
        for index in 0..self.blocks[name.index()].raw.len() {
            let std = self.init_variance(name, index).sqrt();
            let normal =
                Normal::new(0.0, std).expect("initialiser variance is finite and positive");
            for v in self.blocks[name.index()].raw[index].iter_mut() {
                *v = normal.sample(rng);
            }
        }
    }

    /// The biological values of all blocks.
    pub fn biology(&self) -> Biology {
        let values = |name: BlockName| -> Vec<DMatrix<f64>> {
            let map = self.map(name);
            self.block(name).raw.iter().map(|raw| map.value(raw)).collect()
        };
        Biology {
            expression: values(BlockName::Expression),
            rules: values(BlockName::Rules).remove(0),
            transmitters: values(BlockName::Transmitters),
            receptors: values(BlockName::Receptors),
            conductance: values(BlockName::Conductance).remove(0),
        }
    }

    /// Number of learnable parameters.
    pub fn parameter_count(&self) -> usize {
        self.blocks.iter().filter(|b| b.learnable).flat_map(|b| &b.raw).map(|m| m.len()).sum()
    }

    /// The learnable raw values as one flat vector: blocks in [`BlockName::ALL`] order,
    /// matrices in layer order, each matrix column-major.
    pub fn parameters(&self) -> Vec<f64> {
        let mut flat = Vec::with_capacity(self.parameter_count());
        for block in self.blocks.iter().filter(|b| b.learnable) {
            for m in &block.raw {
                flat.extend_from_slice(m.as_slice());
            }
        }
        flat
    }

    /// Sets the learnable raw values from a flat vector laid out as [`Genome::parameters`].
    ///
    /// # Panics
    ///
    /// If `flat` does not have [`Genome::parameter_count`] entries.
    pub fn set_parameters(&mut self, flat: &[f64]) {
        assert_eq!(flat.len(), self.parameter_count(), "set_parameters: wrong length");
        let mut offset = 0;
        for block in self.blocks.iter_mut().filter(|b| b.learnable) {
            for m in &mut block.raw {
                let len = m.len();
                m.as_mut_slice().copy_from_slice(&flat[offset..offset + len]);
                offset += len;
            }
        }
    }

    /// A gradient of zeros for the learnable blocks (frozen blocks get empty lists).
    pub fn zero_gradient(&self) -> Gradient {
        Gradient {
            blocks: BlockName::ALL.map(|name| {
                let block = self.block(name);
                if block.learnable {
                    block.raw.iter().map(|m| DMatrix::zeros(m.nrows(), m.ncols())).collect()
                } else {
                    Vec::new()
                }
            }),
        }
    }
}
