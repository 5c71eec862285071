//! OpenAI's evolution strategy: fixed-σ antithetic sampling driving Adam.

use serde::{Deserialize, Serialize};

use super::{EsError, Strategy, centred_ranks, default_population, positive, standard_normal};
use crate::learn::{Adam, AdamSettings};
use crate::rng::Stream;

/// OpenAI-ES hyperparameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OpenAiEsSettings {
    /// Fixed noise standard deviation σ (default 0.02).
    pub sigma: f64,
    /// Adam's learning rate (default 0.01).
    pub learning_rate: f64,
    /// L2 coefficient: `weight_decay · θ` is added to the descent direction (default 0.005).
    pub weight_decay: f64,
    /// Population λ, even (default `None`: `4 + ⌊3 ln d⌋` rounded up to even).
    pub population: Option<usize>,
}

impl Default for OpenAiEsSettings {
    fn default() -> Self {
        OpenAiEsSettings { sigma: 0.02, learning_rate: 0.01, weight_decay: 0.005, population: None }
    }
}

impl OpenAiEsSettings {
    /// Checks every rule the settings must follow.
    pub fn check(&self) -> Result<(), EsError> {
        let rule = |ok: bool, field: &'static str, rule: &'static str| {
            if ok { Ok(()) } else { Err(EsError::Setting { strategy: "openai_es", field, rule }) }
        };
        rule(positive(self.sigma), "sigma", "must be a positive number")?;
        rule(positive(self.learning_rate), "learning_rate", "must be a positive number")?;
        rule(
            self.weight_decay.is_finite() && self.weight_decay >= 0.0,
            "weight_decay",
            "must be a number >= 0",
        )?;
        rule(
            self.population.is_none_or(|p| p >= 2 && p % 2 == 0),
            "population",
            "must be even and at least 2 (candidates come in mirrored pairs)",
        )
    }
}

/// The evolution strategy of Salimans, Ho, Chen, Sidor & Sutskever (2017, "Evolution strategies
/// as a scalable alternative to reinforcement learning", arXiv:1703.03864).
///
/// Candidates come in mirrored pairs `θ ± σ ε_j`, `ε_j ~ N(0, I)`, `j = 1..λ/2` (antithetic
/// sampling), in the order `θ + σ ε_1, θ - σ ε_1, θ + σ ε_2, ...`. With the centred-rank
/// utilities `u` of [`centred_ranks`], the search gradient is
///
/// `g = 1/λ · Σ_j (u_j⁺ - u_j⁻) ε_j`
///
/// (the estimator `1/(λσ) Σ u_i ε_i` with σ absorbed into the learning rate, as in the
/// authors' code), and Adam descends along `-g + weight_decay · θ`. σ stays fixed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenAiEs {
    mean: Vec<f64>,
    sigma: f64,
    weight_decay: f64,
    population: usize,
    adam: Adam,
    /// The half population of draws `ε_j` pending a tell (empty between generations).
    #[serde(skip)]
    noise: Vec<Vec<f64>>,
}

impl OpenAiEs {
    /// A search centred on `mean`.
    pub fn new(mean: Vec<f64>, settings: &OpenAiEsSettings) -> Result<Self, EsError> {
        settings.check()?;
        let d = mean.len();
        if d == 0 {
            return Err(EsError::NoDimensions);
        }
        let population =
            settings.population.unwrap_or_else(|| default_population(d).next_multiple_of(2));
        Ok(OpenAiEs {
            adam: Adam::new(
                AdamSettings { learning_rate: settings.learning_rate, ..Default::default() },
                d,
            ),
            mean,
            sigma: settings.sigma,
            weight_decay: settings.weight_decay,
            population,
            noise: Vec::new(),
        })
    }
}

impl Strategy for OpenAiEs {
    fn dimension(&self) -> usize {
        self.mean.len()
    }

    fn population(&self) -> usize {
        self.population
    }

    fn ask(&mut self, rng: &mut Stream) -> Vec<Vec<f64>> {
        let d = self.mean.len();
        self.noise = (0..self.population / 2).map(|_| standard_normal(rng, d)).collect();
        let mut candidates = Vec::with_capacity(self.population);
        for epsilon in &self.noise {
            for sign in [1.0, -1.0] {
                candidates
                    .push((0..d).map(|i| self.mean[i] + sign * self.sigma * epsilon[i]).collect());
            }
        }
        candidates
    }

    fn tell(&mut self, fitness: &[f64]) {
        assert!(!self.noise.is_empty(), "OpenAiEs::tell without a pending ask");
        assert_eq!(fitness.len(), self.population, "OpenAiEs::tell: one fitness per candidate");
        let utilities = centred_ranks(fitness);

        // Search gradient from the mirrored pairs.
        let d = self.mean.len();
        let mut ascent = vec![0.0; d];
        for (j, epsilon) in self.noise.iter().enumerate() {
            let weight = (utilities[2 * j] - utilities[2 * j + 1]) / self.population as f64;
            for i in 0..d {
                ascent[i] += weight * epsilon[i];
            }
        }

        // Adam descends along -g + decay · θ.
        let descent: Vec<f64> =
            (0..d).map(|i| -ascent[i] + self.weight_decay * self.mean[i]).collect();
        self.adam.step(&mut self.mean, &descent);
        self.noise.clear();
    }

    fn mean(&self) -> &[f64] {
        &self.mean
    }

    fn sigma(&self) -> Vec<f64> {
        vec![self.sigma; self.mean.len()]
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{minimise, sphere};
    use super::*;
    use crate::rng::{self, Purpose};

    #[test]
    fn candidates_come_in_mirrored_pairs() {
        let mut es = OpenAiEs::new(vec![1.0, -2.0, 0.5], &OpenAiEsSettings::default()).unwrap();
        let candidates = es.ask(&mut rng::stream(0, Purpose::Evolution, 0));
        assert_eq!(candidates.len(), es.population());
        for pair in candidates.chunks(2) {
            for ((plus, minus), mean) in pair[0].iter().zip(&pair[1]).zip(es.mean()) {
                assert!(((plus + minus) / 2.0 - mean).abs() < 1e-15);
            }
        }
    }

    #[test]
    fn approaches_the_minimum_of_the_sphere() {
        // A fixed σ limits the precision to about σ; Adam's steps to about its learning rate.
        let settings = OpenAiEsSettings {
            sigma: 0.05,
            learning_rate: 0.02,
            weight_decay: 0.0,
            population: Some(20),
        };
        let mut es = OpenAiEs::new(vec![2.0; 10], &settings).unwrap();
        minimise(&mut es, sphere, 1_500, 4);
        let distance = sphere(es.mean()).sqrt();
        assert!(distance < 0.05, "distance {distance}, mean {:?}", es.mean());
    }

    #[test]
    fn each_rule_is_checked() {
        let bad = [
            OpenAiEsSettings { sigma: 0.0, ..Default::default() },
            OpenAiEsSettings { learning_rate: -1.0, ..Default::default() },
            OpenAiEsSettings { weight_decay: f64::INFINITY, ..Default::default() },
            OpenAiEsSettings { population: Some(7), ..Default::default() },
        ];
        for settings in bad {
            assert!(settings.check().is_err(), "{settings:?}");
        }
    }
}
