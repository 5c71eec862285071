//! From a spec to a checked experiment: defaults resolved, files loaded, every rule checked.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::spec::{ExperimentSpec, FamiliesSpec, LearnerSpec, SamplingSpec};
use crate::genome::{Architecture, Genome, GenomeError, Learnable, ReferenceNetwork, RulesMask};
use crate::learn::{DqnError, DqnSettings, EvolutionSettings, HybridSettings};
use crate::task;

/// What can be wrong with an experiment file. Every message names the file, and the line and
/// field where they are known.
#[derive(Debug, thiserror::Error)]
pub enum ExperimentError {
    /// The file could not be read.
    #[error("{path}: cannot read the experiment: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not valid RON for an experiment (syntax, types, unknown or missing fields).
    #[error("{path}:{line}:{column}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// Line (1-based).
        line: usize,
        /// Column (1-based).
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A field has a value that breaks a rule.
    #[error("{path}:{line}: field `{field}`: {rule}")]
    Rule {
        /// The file.
        path: PathBuf,
        /// Line of the field (1-based; 1 when the field is left to its default).
        line: usize,
        /// The field, dotted for nested fields.
        field: String,
        /// The rule and the offending value.
        rule: String,
    },
}

/// The resolved learner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(clippy::large_enum_variant)]
pub enum Learner {
    /// No training.
    None,
    /// DQN with fully resolved settings.
    Dqn {
        /// The settings.
        settings: DqnSettings,
        /// Whether a plain MLP is trained alongside for comparison.
        mlp_baseline: bool,
    },
    /// An evolution strategy over sampled networks.
    Evolution(EvolutionSettings),
    /// The gradient/evolution hybrid.
    Hybrid {
        /// The gradient phase's DQN settings, resolved.
        dqn: DqnSettings,
        /// The hybrid's own settings.
        hybrid: HybridSettings,
    },
}

/// A checked experiment: every default applied and every rule checked, ready to run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Experiment {
    /// Name.
    pub name: String,
    /// Seed.
    pub seed: u64,
    /// Task name (known to [`task::by_name`]).
    pub task: String,
    /// Sizes and constants of the genome.
    pub architecture: Architecture,
    /// The rules mask file, resolved against the experiment file, if any.
    pub rules_mask_file: Option<PathBuf>,
    /// Which blocks are learned.
    pub learnable: Learnable,
    /// The initial genome file, resolved, if any.
    pub initial_genome: Option<PathBuf>,
    /// The learner.
    pub learner: Learner,
    /// Sampling settings.
    pub sampling: SamplingSpec,
    /// Families.
    pub families: FamiliesSpec,
    /// Evaluation episodes per network.
    pub episodes: usize,
    /// Output folder.
    pub output: PathBuf,
}

/// Line (1-based) of the first `field:` in `source` outside comments, searched after the line
/// of `after:` when given; 1 if not found (the field was left to its default).
fn line_of(source: &str, after: Option<&str>, field: &str) -> usize {
    let key = |name: &str| {
        let pattern = format!("{name}:");
        move |line: &str| {
            let code = line.split("//").next().unwrap_or("");
            code.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .any(|word| word.starts_with(&pattern))
        }
    };
    let lines: Vec<&str> = source.lines().collect();
    let start = after.and_then(|a| lines.iter().position(|l| key(a)(l))).unwrap_or(0);
    lines[start..].iter().position(|l| key(field)(l)).map_or(1, |i| start + i + 1)
}

impl Experiment {
    /// Reads, parses and checks an experiment file.
    pub fn load(path: &Path) -> Result<Experiment, ExperimentError> {
        let source = std::fs::read_to_string(path)
            .map_err(|source| ExperimentError::Read { path: path.into(), source })?;
        Experiment::parse(&source, path)
    }

    /// Parses and checks experiment text; `path` names it in errors and anchors relative paths.
    pub fn parse(source: &str, path: &Path) -> Result<Experiment, ExperimentError> {
        // Optional fields are written as plain values (`genes: 16`, not `Some(16)`).
        let options = ron::Options::default()
            .with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME);
        let spec: ExperimentSpec =
            options.from_str(source).map_err(|e| ExperimentError::Parse {
                path: path.into(),
                line: e.span.start.line,
                column: e.span.start.col,
                message: e.code.to_string(),
            })?;
        Experiment::from_spec(spec, source, path)
    }

    /// Checks a parsed spec; `source` is the file's text (for line numbers), `path` the file.
    pub fn from_spec(
        spec: ExperimentSpec,
        source: &str,
        path: &Path,
    ) -> Result<Experiment, ExperimentError> {
        let rule =
            |after: Option<&str>, field: &str, dotted: &str, rule: String| ExperimentError::Rule {
                path: path.into(),
                line: line_of(source, after, field),
                field: dotted.into(),
                rule,
            };
        let base = path.parent().unwrap_or(Path::new("."));

        // Task and layers.
        let task =
            task::by_name(&spec.task).map_err(|e| rule(None, "task", "task", e.to_string()))?;
        let layers = spec
            .layers
            .clone()
            .unwrap_or_else(|| vec![task.observation_size(), 128, task.actions()]);
        if layers.len() < 2 {
            return Err(rule(
                None,
                "layers",
                "layers",
                "needs at least two layers (input and output)".into(),
            ));
        }
        if let Some(i) = layers.iter().position(|&n| n == 0) {
            return Err(rule(
                None,
                "layers",
                "layers",
                format!("layer {i} has no neurons; every layer needs at least one"),
            ));
        }
        if layers[0] != task.observation_size() {
            return Err(rule(
                None,
                "layers",
                "layers",
                format!(
                    "the input layer has {} neurons but {} observations have {} values",
                    layers[0],
                    spec.task,
                    task.observation_size()
                ),
            ));
        }
        if layers[layers.len() - 1] != task.actions() {
            return Err(rule(
                None,
                "layers",
                "layers",
                format!(
                    "the output layer has {} neurons but {} has {} actions",
                    layers[layers.len() - 1],
                    spec.task,
                    task.actions()
                ),
            ));
        }

        // Genome.
        let g = &spec.genome;
        let genome_rule = |field: &str, text: String| {
            rule(Some("genome"), field, &format!("genome.{field}"), text)
        };
        if g.genes == 0 {
            return Err(genome_rule("genes", "must be at least 1".into()));
        }
        if g.transmitters == 0 {
            return Err(genome_rule("transmitters", "must be at least 1".into()));
        }
        if !(g.rules_temperature.is_finite() && g.rules_temperature > 0.0) {
            return Err(genome_rule(
                "rules_temperature",
                format!("must be a positive number, not {}", g.rules_temperature),
            ));
        }
        if !(g.conductance_scale.is_finite() && g.conductance_scale > 0.0) {
            return Err(genome_rule(
                "conductance_scale",
                format!("must be a positive number, not {}", g.conductance_scale),
            ));
        }
        let architecture = Architecture {
            layers,
            genes: g.genes,
            transmitters: g.transmitters,
            rules_temperature: g.rules_temperature,
            conductance_scale: g.conductance_scale,
        };
        let rules_mask_file = g.rules_mask.as_ref().map(|p| base.join(p));
        if let Some(file) = &rules_mask_file {
            let mask =
                RulesMask::load(file).map_err(|e| genome_rule("rules_mask", e.to_string()))?;
            if mask.genes() != g.genes {
                return Err(genome_rule(
                    "rules_mask",
                    format!(
                        "{} is {1} x {1} but the genome has {2} genes",
                        file.display(),
                        mask.genes(),
                        g.genes
                    ),
                ));
            }
        }
        let initial_genome = g.initial.as_ref().map(|p| base.join(p));
        if let Some(file) = &initial_genome {
            let genome = load_genome(file).map_err(|e| genome_rule("initial", e.to_string()))?;
            if genome.architecture() != &architecture {
                return Err(genome_rule(
                    "initial",
                    format!(
                        "{} has architecture {:?}, but the experiment asks for {:?}",
                        file.display(),
                        genome.architecture(),
                        architecture
                    ),
                ));
            }
        }

        // Learner.
        let task_name = spec.task.clone();
        let learner = match &spec.learner {
            LearnerSpec::None => Learner::None,
            LearnerSpec::Dqn(overrides) => {
                let base = DqnSettings::preset(&spec.task).unwrap_or_default();
                let settings = overrides.apply(base);
                settings.check().map_err(|e| match e {
                    DqnError::Setting { field, rule: text } => {
                        rule(Some("learner"), field, &format!("learner.{field}"), text.into())
                    }
                    other => rule(Some("learner"), "learner", "learner", other.to_string()),
                })?;
                Learner::Dqn { settings, mlp_baseline: overrides.mlp_baseline.unwrap_or(false) }
            }
            LearnerSpec::Evolution(settings) => {
                settings
                    .check()
                    .map_err(|e| rule(Some("learner"), "Evolution", "learner", e.to_string()))?;
                Learner::Evolution(settings.clone())
            }
            LearnerSpec::Hybrid(spec) => {
                let base = DqnSettings::preset(&task_name).unwrap_or_default();
                let dqn = spec.dqn.apply(base);
                dqn.check()
                    .map_err(|e| rule(Some("learner"), "dqn", "learner.dqn", e.to_string()))?;
                spec.hybrid.check().map_err(|e| {
                    rule(Some("learner"), "hybrid", "learner.hybrid", e.to_string())
                })?;
                Learner::Hybrid { dqn, hybrid: spec.hybrid.clone() }
            }
        };

        // Sampling, families, episodes.
        let s = &spec.sampling;
        if !(s.average_degree.is_finite() && s.average_degree > 0.0) {
            return Err(rule(
                Some("sampling"),
                "average_degree",
                "sampling.average_degree",
                format!("must be a positive number, not {}", s.average_degree),
            ));
        }
        s.lineage.check().map_err(|e| {
            rule(
                Some("sampling"),
                "division_noise",
                "sampling.lineage.division_noise",
                e.to_string(),
            )
        })?;
        if spec.episodes == 0 {
            return Err(rule(None, "episodes", "episodes", "must be at least 1".into()));
        }
        if spec.name.is_empty() || spec.name.contains(['/', '\\']) {
            return Err(rule(
                None,
                "name",
                "name",
                format!(
                    "`{}` cannot name a directory: use a non-empty name without slashes",
                    spec.name
                ),
            ));
        }

        Ok(Experiment {
            name: spec.name,
            seed: spec.seed,
            task: spec.task,
            architecture,
            rules_mask_file,
            learnable: g.learnable,
            initial_genome,
            learner,
            sampling: spec.sampling,
            families: spec.families,
            episodes: spec.episodes,
            output: spec.output,
        })
    }

    /// The rules mask, loaded.
    pub fn rules_mask(&self) -> Result<Option<RulesMask>, GenomeError> {
        self.rules_mask_file.as_deref().map(RulesMask::load).transpose()
    }

    /// The genome training starts from: the initial genome file if given (with the experiment's
    /// learnable blocks), a random one from the experiment's seed otherwise.
    pub fn initial(&self) -> Result<Genome, GenomeError> {
        match &self.initial_genome {
            Some(file) => {
                let mut genome = load_genome(file)?;
                genome.set_learnable(self.learnable);
                Ok(genome)
            }
            None => Genome::random(
                self.architecture.clone(),
                self.rules_mask()?,
                self.learnable,
                self.seed,
            ),
        }
    }
}

/// Loads a genome saved by synaptogen (`.ron`) or exported by the original Python
/// implementation (`.json`).
pub fn load_genome(path: &Path) -> Result<Genome, GenomeError> {
    if path.extension().is_some_and(|e| e == "json") {
        ReferenceNetwork::load(path)?.genome()
    } else {
        Genome::load(path)
    }
}
