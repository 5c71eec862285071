//! Separable CMA-ES: CMA-ES with a diagonal covariance matrix.

use serde::{Deserialize, Serialize};

use super::{EsError, Strategy, default_population, positive, ranking, standard_normal};
use crate::rng::Stream;

/// Separable CMA-ES hyperparameters; the learning rates are always the paper's defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SepCmaEsSettings {
    /// Initial global step size σ₀ (default 0.05).
    pub initial_sigma: f64,
    /// Population λ (default `None`: `4 + ⌊3 ln d⌋`); the best `⌊λ/2⌋` are recombined.
    pub population: Option<usize>,
}

impl Default for SepCmaEsSettings {
    fn default() -> Self {
        SepCmaEsSettings { initial_sigma: 0.05, population: None }
    }
}

impl SepCmaEsSettings {
    /// Checks every rule the settings must follow.
    pub fn check(&self) -> Result<(), EsError> {
        let rule = |ok: bool, field: &'static str, rule: &'static str| {
            if ok { Ok(()) } else { Err(EsError::Setting { strategy: "sep_cma_es", field, rule }) }
        };
        rule(positive(self.initial_sigma), "initial_sigma", "must be a positive number")?;
        rule(self.population.is_none_or(|p| p >= 4), "population", "must be at least 4")
    }
}

/// Separable CMA-ES (Ros & Hansen 2008, "A simple modification in CMA-ES achieving linear time
/// and space complexity", PPSN X, doi:10.1007/978-3-540-87700-4_30): the search distribution
/// `N(m, σ² diag(c))` with CMA-ES's updates restricted to the diagonal.
///
/// With `x_k = m + σ √c ⊙ z_k`, `z_k ~ N(0, I)`, recombination weights
/// `w_i ∝ ln((λ+1)/2) - ln i` over the best `μ = ⌊λ/2⌋` (summing to one, `μ_eff = 1 / Σ w_i²`)
/// and `⟨z⟩ = Σ w_i z_{i:λ}`, `⟨y⟩ = √c ⊙ ⟨z⟩`:
///
/// - `m ← m + σ ⟨y⟩`;
/// - `p_σ ← (1 - c_σ) p_σ + √(c_σ (2 - c_σ) μ_eff) ⟨z⟩`;
/// - `p_c ← (1 - c_c) p_c + h_σ √(c_c (2 - c_c) μ_eff) ⟨y⟩`;
/// - `c ← (1 - c₁ - c_μ + (1 - h_σ) c₁ c_c (2 - c_c)) c + c₁ p_c² + c_μ Σ w_i y_{i:λ}²`;
/// - `σ ← σ exp(c_σ / d_σ · (‖p_σ‖ / E‖N(0, I)‖ - 1))`,
///
/// with Hansen's default rates (arXiv:1604.00772, table 1) and `c₁`, `c_μ` multiplied by
/// `(d + 2) / 3` as Ros & Hansen prescribe for the separable variant. `h_σ` stalls the update of
/// `p_c` while `‖p_σ‖` is large. The per-coordinate standard deviation is `σ √c`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SepCmaEs {
    mean: Vec<f64>,
    step_size: f64,
    diagonal: Vec<f64>,
    path_sigma: Vec<f64>,
    path_c: Vec<f64>,
    generation: u64,
    population: usize,
    weights: Vec<f64>,
    mu_eff: f64,
    c_sigma: f64,
    d_sigma: f64,
    c_c: f64,
    c_1: f64,
    c_mu: f64,
    /// The standard normal draws of the pending population (empty between generations).
    #[serde(skip)]
    noise: Vec<Vec<f64>>,
}

impl SepCmaEs {
    /// A search centred on `mean` with step size `settings.initial_sigma` and `c = 1`.
    pub fn new(mean: Vec<f64>, settings: &SepCmaEsSettings) -> Result<Self, EsError> {
        settings.check()?;
        let d = mean.len();
        if d == 0 {
            return Err(EsError::NoDimensions);
        }
        let n = d as f64;
        let population = settings.population.unwrap_or_else(|| default_population(d));

        // Recombination weights of the best half.
        let parents = population / 2;
        let raw: Vec<f64> = (1..=parents)
            .map(|i| ((population as f64 + 1.0) / 2.0).ln() - (i as f64).ln())
            .collect();
        let total: f64 = raw.iter().sum();
        let weights: Vec<f64> = raw.iter().map(|w| w / total).collect();
        let mu_eff = 1.0 / weights.iter().map(|w| w * w).sum::<f64>();

        // Hansen's default rates, with the separable variant's faster covariance learning.
        let c_sigma = (mu_eff + 2.0) / (n + mu_eff + 5.0);
        let d_sigma = 1.0 + 2.0 * (((mu_eff - 1.0) / (n + 1.0)).sqrt() - 1.0).max(0.0) + c_sigma;
        let c_c = (4.0 + mu_eff / n) / (n + 4.0 + 2.0 * mu_eff / n);
        let separable = (n + 2.0) / 3.0;
        let c_1 = (2.0 / ((n + 1.3).powi(2) + mu_eff) * separable).min(1.0);
        let c_mu = (2.0 * (mu_eff - 2.0 + 1.0 / mu_eff) / ((n + 2.0).powi(2) + mu_eff) * separable)
            .min(1.0 - c_1);

        Ok(SepCmaEs {
            mean,
            step_size: settings.initial_sigma,
            diagonal: vec![1.0; d],
            path_sigma: vec![0.0; d],
            path_c: vec![0.0; d],
            generation: 0,
            population,
            weights,
            mu_eff,
            c_sigma,
            d_sigma,
            c_c,
            c_1,
            c_mu,
            noise: Vec::new(),
        })
    }

    /// The global step size σ.
    pub fn step_size(&self) -> f64 {
        self.step_size
    }
}

impl Strategy for SepCmaEs {
    fn dimension(&self) -> usize {
        self.mean.len()
    }

    fn population(&self) -> usize {
        self.population
    }

    fn ask(&mut self, rng: &mut Stream) -> Vec<Vec<f64>> {
        let d = self.mean.len();
        self.noise = (0..self.population).map(|_| standard_normal(rng, d)).collect();
        let scale: Vec<f64> = self.diagonal.iter().map(|c| self.step_size * c.sqrt()).collect();
        self.noise
            .iter()
            .map(|z| (0..d).map(|i| self.mean[i] + scale[i] * z[i]).collect())
            .collect()
    }

    fn tell(&mut self, fitness: &[f64]) {
        assert!(!self.noise.is_empty(), "SepCmaEs::tell without a pending ask");
        assert_eq!(fitness.len(), self.noise.len(), "SepCmaEs::tell: one fitness per candidate");
        let d = self.mean.len();
        let n = d as f64;
        let order = ranking(fitness);
        self.generation += 1;

        // Weighted recombination of the best half: ⟨z⟩ and ⟨y⟩ = √c ⊙ ⟨z⟩.
        let mut z_mean = vec![0.0; d];
        for (w, &k) in self.weights.iter().zip(&order) {
            for (z, noise) in z_mean.iter_mut().zip(&self.noise[k]) {
                *z += w * noise;
            }
        }
        let y_mean: Vec<f64> =
            self.diagonal.iter().zip(&z_mean).map(|(c, z)| c.sqrt() * z).collect();
        for (m, y) in self.mean.iter_mut().zip(&y_mean) {
            *m += self.step_size * y;
        }

        // Evolution paths; h_σ stalls p_c while p_σ is long.
        let sigma_rate = (self.c_sigma * (2.0 - self.c_sigma) * self.mu_eff).sqrt();
        for (p, z) in self.path_sigma.iter_mut().zip(&z_mean) {
            *p = (1.0 - self.c_sigma) * *p + sigma_rate * z;
        }
        let path_norm = self.path_sigma.iter().map(|p| p * p).sum::<f64>().sqrt();
        let expected_norm = n.sqrt() * (1.0 - 1.0 / (4.0 * n) + 1.0 / (21.0 * n * n));
        let decay = 1.0 - (1.0 - self.c_sigma).powi(2 * self.generation.min(1 << 20) as i32);
        let stalled = path_norm / decay.sqrt() >= (1.4 + 2.0 / (n + 1.0)) * expected_norm;
        let h_sigma = if stalled { 0.0 } else { 1.0 };
        let c_rate = (self.c_c * (2.0 - self.c_c) * self.mu_eff).sqrt();
        for (p, y) in self.path_c.iter_mut().zip(&y_mean) {
            *p = (1.0 - self.c_c) * *p + h_sigma * c_rate * y;
        }

        // Diagonal covariance: rank-one and rank-μ updates.
        let keep =
            1.0 - self.c_1 - self.c_mu + (1.0 - h_sigma) * self.c_1 * self.c_c * (2.0 - self.c_c);
        for i in 0..d {
            let rank_mu: f64 = self
                .weights
                .iter()
                .zip(&order)
                .map(|(w, &k)| w * self.diagonal[i] * self.noise[k][i] * self.noise[k][i])
                .sum();
            self.diagonal[i] = keep * self.diagonal[i]
                + self.c_1 * self.path_c[i] * self.path_c[i]
                + self.c_mu * rank_mu;
        }

        // Cumulative step-size adaptation.
        self.step_size *= (self.c_sigma / self.d_sigma * (path_norm / expected_norm - 1.0)).exp();
        self.noise.clear();
    }

    fn mean(&self) -> &[f64] {
        &self.mean
    }

    fn sigma(&self) -> Vec<f64> {
        self.diagonal.iter().map(|c| self.step_size * c.sqrt()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{ellipsoid, minimise, rosenbrock, sphere};
    use super::*;

    fn from(mean: Vec<f64>, initial_sigma: f64) -> SepCmaEs {
        SepCmaEs::new(mean, &SepCmaEsSettings { initial_sigma, ..Default::default() }).unwrap()
    }

    #[test]
    fn minimises_the_sphere() {
        let mut cma = from(vec![3.0; 20], 1.0);
        let best = minimise(&mut cma, sphere, 400, 1);
        assert!(best < 1e-8, "best {best}");
        assert!(cma.mean().iter().all(|m| (m - 0.5).abs() < 1e-4), "{:?}", cma.mean());
    }

    #[test]
    fn learns_the_scales_of_an_ill_conditioned_ellipsoid() {
        let mut cma = from(vec![1.0; 10], 1.0);
        let best = minimise(&mut cma, ellipsoid, 1_500, 3);
        assert!(best < 1e-8, "best {best}");
        // The cheap coordinate ends with a larger σ than the expensive one (ratio ~10³ ideally).
        let sigma = cma.sigma();
        assert!(sigma[0] > 100.0 * sigma[9], "{sigma:?}");
    }

    #[test]
    fn minimises_rosenbrock() {
        let mut cma = from(vec![0.0; 2], 0.5);
        let best = minimise(&mut cma, rosenbrock, 4_000, 2);
        assert!(best < 1e-8, "best {best}");
        assert!(cma.mean().iter().all(|m| (m - 1.0).abs() < 1e-3), "{:?}", cma.mean());
    }

    #[test]
    fn weights_and_rates_follow_the_paper() {
        let cma = from(vec![0.0; 10], 1.0);
        assert_eq!(cma.population(), 10);
        assert_eq!(cma.weights.len(), 5);
        assert!((cma.weights.iter().sum::<f64>() - 1.0).abs() < 1e-15);
        assert!(cma.weights.windows(2).all(|w| w[0] > w[1]));
        // μ_eff for λ = 10 is about 3.17 (Hansen's tutorial).
        assert!((cma.mu_eff - 3.1672).abs() < 1e-3, "{}", cma.mu_eff);
        assert!(cma.c_1 + cma.c_mu <= 1.0);
    }

    #[test]
    fn each_rule_is_checked() {
        let bad = [
            SepCmaEsSettings { initial_sigma: -0.1, ..Default::default() },
            SepCmaEsSettings { population: Some(3), ..Default::default() },
        ];
        for settings in bad {
            assert!(settings.check().is_err(), "{settings:?}");
        }
    }
}
