//! Genome files: the readable RON format synaptogen saves, and the JSON raw-block format of the
//! original Python implementation.

use std::path::Path;

use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

use super::{Architecture, Block, BlockName, Genome, GenomeError, RulesMask};
use crate::files;

/// Matrices as lists of rows, the way both file formats store them.
type Rows = Vec<Vec<f64>>;

fn to_rows(m: &DMatrix<f64>) -> Rows {
    (0..m.nrows()).map(|i| m.row(i).iter().copied().collect()).collect()
}

/// A matrix from rows, or an error naming the block and matrix when the rows are ragged.
fn from_rows(rows: &Rows, block: BlockName, index: usize) -> Result<DMatrix<f64>, GenomeError> {
    let ncols = rows.first().map_or(0, Vec::len);
    if let Some(bad) = rows.iter().position(|r| r.len() != ncols) {
        return Err(GenomeError::Architecture(format!(
            "block `{block}`, matrix {index}: row {bad} has {} entries but row 0 has {ncols}",
            rows[bad].len()
        )));
    }
    Ok(DMatrix::from_fn(rows.len(), ncols, |i, j| rows[i][j]))
}

/// One block as saved: whether it is learnable and its raw matrices as lists of rows.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockFile {
    /// Whether optimisers may change the block.
    pub learnable: bool,
    /// Raw matrices in layer order, each a list of rows.
    pub raw: Vec<Rows>,
}

/// The saved form of a [`Genome`] (what [`Genome::save`] writes as RON).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenomeFile {
    /// Sizes and constants.
    pub architecture: Architecture,
    /// The rules mask as rows of 0/1, if any.
    #[serde(default)]
    pub rules_mask: Option<RulesMask>,
    /// Expression X.
    pub expression: BlockFile,
    /// Rules Ĝ.
    pub rules: BlockFile,
    /// Transmitters Q.
    pub transmitters: BlockFile,
    /// Receptors R.
    pub receptors: BlockFile,
    /// Conductance Ĉ.
    pub conductance: BlockFile,
    /// Biases.
    pub biases: BlockFile,
}

impl GenomeFile {
    fn blocks(&self) -> [&BlockFile; 6] {
        [
            &self.expression,
            &self.rules,
            &self.transmitters,
            &self.receptors,
            &self.conductance,
            &self.biases,
        ]
    }

    /// The genome this file describes, checked.
    pub fn into_genome(self) -> Result<Genome, GenomeError> {
        let mut blocks = Vec::with_capacity(6);
        for (name, file) in BlockName::ALL.iter().zip(self.blocks()) {
            let raw = file
                .raw
                .iter()
                .enumerate()
                .map(|(index, rows)| from_rows(rows, *name, index))
                .collect::<Result<_, _>>()?;
            blocks.push(Block { raw, learnable: file.learnable });
        }
        let blocks: [Block; 6] = blocks.try_into().expect("six blocks");
        Genome::from_blocks(self.architecture, self.rules_mask, blocks)
    }
}

impl Genome {
    /// The saved form of this genome.
    pub fn to_file(&self) -> GenomeFile {
        let block = |name: BlockName| BlockFile {
            learnable: self.block(name).learnable,
            raw: self.block(name).raw.iter().map(to_rows).collect(),
        };
        GenomeFile {
            architecture: self.architecture.clone(),
            rules_mask: self.rules_mask.clone(),
            expression: block(BlockName::Expression),
            rules: block(BlockName::Rules),
            transmitters: block(BlockName::Transmitters),
            receptors: block(BlockName::Receptors),
            conductance: block(BlockName::Conductance),
            biases: block(BlockName::Biases),
        }
    }

    /// The genome as readable RON text: one matrix row per line. Floats are written in their
    /// shortest round-trip form, so [`Genome::from_ron`] restores every bit.
    pub fn to_ron(&self) -> String {
        let config = ron::ser::PrettyConfig::new().depth_limit(4).struct_names(true);
        ron::ser::to_string_pretty(&self.to_file(), config).expect("a genome always serialises")
    }

    /// Parses RON text written by [`Genome::to_ron`]; `path` names the source in errors.
    pub fn from_ron(text: &str, path: &Path) -> Result<Genome, GenomeError> {
        let file: GenomeFile = ron::from_str(text)
            .map_err(|e| GenomeError::Parse { path: path.into(), message: e.to_string() })?;
        file.into_genome()
            .map_err(|e| GenomeError::Parse { path: path.into(), message: e.to_string() })
    }

    /// Saves the genome as RON, atomically.
    pub fn save(&self, path: &Path) -> Result<(), GenomeError> {
        files::write_atomic(path, self.to_ron().as_bytes())
            .map_err(|source| GenomeError::Io { path: path.into(), source })
    }

    /// Loads a genome saved by [`Genome::save`].
    pub fn load(path: &Path) -> Result<Genome, GenomeError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| GenomeError::Io { path: path.into(), source })?;
        Genome::from_ron(&text, path)
    }
}

/// Raw blocks as exported from the original Python implementation.
#[derive(Debug, Clone, Deserialize)]
pub struct ReferenceBlocks {
    /// X, one matrix per layer.
    pub expression: Vec<Rows>,
    /// Q, one matrix per layer but the last.
    pub transmitters: Vec<Rows>,
    /// R, one matrix per layer but the first.
    pub receptors: Vec<Rows>,
    /// One vector per layer but the first.
    pub biases: Vec<Vec<f64>>,
    /// Ĝ.
    pub rules: Rows,
    /// Ĉ.
    pub conductance: Rows,
}

/// A network in the JSON format of the original Python implementation: sizes, constants, raw
/// blocks and, optionally, the outputs that implementation computed from them.
///
/// Keys: `layers`, `genes`, `transmitters`, `rules_temperature`, `conductance_scale`,
/// `rules_mask` (`null` or rows of 0/1), `raw` (see [`ReferenceBlocks`]); optional
/// `expected_counts`, `expected_conductance`, `weights` (one `N_l x N_{l+1}` matrix per
/// connection), `observations` and `outputs` (rows). Matrices are lists of rows.
#[derive(Debug, Clone, Deserialize)]
pub struct ReferenceNetwork {
    /// Neurons per layer.
    pub layers: Vec<usize>,
    /// Genes g.
    pub genes: usize,
    /// Transmitters k.
    pub transmitters: usize,
    /// Rule temperature τ.
    pub rules_temperature: f64,
    /// Conductance scale s.
    pub conductance_scale: f64,
    /// Optional rules mask.
    #[serde(default)]
    pub rules_mask: Option<Vec<Vec<f64>>>,
    /// The raw blocks.
    pub raw: ReferenceBlocks,
    /// `E[S]` per connection, if recorded.
    #[serde(default)]
    pub expected_counts: Vec<Rows>,
    /// `E[c]` per connection, if recorded.
    #[serde(default)]
    pub expected_conductance: Vec<Rows>,
    /// W per connection, if recorded.
    #[serde(default)]
    pub weights: Vec<Rows>,
    /// Input rows, if recorded.
    #[serde(default)]
    pub observations: Rows,
    /// Output rows for `observations`, if recorded.
    #[serde(default)]
    pub outputs: Rows,
}

impl ReferenceNetwork {
    /// Reads a reference network from a JSON file.
    pub fn load(path: &Path) -> Result<Self, GenomeError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| GenomeError::Io { path: path.into(), source })?;
        serde_json::from_str(&text)
            .map_err(|e| GenomeError::Parse { path: path.into(), message: e.to_string() })
    }

    /// The genome of these raw blocks, every block learnable.
    pub fn genome(&self) -> Result<Genome, GenomeError> {
        let architecture = Architecture {
            layers: self.layers.clone(),
            genes: self.genes,
            transmitters: self.transmitters,
            rules_temperature: self.rules_temperature,
            conductance_scale: self.conductance_scale,
        };
        let rules_mask = self
            .rules_mask
            .as_deref()
            .map(RulesMask::from_rows)
            .transpose()
            .map_err(GenomeError::Mask)?;
        let many = |name: BlockName, list: &[Rows]| -> Result<Vec<DMatrix<f64>>, GenomeError> {
            list.iter().enumerate().map(|(i, rows)| from_rows(rows, name, i)).collect()
        };
        let biases: Vec<Rows> = self.raw.biases.iter().map(|b| vec![b.clone()]).collect();
        let raw = &self.raw;
        let blocks = [
            many(BlockName::Expression, &raw.expression)?,
            vec![from_rows(&raw.rules, BlockName::Rules, 0)?],
            many(BlockName::Transmitters, &raw.transmitters)?,
            many(BlockName::Receptors, &raw.receptors)?,
            vec![from_rows(&raw.conductance, BlockName::Conductance, 0)?],
            many(BlockName::Biases, &biases)?,
        ]
        .map(|raw| Block { raw, learnable: true });
        Genome::from_blocks(architecture, rules_mask, blocks)
    }
}

/// Converts a list of rows to a matrix (for reading recorded reference outputs).
pub fn rows_to_matrix(rows: &[Vec<f64>]) -> DMatrix<f64> {
    let ncols = rows.first().map_or(0, Vec::len);
    DMatrix::from_fn(rows.len(), ncols, |i, j| rows[i][j])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::genome::Learnable;

    fn small() -> Genome {
        let arch = Architecture {
            layers: vec![3, 5, 2],
            genes: 4,
            transmitters: 2,
            rules_temperature: 0.1,
            conductance_scale: 1.0,
        };
        let mask = RulesMask::from_fn(4, |a, b| a <= b);
        let mut learnable = Learnable::all();
        learnable.conductance = false;
        Genome::random(arch, Some(mask), learnable, 11).unwrap()
    }

    #[test]
    fn ron_round_trip_is_bit_identical() {
        let genome = small();
        let text = genome.to_ron();
        let back = Genome::from_ron(&text, Path::new("g.ron")).unwrap();
        assert_eq!(back, genome);
        assert!(!back.block(BlockName::Conductance).learnable);
    }

    #[test]
    fn truncated_or_edited_files_give_errors() {
        let text = small().to_ron();
        let truncated = &text[..text.len() / 2];
        let err = Genome::from_ron(truncated, Path::new("g.ron")).unwrap_err().to_string();
        assert!(err.starts_with("g.ron:"), "{err}");

        // Drop one entry of a row: the shape check names the block.
        let edited = text.replacen("genes: 4", "genes: 5", 1);
        let err = Genome::from_ron(&edited, Path::new("g.ron")).unwrap_err().to_string();
        assert!(err.contains("expression") || err.contains("mask"), "{err}");

        let typo = text.replacen("learnable", "learnabel", 1);
        let err = Genome::from_ron(&typo, Path::new("g.ron")).unwrap_err().to_string();
        assert!(err.contains("learnabel"), "{err}");
    }
}
