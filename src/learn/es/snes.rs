//! Separable natural evolution strategy (SNES).

use serde::{Deserialize, Serialize};

use super::{EsError, Strategy, default_population, nes_utilities, positive, standard_normal};
use crate::rng::Stream;

/// SNES hyperparameters; `None` picks the paper's default for the dimension.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SnesSettings {
    /// Initial per-coordinate standard deviation σ₀ (default 0.05).
    pub initial_sigma: f64,
    /// Population λ (default `None`: `4 + ⌊3 ln d⌋`).
    pub population: Option<usize>,
    /// Learning rate η_μ of the mean (default 1).
    pub learning_rate_mean: f64,
    /// Learning rate η_σ of the standard deviations (default `None`: `(3 + ln d) / (5 √d)`).
    pub learning_rate_sigma: Option<f64>,
}

impl Default for SnesSettings {
    fn default() -> Self {
        SnesSettings {
            initial_sigma: 0.05,
            population: None,
            learning_rate_mean: 1.0,
            learning_rate_sigma: None,
        }
    }
}

impl SnesSettings {
    /// Checks every rule the settings must follow.
    pub fn check(&self) -> Result<(), EsError> {
        let rule = |ok: bool, field: &'static str, rule: &'static str| {
            if ok { Ok(()) } else { Err(EsError::Setting { strategy: "snes", field, rule }) }
        };
        rule(positive(self.initial_sigma), "initial_sigma", "must be a positive number")?;
        rule(self.population.is_none_or(|p| p >= 2), "population", "must be at least 2")?;
        rule(positive(self.learning_rate_mean), "learning_rate_mean", "must be a positive number")?;
        rule(
            self.learning_rate_sigma.is_none_or(positive),
            "learning_rate_sigma",
            "must be a positive number",
        )
    }
}

/// Separable NES (Schaul, Glasmachers & Schmidhuber 2011, "High dimensions and heavy tails for
/// natural evolution strategies", GECCO, doi:10.1145/2001576.2001692): a Gaussian search
/// distribution `N(μ, diag(σ²))` moved along its natural gradient.
///
/// Each generation draws `s_k ~ N(0, I)` and candidates `x_k = μ + σ ⊙ s_k`, `k = 1..λ`; with the
/// rank-based utilities `u_k` of [`nes_utilities`],
///
/// - `μ ← μ + η_μ σ ⊙ Σ_k u_k s_k`,
/// - `σ ← σ ⊙ exp(η_σ / 2 · Σ_k u_k (s_k² - 1))`,
///
/// with the defaults `η_μ = 1`, `η_σ = (3 + ln d) / (5 √d)` and `λ = 4 + ⌊3 ln d⌋`. The cost per
/// generation is `O(λ d)`, so SNES scales to the thousands of parameters of a genome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snes {
    mean: Vec<f64>,
    sigma: Vec<f64>,
    population: usize,
    learning_rate_mean: f64,
    learning_rate_sigma: f64,
    /// The standard normal draws of the pending population (empty between generations).
    #[serde(skip)]
    noise: Vec<Vec<f64>>,
}

impl Snes {
    /// A search centred on `mean` with every σ at `settings.initial_sigma`.
    pub fn new(mean: Vec<f64>, settings: &SnesSettings) -> Result<Self, EsError> {
        settings.check()?;
        let d = mean.len();
        if d == 0 {
            return Err(EsError::NoDimensions);
        }
        let dimension = d as f64;
        Ok(Snes {
            sigma: vec![settings.initial_sigma; d],
            mean,
            population: settings.population.unwrap_or_else(|| default_population(d)),
            learning_rate_mean: settings.learning_rate_mean,
            learning_rate_sigma: settings
                .learning_rate_sigma
                .unwrap_or((3.0 + dimension.ln()) / (5.0 * dimension.sqrt())),
            noise: Vec::new(),
        })
    }

    /// The learning rate of the standard deviations in use.
    pub fn learning_rate_sigma(&self) -> f64 {
        self.learning_rate_sigma
    }
}

impl Strategy for Snes {
    fn dimension(&self) -> usize {
        self.mean.len()
    }

    fn population(&self) -> usize {
        self.population
    }

    fn ask(&mut self, rng: &mut Stream) -> Vec<Vec<f64>> {
        let d = self.mean.len();
        self.noise = (0..self.population).map(|_| standard_normal(rng, d)).collect();
        self.noise
            .iter()
            .map(|s| (0..d).map(|i| self.mean[i] + self.sigma[i] * s[i]).collect())
            .collect()
    }

    fn tell(&mut self, fitness: &[f64]) {
        assert!(!self.noise.is_empty(), "Snes::tell without a pending ask");
        assert_eq!(fitness.len(), self.noise.len(), "Snes::tell: one fitness per candidate");
        let utilities = nes_utilities(fitness);

        // Natural gradients of the mean and of the log standard deviations.
        let d = self.mean.len();
        let mut grad_mean = vec![0.0; d];
        let mut grad_sigma = vec![0.0; d];
        for (s, &u) in self.noise.iter().zip(&utilities) {
            for i in 0..d {
                grad_mean[i] += u * s[i];
                grad_sigma[i] += u * (s[i] * s[i] - 1.0);
            }
        }

        // Steps along them.
        for i in 0..d {
            self.mean[i] += self.learning_rate_mean * self.sigma[i] * grad_mean[i];
            self.sigma[i] *= (0.5 * self.learning_rate_sigma * grad_sigma[i]).exp();
        }
        self.noise.clear();
    }

    fn mean(&self) -> &[f64] {
        &self.mean
    }

    fn sigma(&self) -> Vec<f64> {
        self.sigma.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{ellipsoid, minimise, rosenbrock, sphere};
    use super::*;

    #[test]
    fn minimises_the_sphere() {
        let mut snes =
            Snes::new(vec![3.0; 20], &SnesSettings { initial_sigma: 1.0, ..Default::default() })
                .unwrap();
        let best = minimise(&mut snes, sphere, 600, 1);
        assert!(best < 1e-8, "best {best}");
        assert!(snes.mean().iter().all(|m| (m - 0.5).abs() < 1e-4), "{:?}", snes.mean());
        assert!(snes.sigma().iter().all(|&s| s < 1e-4), "σ shrinks at the optimum");
    }

    #[test]
    fn learns_the_scales_of_an_ill_conditioned_ellipsoid() {
        let settings = SnesSettings { initial_sigma: 1.0, ..Default::default() };
        let mut snes = Snes::new(vec![1.0; 10], &settings).unwrap();
        let best = minimise(&mut snes, ellipsoid, 1_500, 3);
        assert!(best < 1e-8, "best {best}");
        let sigma = snes.sigma();
        assert!(sigma[0] > 100.0 * sigma[9], "{sigma:?}");
    }

    #[test]
    fn follows_the_curved_valley_of_rosenbrock() {
        // A separable distribution cannot align with the valley, so it crawls along it: from
        // f(0) = 1, the two-dimensional function falls below 1e-2 within 4 000 generations.
        let settings = SnesSettings { initial_sigma: 0.5, ..Default::default() };
        let mut snes = Snes::new(vec![0.0; 2], &settings).unwrap();
        let best = minimise(&mut snes, rosenbrock, 4_000, 2);
        assert!(best < 1e-2, "best {best}");
        assert!(snes.mean().iter().all(|m| (m - 1.0).abs() < 0.2), "{:?}", snes.mean());
    }

    #[test]
    fn defaults_follow_the_paper() {
        let snes = Snes::new(vec![0.0; 100], &SnesSettings::default()).unwrap();
        assert_eq!(snes.population(), 4 + (3.0 * 100f64.ln()).floor() as usize);
        let expected = (3.0 + 100f64.ln()) / (5.0 * 10.0);
        assert!((snes.learning_rate_sigma() - expected).abs() < 1e-15);
    }

    #[test]
    fn each_rule_is_checked() {
        let bad = [
            SnesSettings { initial_sigma: 0.0, ..Default::default() },
            SnesSettings { population: Some(1), ..Default::default() },
            SnesSettings { learning_rate_mean: f64::NAN, ..Default::default() },
            SnesSettings { learning_rate_sigma: Some(-1.0), ..Default::default() },
        ];
        for settings in bad {
            assert!(settings.check().is_err(), "{settings:?}");
        }
    }

    #[test]
    #[should_panic(expected = "without a pending ask")]
    fn tell_without_ask_is_a_bug() {
        let mut snes = Snes::new(vec![0.0; 3], &SnesSettings::default()).unwrap();
        snes.tell(&[1.0; 5]);
    }
}
