//! Experiments: a RON file becomes a checked [`Experiment`], which a runner turns into a run
//! directory with the trained genome, every network's rewards, a summary, plots and a report.

mod check;
mod run;
mod spec;

pub use check::{Experiment, ExperimentError, Learner, load_genome};
pub use run::{FamilyScores, Observer, Outcome, RunError, Silent, Status, fresh_dir, run};
pub use spec::{DqnOverrides, ExperimentSpec, FamiliesSpec, GenomeSpec, LearnerSpec, SamplingSpec};
