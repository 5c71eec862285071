//! Times the DQN gradient step of the paper's network in isolation:
//! `cargo run --release --example gradient_steps -- [genes] [steps]`.

use std::time::Instant;

use nalgebra::DMatrix;
use synaptogen::genome::{Architecture, Genome, Learnable};
use synaptogen::learn::{Adam, AdamSettings, clip_grad_norm};
use synaptogen::net::Trace;
use synaptogen::synapse::Expected;

fn main() {
    let mut args = std::env::args().skip(1);
    let genes: usize = args.next().map_or(16, |s| s.parse().expect("genes"));
    let steps: usize = args.next().map_or(20_000, |s| s.parse().expect("steps"));
    let arch = Architecture { genes, ..Architecture::cartpole() };
    let mut online = Genome::random(arch, None, Learnable::all(), 1).unwrap();
    let target = Expected::new(&online).network;
    let input = DMatrix::from_fn(64, 4, |i, j| ((i * 4 + j) as f64 * 0.61).sin());
    let mut adam = Adam::new(AdamSettings::default(), online.parameter_count());
    let mut params = online.parameters();
    let mut trace = Trace::default();
    let start = Instant::now();
    for _ in 0..steps {
        let next_q = target.forward(&input);
        let expected = Expected::new(&online);
        expected.network.forward_traced(&input, &mut trace);
        let d = trace.output().zip_map(&next_q, |q, t| (q - t).clamp(-1.0, 1.0) / 64.0);
        let dense = expected.network.backward(&trace, &d);
        let mut grad = expected.backward(&online, &dense).flatten();
        clip_grad_norm(&mut grad, 10.0);
        adam.step(&mut params, &grad);
        online.set_parameters(&params);
    }
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "g = {genes}: {:.1} µs per gradient step, {:.0} steps/s",
        seconds / steps as f64 * 1e6,
        steps as f64 / seconds
    );
}
