//! The hybrid on CartPole-v1 with the paper's genome ([4, 128, 2], g = 16, k = 3): DQN through
//! the count noise with validation of every checkpoint, then SNES selecting on the worst of
//! sampled networks. For each seed, 100 networks grown from the resulting genetics (exact
//! sampler, d = 1e5) play 10 greedy episodes each, with networks and episodes that neither
//! phase has seen:
//!
//! `cargo run --release --example hybrid_cartpole -- [seeds] [dqn_steps] [noise_scale]`
//!
//! Prints, per seed, the distribution of the networks' mean returns (and the same for the
//! genetics the gradient phase handed to the selection), the environment steps and wall time.

use std::time::Instant;

use rand::RngExt;
use synaptogen::eval;
use synaptogen::genome::{Architecture, Genome, Learnable};
use synaptogen::learn::{DqnSettings, Hybrid, HybridSettings, HybridStep};
use synaptogen::rng::{self, Purpose};
use synaptogen::synapse::{Sampler, Synaptogenesis};
use synaptogen::task;

/// The mean returns of 100 networks of `genome`, 10 episodes each, sorted.
fn measure(genome: &Genome, seed: u64) -> Vec<f64> {
    let growth = Synaptogenesis::new(genome, Sampler::Exact, 1e5).expect("genetics grow");
    let networks: Vec<_> =
        growth.sample_many(seed, 0..100).into_iter().map(|s| s.network).collect();
    let task = || task::by_name("CartPole-v1").expect("built in");
    let mut scores = eval::evaluate(&networks, task, 10, seed, None).expect("shapes fit").means();
    scores.sort_by(f64::total_cmp);
    scores
}

fn describe(scores: &[f64]) -> String {
    let n = scores.len() as f64;
    let solved = scores.iter().filter(|&&s| s >= 475.0).count();
    let full = scores.iter().filter(|&&s| s >= 500.0).count();
    let mean = scores.iter().sum::<f64>() / n;
    let std = (scores.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / n).sqrt();
    format!(
        "{solved}/100 >= 475, {full} at 500, mean {mean:.1} (std {std:.1}), median {:.1}, worst \
         {:.1}",
        scores[scores.len() / 2],
        scores[0]
    )
}

fn main() {
    let mut args = std::env::args().skip(1);
    let seeds: u64 = args.next().map_or(5, |s| s.parse().expect("seeds"));
    let dqn_steps: usize = args.next().map_or(100_000, |s| s.parse().expect("dqn_steps"));
    let dqn = DqnSettings {
        total_steps: dqn_steps,
        eval_freq: 2_000,
        ..DqnSettings::preset("CartPole-v1").expect("preset")
    };
    let mut settings = HybridSettings::default();
    if let Some(scale) = args.next() {
        settings.noise_scale = scale.parse().expect("noise_scale");
    }
    println!("hybrid settings: {settings:?}");
    let mut all_solved = Vec::new();
    for seed in 0..seeds {
        let start = Instant::now();
        let genome =
            Genome::random(Architecture::cartpole(), None, Learnable::all(), seed).expect("valid");
        let task = task::by_name("CartPole-v1").expect("built in");
        let mut hybrid =
            Hybrid::new(genome, task, dqn.clone(), settings.clone(), seed).expect("valid");

        // Run, keeping the genetics the gradient phase hands to the selection.
        let mut handed_over = None;
        let mut gradient_seconds = 0.0;
        while !hybrid.finished() {
            let step = hybrid.step().expect("no divergence");
            if handed_over.is_none() && hybrid.selecting() {
                handed_over = hybrid.best();
                gradient_seconds = start.elapsed().as_secs_f64();
            }
            if let (HybridStep::Generation(_), Some(v)) = (&step, hybrid.last_validation()) {
                eprintln!(
                    "  seed {seed} generation {}: validation {}/{} solved, mean {:.1}, min {:.1}",
                    v.generation, v.solved, v.networks, v.mean, v.min
                );
            }
        }
        let seconds = start.elapsed().as_secs_f64();
        let (genome, validation) = hybrid.best().expect("validated");
        let (handed_over, handed_validation) = handed_over.expect("the selection ran");

        // Measure on networks and episodes no phase has seen.
        let measurement = rng::stream(seed, Purpose::Evaluation, u64::MAX).random::<u64>();
        let scores = measure(&genome, measurement);
        let before = measure(&handed_over, measurement);
        let record = hybrid.record();
        println!(
            "seed {seed}: {} | gradient phase's genetics: {} | validations {}/{} → {}/{} | \
             environment steps {} (DQN {}, selection {}, validation {}) | {seconds:.1} s \
             (gradient phase {gradient_seconds:.1} s)",
            describe(&scores),
            describe(&before),
            handed_validation.solved,
            handed_validation.networks,
            validation.solved,
            validation.networks,
            hybrid.environment_steps(),
            record.dqn_steps,
            hybrid.evolution().map_or(0, |e| e.environment_steps()),
            record.validation_steps,
        );
        all_solved.push(scores.iter().filter(|&&s| s >= 475.0).count());
    }
    println!("networks >= 475 per seed: {all_solved:?}");
}
