//! Fitting the synapse-count model to a real connectome.
//!
//! This first part reads connectomes: a cell list and an edge list of synapse counts, or the
//! adult C. elegans hermaphrodite of Cook et al. 2019, built in ([`Source::Cook2019Chemical`]).

mod data;

use std::path::PathBuf;

pub use data::{Connectome, Source};

/// Errors of loading a connectome.
#[derive(Debug, thiserror::Error)]
pub enum ConnectomeError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A cell list is malformed.
    #[error("{path}:{line}: {message}")]
    Cells {
        /// The cell list.
        path: PathBuf,
        /// The line (1-based; 0 for the whole file).
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// An edge list row is malformed.
    #[error("{path}:{line}: {message}")]
    Edges {
        /// The edge list.
        path: PathBuf,
        /// The line (1-based).
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// An edge list names a cell that is not in the cell list.
    #[error("{path}:{line}: unknown cell `{name}` (not in {cells})")]
    UnknownCell {
        /// The edge list.
        path: PathBuf,
        /// The line (1-based).
        line: usize,
        /// The unknown name.
        name: String,
        /// The cell list.
        cells: PathBuf,
    },
    /// An edge list holds a count that is not a non-negative integer.
    #[error("{path}:{line}: `{text}` is not a synapse count (a non-negative integer)")]
    BadCount {
        /// The edge list.
        path: PathBuf,
        /// The line (1-based).
        line: usize,
        /// The field as written.
        text: String,
    },
}
