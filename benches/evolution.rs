//! One generation of evolution over the CartPole genome ([4, 128, 2], g = 16, d = 3 724
//! learnable parameters): the strategies' own cost (ask and tell), and a whole generation with
//! the fitness over sampled networks (28 candidates, 4 networks each, one episode).

use criterion::{Criterion, criterion_group, criterion_main};
use synaptogen::genome::{Architecture, Genome, Learnable};
use synaptogen::learn::es::{SepCmaEsSettings, SnesSettings, Strategy, StrategySettings};
use synaptogen::learn::{Evolution, EvolutionSettings, SampledFitnessSettings};
use synaptogen::rng::{self, Purpose};
use synaptogen::synapse::Sampler;
use synaptogen::task;

fn genome() -> Genome {
    Genome::random(Architecture::cartpole(), None, Learnable::all(), 1).unwrap()
}

fn ask_and_tell(c: &mut Criterion) {
    let mut group = c.benchmark_group("strategy ask+tell d=3724");
    let strategies = [
        ("snes", StrategySettings::Snes(SnesSettings::default())),
        ("sep-cma-es", StrategySettings::SepCmaEs(SepCmaEsSettings::default())),
    ];
    for (name, settings) in strategies {
        let mut strategy = settings.build(genome().parameters()).unwrap();
        let mut generation = 0;
        group.bench_function(name, |b| {
            b.iter(|| {
                let candidates = strategy.ask(&mut rng::stream(1, Purpose::Evolution, generation));
                generation += 1;
                let fitness: Vec<f64> = candidates.iter().map(|x| -x[0] * x[0]).collect();
                strategy.tell(&fitness);
            })
        });
    }
    group.finish();
}

fn generation(c: &mut Criterion) {
    let mut group = c.benchmark_group("snes generation cartpole");
    group.sample_size(10);
    for sampler in [Sampler::Exact, Sampler::MomentMatched] {
        let settings = EvolutionSettings {
            fitness: SampledFitnessSettings { networks: 4, sampler, ..Default::default() },
            ..Default::default()
        };
        let task = task::by_name("CartPole-v1").unwrap();
        let (mut evolution, fitness): (Evolution, _) = settings.start(genome(), task, 1).unwrap();
        group.bench_function(format!("{sampler:?}"), |b| b.iter(|| evolution.step(&fitness)));
    }
    group.finish();
}

criterion_group!(benches, ask_and_tell, generation);
criterion_main!(benches);
