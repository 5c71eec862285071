//! Trains the expected-weight network of a genome on CartPole-v1 with DQN and prints the best
//! evaluation per seed: `cargo run --release --example dqn_cartpole -- [steps] [seeds]`.

use std::time::Instant;

use synaptogen::genome::{Architecture, Genome, Learnable};
use synaptogen::learn::{Dqn, DqnSettings};
use synaptogen::task;

fn main() {
    let mut args = std::env::args().skip(1);
    let steps: usize = args.next().map_or(100_000, |s| s.parse().expect("steps"));
    let seeds: u64 = args.next().map_or(5, |s| s.parse().expect("seeds"));
    let settings = DqnSettings {
        total_steps: steps,
        eval_freq: 2_000,
        ..DqnSettings::preset("CartPole-v1").unwrap()
    };
    for seed in 0..seeds {
        let genome =
            Genome::random(Architecture::cartpole(), None, Learnable::all(), seed).unwrap();
        let task = task::by_name("CartPole-v1").unwrap();
        let mut dqn = Dqn::new(genome, task, settings.clone(), seed).unwrap();
        let start = Instant::now();
        let mut first_500 = None;
        let (_, best) = dqn
            .run(|report| {
                if let Some(e) = report.evaluation
                    && e.mean_return >= 500.0
                    && first_500.is_none()
                {
                    first_500 = Some(report.step);
                }
            })
            .unwrap();
        let seconds = start.elapsed().as_secs_f64();
        println!(
            "seed {seed}: best mean return {best:.1}, first 500 at {first_500:?}, {steps} steps in \
             {seconds:.1} s ({:.0} steps/s)",
            steps as f64 / seconds
        );
    }
}
