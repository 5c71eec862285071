//! Experiment files: every kind of bad input gives one clear error naming file, line and field;
//! a small experiment runs end to end and resumes.

use std::path::{Path, PathBuf};
use std::process::Command;

use synaptogen::experiment::{Experiment, ExperimentError, Silent, run};

const GOOD: &str = r#"// A tiny experiment for the tests.
Experiment(
    name: "tiny",
    seed: 3,
    task: "CartPole-v1",
    layers: [4, 8, 2],
    genome: (
        genes: 4,
        transmitters: 2,
    ),
    learner: Dqn((
        total_steps: 1500,
        learning_starts: 500,
        eval_freq: 500,
        eval_episodes: 2,
    )),
    families: (sampled: 3, baseline1: 3, baseline2: 3, control: 3),
    episodes: 2,
)
"#;

fn parse(text: &str) -> Result<Experiment, ExperimentError> {
    Experiment::parse(text, Path::new("exp.ron"))
}

fn error_of(text: &str) -> String {
    parse(text).expect_err("the experiment should be refused").to_string()
}

#[test]
fn a_good_file_resolves_its_defaults() {
    let e = parse(GOOD).unwrap();
    assert_eq!(e.architecture.layers, vec![4, 8, 2]);
    assert_eq!(e.architecture.rules_temperature, 0.1);
    match e.learner {
        synaptogen::experiment::Learner::Dqn { settings, .. } => {
            assert_eq!(settings.total_steps, 1500);
            // Unset fields come from the CartPole preset.
            assert_eq!(settings.train_freq, 256);
            assert_eq!(settings.learning_rate, 2.3e-3);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn malformed_files_name_line_and_column() {
    let err = error_of(&GOOD.replace("seed: 3,", "seed: 3"));
    assert!(err.starts_with("exp.ron:5:"), "{err}");
}

#[test]
fn unknown_fields_are_rejected_with_their_line() {
    let err = error_of(&GOOD.replace("genes: 4,", "gnes: 4,"));
    assert!(err.starts_with("exp.ron:8:") && err.contains("gnes"), "{err}");
}

#[test]
fn unknown_tasks_are_rejected_with_the_known_names() {
    let err = error_of(&GOOD.replace("CartPole-v1", "CartPole-v9"));
    assert!(err.starts_with("exp.ron:5: field `task`") && err.contains("MountainCar-v0"), "{err}");
}

#[test]
fn zero_and_negative_sizes_are_rejected() {
    let err = error_of(&GOOD.replace("[4, 8, 2]", "[4, 0, 2]"));
    assert!(err.starts_with("exp.ron:6: field `layers`") && err.contains("layer 1"), "{err}");
    let err = error_of(&GOOD.replace("[4, 8, 2]", "[4, -8, 2]"));
    assert!(err.starts_with("exp.ron:6:"), "{err}");
    let err = error_of(&GOOD.replace("genes: 4,", "genes: 0,"));
    assert!(err.starts_with("exp.ron:8: field `genome.genes`"), "{err}");
    let err = error_of(&GOOD.replace("episodes: 2,\n)", "episodes: 0,\n)"));
    assert!(err.contains("field `episodes`"), "{err}");
    let err = error_of(&GOOD.replace("total_steps: 1500", "total_steps: 0"));
    assert!(err.starts_with("exp.ron:12: field `learner.total_steps`"), "{err}");
}

#[test]
fn layers_must_fit_the_task() {
    let err = error_of(&GOOD.replace("[4, 8, 2]", "[3, 8, 2]"));
    assert!(err.contains("input layer has 3 neurons") && err.contains("4 values"), "{err}");
}

#[test]
fn a_missing_rules_file_is_named() {
    let err = error_of(
        &GOOD.replace("transmitters: 2,", "transmitters: 2,\n        rules_mask: \"nope.csv\","),
    );
    assert!(err.contains("field `genome.rules_mask`") && err.contains("nope.csv"), "{err}");
}

#[test]
fn the_command_line_reports_errors_without_panicking() {
    let dir = std::env::temp_dir().join(format!("synaptogen-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.ron");
    std::fs::write(&file, GOOD.replace("CartPole-v1", "Pong")).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_synaptogen")).arg(&file).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("bad.ron:5: field `task`") && !stderr.contains("panicked"), "{stderr}");

    let missing = Command::new(env!("CARGO_BIN_EXE_synaptogen"))
        .arg(dir.join("missing.ron"))
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("missing.ron"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn example_experiments_are_valid() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments");
    let mut count = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path: PathBuf = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "ron") {
            let text = std::fs::read_to_string(&path).unwrap();
            if text.contains("\nConnectomeFit(") {
                synaptogen::connectome::Settings::load(&path).unwrap_or_else(|e| panic!("{e}"));
            } else {
                Experiment::load(&path).unwrap_or_else(|e| panic!("{e}"));
            }
            count += 1;
        }
    }
    assert!(count >= 5);
}

#[test]
fn a_tiny_experiment_runs_and_resumes() {
    let experiment = parse(GOOD).unwrap();
    let dir = std::env::temp_dir().join(format!("synaptogen-run-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let outcome = run(&experiment, &dir, &mut Silent).unwrap();
    for file in [
        "experiment.ron",
        "status.json",
        "genome.ron",
        "training.csv",
        "rewards.csv",
        "summary.json",
        "rewards.svg",
        "report.md",
        "log.txt",
    ] {
        assert!(dir.join(file).exists(), "{file} missing");
    }
    let status = std::fs::read_to_string(dir.join("status.json")).unwrap();
    assert!(status.contains("complete"));

    // Running again in the same directory resumes: training is not repeated, results agree.
    let genome = std::fs::read(dir.join("genome.ron")).unwrap();
    let again = run(&experiment, &dir, &mut Silent).unwrap();
    assert_eq!(std::fs::read(dir.join("genome.ron")).unwrap(), genome);
    assert_eq!(format!("{:?}", again.summaries), format!("{:?}", outcome.summaries));

    // A different experiment cannot take over the directory.
    let other = parse(&GOOD.replace("seed: 3", "seed: 4")).unwrap();
    assert!(run(&other, &dir, &mut Silent).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_command_line_checks_imports_and_exports() {
    let bin = env!("CARGO_BIN_EXE_synaptogen");
    let dir = std::env::temp_dir().join(format!("synaptogen-cli-io-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    // --check prints the resolved experiment and runs nothing.
    let file = dir.join("tiny.ron");
    std::fs::write(&file, GOOD).unwrap();
    let output = Command::new(bin).arg(&file).arg("--check").output().unwrap();
    assert!(output.status.success());
    let resolved = String::from_utf8_lossy(&output.stdout);
    assert!(resolved.contains("train_freq: 256") && resolved.contains("genes: 4"), "{resolved}");

    // import: raw blocks of the Python implementation to a genome file; export: .npy files.
    let reference = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/reference/small_g8.json");
    let genome = dir.join("genome.ron");
    assert!(
        Command::new(bin).arg("import").arg(&reference).arg(&genome).status().unwrap().success()
    );
    let npy_dir = dir.join("npy");
    assert!(Command::new(bin).arg("export").arg(&genome).arg(&npy_dir).status().unwrap().success());
    let weights = synaptogen::npy::read_matrix(&npy_dir.join("weights_0.npy")).unwrap();
    assert_eq!(weights.shape(), (4, 16));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let experiment = parse(GOOD).unwrap();
    let rewards = |threads: usize| {
        let dir = std::env::temp_dir()
            .join(format!("synaptogen-threads-{threads}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| run(&experiment, &dir, &mut Silent)).unwrap();
        let text = std::fs::read_to_string(dir.join("rewards.csv")).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        text
    };
    let one = rewards(1);
    assert!(one.lines().count() > 20);
    assert_eq!(one, rewards(2));
}

#[test]
fn evolution_and_hybrid_learners_run_from_experiment_files() {
    let learners = [
        "Evolution((budget: (environment_steps: 3000), fitness: (networks: 1)))",
        "Hybrid((
            dqn: (total_steps: 2000, learning_starts: 500, eval_freq: 1000, eval_episodes: 2),
            hybrid: (validation_networks: 2, validation_episodes: 1,
                     fitness: (networks: 2, episodes: 1, aggregate: Min, sampler: MomentMatched),
                     selection_budget: (environment_steps: 3000)),
        ))",
    ];
    for (i, learner) in learners.iter().enumerate() {
        let text = GOOD.replace(
            "learner: Dqn((\n        total_steps: 1500,\n        learning_starts: 500,\n        \
             eval_freq: 500,\n        eval_episodes: 2,\n    )),",
            &format!("learner: {learner},"),
        );
        assert!(text.contains(learner), "the learner was not substituted");
        let experiment = parse(&text).unwrap();
        let dir = std::env::temp_dir().join(format!("synaptogen-es-{i}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        run(&experiment, &dir, &mut Silent).unwrap();
        assert!(dir.join("genome.ron").exists() && dir.join("summary.json").exists());
        let log = std::fs::read_to_string(dir.join("log.txt")).unwrap();
        assert!(log.contains("evolution:") || log.contains("hybrid:"), "{log}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
