//! Held-out evaluation: k-fold cross-validation over cell pairs and the scores of predicted
//! against observed counts.
//!
//! The pairs are dealt into `k` folds at random; each model is fitted `k` times, each time to the
//! pairs outside one fold, and scored on the pairs inside it. Every pair is thus predicted once
//! by a model that never saw it. Four scores, each on the held-out pairs of one fold:
//!
//! - **AUC**: area under the ROC curve of `μ` as a score for "the pair has a synapse"
//!   (Mann-Whitney form, ties counted as one half); 0.5 is chance.
//! - **Spearman**: rank correlation of `μ` and `y` (average ranks for ties).
//! - **log-Pearson**: Pearson correlation of `ln(1 + μ)` and `ln(1 + y)`.
//! - **deviance**: mean Poisson deviance per pair (lower is better; see [`deviance`]).

pub use crate::stats::ranks;
use std::time::Instant;

use nalgebra::DMatrix;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{ConnectomeError, CountModel, FitSettings, Pairs, PoissonObjective, deviance, fit};

/// The four held-out scores of one set of predictions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    /// Area under the ROC curve for `y > 0`.
    pub auc: f64,
    /// Spearman rank correlation of predicted and observed counts.
    pub spearman: f64,
    /// Pearson correlation of `ln(1 + μ)` and `ln(1 + y)`.
    pub log_pearson: f64,
    /// Mean Poisson deviance per pair.
    pub deviance: f64,
}

impl Scores {
    /// Scores of `predicted` counts against `observed` counts (same order, same length).
    ///
    /// The AUC is NaN if all or none of the pairs are connected; a correlation is NaN if one
    /// side is constant.
    pub fn new(observed: &[f64], predicted: &[f64]) -> Scores {
        assert_eq!(observed.len(), predicted.len(), "Scores: lengths differ");
        let n = observed.len() as f64;
        let log1p = |v: &[f64]| v.iter().map(|x| x.ln_1p()).collect::<Vec<_>>();
        Scores {
            auc: auc(observed, predicted),
            spearman: pearson(&ranks(observed), &ranks(predicted)),
            log_pearson: pearson(&log1p(observed), &log1p(predicted)),
            deviance: observed.iter().zip(predicted).map(|(&y, &mu)| deviance(y, mu)).sum::<f64>()
                / n,
        }
    }

    /// The scores as `[auc, spearman, log_pearson, deviance]`.
    pub fn to_array(self) -> [f64; 4] {
        [self.auc, self.spearman, self.log_pearson, self.deviance]
    }

    fn from_array(values: [f64; 4]) -> Scores {
        let [auc, spearman, log_pearson, deviance] = values;
        Scores { auc, spearman, log_pearson, deviance }
    }

    /// Mean and sample standard deviation of each score over `scores`.
    pub fn mean_and_std(scores: &[Scores]) -> (Scores, Scores) {
        let n = scores.len() as f64;
        let mut mean = [0.0; 4];
        let mut std = [0.0; 4];
        for k in 0..4 {
            mean[k] = scores.iter().map(|s| s.to_array()[k]).sum::<f64>() / n;
            let square: f64 = scores.iter().map(|s| (s.to_array()[k] - mean[k]).powi(2)).sum();
            std[k] = if scores.len() > 1 { (square / (n - 1.0)).sqrt() } else { 0.0 };
        }
        (Scores::from_array(mean), Scores::from_array(std))
    }
}

/// Pearson correlation; NaN if either side is constant.
pub fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    sxy / (sxx * syy).sqrt()
}

/// Area under the ROC curve of `score` for `observed > 0`, by the Mann-Whitney statistic:
/// `(R₊ - n₊(n₊ + 1)/2) / (n₊ n₋)` with `R₊` the rank sum of the positives.
pub fn auc(observed: &[f64], score: &[f64]) -> f64 {
    let ranks = ranks(score);
    let positives = observed.iter().filter(|&&y| y > 0.0).count() as f64;
    let negatives = observed.len() as f64 - positives;
    let rank_sum: f64 =
        observed.iter().zip(&ranks).filter(|(y, _)| **y > 0.0).map(|(_, r)| r).sum();
    (rank_sum - positives * (positives + 1.0) / 2.0) / (positives * negatives)
}

/// The models compared on held-out pairs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ModelKind {
    /// `μ = κ E G Eᵀ`.
    Genetic,
    /// `μ_ij = a_i b_j`.
    DegreeCorrected,
    /// `μ = (U ⊙ U)(V ⊙ V)ᵀ` with the genetic model's parameter count.
    Factorisation,
}

impl ModelKind {
    /// A short name for tables and file columns.
    pub fn as_str(self) -> &'static str {
        match self {
            ModelKind::Genetic => "genetic",
            ModelKind::DegreeCorrected => "degree_corrected",
            ModelKind::Factorisation => "factorisation",
        }
    }
}

/// The cross-validated performance of one model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeldOut {
    /// Which model.
    pub model: ModelKind,
    /// Its number of fitted parameters.
    pub parameters: usize,
    /// Scores on the held-out pairs of each fold.
    pub folds: Vec<Scores>,
    /// Mean of the fold scores.
    pub mean: Scores,
    /// Sample standard deviation of the fold scores.
    pub std: Scores,
    /// Mean training objective `J` at the end of each fold's fit.
    pub training_objective: f64,
    /// Wall time of all folds' fits, in seconds.
    pub seconds: f64,
    /// Held-out predictions: `μ_ij` from the fit that did not see the pair (0 outside the
    /// pairs), `N x N`.
    #[serde(skip)]
    pub predictions: DMatrix<f64>,
}

/// Fits `make(f)` to the pairs outside fold `f` for every fold (folds run in parallel) and
/// scores each fit on its fold.
///
/// `make` builds the model of fold `f`, including its random start; calling it with the same
/// index must give the same model, so that results do not depend on the number of threads.
pub fn cross_validate<M, F>(
    kind: ModelKind,
    observed: &DMatrix<f64>,
    pairs: &Pairs,
    folds: &[Pairs],
    make: F,
    settings: &FitSettings,
) -> Result<HeldOut, ConnectomeError>
where
    M: CountModel,
    F: Fn(usize) -> M + Sync,
{
    let start = Instant::now();

    // One fit per fold, in parallel; results are gathered in fold order.
    let per_fold: Vec<(Scores, f64, usize, DMatrix<f64>)> = folds
        .par_iter()
        .enumerate()
        .map(|(f, held_out)| {
            let model = make(f);
            let training = pairs.without(held_out);
            let objective = PoissonObjective::new(observed, &training, settings.expression_penalty);
            let fitted = fit(&model, &objective, settings)?;
            let expected = model.expected_counts(&fitted.parameters);
            let scores = Scores::new(&held_out.gather(observed), &held_out.gather(&expected));
            let masked = expected.component_mul(held_out.indicator());
            Ok((scores, fitted.objective, model.parameter_count(), masked))
        })
        .collect::<Result<_, ConnectomeError>>()?;

    // Fold scores, their summary and the pooled held-out predictions.
    let scores: Vec<Scores> = per_fold.iter().map(|r| r.0).collect();
    let (mean, std) = Scores::mean_and_std(&scores);
    let n = observed.nrows();
    let predictions = per_fold.iter().fold(DMatrix::zeros(n, n), |sum, r| sum + &r.3);
    Ok(HeldOut {
        model: kind,
        parameters: per_fold.first().map_or(0, |r| r.2),
        folds: scores,
        mean,
        std,
        training_objective: per_fold.iter().map(|r| r.1).sum::<f64>() / folds.len() as f64,
        seconds: start.elapsed().as_secs_f64(),
        predictions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_average_ties() {
        assert_eq!(ranks(&[3.0, 1.0, 3.0, 0.0]), [3.5, 2.0, 3.5, 1.0]);
    }

    #[test]
    fn auc_matches_pair_counting() {
        let observed = [0.0, 2.0, 0.0, 1.0, 0.0];
        let score = [0.1, 0.9, 0.5, 0.5, 0.7];
        // Positive-negative pairs: (0.9 beats all 3) + (0.5: beats 0.1, ties 0.5, loses 0.7).
        let expected = (3.0 + 1.0 + 0.5) / 6.0;
        assert!((auc(&observed, &score) - expected).abs() < 1e-15);
    }

    #[test]
    fn perfect_predictions_score_perfectly() {
        let observed = [0.0, 1.0, 4.0, 0.0, 9.0];
        let s = Scores::new(&observed, &observed);
        assert_eq!(s.auc, 1.0);
        assert!((s.spearman - 1.0).abs() < 1e-12 && (s.log_pearson - 1.0).abs() < 1e-12);
        assert!(s.deviance.abs() < 1e-9);
    }
}
