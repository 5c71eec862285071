//! Evolution over genomes on a real task: a seed fixes every number on any thread count, and
//! runs resumed from checkpoints continue exactly.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use synaptogen::genome::{Architecture, Genome, Learnable};
use synaptogen::learn::es::{SnesSettings, StrategySettings};
use synaptogen::learn::{
    Aggregate, Budget, Candidate, DqnSettings, Evolution, EvolutionSettings, Fitness, Hybrid,
    HybridSettings, HybridStep, RunFiles, SampledFitnessSettings,
};
use synaptogen::synapse::Sampler;
use synaptogen::task;

/// A small genome for CartPole: [4, 6, 2], g = 3, k = 1.
fn small_genome(seed: u64) -> Genome {
    let architecture = Architecture {
        layers: vec![4, 6, 2],
        genes: 3,
        transmitters: 1,
        ..Architecture::cartpole()
    };
    Genome::random(architecture, None, Learnable::all(), seed).unwrap()
}

fn small_fitness(sampler: Sampler) -> SampledFitnessSettings {
    SampledFitnessSettings {
        networks: 3,
        episodes: 2,
        aggregate: Aggregate::Mean,
        sampler,
        average_degree: 1_000.0,
    }
}

fn on_threads<T: Send>(threads: usize, work: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(work)
}

fn snes_run() -> Evolution {
    let settings = EvolutionSettings {
        strategy: StrategySettings::Snes(SnesSettings { initial_sigma: 0.1, ..Default::default() }),
        fitness: small_fitness(Sampler::Exact),
        budget: Budget::generations(4),
        checkpoint_every: 0,
    };
    let task = task::by_name("CartPole-v1").unwrap();
    let (mut evolution, fitness) = settings.start(small_genome(1), task, 5).unwrap();
    evolution.run(&fitness, settings.budget, None, None, |_| {}).unwrap();
    evolution
}

#[test]
fn snes_over_a_genome_is_the_same_on_one_and_two_threads() {
    let one = on_threads(1, snes_run);
    let two = on_threads(2, snes_run);
    assert_eq!(one, two);
    assert!(one.environment_steps() > 0);
    assert!(one.history().iter().all(|f| f.best >= 8.0 && f.best <= 500.0));
}

#[test]
fn a_candidate_fitness_depends_only_on_its_parameters_and_seed() {
    let genome = small_genome(2);
    let task = task::by_name("CartPole-v1").unwrap();
    let (_, fitness) =
        EvolutionSettings { fitness: small_fitness(Sampler::Exact), ..Default::default() }
            .start(genome.clone(), task, 0)
            .unwrap();
    let parameters = genome.parameters();
    let candidate = |seed| Candidate { generation: 3, index: 1, seed, parameters: &parameters };
    assert_eq!(fitness.evaluate(&candidate(9)), fitness.evaluate(&candidate(9)));
    let direct = fitness.scores(&genome, 9).unwrap();
    assert_eq!(fitness.evaluate(&candidate(9)).fitness, direct.mean());
}

/// A tiny DQN: 600 steps, evaluated (and so validated) every 300.
fn tiny_dqn() -> DqnSettings {
    DqnSettings {
        total_steps: 600,
        learning_starts: 100,
        train_freq: 100,
        gradient_steps: 5,
        batch_size: 16,
        buffer_size: 1_000,
        target_update_interval: 50,
        eval_freq: 300,
        eval_episodes: 2,
        ..Default::default()
    }
}

fn tiny_hybrid_settings(generations: u64) -> HybridSettings {
    HybridSettings {
        noise_scale: 5.0,
        validation_networks: 2,
        validation_episodes: 1,
        strategy: StrategySettings::Snes(SnesSettings {
            initial_sigma: 0.01,
            ..Default::default()
        }),
        fitness: small_fitness(Sampler::MomentMatched),
        selection_budget: Budget::generations(generations),
        validate_every: 2,
        checkpoint_every: 2,
    }
}

fn tiny_hybrid(generations: u64) -> Hybrid {
    let task = task::by_name("CartPole-v1").unwrap();
    Hybrid::new(small_genome(3), task, tiny_dqn(), tiny_hybrid_settings(generations), 4).unwrap()
}

#[test]
fn the_hybrid_is_the_same_on_one_and_two_threads() {
    let run = || {
        let mut hybrid = tiny_hybrid(3);
        hybrid.run(None, None, |_, _| {}).unwrap();
        (hybrid.record().clone(), hybrid.evolution().unwrap().clone())
    };
    let one = on_threads(1, run);
    let two = on_threads(2, run);
    assert_eq!(one, two);

    // Validations after DQN's two evaluations, then after generation 2.
    let (record, evolution) = one;
    assert_eq!(record.validations.len(), 3);
    assert_eq!(record.dqn_steps, 600);
    assert_eq!(evolution.generation(), 3);
}

#[test]
fn the_hybrid_resumes_from_its_checkpoint() {
    let dir: PathBuf =
        std::env::temp_dir().join(format!("synaptogen-hybrid-resume-{}", std::process::id()));
    let files = RunFiles { directory: dir.clone(), every: 0 };

    let mut whole = tiny_hybrid(5);
    whole.run(None, None, |_, _| {}).unwrap();

    // Interrupted after generation 2, then resumed from the checkpoint it wrote.
    let mut first = tiny_hybrid(5);
    let stop = AtomicBool::new(false);
    first
        .run(Some(&files), Some(&stop), |step, _| {
            if let HybridStep::Generation(figures) = step
                && figures.generation == 2
            {
                stop.store(true, Ordering::Relaxed);
            }
        })
        .unwrap();
    assert_eq!(first.evolution().unwrap().generation(), 2);
    let path = dir.join(Hybrid::CHECKPOINT);
    let task = task::by_name("CartPole-v1").unwrap();
    let mut resumed =
        Hybrid::resume(&path, small_genome(3), task, tiny_hybrid_settings(5), 4).unwrap();
    assert_eq!(resumed.record(), first.record());
    resumed.run(None, None, |_, _| {}).unwrap();
    assert_eq!(resumed.record(), whole.record());
    assert_eq!(resumed.evolution(), whole.evolution());
    assert_eq!(resumed.best().unwrap().1, whole.best().unwrap().1);
    std::fs::remove_dir_all(&dir).unwrap();
}
