//! The connectome experiment: fit, cross-validate against the nulls, sweep the number of genes,
//! grow networks, and gather everything into a [`FitReport`].

use std::path::Path;
use std::time::Instant;

use nalgebra::DMatrix;
use serde::Serialize;

use super::{
    ConnectomeError, CountModel, Experiment, Factorisation, Fit, GeneticModel, Genetics, HeldOut,
    ModelKind, Pairs, PoissonObjective, SamplingComparison, Scores, Settings, cross_validate, fit,
    report,
};
use crate::rng::{self, Purpose, Stream};

/// The three models cross-validated at one number of genes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CrossValidation {
    /// Genes `g` of the genetic model.
    pub genes: usize,
    /// Rank `r` of the factorisation null, matched to the genetic model's parameter count.
    pub factorisation_rank: usize,
    /// The genetic model `κ E G Eᵀ`.
    pub genetic: HeldOut,
    /// The degree-corrected null `a_i b_j` (the same for every `g`).
    pub degree_corrected: HeldOut,
    /// The factorisation null.
    pub factorisation: HeldOut,
}

impl CrossValidation {
    /// The three models, genetic first.
    pub fn models(&self) -> [&HeldOut; 3] {
        [&self.genetic, &self.degree_corrected, &self.factorisation]
    }
}

/// The data a report is about.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DataSummary {
    /// Where the connectome came from.
    pub source: String,
    /// Cells `N`.
    pub cells: usize,
    /// Ordered pairs fitted and scored.
    pub pairs: usize,
    /// Pairs among them with at least one synapse.
    pub connected_pairs: usize,
    /// Synapses on those pairs.
    pub synapses: f64,
    /// Synapses on self pairs left out (0 when self pairs are fitted).
    pub excluded_self_synapses: f64,
}

/// The genetic model fitted to every pair.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FullFit {
    /// Genes `g`.
    pub genes: usize,
    /// Fitted parameters.
    pub parameters: usize,
    /// The optimiser's result.
    pub fit: Fit,
    /// In-sample scores (on the fitted pairs; optimistic by construction).
    pub in_sample: Scores,
    /// `Σ_P Var[S] / Σ_P E[S]` under the model: at most 1, since a sum of binomials is never
    /// more dispersed than a Poisson count of the same mean.
    pub model_dispersion: f64,
    /// The fraction of rule probabilities within 0.01 of 0 or 1: how close the fitted rules
    /// come to a Boolean matrix.
    pub saturated_rules: f64,
    /// The fitted genetics (biological values).
    #[serde(skip)]
    pub genetics: Genetics,
    /// The fitted expected counts `κ E G Eᵀ`, `N x N`.
    #[serde(skip)]
    pub expected: DMatrix<f64>,
}

/// Wall times of the phases of a run, in seconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timing {
    /// Fitting the genetic model to all pairs at the main `g`.
    pub full_fit: f64,
    /// Cross-validating the three models at every `g` of the curve.
    pub cross_validation: f64,
    /// Growing and comparing networks.
    pub sampling: f64,
    /// The whole run.
    pub total: f64,
    /// Threads available to the parallel parts.
    pub threads: usize,
}

/// Everything a connectome fit produced.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FitReport {
    /// The settings as given.
    pub settings: Settings,
    /// The data.
    pub data: DataSummary,
    /// The genetic model fitted to all pairs at `model.genes`.
    pub full_fit: FullFit,
    /// Held-out scores at `model.genes`.
    pub held_out: CrossValidation,
    /// Held-out scores at every `g` of the curve, increasing `g`.
    pub gene_curve: Vec<CrossValidation>,
    /// Networks grown from the fitted genetics against the real one (none if
    /// `evaluation.samples` is 0).
    pub sampling: Option<SamplingComparison>,
    /// Wall times.
    pub timing: Timing,
    /// The cell names, in the order of every matrix.
    #[serde(skip)]
    pub cells: Vec<String>,
    /// The observed counts, `N x N`.
    #[serde(skip)]
    pub observed: DMatrix<f64>,
    /// The fitted and scored pairs.
    #[serde(skip)]
    pub pairs: Pairs,
}

/// The random stream of a fit's starting point: model kind and genes pick the unit, the fold
/// (or `k` for the fit to all pairs) the sub-stream.
fn start_stream(seed: u64, kind: ModelKind, genes: usize, fold: usize) -> Stream {
    let unit = ((kind as u64) << 32) | genes as u64;
    rng::substream(seed, Purpose::Fitting, unit, fold as u64)
}

/// Runs the experiment of `settings` (see [`run`] for the steps) without reporting progress.
pub fn run_fit(settings: &Settings) -> Result<FitReport, ConnectomeError> {
    run_fit_with_progress(settings, &|_| {})
}

/// Runs the experiment of `settings` (see [`run`] for the steps); `progress` receives a line
/// after each step.
pub fn run_fit_with_progress(
    settings: &Settings,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<FitReport, ConnectomeError> {
    let start = Instant::now();
    let experiment = settings.check()?;
    let settings = &experiment.settings;

    // The data and the folds.
    let connectome = settings.connectome.load()?;
    let observed = connectome.counts().clone();
    let pairs = Pairs::all(connectome.len(), settings.self_pairs);
    let data = DataSummary {
        source: settings.connectome.to_string(),
        cells: connectome.len(),
        pairs: pairs.len(),
        connected_pairs: pairs.iter().filter(|&(i, j)| observed[(i, j)] > 0.0).count(),
        synapses: pairs.indicator().dot(&observed),
        excluded_self_synapses: observed.sum() - pairs.indicator().dot(&observed),
    };
    progress(&format!(
        "{}: {} cells, {} pairs, {} connected, {} synapses",
        data.source, data.cells, data.pairs, data.connected_pairs, data.synapses
    ));
    let folds = pairs
        .folds(settings.evaluation.folds, &mut rng::stream(settings.seed, Purpose::Fitting, 0));
    let runner = Runner { experiment: &experiment, observed: &observed, pairs: &pairs, progress };

    // Held-out scores at every number of genes.
    let cv_start = Instant::now();
    let validations = runner.cross_validate_genes(&folds)?;
    let main_genes = settings.model.genes;
    let held_out = validations
        .iter()
        .find(|v| v.genes == main_genes)
        .expect("the main g is cross-validated")
        .clone();
    let gene_curve: Vec<CrossValidation> =
        validations.into_iter().filter(|v| experiment.gene_curve.contains(&v.genes)).collect();
    let cross_validation_seconds = cv_start.elapsed().as_secs_f64();

    // The genetic model fitted to every pair, and networks grown from it.
    let full_fit = runner.fit_all_pairs()?;
    let sampling_start = Instant::now();
    let samples = settings.evaluation.samples;
    let sampling = (samples > 0).then(|| {
        let (rounding, seed) = (settings.evaluation.rounding, settings.seed);
        SamplingComparison::new(&full_fit.genetics, &observed, &pairs, samples, rounding, seed)
    });
    let sampling_seconds = sampling_start.elapsed().as_secs_f64();
    if sampling.is_some() {
        progress(&format!("grew {samples} networks ({sampling_seconds:.1} s)"));
    }

    let timing = Timing {
        full_fit: full_fit.fit.seconds,
        cross_validation: cross_validation_seconds,
        sampling: sampling_seconds,
        total: start.elapsed().as_secs_f64(),
        threads: rayon::current_num_threads(),
    };
    Ok(FitReport {
        settings: settings.clone(),
        data,
        full_fit,
        held_out,
        gene_curve,
        sampling,
        timing,
        cells: connectome.cells().to_vec(),
        observed,
        pairs,
    })
}

/// What the steps of a run share.
struct Runner<'a> {
    experiment: &'a Experiment,
    observed: &'a DMatrix<f64>,
    pairs: &'a Pairs,
    progress: &'a (dyn Fn(&str) + Sync),
}

impl Runner<'_> {
    fn cells(&self) -> usize {
        self.pairs.cells()
    }

    /// A genetic model of `genes` genes drawn from `rng`, as the settings describe it.
    fn genetic_model(&self, genes: usize, rng: &mut Stream) -> GeneticModel {
        let model = &self.experiment.settings.model;
        let mask = self.experiment.rules_mask.clone();
        let (scale, temperature) = (model.initial_scale(), model.rules_temperature);
        GeneticModel::random(self.cells(), genes, scale, temperature, mask, model.learned(), rng)
    }

    /// The three models cross-validated at every `g` of the curve and at `model.genes`, in
    /// increasing `g`; the degree-corrected null, which has no genes, is fitted once.
    fn cross_validate_genes(
        &self,
        folds: &[Pairs],
    ) -> Result<Vec<CrossValidation>, ConnectomeError> {
        let settings = &self.experiment.settings;
        let (seed, n) = (settings.seed, self.cells());
        let validate = |kind, make: &(dyn Fn(usize) -> Box<dyn CountModel> + Sync)| {
            cross_validate(kind, self.observed, self.pairs, folds, make, &settings.fit)
        };

        let degree_corrected = validate(ModelKind::DegreeCorrected, &|f| {
            let mut rng = start_stream(seed, ModelKind::DegreeCorrected, 1, f);
            Box::new(Factorisation::degree_corrected(n, &mut rng))
        })?;
        (self.progress)(&held_out_line("degree-corrected null", &degree_corrected));

        let mut all_genes = self.experiment.gene_curve.clone();
        if !all_genes.contains(&settings.model.genes) {
            all_genes.push(settings.model.genes);
            all_genes.sort_unstable();
        }
        let mut validations = Vec::with_capacity(all_genes.len());
        for genes in all_genes {
            let genetic =
                validate(ModelKind::Genetic, &|f| {
                    Box::new(self.genetic_model(
                        genes,
                        &mut start_stream(seed, ModelKind::Genetic, genes, f),
                    ))
                })?;
            (self.progress)(&held_out_line(&format!("g = {genes:>3}: genetic"), &genetic));
            let rank = Factorisation::matching_rank(n, genes);
            let factorisation = validate(ModelKind::Factorisation, &|f| {
                let mut rng = start_stream(seed, ModelKind::Factorisation, genes, f);
                Box::new(Factorisation::random(n, rank, &mut rng))
            })?;
            let name = format!("g = {genes:>3}: factorisation r = {rank}");
            (self.progress)(&held_out_line(&name, &factorisation));
            validations.push(CrossValidation {
                genes,
                factorisation_rank: rank,
                genetic,
                degree_corrected: degree_corrected.clone(),
                factorisation,
            });
        }
        Ok(validations)
    }

    /// The genetic model at `model.genes` fitted to every pair.
    fn fit_all_pairs(&self) -> Result<FullFit, ConnectomeError> {
        let settings = &self.experiment.settings;
        let genes = settings.model.genes;
        let fold = settings.evaluation.folds;
        let model = self.genetic_model(
            genes,
            &mut start_stream(settings.seed, ModelKind::Genetic, genes, fold),
        );
        let objective =
            PoissonObjective::new(self.observed, self.pairs, settings.fit.expression_penalty);
        let fitted = fit(&model, &objective, &settings.fit)?;

        // What the fit says about the model's law.
        let genetics = model.genetics(&fitted.parameters);
        let expected = genetics.expected_counts();
        let variance = genetics.count_variance();
        let saturated = genetics.rules.iter().filter(|&&p| !(0.01..=0.99).contains(&p)).count();
        (self.progress)(&format!(
            "full fit, g = {genes}: J = {:.4} per pair after {} iterations ({:.1} s, {})",
            fitted.objective, fitted.iterations, fitted.seconds, fitted.termination
        ));
        Ok(FullFit {
            genes,
            parameters: model.parameter_count(),
            in_sample: Scores::new(
                &self.pairs.gather(self.observed),
                &self.pairs.gather(&expected),
            ),
            model_dispersion: objective.total(&variance) / objective.total(&expected),
            saturated_rules: saturated as f64 / (genes * genes) as f64,
            fit: fitted,
            genetics,
            expected,
        })
    }
}

fn held_out_line(name: &str, held_out: &HeldOut) -> String {
    let m = held_out.mean;
    format!(
        "{name}: held-out AUC {:.3}, Spearman {:.3}, log-Pearson {:.3}, deviance {:.3} ({:.1} s)",
        m.auc, m.spearman, m.log_pearson, m.deviance, held_out.seconds
    )
}

/// Reads the settings file, runs the experiment ([`run_fit_with_progress`]) and writes its report into
/// `out_dir` (created if missing; see [`report::write`] for the files). Returns the report.
///
/// The steps: load and check the settings; load the connectome; cross-validate the genetic
/// model and both nulls at every number of genes of the curve and at `model.genes`; fit the
/// genetic model to all pairs; grow networks from it and compare them with the real one; write
/// the report. `progress` receives one line per step; nothing is printed.
pub fn run(
    settings_path: &Path,
    out_dir: &Path,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<FitReport, ConnectomeError> {
    let settings = Settings::load(settings_path)?;
    let report = run_fit_with_progress(&settings, progress)?;
    report::write(&report, out_dir)?;
    progress(&format!("report written to {}", out_dir.display()));
    Ok(report)
}
