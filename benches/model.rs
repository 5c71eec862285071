//! One gradient step of the expected-weight network: the cost that bounds DQN training speed.

use criterion::{Criterion, criterion_group, criterion_main};
use nalgebra::DMatrix;
use synaptogen::genome::{Architecture, Genome, Learnable};
use synaptogen::learn::{Adam, AdamSettings, clip_grad_norm};
use synaptogen::net::Trace;
use synaptogen::synapse::Expected;

fn genome(genes: usize) -> Genome {
    let arch = Architecture { genes, ..Architecture::cartpole() };
    Genome::random(arch, None, Learnable::all(), 1).unwrap()
}

fn batch() -> DMatrix<f64> {
    DMatrix::from_fn(64, 4, |i, j| ((i * 4 + j) as f64 * 0.61).sin())
}

fn gradient_step(c: &mut Criterion) {
    for genes in [16, 64] {
        let input = batch();
        let d_output = DMatrix::from_fn(64, 2, |i, j| ((i + j) as f64 * 0.1).cos() / 64.0);

        // Forward and backward alone: weights from the genome, batch pass, gradient to blocks.
        let genome_fb = genome(genes);
        let mut trace = Trace::default();
        c.bench_function(&format!("forward+backward g={genes}"), |b| {
            b.iter(|| {
                let expected = Expected::new(&genome_fb);
                expected.network.forward_traced(&input, &mut trace);
                let dense = expected.network.backward(&trace, &d_output);
                expected.backward(&genome_fb, &dense).flatten()
            })
        });

        // The whole DQN step: online and target forward, backward, clipping, Adam.
        let mut online = genome(genes);
        let target = Expected::new(&online).network;
        let mut adam = Adam::new(AdamSettings::default(), online.parameter_count());
        let mut params = online.parameters();
        let mut target_trace = Trace::default();
        c.bench_function(&format!("dqn gradient step g={genes}"), |b| {
            b.iter(|| {
                target.forward_traced(&input, &mut target_trace);
                let next_q = target_trace.output();
                let expected = Expected::new(&online);
                expected.network.forward_traced(&input, &mut trace);
                let d = trace.output().zip_map(next_q, |q, t| (q - t).clamp(-1.0, 1.0) / 64.0);
                let dense = expected.network.backward(&trace, &d);
                let mut grad = expected.backward(&online, &dense).flatten();
                clip_grad_norm(&mut grad, 10.0);
                adam.step(&mut params, &grad);
                online.set_parameters(&params);
            })
        });
    }
}

criterion_group!(benches, gradient_step);
criterion_main!(benches);
