//! The biological rules mask: which gene pairs are known to interact.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::GenomeError;
use crate::npy;

/// A boolean `g x g` mask `M` of gene pairs (pre-synaptic gene in rows, post-synaptic gene in
/// columns) known to interact. Under a mask, rule probabilities of pairs in `M` are confined to
/// `[0.5, 1]` and all others to `[0, 0.5]` (see [`super::Map::BandedSigmoid`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<Vec<u8>>", into = "Vec<Vec<u8>>")]
pub struct RulesMask {
    genes: usize,
    /// Row-major `g x g` entries.
    pairs: Vec<bool>,
}

impl RulesMask {
    /// A mask of `genes` genes with `f(pre, post)` saying whether the pair interacts.
    pub fn from_fn(genes: usize, f: impl Fn(usize, usize) -> bool) -> Self {
        let pairs = (0..genes * genes).map(|i| f(i / genes, i % genes)).collect();
        RulesMask { genes, pairs }
    }

    /// A mask from rows of 0/1 values; the rows must form a square matrix.
    pub fn from_rows(rows: &[Vec<f64>]) -> Result<Self, String> {
        let genes = rows.len();
        if genes == 0 {
            return Err("the mask is empty".into());
        }
        let mut pairs = Vec::with_capacity(genes * genes);
        for (i, row) in rows.iter().enumerate() {
            if row.len() != genes {
                return Err(format!(
                    "row {} has {} entries; a {genes} x {genes} mask needs {genes}",
                    i + 1,
                    row.len()
                ));
            }
            for (j, &v) in row.iter().enumerate() {
                if v != 0.0 && v != 1.0 {
                    return Err(format!(
                        "entry ({}, {}) is {v}; entries must be 0 or 1",
                        i + 1,
                        j + 1
                    ));
                }
                pairs.push(v == 1.0);
            }
        }
        Ok(RulesMask { genes, pairs })
    }

    /// Loads a mask from a `.npy` boolean (or 0/1 numeric) matrix, or from a text file of rows of
    /// `0`/`1` (or `true`/`false`) separated by commas or white space; `#` starts a comment.
    pub fn load(path: &Path) -> Result<Self, GenomeError> {
        let parse_error = |message: String| GenomeError::Parse { path: path.into(), message };
        let rows: Vec<Vec<f64>> = if path.extension().is_some_and(|e| e == "npy") {
            let m = npy::read_matrix(path)
                .map_err(|source| GenomeError::Io { path: path.into(), source })?;
            (0..m.nrows()).map(|i| m.row(i).iter().copied().collect()).collect()
        } else {
            let text = std::fs::read_to_string(path)
                .map_err(|source| GenomeError::Io { path: path.into(), source })?;
            let mut rows = Vec::new();
            for (n, line) in text.lines().enumerate() {
                let line = line.split('#').next().unwrap_or("").trim();
                if line.is_empty() {
                    continue;
                }
                let row = line
                    .split(|c: char| c == ',' || c.is_whitespace())
                    .filter(|s| !s.is_empty())
                    .map(|s| match s {
                        "1" | "true" | "True" => Ok(1.0),
                        "0" | "false" | "False" => Ok(0.0),
                        other => {
                            Err(parse_error(format!("line {}: `{other}` is not 0 or 1", n + 1)))
                        }
                    })
                    .collect::<Result<Vec<f64>, _>>()?;
                rows.push(row);
            }
            rows
        };
        RulesMask::from_rows(&rows).map_err(parse_error)
    }

    /// Number of genes `g`.
    pub fn genes(&self) -> usize {
        self.genes
    }

    /// Whether gene `pre` (pre-synaptic) and gene `post` (post-synaptic) interact.
    pub fn get(&self, pre: usize, post: usize) -> bool {
        self.pairs[pre * self.genes + post]
    }

    /// Number of interacting pairs.
    pub fn count(&self) -> usize {
        self.pairs.iter().filter(|&&p| p).count()
    }
}

impl TryFrom<Vec<Vec<u8>>> for RulesMask {
    type Error = String;
    fn try_from(rows: Vec<Vec<u8>>) -> Result<Self, String> {
        let rows: Vec<Vec<f64>> =
            rows.iter().map(|r| r.iter().map(|&v| v as f64).collect()).collect();
        RulesMask::from_rows(&rows)
    }
}

impl From<RulesMask> for Vec<Vec<u8>> {
    fn from(mask: RulesMask) -> Self {
        mask.pairs.chunks(mask.genes).map(|r| r.iter().map(|&p| p as u8).collect()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_text_masks_and_rejects_bad_ones() {
        let dir = std::env::temp_dir().join(format!("synaptogen-mask-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("good.csv");
        std::fs::write(&good, "# rules\n1,0,0\n0, 1, 1\ntrue false false\n").unwrap();
        let mask = RulesMask::load(&good).unwrap();
        assert_eq!(mask.genes(), 3);
        assert!(mask.get(0, 0) && mask.get(1, 2) && mask.get(2, 0) && !mask.get(2, 1));
        assert_eq!(mask.count(), 4);

        let ragged = dir.join("ragged.csv");
        std::fs::write(&ragged, "1,0\n0\n").unwrap();
        let err = RulesMask::load(&ragged).unwrap_err().to_string();
        assert!(err.contains("ragged.csv") && err.contains("row 2"), "{err}");

        let bad = dir.join("bad.csv");
        std::fs::write(&bad, "1,2\n0,1\n").unwrap();
        assert!(RulesMask::load(&bad).unwrap_err().to_string().contains("line 1"));

        let missing = RulesMask::load(&dir.join("missing.csv")).unwrap_err().to_string();
        assert!(missing.contains("missing.csv"), "{missing}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn loads_npy_masks() {
        let dir = std::env::temp_dir().join(format!("synaptogen-mask-npy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("mask.npy");
        std::fs::write(&path, npy::encode(&[2, 2], [1.0f64, 0.0, 0.0, 1.0])).unwrap();
        let mask = RulesMask::load(&path).unwrap();
        assert!(mask.get(0, 0) && !mask.get(0, 1) && mask.get(1, 1));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
