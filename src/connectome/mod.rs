//! Fitting the synapse-count model to a real connectome.
//!
//! The model claims that synaptic multiplicity (how many synapses two neurons share) follows
//! from gene expression and binding rules. This module tests the claim on a connectome with
//! counts, such as the adult C. elegans hermaphrodite of Cook et al. 2019 (built in,
//! [`Source::Cook2019Chemical`]): it fits the genetics to the counts, scores the fit on pairs it
//! did not see against two null models, and compares networks grown from the fitted genetics
//! with the real one.
//!
//! # The model of one population
//!
//! `N` cells, each both pre- and post-synaptic, with expression `E = X ⊙ X` (`N x g`) and rules
//! `G = σ(Ĝ / τ)` (`g x g`, or the banded form under a rules mask). For every ordered pair
//! `(i, j)` (pre in rows, post in columns) and gene pair `(a, b)`, `κ E_ia E_jb` trials each
//! place a synapse with probability `G_ab`, so the count `S_ij` is a sum of binomials with
//!
//! - exact mean `μ = E[S] = κ E G Eᵀ`,
//! - exact variance `Var[S] = κ E (G ⊙ (1 - G)) Eᵀ = μ - κ E (G ⊙ G) Eᵀ ≤ μ`.
//!
//! A [`Pairs`] set says which pairs count (by default all but self pairs `i = j`). The blocks,
//! maps and gradients are the layered model's ([`crate::genome::Map`],
//! [`crate::synapse::count_backward`]), with one expression matrix on both sides of the product
//! ([`GeneticModel`]).
//!
//! # The likelihood: Poisson with the exact mean
//!
//! The exact law of `S_ij` (a convolution of `g²` binomials per pair) is out of reach inside an
//! optimiser's loop; [`PoissonObjective`] uses `S_ij ~ Poisson(μ_ij)` instead, because
//!
//! - its mean is the model's exact mean, and by Le Cam's inequality the total-variation distance
//!   between a sum of Bernoulli trials and the Poisson law of the same mean is at most the sum
//!   of the squared success probabilities, here `κ (E (G ⊙ G) Eᵀ)_ij = μ_ij - Var[S_ij]`: the
//!   Poisson is off exactly by the variance the binomials lose when rules approach 1, and exact
//!   in the limit of many trials of small probability;
//! - it is a proper likelihood of counts. A moment-matched normal puts unbounded density on
//!   zero counts as the variance shrinks, and most pairs of a connectome have no synapse; a
//!   negative binomial would add a dispersion the model does not have;
//! - it is concave in `μ`, with a deviance that scores held-out pairs, and it is the likelihood
//!   of the standard count-network nulls (degree-corrected Poisson, Poisson factorisation), so
//!   all three models are fitted and scored by the same measure.
//!
//! The caveat follows from the first point: when fitted rules saturate (`G_ab` near 1), the
//! model's own counts are far less variable than a Poisson count, and the likelihood is more
//! forgiving than the model's law. The report states `Σ Var[S] / Σ μ` of the fit, and the grown
//! networks show what the model's law makes of the fitted means.
//!
//! # The scale κ
//!
//! `κ` turns expression products into trial counts. Under `κ → c κ`, `X → X / c^{1/4}` the
//! model is unchanged, down to the trial counts `κ E_ia E_jb`, so while expression is fitted κ
//! is a unit and stays fixed ([`Scale::Fixed`], default 1); with frozen expression it is fitted
//! as `ln κ` ([`Scale::Fitted`]). Even then only `κ G_ab` enters the mean, so under the Poisson
//! likelihood a larger κ with weaker rules fits as well: a fitted κ is the smallest scale the
//! rules' ceiling of 1 allows, not a measurement.
//!
//! # Fitting, nulls, evaluation
//!
//! [`fit`] minimises the Poisson objective (optionally with an exponential prior on expression
//! levels) full-batch and deterministically, with argmin's L-BFGS and the Moré-Thuente line
//! search on the analytic gradient, or with Adam. The nulls ([`Factorisation`]) are fitted the
//! same way: a degree-corrected model `a_i b_j` and an unconstrained non-negative factorisation
//! with the genetic model's parameter count. [`cross_validate`] scores each model on `k` folds
//! of held-out pairs (AUC, Spearman, log-Pearson, deviance; see [`Scores`]), and
//! [`SamplingComparison`] grows networks from the fitted genetics ([`sample_counts`]) and
//! compares their multiplicity, degrees and reciprocity with the real network's.
//!
//! # Running an experiment
//!
//! [`run`] reads a RON file of [`Settings`] (`experiments/celegans-fit.ron`), runs everything
//! ([`run_fit`], or [`run_fit_with_progress`] with a callback for progress lines) and writes
//! the report ([`write_report`]); nothing is printed.
//!
//! ```no_run
//! use std::path::Path;
//!
//! let report = synaptogen::connectome::run(
//!     Path::new("experiments/celegans-fit.ron"),
//!     Path::new("runs/celegans-fit"),
//!     &|line: &str| eprintln!("{line}"),
//! )?;
//! println!("held-out AUC {:.3}", report.held_out.genetic.mean.auc);
//! # Ok::<(), synaptogen::connectome::ConnectomeError>(())
//! ```

mod data;
mod evaluate;
mod fit;
mod likelihood;
mod model;
mod nulls;
mod pairs;
pub mod plot;
mod report;
mod run;
mod sample;
mod settings;

use std::path::PathBuf;

pub use data::{Connectome, Source};
pub use evaluate::{HeldOut, ModelKind, Scores, auc, cross_validate, pearson, ranks};
pub use fit::{Fit, FitSettings, Optimiser, fit};
pub use likelihood::{PoissonObjective, RATE_FLOOR, deviance};
pub use model::{CountModel, GeneticModel, Genetics, Learned};
pub use nulls::Factorisation;
pub use pairs::Pairs;
pub use report::write as write_report;
pub use run::{
    CrossValidation, DataSummary, FitReport, FullFit, Timing, run, run_fit, run_fit_with_progress,
};
pub use sample::{
    Comparison, NetworkStatistics, Rounding, SamplingComparison, ks_distance, sample_counts,
};
pub use settings::{EvaluationSettings, Experiment, ModelSettings, Scale, Settings, SettingsError};

/// Errors of loading a connectome, fitting it and writing the report.
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
    /// The settings break a rule or cannot be read.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// The optimiser failed.
    #[error("optimiser: {0}")]
    Optimiser(String),
}
