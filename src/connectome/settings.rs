//! The settings of a connectome fit (the RON experiment file) and their checks.
//!
//! [`Settings`] is what the file holds, every field with a default; [`Settings::check`] applies
//! the rules below and loads the rules mask, giving an [`Experiment`] that the rest of the module
//! trusts. Each rule has its own [`SettingsError`] variant.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{FitSettings, Learned, Rounding, Source};
use crate::genome::{GenomeError, RulesMask};

/// The scale κ of expression against trial counts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Scale {
    /// κ fixed at the given value. While expression is fitted κ is only a unit: any κ gives the
    /// same fit, with expression levels scaled by `κ^{-1/4}`.
    Fixed(f64),
    /// κ fitted (as `ln κ`, starting at 1); needs frozen expression, since otherwise κ and the
    /// scale of expression are interchangeable. Only `κ G` enters the mean, so the fitted κ is
    /// as small as rules of at most 1 allow.
    Fitted,
}

/// The genetic model to fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelSettings {
    /// Number of genes `g` of the main fit (default 32).
    pub genes: usize,
    /// Temperature τ of the rules sigmoid (default 0.1, as in the layered model).
    pub rules_temperature: f64,
    /// A `g x g` mask of gene pairs known to interact (`.npy` or text, see
    /// [`RulesMask::load`]); rules then live in the bands of [`crate::genome::Map::BandedSigmoid`]
    /// (default none).
    pub rules_mask: Option<PathBuf>,
    /// Fit the expression `X` (default true). Frozen expression stays at its random start.
    pub learn_expression: bool,
    /// Fit the rules `Ĝ` (default true).
    pub learn_rules: bool,
    /// The scale κ (default `Fixed(1.0)`).
    pub scale: Scale,
}

impl Default for ModelSettings {
    fn default() -> Self {
        ModelSettings {
            genes: 32,
            rules_temperature: 0.1,
            rules_mask: None,
            learn_expression: true,
            learn_rules: true,
            scale: Scale::Fixed(1.0),
        }
    }
}

impl ModelSettings {
    /// Which parts of the genetic model are fitted.
    pub fn learned(&self) -> Learned {
        Learned {
            expression: self.learn_expression,
            rules: self.learn_rules,
            scale: self.scale == Scale::Fitted,
        }
    }

    /// κ at the start of a fit.
    pub fn initial_scale(&self) -> f64 {
        match self.scale {
            Scale::Fixed(kappa) => kappa,
            Scale::Fitted => 1.0,
        }
    }
}

/// How fits are evaluated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvaluationSettings {
    /// Folds `k` of the cross-validation over cell pairs (default 5).
    pub folds: usize,
    /// The numbers of genes of the fit-versus-g curve, each cross-validated like the main fit
    /// (default `[2, 4, 8, 16, 32]`; empty for no curve).
    pub gene_curve: Vec<usize>,
    /// Networks grown from the fitted genetics for the comparison with the real one (default
    /// 10; 0 for none).
    pub samples: usize,
    /// Rounding of trial counts when growing networks (default `Stochastic`).
    pub rounding: Rounding,
}

impl Default for EvaluationSettings {
    fn default() -> Self {
        EvaluationSettings {
            folds: 5,
            gene_curve: vec![2, 4, 8, 16, 32],
            samples: 10,
            rounding: Rounding::Stochastic,
        }
    }
}

/// The settings of a connectome fit, as written in an experiment file. In RON the struct may be
/// named `ConnectomeFit(...)`, which tells it apart from other experiment files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "ConnectomeFit", default, deny_unknown_fields)]
pub struct Settings {
    /// The connectome (default `Cook2019Chemical`, built in).
    pub connectome: Source,
    /// Whether self pairs `(i, i)` (autapses) are fitted and scored (default false).
    pub self_pairs: bool,
    /// The genetic model.
    pub model: ModelSettings,
    /// The optimiser and penalty, shared by the genetic model and both nulls.
    pub fit: FitSettings,
    /// Cross-validation, the gene curve and sampling.
    pub evaluation: EvaluationSettings,
    /// The seed of every random draw: starting points, folds, grown networks (default 0).
    pub seed: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            connectome: Source::Cook2019Chemical,
            self_pairs: false,
            model: ModelSettings::default(),
            fit: FitSettings::default(),
            evaluation: EvaluationSettings::default(),
            seed: 0,
        }
    }
}

/// A rule of the settings that is broken, or a settings file that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The settings file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The settings file is not valid RON for [`Settings`].
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong, with line and column.
        message: String,
    },
    /// `model.genes` is zero.
    #[error("model.genes must be at least 1")]
    Genes,
    /// `model.rules_temperature` is not a positive number.
    #[error("model.rules_temperature must be a positive number, found {0}")]
    Temperature(f64),
    /// `model.scale` is `Fixed(κ)` with κ not a positive number.
    #[error("model.scale: Fixed(κ) needs a positive number κ, found {0}")]
    Scale(f64),
    /// `model.scale` is `Fitted` while expression is fitted too.
    #[error(
        "model.scale: Fitted needs learn_expression: false; while expression is fitted, κ and \
         the scale of expression are interchangeable, so fix κ (for example Fixed(1.0))"
    )]
    ScaleWithExpression,
    /// Nothing is fitted.
    #[error("model: nothing to fit; learn_expression and learn_rules are false and κ is fixed")]
    NothingToFit,
    /// The rules mask could not be loaded.
    #[error("model.rules_mask: {0}")]
    Mask(GenomeError),
    /// The rules mask has another number of genes.
    #[error("model.rules_mask is {mask} x {mask} but model.genes is {genes}")]
    MaskGenes {
        /// Genes of the mask.
        mask: usize,
        /// `model.genes`.
        genes: usize,
    },
    /// A gene curve with other numbers of genes than the mask's.
    #[error(
        "evaluation.gene_curve holds {0} genes, but a rules mask fixes the number of genes; \
         leave the curve empty"
    )]
    CurveWithMask(usize),
    /// `fit.iterations` is zero.
    #[error("fit.iterations must be at least 1")]
    Iterations,
    /// `fit.lbfgs_memory` is zero.
    #[error("fit.lbfgs_memory must be at least 1")]
    Memory,
    /// `fit.lbfgs_tolerance` is negative or not finite.
    #[error("fit.lbfgs_tolerance must be a number of at least 0, found {0}")]
    Tolerance(f64),
    /// `fit.adam.learning_rate` is not a positive number.
    #[error("fit.adam.learning_rate must be a positive number, found {0}")]
    LearningRate(f64),
    /// `fit.expression_penalty` is negative or not finite.
    #[error("fit.expression_penalty must be a number of at least 0, found {0}")]
    Penalty(f64),
    /// `evaluation.folds` is below two.
    #[error("evaluation.folds must be at least 2, found {0}")]
    Folds(usize),
    /// `evaluation.gene_curve` holds a zero.
    #[error("evaluation.gene_curve: every entry must be at least 1")]
    CurveGenes,
}

/// Checked settings: every rule holds and the rules mask is loaded.
#[derive(Debug, Clone, PartialEq)]
pub struct Experiment {
    /// The settings as given.
    pub settings: Settings,
    /// The rules mask, if any.
    pub rules_mask: Option<RulesMask>,
    /// The gene curve, sorted, without repeats.
    pub gene_curve: Vec<usize>,
}

impl Settings {
    /// Reads settings from a RON file.
    pub fn load(path: &Path) -> Result<Settings, SettingsError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| SettingsError::Io { path: path.into(), source })?;
        ron::from_str(&text)
            .map_err(|error| SettingsError::Parse { path: path.into(), message: error.to_string() })
    }

    /// The settings as RON text.
    pub fn to_ron(&self) -> String {
        let pretty = ron::ser::PrettyConfig::new().struct_names(true);
        ron::ser::to_string_pretty(self, pretty).expect("settings serialise")
    }

    /// Checks every rule and loads the rules mask.
    pub fn check(&self) -> Result<Experiment, SettingsError> {
        let (model, fit, evaluation) = (&self.model, &self.fit, &self.evaluation);
        let positive = |x: f64| x.is_finite() && x > 0.0;

        // The model.
        if model.genes == 0 {
            return Err(SettingsError::Genes);
        }
        if !positive(model.rules_temperature) {
            return Err(SettingsError::Temperature(model.rules_temperature));
        }
        match model.scale {
            Scale::Fixed(kappa) if !positive(kappa) => return Err(SettingsError::Scale(kappa)),
            Scale::Fitted if model.learn_expression => {
                return Err(SettingsError::ScaleWithExpression);
            }
            _ => {}
        }
        if !model.learn_expression && !model.learn_rules && model.scale != Scale::Fitted {
            return Err(SettingsError::NothingToFit);
        }

        // The optimiser.
        if fit.iterations == 0 {
            return Err(SettingsError::Iterations);
        }
        if fit.lbfgs_memory == 0 {
            return Err(SettingsError::Memory);
        }
        if !(fit.lbfgs_tolerance.is_finite() && fit.lbfgs_tolerance >= 0.0) {
            return Err(SettingsError::Tolerance(fit.lbfgs_tolerance));
        }
        if !positive(fit.adam.learning_rate) {
            return Err(SettingsError::LearningRate(fit.adam.learning_rate));
        }
        if !(fit.expression_penalty.is_finite() && fit.expression_penalty >= 0.0) {
            return Err(SettingsError::Penalty(fit.expression_penalty));
        }

        // The evaluation.
        if evaluation.folds < 2 {
            return Err(SettingsError::Folds(evaluation.folds));
        }
        if evaluation.gene_curve.contains(&0) {
            return Err(SettingsError::CurveGenes);
        }
        let mut gene_curve = evaluation.gene_curve.clone();
        gene_curve.sort_unstable();
        gene_curve.dedup();

        // The rules mask.
        let rules_mask = match &model.rules_mask {
            None => None,
            Some(path) => {
                let mask = RulesMask::load(path).map_err(SettingsError::Mask)?;
                if mask.genes() != model.genes {
                    return Err(SettingsError::MaskGenes {
                        mask: mask.genes(),
                        genes: model.genes,
                    });
                }
                if let Some(&other) = gene_curve.iter().find(|&&g| g != model.genes) {
                    return Err(SettingsError::CurveWithMask(other));
                }
                Some(mask)
            }
        };
        Ok(Experiment { settings: self.clone(), rules_mask, gene_curve })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn broken(change: impl FnOnce(&mut Settings)) -> SettingsError {
        let mut settings = Settings::default();
        change(&mut settings);
        settings.check().expect_err("the change breaks a rule")
    }

    #[test]
    fn the_defaults_pass() {
        let experiment = Settings::default().check().unwrap();
        assert_eq!(experiment.gene_curve, [2, 4, 8, 16, 32]);
        assert!(experiment.rules_mask.is_none());
    }

    #[test]
    fn genes_must_be_positive() {
        assert!(matches!(broken(|s| s.model.genes = 0), SettingsError::Genes));
    }

    #[test]
    fn temperature_must_be_positive() {
        let err = broken(|s| s.model.rules_temperature = -0.1);
        assert!(matches!(err, SettingsError::Temperature(_)));
        assert!(err.to_string().contains("model.rules_temperature"));
    }

    #[test]
    fn a_fixed_scale_must_be_positive() {
        assert!(matches!(broken(|s| s.model.scale = Scale::Fixed(0.0)), SettingsError::Scale(_)));
    }

    #[test]
    fn a_fitted_scale_needs_frozen_expression() {
        let err = broken(|s| s.model.scale = Scale::Fitted);
        assert!(matches!(err, SettingsError::ScaleWithExpression));
        let mut settings = Settings::default();
        settings.model.scale = Scale::Fitted;
        settings.model.learn_expression = false;
        assert!(settings.check().is_ok());
    }

    #[test]
    fn something_must_be_fitted() {
        let err = broken(|s| {
            s.model.learn_expression = false;
            s.model.learn_rules = false;
        });
        assert!(matches!(err, SettingsError::NothingToFit));
    }

    #[test]
    fn the_mask_must_load_and_match_the_genes() {
        let dir = std::env::temp_dir().join(format!("synaptogen-settings-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("mask.txt");
        std::fs::write(&path, "1 0\n0 1\n").unwrap();
        let err = broken(|s| s.model.rules_mask = Some(dir.join("missing.txt")));
        assert!(matches!(err, SettingsError::Mask(_)) && err.to_string().contains("missing.txt"));
        let err = broken(|s| s.model.rules_mask = Some(path.clone()));
        assert!(matches!(err, SettingsError::MaskGenes { mask: 2, genes: 32 }));
        let err = broken(|s| {
            s.model.rules_mask = Some(path.clone());
            s.model.genes = 2;
        });
        assert!(matches!(err, SettingsError::CurveWithMask(4)));
        let mut settings = Settings::default();
        settings.model.rules_mask = Some(path.clone());
        settings.model.genes = 2;
        settings.evaluation.gene_curve = vec![2];
        assert!(settings.check().unwrap().rules_mask.is_some());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn iterations_must_be_positive() {
        assert!(matches!(broken(|s| s.fit.iterations = 0), SettingsError::Iterations));
    }

    #[test]
    fn memory_must_be_positive() {
        assert!(matches!(broken(|s| s.fit.lbfgs_memory = 0), SettingsError::Memory));
    }

    #[test]
    fn the_tolerance_must_not_be_negative() {
        assert!(matches!(broken(|s| s.fit.lbfgs_tolerance = -1e-9), SettingsError::Tolerance(_)));
    }

    #[test]
    fn the_learning_rate_must_be_positive() {
        let err = broken(|s| s.fit.adam.learning_rate = f64::NAN);
        assert!(matches!(err, SettingsError::LearningRate(_)));
    }

    #[test]
    fn the_penalty_must_not_be_negative() {
        assert!(matches!(broken(|s| s.fit.expression_penalty = -1.0), SettingsError::Penalty(_)));
    }

    #[test]
    fn at_least_two_folds() {
        assert!(matches!(broken(|s| s.evaluation.folds = 1), SettingsError::Folds(1)));
    }

    #[test]
    fn curve_genes_must_be_positive() {
        let err = broken(|s| s.evaluation.gene_curve = vec![4, 0]);
        assert!(matches!(err, SettingsError::CurveGenes));
    }

    #[test]
    fn unknown_fields_are_reported_with_their_line() {
        let dir = std::env::temp_dir().join(format!("synaptogen-ron-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("fit.ron");
        std::fs::write(&path, "(\n    model: (genes: 8),\n    fit: (iteration: 3),\n)\n").unwrap();
        let err = Settings::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("fit.ron") && err.contains("iteration") && err.contains("3:"),
            "{err}"
        );
        std::fs::write(&path, "(model: (genes: 8), evaluation: (folds: 3))").unwrap();
        let settings = Settings::load(&path).unwrap();
        assert_eq!((settings.model.genes, settings.evaluation.folds), (8, 3));
        assert_eq!(settings.fit, FitSettings::default());
        let round_trip: Settings = ron::from_str(&settings.to_ron()).unwrap();
        assert_eq!(round_trip, settings);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
