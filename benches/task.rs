//! Raw stepping speed of the built-in tasks: one `step` through `Box<dyn Task>` with random
//! actions, resetting whenever an episode ends (resets are included, amortised over episodes).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rand::RngExt;
use std::hint::black_box;
use synaptogen::rng::{Purpose, stream};
use synaptogen::task::{NAMES, by_name};

fn steps(c: &mut Criterion) {
    let mut group = c.benchmark_group("task step");
    group.throughput(Throughput::Elements(1));
    for name in NAMES {
        let mut task = by_name(name).unwrap();
        let mut observation = vec![0.0; task.observation_size()];
        let mut rng = stream(0, Purpose::Evaluation, 0);

        // Actions drawn ahead of time, so the benchmark times the task and not the generator.
        let actions: Vec<usize> = (0..4096).map(|_| rng.random_range(0..task.actions())).collect();
        let mut next = 0;
        task.reset(&mut rng, &mut observation);
        group.bench_function(name, |bencher| {
            bencher.iter(|| {
                let step = task.step(actions[next], black_box(&mut observation));
                next = (next + 1) % actions.len();
                if step.done() {
                    task.reset(&mut rng, &mut observation);
                }
                black_box(step)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, steps);
criterion_main!(benches);
