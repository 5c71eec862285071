//! Whole DQN training throughput: environment steps per second with the CartPole preset.

use criterion::{Criterion, criterion_group, criterion_main};
use synaptogen::genome::{Architecture, Genome, Learnable};
use synaptogen::learn::{Dqn, DqnSettings};
use synaptogen::task;

fn dqn_training(c: &mut Criterion) {
    let mut group = c.benchmark_group("dqn cartpole preset");
    group.sample_size(10);
    for genes in [16, 64] {
        // 5 000 steps: 1 000 random ones, then 15 training phases of 128 gradient steps.
        let settings = DqnSettings {
            total_steps: 5_000,
            eval_freq: 0,
            ..DqnSettings::preset("CartPole-v1").unwrap()
        };
        group.bench_function(format!("5000 steps g={genes}"), |b| {
            b.iter(|| {
                let arch = Architecture { genes, ..Architecture::cartpole() };
                let genome = Genome::random(arch, None, Learnable::all(), 1).unwrap();
                let task = task::by_name("CartPole-v1").unwrap();
                let mut dqn = Dqn::new(genome, task, settings.clone(), 1).unwrap();
                dqn.run(|_| {}).unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, dqn_training);
criterion_main!(benches);
