//! Writing a sampled network's synapses for other tools: NumPy count matrices and a CSV edge
//! list. Every file is written atomically (see [`crate::files::write_atomic`]).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::{SampledNetwork, SamplingError};
use crate::{files, npy};

impl SampledNetwork {
    /// Writes the count matrix of every connection `l` as `<directory>/<stem>_counts_<l>.npy`
    /// (`N_l x N_{l+1}`, `u32`, row-major: row `i` is pre-synaptic neuron `i`) and returns the
    /// paths in connection order.
    pub fn write_counts(
        &self,
        directory: &Path,
        stem: &str,
    ) -> Result<Vec<PathBuf>, SamplingError> {
        let mut paths = Vec::with_capacity(self.counts.len());
        for (l, counts) in self.counts.iter().enumerate() {
            let path = directory.join(format!("{stem}_counts_{l}.npy"));
            let row_major: Vec<u32> = (0..counts.nrows())
                .flat_map(|i| (0..counts.ncols()).map(move |j| counts[(i, j)]))
                .collect();
            npy::write_counts(&path, counts.nrows(), counts.ncols(), &row_major)
                .map_err(|source| SamplingError::Io { path: path.clone(), source })?;
            paths.push(path);
        }
        Ok(paths)
    }

    /// The synapses as a CSV edge list with the header `pre,post,count,weight`: one line per
    /// neuron pair with at least one synapse, by connection, then pre-, then post-synaptic
    /// neuron.
    ///
    /// Neurons have global ids, layer after layer: neuron `i` of layer `l` is
    /// `N_0 + ... + N_{l-1} + i`, so the input layer holds ids `0..N_0`. `count` is `S_ij`,
    /// `weight` the sampled network's weight `W̃_ij`, written with the shortest decimal that
    /// reads back to the same number. The format loads directly into network-science tools
    /// (for example `networkx.read_edgelist(path, delimiter=",", nodetype=int,
    /// data=[("count", int), ("weight", float)])` after skipping the header, or
    /// `pandas.read_csv`).
    pub fn edge_list(&self) -> String {
        let mut csv = String::from("pre,post,count,weight\n");
        let mut first_pre = 0;
        for (counts, weights) in self.counts.iter().zip(&self.network.weights) {
            let first_post = first_pre + counts.nrows();
            for i in 0..counts.nrows() {
                for j in 0..counts.ncols() {
                    let count = counts[(i, j)];
                    if count > 0 {
                        let (pre, post, weight) = (first_pre + i, first_post + j, weights[(i, j)]);
                        writeln!(csv, "{pre},{post},{count},{weight}")
                            .expect("writing to a string");
                    }
                }
            }
            first_pre = first_post;
        }
        csv
    }

    /// Writes [`SampledNetwork::edge_list`] to `path`.
    pub fn write_edge_list(&self, path: &Path) -> Result<(), SamplingError> {
        files::write_atomic(path, self.edge_list().as_bytes())
            .map_err(|source| SamplingError::Io { path: path.into(), source })
    }
}
