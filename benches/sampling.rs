//! Synaptogenesis and evaluation: the costs that bound an experiment's sampling phase.
//!
//! Reference (the original Python implementation): 0.17-0.20 s to sample one [4, 128, 2]
//! network at g = 16 and 2.4-3.0 s at g = 64 (d = 1e5); about 2 000 policy steps per second in
//! evaluation.
//!
//! Each sampler is timed twice: growing a network from a prepared genome (a sampled family:
//! many networks from one genome), and preparing the genome as well (a baseline family, where
//! every network has a genome of its own). Evaluation runs the real CartPole-v1.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rand_distr::{Binomial, Distribution};
use synaptogen::eval::evaluate;
use synaptogen::genome::{Architecture, Genome, Learnable};
use synaptogen::rng::{self, Purpose};
use synaptogen::synapse::sample::BinomialSampler;
use synaptogen::synapse::{Sampler, Synaptogenesis};
use synaptogen::task::{self, Task};

fn genome(genes: usize) -> Genome {
    let architecture = Architecture { genes, ..Architecture::cartpole() };
    Genome::random(architecture, None, Learnable::all(), 1).unwrap()
}

/// The binomial draws of one network: `(n_ijab, a · g + b)` for every neuron pair and gene pair
/// with trials, as the exact sampler makes them.
fn draws(genome: &Genome) -> Vec<(u64, usize)> {
    let kappa = Synaptogenesis::new(genome, Sampler::Exact, 1e5).unwrap().scale();
    let bio = genome.biology();
    let genes = bio.rules.nrows();
    let mut draws = Vec::new();
    for l in 0..bio.expression.len() - 1 {
        let (pre, post) = (&bio.expression[l], &bio.expression[l + 1]);
        for i in 0..pre.nrows() {
            for j in 0..post.nrows() {
                for a in 0..genes {
                    for b in 0..genes {
                        let n = (kappa * pre[(i, a)] * post[(j, b)]).round_ties_even() as u64;
                        if n > 0 {
                            draws.push((n, a * genes + b));
                        }
                    }
                }
            }
        }
    }
    draws
}

/// The binomial draws of a g = 16 network, with `rand_distr::Binomial` built per draw (what a
/// direct port would do) and with a `BinomialSampler` prepared once per gene pair (the exact
/// sampler also inverts a table for fewer than 8 trials).
fn binomials(c: &mut Criterion) {
    let genome = genome(16);
    let draws = draws(&genome);
    let rules: Vec<f64> = genome.biology().rules.transpose().iter().copied().collect();
    let samplers: Vec<_> = rules.iter().map(|&p| BinomialSampler::new(p)).collect();
    let mut group = c.benchmark_group("binomial draws of a g=16 network");
    group.sample_size(10);
    group.throughput(Throughput::Elements(draws.len() as u64));
    let mut rng = rng::stream(1, Purpose::Synaptogenesis, 0);
    group.bench_function("rand_distr::Binomial", |b| {
        b.iter(|| {
            let draw = |&(n, ab): &(u64, usize)| Binomial::new(n, rules[ab]).unwrap();
            draws.iter().map(|d| draw(d).sample(&mut rng)).sum::<u64>()
        })
    });
    group.bench_function("BinomialSampler", |b| {
        b.iter(|| draws.iter().map(|&(n, ab)| samplers[ab].sample(n, &mut rng)).sum::<u64>())
    });
    group.finish();
}

fn sampling(c: &mut Criterion) {
    let mut group = c.benchmark_group("sample [4, 128, 2], d = 1e5");
    group.sample_size(10);
    for genes in [16, 64] {
        let genome = genome(genes);
        for sampler in [Sampler::Exact, Sampler::PerSynapse, Sampler::MomentMatched] {
            // A network of the sampled family: the genome is prepared once.
            let growth = Synaptogenesis::new(&genome, sampler, 1e5).unwrap();
            let mut index = 0;
            group.bench_function(format!("{sampler:?} g={genes}"), |b| {
                b.iter(|| {
                    index += 1;
                    growth.sample(1, index)
                })
            });
            // A network of a baseline family: every network has its own genome to prepare.
            group.bench_function(format!("{sampler:?} g={genes}, with preparation"), |b| {
                b.iter(|| Synaptogenesis::new(&genome, sampler, 1e5).unwrap().sample(1, 0))
            });
        }
    }
    // Throughput on all cores: 8 networks at once.
    let growth = Synaptogenesis::new(&genome(16), Sampler::Exact, 1e5).unwrap();
    group.throughput(Throughput::Elements(8));
    group.bench_function("Exact g=16, 8 networks in parallel", |b| {
        b.iter(|| growth.sample_many(1, 0..8))
    });
    group.finish();
}

fn evaluation(c: &mut Criterion) {
    // 100 networks grown from one genome, 10 episodes each, as in an experiment's family.
    let growth = Synaptogenesis::new(&genome(16), Sampler::MomentMatched, 1e5).unwrap();
    let networks: Vec<_> = growth.sample_many(1, 0..100).into_iter().map(|s| s.network).collect();
    let task = || -> Box<dyn Task> { task::by_name("CartPole-v1").unwrap() };
    let steps = evaluate(&networks, task, 10, 3, None).unwrap().total_steps();
    eprintln!("evaluation: {steps} policy steps per run ({} per episode)", steps / 1000);

    let mut group = c.benchmark_group("evaluate [4, 128, 2] in CartPole");
    group.sample_size(10);
    group.throughput(Throughput::Elements(steps as u64));
    group.bench_function("100 networks x 10 episodes", |b| {
        b.iter(|| evaluate(&networks, task, 10, 3, None).unwrap())
    });
    group.finish();
}

criterion_group!(benches, binomials, sampling, evaluation);
criterion_main!(benches);
