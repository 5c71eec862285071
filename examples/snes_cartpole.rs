//! SNES alone on CartPole-v1 with the paper's genome ([4, 128, 2], g = 16, k = 3), from random
//! genetics, within the reference's budget of 500 000 environment steps; fitness = the mean
//! return of freshly sampled networks. For each seed, 100 networks grown from the final mean
//! (exact sampler, d = 1e5) play 10 greedy episodes each:
//!
//! `cargo run --release --example snes_cartpole -- [seeds] [initial_sigma] [networks] [episodes]`
//!
//! (defaults: 10 seeds, σ₀ = 0.2, one network of one episode per candidate; the budget is
//! strict, so no run exceeds 500 000 steps).

use std::time::Instant;

use rand::RngExt;
use synaptogen::eval;
use synaptogen::genome::{Architecture, Genome, Learnable};
use synaptogen::learn::es::{SnesSettings, Strategy, StrategySettings};
use synaptogen::learn::{EvolutionSettings, SampledFitnessSettings};
use synaptogen::rng::{self, Purpose};
use synaptogen::synapse::{Sampler, Synaptogenesis};
use synaptogen::task;

fn main() {
    let mut args = std::env::args().skip(1);
    let seeds: u64 = args.next().map_or(10, |s| s.parse().expect("seeds"));
    let initial_sigma: f64 = args.next().map_or(0.2, |s| s.parse().expect("initial_sigma"));
    let networks: usize = args.next().map_or(1, |s| s.parse().expect("networks"));
    let episodes: usize = args.next().map_or(1, |s| s.parse().expect("episodes"));
    let settings = EvolutionSettings {
        strategy: StrategySettings::Snes(SnesSettings { initial_sigma, ..Default::default() }),
        fitness: SampledFitnessSettings { networks, episodes, ..Default::default() },
        ..Default::default()
    };
    println!("settings: {settings:?}");
    for seed in 0..seeds {
        let start = Instant::now();
        let genome =
            Genome::random(Architecture::cartpole(), None, Learnable::all(), seed).expect("valid");
        let task = task::by_name("CartPole-v1").expect("built in");
        let (mut evolution, fitness) = settings.start(genome, task, seed).expect("valid");
        let mut last = None;
        evolution
            .run(&fitness, settings.budget, None, None, |f| last = Some(*f))
            .expect("no files");
        let seconds = start.elapsed().as_secs_f64();
        let last = last.expect("at least one generation");

        // 100 networks of the final mean, 10 episodes each, on unseen streams.
        let genome = fitness.genome(evolution.strategy().mean());
        let measurement = rng::stream(seed, Purpose::Evaluation, u64::MAX).random::<u64>();
        let growth = Synaptogenesis::new(&genome, Sampler::Exact, 1e5).expect("genetics grow");
        let networks: Vec<_> =
            growth.sample_many(measurement, 0..100).into_iter().map(|s| s.network).collect();
        let make_task = || task::by_name("CartPole-v1").expect("built in");
        let mut scores =
            eval::evaluate(&networks, make_task, 10, measurement, None).expect("fits").means();
        scores.sort_by(f64::total_cmp);
        let mean = scores.iter().sum::<f64>() / 100.0;
        println!(
            "seed {seed}: {} generations, {} environment steps, {seconds:.1} s; last generation \
             best {:.1} mean {:.1}, σ mean {:.4} | 100 networks: {}/100 >= 475, {} at 500, mean \
             {mean:.1}, median {:.1}, worst {:.1}",
            evolution.generation(),
            evolution.environment_steps(),
            last.best,
            last.mean,
            last.sigma_mean,
            scores.iter().filter(|&&s| s >= 475.0).count(),
            scores.iter().filter(|&&s| s >= 500.0).count(),
            scores[50],
            scores[0],
        );
    }
}
