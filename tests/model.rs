//! The expected-weight model: exact gradients, the expectation formulas, frozen blocks, and the
//! outputs of the original Python implementation.

use std::path::{Path, PathBuf};

use nalgebra::DMatrix;
use synaptogen::genome::{
    Architecture, BlockName, Genome, Learnable, ReferenceNetwork, RulesMask, rows_to_matrix,
};
use synaptogen::learn::{Adam, AdamSettings, clip_grad_norm};
use synaptogen::net::Trace;
use synaptogen::synapse::Expected;

fn architecture(layers: &[usize], genes: usize, transmitters: usize) -> Architecture {
    Architecture {
        layers: layers.to_vec(),
        genes,
        transmitters,
        rules_temperature: 0.3,
        conductance_scale: 1.5,
    }
}

fn inputs(batch: usize, width: usize) -> DMatrix<f64> {
    DMatrix::from_fn(batch, width, |i, j| ((i * 5 + j * 3) as f64 * 0.77).sin() * 2.0)
}

/// The loss `Σ c ⊙ output` of the expected network for a fixed batch and weighting `c`.
fn loss(genome: &Genome, input: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    Expected::new(genome).network.forward(input).component_mul(c).sum()
}

fn analytic_gradient(genome: &Genome, input: &DMatrix<f64>, c: &DMatrix<f64>) -> Vec<f64> {
    let expected = Expected::new(genome);
    let mut trace = Trace::default();
    expected.network.forward_traced(input, &mut trace);
    let dense = expected.network.backward(&trace, c);
    expected.backward(genome, &dense).flatten()
}

fn check_gradient(genome: &Genome) {
    let layers = &genome.architecture().layers;
    let input = inputs(5, layers[0]);
    let c = DMatrix::from_fn(5, *layers.last().unwrap(), |i, j| ((i + 3 * j) as f64).cos());
    let analytic = analytic_gradient(genome, &input, &c);
    let params = genome.parameters();
    assert_eq!(analytic.len(), params.len());

    // Fourth-order central differences: truncation error O(h⁴), round-off O(ε / h).
    let h = 1e-4;
    let mut worst: f64 = 0.0;
    let at = |i: usize, delta: f64| {
        let mut probe = genome.clone();
        let mut p = params.clone();
        p[i] += delta;
        probe.set_parameters(&p);
        loss(&probe, &input, &c)
    };
    // Entries below 1e-4 of the largest are compared on that scale: their differences are
    // round-off, not signal.
    let largest = analytic.iter().fold(0.0f64, |m, g| m.max(g.abs()));
    for (i, &exact) in analytic.iter().enumerate() {
        let numeric =
            (8.0 * (at(i, h) - at(i, -h)) - (at(i, 2.0 * h) - at(i, -2.0 * h))) / (12.0 * h);
        let scale = numeric.abs().max(exact.abs()).max(1e-4 * largest);
        let err = (numeric - exact).abs() / scale;
        worst = worst.max(err);
    }
    assert!(worst < 1e-6, "{:?}: worst relative error {worst:e}", genome.architecture());
}

#[test]
fn gradients_of_every_block_match_central_differences() {
    let shapes: [(&[usize], usize, usize); 4] =
        [(&[3, 4, 2], 2, 1), (&[2, 5, 3], 4, 2), (&[4, 3, 6, 2], 3, 3), (&[1, 2], 5, 2)];
    for (seed, (layers, genes, k)) in shapes.into_iter().enumerate() {
        let arch = architecture(layers, genes, k);
        let plain = Genome::random(arch.clone(), None, Learnable::all(), seed as u64).unwrap();
        check_gradient(&plain);
        let mask = RulesMask::from_fn(genes, |a, b| (a * 7 + b * 3) % 3 == 0);
        let masked = Genome::random(arch, Some(mask), Learnable::all(), 100 + seed as u64).unwrap();
        check_gradient(&masked);
    }
}

#[test]
fn gradients_with_frozen_blocks_cover_only_learnable_ones() {
    let arch = architecture(&[3, 4, 2], 3, 2);
    let learnable = Learnable { rules: false, receptors: false, ..Learnable::all() };
    let genome = Genome::random(arch, None, learnable, 5).unwrap();
    let frozen = genome.block(BlockName::Rules).raw[0].len()
        + genome.block(BlockName::Receptors).raw.iter().map(|m| m.len()).sum::<usize>();
    let total: usize =
        BlockName::ALL.iter().flat_map(|&n| &genome.block(n).raw).map(|m| m.len()).sum();
    assert_eq!(genome.parameter_count(), total - frozen);
    check_gradient(&genome);
}

#[test]
fn expectation_formulas_match_brute_force_sums() {
    let arch = architecture(&[3, 4, 2], 3, 2);
    let genome = Genome::random(arch, None, Learnable::all(), 9).unwrap();
    let expected = Expected::new(&genome);
    let bio = &expected.biology;
    for l in 0..2 {
        let (pre, post) = (&bio.expression[l], &bio.expression[l + 1]);
        for i in 0..pre.nrows() {
            for j in 0..post.nrows() {
                // Σ_ab over binomials with E_ia E_jb trials and probability G_ab.
                let mut count = 0.0;
                for a in 0..3 {
                    for b in 0..3 {
                        count += pre[(i, a)] * post[(j, b)] * bio.rules[(a, b)];
                    }
                }
                // Σ_tr P(transmitter t) P(receptor r) C_tr.
                let mut conductance = 0.0;
                for t in 0..2 {
                    for r in 0..4 {
                        conductance += bio.transmitters[l][(i, t)]
                            * bio.receptors[l][(j, r)]
                            * bio.conductance[(t, r)];
                    }
                }
                assert!((expected.counts[l][(i, j)] - count).abs() < 1e-12 * count.abs().max(1.0));
                assert!((expected.conductance[l][(i, j)] - conductance).abs() < 1e-12);
                let w = count * conductance;
                assert!((expected.network.weights[l][(i, j)] - w).abs() < 1e-12 * w.abs().max(1.0));
            }
        }
    }
}

#[test]
fn frozen_blocks_stay_bit_identical_through_training() {
    let arch = architecture(&[3, 6, 2], 4, 2);
    let learnable = Learnable { expression: false, conductance: false, ..Learnable::all() };
    let mut genome = Genome::random(arch, None, learnable, 3).unwrap();
    let before = genome.clone();
    let input = inputs(8, 3);
    let c = DMatrix::from_fn(8, 2, |i, j| (i as f64 - j as f64) * 0.3);
    let mut adam = Adam::new(
        AdamSettings { learning_rate: 0.01, ..Default::default() },
        genome.parameter_count(),
    );
    for _ in 0..20 {
        let mut grad = analytic_gradient(&genome, &input, &c);
        clip_grad_norm(&mut grad, 10.0);
        let mut params = genome.parameters();
        adam.step(&mut params, &grad);
        genome.set_parameters(&params);
    }
    assert_eq!(genome.block(BlockName::Expression), before.block(BlockName::Expression));
    assert_eq!(genome.block(BlockName::Conductance), before.block(BlockName::Conductance));
    assert_ne!(genome.block(BlockName::Rules), before.block(BlockName::Rules));
    assert_ne!(genome.block(BlockName::Biases), before.block(BlockName::Biases));
}

#[test]
fn saved_genomes_give_bit_identical_outputs() {
    let genome = Genome::random(Architecture::cartpole(), None, Learnable::all(), 21).unwrap();
    let path = std::env::temp_dir().join(format!("synaptogen-genome-{}.ron", std::process::id()));
    genome.save(&path).unwrap();
    let loaded = Genome::load(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let input = inputs(16, 4);
    let a = Expected::new(&genome).network.forward(&input);
    let b = Expected::new(&loaded).network.forward(&input);
    assert_eq!(a, b);
}

fn reference_dir() -> PathBuf {
    std::env::var_os("SYNAPTOGEN_REFERENCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/reference"))
}

/// Float32 tolerance of the reference: relative 1e-5, absolute 1e-6 near zero.
fn assert_close(what: &str, ours: &DMatrix<f64>, theirs: &DMatrix<f64>, scale: f64) {
    assert_eq!(ours.shape(), theirs.shape(), "{what}: shape");
    for (a, b) in ours.iter().zip(theirs.iter()) {
        let tol = 1e-5 * b.abs() + 1e-6 * scale;
        assert!((a - b).abs() <= tol, "{what}: ours {a}, reference {b}");
    }
}

#[test]
fn reproduces_the_original_implementation() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(reference_dir())
        .expect("reference directory (set SYNAPTOGEN_REFERENCE_DIR)")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no reference networks found");
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let reference = ReferenceNetwork::load(path).unwrap();
        let genome = reference.genome().unwrap();
        let expected = Expected::new(&genome);
        for l in 0..genome.architecture().connections() {
            // Values far from zero set the scale of the absolute tolerance.
            let counts = rows_to_matrix(&reference.expected_counts[l]);
            assert_close(
                &format!("{name} counts {l}"),
                &expected.counts[l],
                &counts,
                counts.amax().max(1.0),
            );
            let cond = rows_to_matrix(&reference.expected_conductance[l]);
            assert_close(&format!("{name} conductance {l}"), &expected.conductance[l], &cond, 1.0);
            let weights = rows_to_matrix(&reference.weights[l]);
            assert_close(
                &format!("{name} weights {l}"),
                &expected.network.weights[l],
                &weights,
                weights.amax().max(1.0),
            );
        }
        let outputs = rows_to_matrix(&reference.outputs);
        let ours = expected.network.forward(&rows_to_matrix(&reference.observations));
        assert_close(&format!("{name} outputs"), &ours, &outputs, outputs.amax().max(1.0));
    }
}
