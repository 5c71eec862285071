//! Count models over one population: the genetic model `μ = κ E G Eᵀ` and the interface every
//! fitted count model shares.

use std::ops::Range;

use nalgebra::DMatrix;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};

use crate::genome::{Map, RulesMask};
use crate::linalg::triple_abct;
use crate::rng::Stream;
use crate::synapse::count_backward;

/// A model of the expected synapse counts `μ(θ)` over the ordered pairs of one population of `N`
/// cells, as a smooth function of a flat parameter vector `θ`.
///
/// The model holds everything that is not fitted (shapes, frozen blocks) and the initial `θ`;
/// the fitting code only sees `θ`, `μ(θ)` and the pullback.
pub trait CountModel {
    /// Number of cells `N`.
    fn cells(&self) -> usize;

    /// Number of fitted parameters `|θ|`.
    fn parameter_count(&self) -> usize;

    /// The starting point `θ₀` of a fit.
    fn initial_parameters(&self) -> Vec<f64>;

    /// The expected counts `μ(θ)`, `N x N`, pre-synaptic cells in rows.
    fn expected_counts(&self, parameters: &[f64]) -> DMatrix<f64>;

    /// The pullback of `μ` at `θ`: given `∂L/∂μ` (`N x N`), returns `∂L/∂θ`.
    fn pullback(&self, parameters: &[f64], d_counts: &DMatrix<f64>) -> Vec<f64>;

    /// The entries of `θ` whose squares are abundances (expression levels, factor loadings).
    /// The expression penalty `λ Σ θ_k²` of [`super::PoissonObjective`] applies to these.
    fn abundances(&self) -> Range<usize>;

    /// Changes `θ` so that every expected count is multiplied by `factor > 0`, where the
    /// fitted parameters allow it (a model with frozen scale and expression leaves `θ` as is).
    /// Used to start a fit at the observed total.
    fn rescale(&self, parameters: &mut [f64], factor: f64);
}

/// A boxed model is a model, so that models of different kinds can share one code path.
impl<M: CountModel + ?Sized> CountModel for Box<M> {
    fn cells(&self) -> usize {
        (**self).cells()
    }

    fn parameter_count(&self) -> usize {
        (**self).parameter_count()
    }

    fn initial_parameters(&self) -> Vec<f64> {
        (**self).initial_parameters()
    }

    fn expected_counts(&self, parameters: &[f64]) -> DMatrix<f64> {
        (**self).expected_counts(parameters)
    }

    fn pullback(&self, parameters: &[f64], d_counts: &DMatrix<f64>) -> Vec<f64> {
        (**self).pullback(parameters, d_counts)
    }

    fn abundances(&self) -> Range<usize> {
        (**self).abundances()
    }

    fn rescale(&self, parameters: &mut [f64], factor: f64) {
        (**self).rescale(parameters, factor)
    }
}

/// The biological values of a fitted genetic model.
#[derive(Debug, Clone, PartialEq)]
pub struct Genetics {
    /// Expression `E = X ⊙ X`, `N x g`.
    pub expression: DMatrix<f64>,
    /// Rule probabilities `G`, `g x g` (pre-synaptic gene in rows).
    pub rules: DMatrix<f64>,
    /// The scale `κ` turning expression products into trial counts: gene pair `(a, b)` makes
    /// `κ E_ia E_jb` trials between cells `i` and `j`.
    pub scale: f64,
}

impl Genetics {
    /// Number of genes `g`.
    pub fn genes(&self) -> usize {
        self.rules.nrows()
    }

    /// The exact mean of the counts, `E[S] = κ E G Eᵀ`, `N x N`.
    pub fn expected_counts(&self) -> DMatrix<f64> {
        triple_abct(&self.expression, &self.rules, &self.expression) * self.scale
    }

    /// The exact variance of the counts (trial counts not rounded),
    /// `Var[S] = κ E (G ⊙ (1 - G)) Eᵀ`, `N x N`: every pair's count is a sum of independent
    /// binomials, so its variance is at most its mean.
    pub fn count_variance(&self) -> DMatrix<f64> {
        let spread = self.rules.map(|p| p * (1.0 - p));
        triple_abct(&self.expression, &spread, &self.expression) * self.scale
    }
}

/// Which parts of the genetic model a fit changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Learned {
    /// Fit the expression X.
    pub expression: bool,
    /// Fit the rules Ĝ.
    pub rules: bool,
    /// Fit `ln κ`.
    pub scale: bool,
}

/// The genetic count model of one population:
///
/// `μ = κ E G Eᵀ`, `E = X ⊙ X` (`N x g`, [`Map::Square`]), `G = σ(Ĝ / τ)` ([`Map::Sigmoid`]) or
/// its banded form under a rules mask ([`Map::BandedSigmoid`]).
///
/// The same blocks and maps as the layered model, with one expression matrix shared by the
/// pre- and post-synaptic side; gradients go through [`count_backward`] and [`Map::pullback`].
///
/// The parameters are, in this order and only where fitted: `X` (column-major), `Ĝ`
/// (column-major), `ln κ`. κ and the scale of `E` are interchangeable (`κ → c κ`,
/// `X → X / c^{1/4}` changes nothing, not even the trial counts `κ E_ia E_jb`), so κ is a unit
/// to fix while expression is fitted, and a parameter to fit when expression is frozen.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneticModel {
    expression: DMatrix<f64>,
    rules: DMatrix<f64>,
    scale: f64,
    temperature: f64,
    mask: Option<RulesMask>,
    learned: Learned,
}

impl GeneticModel {
    /// A model from raw expression `X` (`N x g`), raw rules `Ĝ` (`g x g`), scale κ, the rules
    /// temperature τ and optional mask; `learned` says which parts fits change.
    ///
    /// # Panics
    ///
    /// If the shapes disagree, or κ or τ is not positive.
    pub fn new(
        expression: DMatrix<f64>,
        rules: DMatrix<f64>,
        scale: f64,
        temperature: f64,
        mask: Option<RulesMask>,
        learned: Learned,
    ) -> Self {
        let genes = expression.ncols();
        assert_eq!((rules.nrows(), rules.ncols()), (genes, genes), "rules must be g x g");
        assert!(mask.as_ref().is_none_or(|m| m.genes() == genes), "mask must be g x g");
        assert!(scale > 0.0 && temperature > 0.0, "scale and temperature must be positive");
        GeneticModel { expression, rules, scale, temperature, mask, learned }
    }

    /// A model drawn from the genome's initialisers, `X ~ N(0, 2/g)`, `Ĝ ~ N(0, 1/g²)`, with
    /// the given κ.
    pub fn random(
        cells: usize,
        genes: usize,
        scale: f64,
        temperature: f64,
        mask: Option<RulesMask>,
        learned: Learned,
        rng: &mut Stream,
    ) -> Self {
        let g = genes as f64;
        let mut draw = |rows: usize, cols: usize, variance: f64| {
            let normal = Normal::new(0.0, variance.sqrt()).expect("variance is positive");
            DMatrix::from_fn(rows, cols, |_, _| normal.sample(rng))
        };
        let expression = draw(cells, genes, 2.0 / g);
        let rules = draw(genes, genes, 1.0 / (g * g));
        GeneticModel::new(expression, rules, scale, temperature, mask, learned)
    }

    /// Number of genes `g`.
    pub fn genes(&self) -> usize {
        self.rules.nrows()
    }

    /// Which parts fits change.
    pub fn learned(&self) -> Learned {
        self.learned
    }

    /// The map of the rules block.
    pub fn rules_map(&self) -> Map<'_> {
        match &self.mask {
            None => Map::Sigmoid { temperature: self.temperature },
            Some(mask) => Map::BandedSigmoid { temperature: self.temperature, mask },
        }
    }

    /// The model with its stored raw values replaced by those of `θ` (for example a fit's
    /// result), so that its [`CountModel::initial_parameters`] are `θ`.
    pub fn with_parameters(&self, parameters: &[f64]) -> GeneticModel {
        let (expression, rules, scale) = self.unpack(parameters);
        GeneticModel { expression, rules, scale, ..self.clone() }
    }

    /// The biological values at `θ`.
    pub fn genetics(&self, parameters: &[f64]) -> Genetics {
        let (raw_expression, raw_rules, scale) = self.unpack(parameters);
        Genetics {
            expression: Map::Square.value(&raw_expression),
            rules: self.rules_map().value(&raw_rules),
            scale,
        }
    }

    /// Raw `X`, raw `Ĝ` and κ at `θ` (frozen parts from the model).
    fn unpack(&self, parameters: &[f64]) -> (DMatrix<f64>, DMatrix<f64>, f64) {
        assert_eq!(parameters.len(), self.parameter_count(), "GeneticModel: wrong |θ|");
        let mut rest = parameters;
        let mut take = |frozen: &DMatrix<f64>, learned: bool| {
            if !learned {
                return frozen.clone();
            }
            let (head, tail) = rest.split_at(frozen.len());
            rest = tail;
            DMatrix::from_column_slice(frozen.nrows(), frozen.ncols(), head)
        };
        let expression = take(&self.expression, self.learned.expression);
        let rules = take(&self.rules, self.learned.rules);
        let scale = if self.learned.scale { rest[0].exp() } else { self.scale };
        (expression, rules, scale)
    }
}

impl CountModel for GeneticModel {
    fn cells(&self) -> usize {
        self.expression.nrows()
    }

    fn parameter_count(&self) -> usize {
        let Learned { expression, rules, scale } = self.learned;
        usize::from(expression) * self.expression.len()
            + usize::from(rules) * self.rules.len()
            + usize::from(scale)
    }

    fn initial_parameters(&self) -> Vec<f64> {
        let mut parameters = Vec::with_capacity(self.parameter_count());
        if self.learned.expression {
            parameters.extend_from_slice(self.expression.as_slice());
        }
        if self.learned.rules {
            parameters.extend_from_slice(self.rules.as_slice());
        }
        if self.learned.scale {
            parameters.push(self.scale.ln());
        }
        parameters
    }

    fn expected_counts(&self, parameters: &[f64]) -> DMatrix<f64> {
        self.genetics(parameters).expected_counts()
    }

    fn pullback(&self, parameters: &[f64], d_counts: &DMatrix<f64>) -> Vec<f64> {
        let (raw_expression, raw_rules, scale) = self.unpack(parameters);
        let expression = Map::Square.value(&raw_expression);
        let rules_map = self.rules_map();
        let rules = rules_map.value(&raw_rules);

        // Through μ = κ M, M = E G Eᵀ, with E on both sides of the product; κ scales the
        // (small) results rather than the N x N input.
        let zeros = || DMatrix::zeros(expression.nrows(), expression.ncols());
        let (mut d_pre, mut d_post) = (zeros(), zeros());
        let mut d_rules = DMatrix::zeros(rules.nrows(), rules.ncols());
        count_backward(
            &expression,
            &rules,
            &expression,
            d_counts,
            &mut d_pre,
            &mut d_rules,
            &mut d_post,
        );
        d_rules *= scale;

        // Through the maps to the raw values; ∂L/∂ln κ = Σ D ⊙ μ = Σ G ⊙ ∂L/∂G.
        let mut gradient = Vec::with_capacity(self.parameter_count());
        if self.learned.expression {
            let d_expression = (d_pre + d_post) * scale;
            let d_raw = Map::Square.pullback(&raw_expression, &expression, &d_expression);
            gradient.extend_from_slice(d_raw.as_slice());
        }
        if self.learned.rules {
            gradient.extend_from_slice(rules_map.pullback(&raw_rules, &rules, &d_rules).as_slice());
        }
        if self.learned.scale {
            gradient.push(rules.dot(&d_rules));
        }
        gradient
    }

    fn abundances(&self) -> Range<usize> {
        0..usize::from(self.learned.expression) * self.expression.len()
    }

    fn rescale(&self, parameters: &mut [f64], factor: f64) {
        if self.learned.expression {
            let root = factor.powf(0.25);
            parameters[self.abundances()].iter_mut().for_each(|x| *x *= root);
        } else if self.learned.scale {
            *parameters.last_mut().expect("κ is a parameter") += factor.ln();
        }
    }
}
