//! The connectome fit on planted truth: genetics drawn at random, counts grown from them, and the
//! fit asked to recover the expected counts and to beat both nulls on held-out pairs.

use nalgebra::DMatrix;
use rand::RngExt;
use rand_distr::{Distribution, Normal};
use synaptogen::connectome::{
    CountModel, Factorisation, FitSettings, GeneticModel, Genetics, Learned, ModelKind, Optimiser,
    Pairs, PoissonObjective, Rounding, Scores, Settings, Source, cross_validate, fit, run,
    sample_counts,
};
use synaptogen::rng::{Purpose, stream, substream};

const CELLS: usize = 60;
const GENES: usize = 4;
const TEMPERATURE: f64 = 0.1;
const MEAN_COUNT: f64 = 3.0;
const LEARNED: Learned = Learned { expression: true, rules: true, scale: false };

/// Planted genetics and counts grown from them. Every cell expresses a random half of the genes
/// (levels `X²`, `X ~ N(0, 2/g)`), rules are drawn from the genome's initialiser, and κ is set
/// for a mean of `MEAN_COUNT` synapses per pair.
fn planted() -> (Genetics, Pairs, DMatrix<f64>) {
    let pairs = Pairs::all(CELLS, false);
    let mut rng = stream(11, Purpose::Init, 0);
    let level = Normal::new(0.0, (2.0 / GENES as f64).sqrt()).unwrap();
    let expression = DMatrix::from_fn(CELLS, GENES, |_, _| {
        if rng.random_bool(0.5) { level.sample(&mut rng) } else { 0.0 }
    });
    let rule = Normal::new(0.0, 1.0 / GENES as f64).unwrap();
    let rules = DMatrix::from_fn(GENES, GENES, |_, _| rule.sample(&mut rng));
    let truth = GeneticModel::new(expression, rules, 1.0, TEMPERATURE, None, LEARNED);
    let mut genetics = truth.genetics(&truth.initial_parameters());
    let mean = pairs.indicator().dot(&genetics.expected_counts()) / pairs.len() as f64;
    genetics.scale = MEAN_COUNT / mean;
    let mut rng = stream(11, Purpose::Synaptogenesis, 0);
    let counts = sample_counts(&genetics, &pairs, Rounding::Stochastic, &mut rng);
    (genetics, pairs, counts)
}

fn genetic_start(fold: usize) -> GeneticModel {
    let mut rng = substream(12, Purpose::Fitting, 0, fold as u64);
    GeneticModel::random(CELLS, GENES, 1.0, TEMPERATURE, None, LEARNED, &mut rng)
}

/// `1 - Σ (fit - truth)² / Σ (truth - mean)²` over the pairs.
fn r_squared(fitted: &DMatrix<f64>, truth: &DMatrix<f64>, pairs: &Pairs) -> f64 {
    let (f, t) = (pairs.gather(fitted), pairs.gather(truth));
    let mean = t.iter().sum::<f64>() / t.len() as f64;
    let residual: f64 = f.iter().zip(&t).map(|(a, b)| (a - b).powi(2)).sum();
    let total: f64 = t.iter().map(|b| (b - mean).powi(2)).sum();
    1.0 - residual / total
}

#[test]
fn the_fit_recovers_planted_expected_counts() {
    let (truth, pairs, counts) = planted();
    let objective = PoissonObjective::new(&counts, &pairs, 0.0);

    for optimiser in [Optimiser::Lbfgs, Optimiser::Adam] {
        let model = genetic_start(99);
        let settings = FitSettings { optimiser, ..FitSettings::default() };
        let fitted = fit(&model, &objective, &settings).unwrap();
        let expected = model.expected_counts(&fitted.parameters);

        let r2 = r_squared(&expected, &truth.expected_counts(), &pairs);
        assert!(r2 >= 0.95, "{optimiser:?}: R² against the planted expected counts: {r2}");
    }
}

#[test]
fn rules_and_scale_are_fitted_to_given_expression() {
    // Expression known (as from an atlas), rules and κ unknown.
    let (truth, pairs, counts) = planted();
    let objective = PoissonObjective::new(&counts, &pairs, 0.0);
    let learned = Learned { expression: false, rules: true, scale: true };
    let expression = truth.expression.map(f64::sqrt);
    let neutral_rules = DMatrix::zeros(GENES, GENES);
    let model = GeneticModel::new(expression, neutral_rules, 1.0, TEMPERATURE, None, learned);

    let fitted = fit(&model, &objective, &FitSettings::default()).unwrap();

    let genetics = model.genetics(&fitted.parameters);
    let r2 = r_squared(&genetics.expected_counts(), &truth.expected_counts(), &pairs);
    assert!(r2 >= 0.95, "R² against the planted expected counts: {r2}");
}

#[test]
fn the_genetic_model_beats_both_nulls_on_held_out_pairs() {
    let (_, pairs, counts) = planted();
    let folds = pairs.folds(3, &mut stream(13, Purpose::Fitting, 0));
    let settings = FitSettings::default();

    let genetic =
        cross_validate(ModelKind::Genetic, &counts, &pairs, &folds, genetic_start, &settings)
            .unwrap();
    let degree_corrected = cross_validate(
        ModelKind::DegreeCorrected,
        &counts,
        &pairs,
        &folds,
        |f| {
            Factorisation::degree_corrected(
                CELLS,
                &mut substream(12, Purpose::Fitting, 1, f as u64),
            )
        },
        &settings,
    )
    .unwrap();
    let rank = Factorisation::matching_rank(CELLS, GENES);
    let factorisation = cross_validate(
        ModelKind::Factorisation,
        &counts,
        &pairs,
        &folds,
        |f| Factorisation::random(CELLS, rank, &mut substream(12, Purpose::Fitting, 2, f as u64)),
        &settings,
    )
    .unwrap();

    let g = genetic.mean;
    for null in [&degree_corrected, &factorisation] {
        let n = null.mean;
        let name = null.model.as_str();
        assert!(g.auc > n.auc, "AUC: genetic {} vs {name} {}", g.auc, n.auc);
        assert!(g.spearman > n.spearman, "Spearman: {} vs {name} {}", g.spearman, n.spearman);
        assert!(
            g.log_pearson > n.log_pearson,
            "log-Pearson: {} vs {name} {}",
            g.log_pearson,
            n.log_pearson
        );
        assert!(g.deviance < n.deviance, "deviance: {} vs {name} {}", g.deviance, n.deviance);
    }
}

#[test]
fn the_experiment_file_is_valid_and_holds_the_defaults() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/celegans-fit.ron");
    let settings = Settings::load(&path).unwrap();
    assert_eq!(settings, Settings::default());
    settings.check().unwrap();
}

#[test]
fn a_run_from_files_writes_every_part_of_the_report() {
    // A small planted connectome written as a cell list and an edge list.
    let dir = std::env::temp_dir().join(format!("synaptogen-connectome-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (_, pairs, counts) = planted();
    let cells: Vec<String> = (0..CELLS).map(|i| format!("cell{i}")).collect();
    std::fs::write(dir.join("cells.txt"), cells.join("\n")).unwrap();
    let mut edges = String::from("pre,post,synapses\n");
    for (i, j) in pairs.iter().filter(|&(i, j)| counts[(i, j)] > 0.0) {
        edges += &format!("{},{},{}\n", cells[i], cells[j], counts[(i, j)]);
    }
    std::fs::write(dir.join("edges.csv"), edges).unwrap();
    let settings = format!(
        "ConnectomeFit(\n  connectome: Files(cells: {:?}, edges: {:?}),\n  model: (genes: 4),\n  \
         fit: (iterations: 60),\n  evaluation: (folds: 2, gene_curve: [2, 4], samples: 2),\n)\n",
        dir.join("cells.txt"),
        dir.join("edges.csv"),
    );
    let settings_path = dir.join("fit.ron");
    std::fs::write(&settings_path, settings).unwrap();

    let out = dir.join("run");
    let lines = std::sync::Mutex::new(Vec::new());
    let report =
        run(&settings_path, &out, &|line: &str| lines.lock().unwrap().push(line.to_string()))
            .unwrap();

    // What was fitted, and where progress went.
    assert_eq!((report.data.cells, report.data.pairs), (CELLS, CELLS * (CELLS - 1)));
    assert_eq!(report.gene_curve.iter().map(|v| v.genes).collect::<Vec<_>>(), [2, 4]);
    let lines = lines.into_inner().unwrap();
    assert!(lines.last().unwrap().contains("report written"), "{lines:?}");

    // Every file, by structure.
    let read = |name: &str| std::fs::read_to_string(out.join(name)).unwrap();
    let markdown = read("report.md");
    for heading in ["## Held-out scores", "## Fit against the number of genes", "## Networks grown"]
    {
        assert!(markdown.contains(heading), "{heading}");
    }
    let scores: serde_json::Value = serde_json::from_str(&read("scores.json")).unwrap();
    let auc = &scores["held_out"]["genetic"]["mean"]["auc"];
    assert!(auc.as_f64().is_some_and(|a| a > 0.5), "{auc}");
    assert_eq!(scores["held_out"]["factorisation"]["parameters"], 2 * CELLS * 2);
    let predictions = read("predicted_vs_observed.csv");
    assert_eq!(predictions.lines().count(), 1 + CELLS * (CELLS - 1));
    assert!(predictions.starts_with("pre,post,observed,genetic_fit,genetic_held_out,"));
    assert_eq!(read("fit_vs_genes.csv").lines().count(), 1 + 2 * 3);
    assert!(read("multiplicity.csv").starts_with("synapses,real_pairs,sampled_pairs_mean"));
    assert_eq!(read("degrees.csv").lines().count(), 1 + CELLS);
    for (figure, panels) in
        [("predicted_vs_observed.svg", 4), ("fit_vs_genes.svg", 4), ("multiplicity.svg", 2)]
    {
        let svg = read(figure);
        assert!(svg.starts_with("<svg ") && svg.trim_end().ends_with("</svg>"), "{figure}");
        assert_eq!(svg.matches(r##"fill="none" stroke="#444""##).count(), panels, "{figure}");
    }
    let expression = synaptogen::npy::read_matrix(&out.join("expression.npy")).unwrap();
    assert_eq!((expression.nrows(), expression.ncols()), (CELLS, 4));
    assert_eq!(read("cells.txt").lines().count(), CELLS);
    let again = Settings::load(&out.join("settings.ron")).unwrap();
    assert_eq!(again, report.settings);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The fit budgeted at under a minute: g = 32 on the 223 256 ordered pairs of Cook 2019's
/// chemical synapses. Run with `cargo test --release --test connectome -- --ignored
/// --nocapture`.
#[test]
#[ignore = "fits the Cook 2019 connectome at g = 32 (several seconds)"]
fn cook_2019_chemical_fits_at_32_genes_within_a_minute() {
    let connectome = Source::Cook2019Chemical.load().unwrap();
    let pairs = Pairs::all(connectome.len(), false);
    let objective = PoissonObjective::new(connectome.counts(), &pairs, 0.0);
    let mut rng = stream(0, Purpose::Fitting, 0);
    let model = GeneticModel::random(connectome.len(), 32, 1.0, 0.1, None, LEARNED, &mut rng);

    let start = std::time::Instant::now();
    let fitted = fit(&model, &objective, &FitSettings::default()).unwrap();
    let seconds = start.elapsed().as_secs_f64();

    let expected = model.expected_counts(&fitted.parameters);
    let scores = Scores::new(&pairs.gather(connectome.counts()), &pairs.gather(&expected));
    eprintln!(
        "g = 32: J = {:.5} per pair after {} iterations ({}), {seconds:.1} s; in sample {scores:?}",
        fitted.objective, fitted.iterations, fitted.termination
    );
    assert!(seconds < 60.0, "the fit took {seconds:.1} s");
    assert!(fitted.objective < fitted.trace[0], "the fit improves on its start");
}

/// The whole C. elegans experiment of `experiments/celegans-fit.ron`, its report written to
/// `runs/celegans-fit/`. Run with `cargo test --release --test connectome -- --ignored
/// --nocapture celegans_experiment` (a few minutes on two cores).
#[test]
#[ignore = "runs the C. elegans experiment (minutes)"]
fn the_celegans_experiment() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let start = std::time::Instant::now();
    let progress = |line: &str| eprintln!("[{:6.1} s] {line}", start.elapsed().as_secs_f64());
    let report =
        run(&root.join("experiments/celegans-fit.ron"), &root.join("runs/celegans-fit"), &progress)
            .unwrap();
    assert!(report.full_fit.fit.seconds < 60.0, "the fit at g = 32 took over a minute");
}
