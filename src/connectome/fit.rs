//! Fitting a count model: minimising the Poisson objective over `θ`, full batch and
//! deterministic.
//!
//! Two optimisers: argmin's L-BFGS (Nocedal 1980, doi:10.1090/S0025-5718-1980-0572855-7) with
//! the Moré-Thuente line search (doi:10.1145/192115.192132), the default; and Adam on the full
//! gradient. Before either starts, `θ₀` is rescaled so that the expected total over the fitted
//! pairs equals the observed total ([`CountModel::rescale`]); from there on the only randomness
//! is in `θ₀`, so a fit is a deterministic function of its inputs.

use std::cell::{Cell, RefCell};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use argmin::core::observers::{Observe, ObserverMode};
use argmin::core::{CostFunction, Error, Executor, Gradient, IterState, KV, State};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

use super::{ConnectomeError, CountModel, PoissonObjective};
use crate::learn::{Adam, AdamSettings};

/// The optimiser of a fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Optimiser {
    /// L-BFGS with the Moré-Thuente line search (argmin).
    Lbfgs,
    /// Adam on the full gradient.
    Adam,
}

/// How to fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FitSettings {
    /// The optimiser (default `Lbfgs`).
    pub optimiser: Optimiser,
    /// Maximum number of iterations (L-BFGS) or steps (Adam) (default 1000).
    pub iterations: u64,
    /// Number of past steps L-BFGS keeps for its curvature estimate (default 10).
    pub lbfgs_memory: usize,
    /// L-BFGS stops when an iteration changes `J` (per pair) by less than this (default 1e-12),
    /// or when the gradient's norm falls below `√ε ≈ 1.5e-8`.
    pub lbfgs_tolerance: f64,
    /// Adam's settings (default: learning rate 0.02, PyTorch's β₁, β₂, ε; a field left out of a
    /// given `adam` takes PyTorch's default, learning rate 1e-3 included).
    pub adam: AdamSettings,
    /// Rate λ of the exponential prior on expression levels and factor loadings (default 0:
    /// maximum likelihood). See [`PoissonObjective`].
    pub expression_penalty: f64,
}

impl Default for FitSettings {
    fn default() -> Self {
        FitSettings {
            optimiser: Optimiser::Lbfgs,
            iterations: 1000,
            lbfgs_memory: 10,
            lbfgs_tolerance: 1e-12,
            adam: AdamSettings { learning_rate: 0.02, ..AdamSettings::default() },
            expression_penalty: 0.0,
        }
    }
}

/// The result of a fit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fit {
    /// The fitted parameters `θ` (the best point visited).
    #[serde(skip)]
    pub parameters: Vec<f64>,
    /// `J(θ)` at the fitted parameters.
    pub objective: f64,
    /// `J` after each iteration (L-BFGS) or step (Adam); the first entry is `J(θ₀)`.
    pub trace: Vec<f64>,
    /// Iterations done.
    pub iterations: u64,
    /// Evaluations of the expected counts `μ(θ)` (each followed by `J`, the gradient or both).
    pub evaluations: u64,
    /// Why the optimiser stopped.
    pub termination: String,
    /// Wall time in seconds.
    pub seconds: f64,
}

/// Fits `model` by minimising `objective`, starting from its initial parameters rescaled to the
/// observed total.
pub fn fit<M: CountModel>(
    model: &M,
    objective: &PoissonObjective<'_>,
    settings: &FitSettings,
) -> Result<Fit, ConnectomeError> {
    let start = Instant::now();

    // Start at the observed total over the fitted pairs.
    let mut initial = model.initial_parameters();
    let expected = model.expected_counts(&initial);
    let observed_total = objective.total(objective.observed());
    let expected_total = objective.total(&expected);
    if observed_total > 0.0 && expected_total > 0.0 {
        model.rescale(&mut initial, observed_total / expected_total);
    }

    let mut fit = match settings.optimiser {
        Optimiser::Lbfgs => lbfgs(model, objective, initial, settings)?,
        Optimiser::Adam => adam(model, objective, initial, settings),
    };
    fit.seconds = start.elapsed().as_secs_f64();
    Ok(fit)
}

fn adam<M: CountModel>(
    model: &M,
    objective: &PoissonObjective<'_>,
    mut parameters: Vec<f64>,
    settings: &FitSettings,
) -> Fit {
    let mut optimiser = Adam::new(settings.adam, parameters.len());
    let mut best = (f64::INFINITY, parameters.clone());
    let mut trace = Vec::with_capacity(settings.iterations as usize + 1);
    for step in 0..=settings.iterations {
        let (value, gradient) = objective.value_and_gradient(model, &parameters);
        trace.push(value);
        if value < best.0 {
            best = (value, parameters.clone());
        }
        if step < settings.iterations {
            optimiser.step(&mut parameters, &gradient);
        }
    }
    Fit {
        parameters: best.1,
        objective: best.0,
        evaluations: trace.len() as u64,
        trace,
        iterations: settings.iterations,
        termination: "maximum number of steps reached".into(),
        seconds: 0.0,
    }
}

/// The state argmin's L-BFGS works on.
type LbfgsState = IterState<Vec<f64>, Vec<f64>, (), (), (), f64>;

/// The objective as an argmin problem. argmin asks for the cost and then the gradient at the same
/// point; the expected counts of the last point are kept so the second call skips the forward
/// pass.
struct Problem<'a, M> {
    model: &'a M,
    objective: &'a PoissonObjective<'a>,
    last: RefCell<Option<(Vec<f64>, DMatrix<f64>)>>,
    evaluations: &'a Cell<u64>,
}

impl<M: CountModel> Problem<'_, M> {
    fn with_expected<T>(&self, parameters: &[f64], f: impl FnOnce(&DMatrix<f64>) -> T) -> T {
        let mut last = self.last.borrow_mut();
        if last.as_ref().is_none_or(|(at, _)| at.as_slice() != parameters) {
            *last = Some((parameters.to_vec(), self.model.expected_counts(parameters)));
            self.evaluations.set(self.evaluations.get() + 1);
        }
        f(&last.as_ref().expect("just filled").1)
    }
}

impl<M: CountModel> CostFunction for Problem<'_, M> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, parameters: &Vec<f64>) -> Result<f64, Error> {
        Ok(self
            .with_expected(parameters, |mu| self.objective.value_with(self.model, parameters, mu)))
    }
}

impl<M: CountModel> Gradient for Problem<'_, M> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;

    fn gradient(&self, parameters: &Vec<f64>) -> Result<Vec<f64>, Error> {
        Ok(self.with_expected(parameters, |mu| {
            self.objective.gradient_with(self.model, parameters, mu)
        }))
    }
}

/// What the L-BFGS observer records: the cost after every iteration and the best point so far,
/// so that a line search that fails late does not lose the fit.
#[derive(Default)]
struct Record {
    trace: Vec<f64>,
    best: Option<(f64, Vec<f64>)>,
}

struct Recorder(Arc<Mutex<Record>>);

impl Recorder {
    fn note(&self, state: &LbfgsState) {
        let mut record = self.0.lock().expect("the recorder is not shared across threads");
        record.trace.push(state.get_cost());
        let best_cost = state.get_best_cost();
        if record.best.as_ref().is_none_or(|(cost, _)| best_cost < *cost)
            && let Some(best) = state.get_best_param()
        {
            record.best = Some((best_cost, best.clone()));
        }
    }
}

impl Observe<LbfgsState> for Recorder {
    fn observe_init(&mut self, _name: &str, state: &LbfgsState, _kv: &KV) -> Result<(), Error> {
        self.note(state);
        Ok(())
    }

    fn observe_iter(&mut self, state: &LbfgsState, _kv: &KV) -> Result<(), Error> {
        self.note(state);
        Ok(())
    }
}

fn lbfgs<M: CountModel>(
    model: &M,
    objective: &PoissonObjective<'_>,
    initial: Vec<f64>,
    settings: &FitSettings,
) -> Result<Fit, ConnectomeError> {
    let evaluations = Cell::new(0);
    let problem = Problem { model, objective, last: RefCell::new(None), evaluations: &evaluations };
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), settings.lbfgs_memory)
        .with_tolerance_cost(settings.lbfgs_tolerance)
        .map_err(|error| ConnectomeError::Optimiser(error.to_string()))?;
    let record = Arc::new(Mutex::new(Record::default()));
    let iterations = settings.iterations;
    let result = Executor::new(problem, solver)
        .configure(|state| state.param(initial).max_iters(iterations))
        .add_observer(Recorder(Arc::clone(&record)), ObserverMode::Always)
        .run();

    // A failed line search ends the run with an error; the best point so far still stands.
    let record = std::mem::take(&mut *record.lock().expect("the run is over"));
    let (termination, iterations) = match &result {
        Ok(done) => (
            done.state().get_termination_reason().map(|r| r.text().to_string()),
            done.state().get_iter(),
        ),
        Err(error) => {
            (Some(format!("stopped early: {error}")), record.trace.len().saturating_sub(1) as u64)
        }
    };
    let (objective, parameters) = record.best.ok_or_else(|| {
        ConnectomeError::Optimiser(format!(
            "L-BFGS failed to start: {}",
            termination.clone().unwrap_or_default()
        ))
    })?;
    Ok(Fit {
        parameters,
        objective,
        trace: record.trace,
        iterations,
        evaluations: evaluations.get(),
        termination: termination.unwrap_or_else(|| "running".into()),
        seconds: 0.0,
    })
}
