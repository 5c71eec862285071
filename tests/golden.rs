//! Replays reference trajectories recorded from Gymnasium and checks that the built-in tasks
//! follow them: the same states after every step, the same rewards, the same flags.
//!
//! The recordings are CSV files (format in the directory's README) in the directory named by
//! `SYNAPTOGEN_GOLDEN_DIR`, by default `../shared/golden` next to the crate. The task of a file
//! comes from its name's prefix. Each replay starts from the recorded state after reset (row 0)
//! with the step count at zero, applies the recorded actions, and compares every value.

use std::path::{Path, PathBuf};
use synaptogen::task::{Step, by_name};

/// Relative tolerance on state values.
const RELATIVE: f64 = 1e-12;
/// Absolute tolerance, for state values that pass close to zero.
const ABSOLUTE: f64 = 1e-14;

/// Task name for each file-name prefix.
const PREFIXES: [(&str, &str); 3] = [
    ("cartpole-v1_", "CartPole-v1"),
    ("mountaincar-v0_", "MountainCar-v0"),
    ("acrobot-v1_", "Acrobot-v1"),
];

/// One row of a recording.
struct Row {
    /// The action taken to reach this row (none for row 0).
    action: Option<usize>,
    /// The internal state after the step.
    state: Vec<f64>,
    /// Reward and flags returned by the step (none for row 0).
    step: Option<Step>,
}

/// What a replay of one file found.
struct Replay {
    /// Number of steps replayed.
    steps: usize,
    /// Largest deviation of a state value, relative to the bound at that value.
    worst: f64,
    /// Number of state values compared, and how many of them were bit for bit the recorded ones.
    compared: usize,
    identical: usize,
    /// Every disagreement, as a message.
    failures: Vec<String>,
}

fn golden_dir() -> PathBuf {
    std::env::var_os("SYNAPTOGEN_GOLDEN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/golden"))
}

fn parse_flag(field: &str, line: usize) -> bool {
    match field {
        "0" => false,
        "1" => true,
        _ => panic!("line {line}: flag `{field}` is neither 0 nor 1"),
    }
}

fn parse(text: &str) -> Vec<Row> {
    let mut lines = text.lines().enumerate();
    let (_, header) = lines.next().expect("empty file");
    let columns: Vec<&str> = header.split(',').collect();
    let state_size = columns.iter().filter(|column| column.starts_with('s')).count() - 1;
    assert_eq!(columns.len(), state_size + 5, "unexpected header `{header}`");

    lines
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| {
            let line_number = index + 1;
            let fields: Vec<&str> = line.split(',').collect();
            assert_eq!(fields.len(), columns.len(), "line {line_number}: `{line}`");
            let number = |field: &str| -> f64 {
                field.parse().unwrap_or_else(|_| panic!("line {line_number}: bad number `{field}`"))
            };
            let state = fields[2..2 + state_size].iter().map(|field| number(field)).collect();
            let tail = &fields[2 + state_size..];
            if fields[1].is_empty() {
                return Row { action: None, state, step: None };
            }
            Row {
                action: Some(fields[1].parse().expect("bad action")),
                state,
                step: Some(Step {
                    reward: number(tail[0]),
                    terminated: parse_flag(tail[1], line_number),
                    truncated: parse_flag(tail[2], line_number),
                }),
            }
        })
        .collect()
}

fn replay(task_name: &str, rows: &[Row]) -> Replay {
    let mut task = by_name(task_name).unwrap();
    let mut observation = vec![0.0; task.observation_size()];
    let (first, rest) = rows.split_first().expect("no rows");
    assert!(first.action.is_none(), "row 0 must be the state after reset");
    task.set_state(&first.state, 0).unwrap();

    let mut worst: f64 = 0.0;
    let (mut compared, mut identical) = (0, 0);
    let mut failures = Vec::new();
    for (t, row) in rest.iter().enumerate().map(|(i, row)| (i + 1, row)) {
        let (Some(action), Some(expected)) = (row.action, row.step) else {
            panic!("step {t} has no action");
        };
        let step = task.step(action, &mut observation);
        if step != expected {
            failures.push(format!("step {t}: returned {step:?}, recorded {expected:?}"));
        }
        for (i, (&value, &recorded)) in task.state().iter().zip(&row.state).enumerate() {
            let bound = RELATIVE * recorded.abs() + ABSOLUTE;
            let deviation = (value - recorded).abs() / bound;
            worst = worst.max(deviation);
            compared += 1;
            identical += usize::from(value.to_bits() == recorded.to_bits());
            if deviation > 1.0 || deviation.is_nan() {
                failures.push(format!("step {t}: s{i} = {value:e}, recorded {recorded:e}"));
            }
        }
    }
    Replay { steps: rest.len(), worst, compared, identical, failures }
}

#[test]
fn builtin_tasks_replay_gymnasium_trajectories() {
    let dir = golden_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("cannot read golden directory {}: {error}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "csv"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no recordings (*.csv) in {}", dir.display());

    let mut failures = Vec::new();
    for path in &files {
        let file_name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some((_, task_name)) =
            PREFIXES.iter().find(|(prefix, _)| file_name.starts_with(prefix))
        else {
            failures.push(format!("{file_name}: no task for this file name"));
            continue;
        };
        let rows = parse(&std::fs::read_to_string(path).unwrap());
        let replay = replay(task_name, &rows);
        eprintln!(
            "{file_name}: {} steps, {} of {} state values bit for bit, largest deviation {:.3} \
             of the bound",
            replay.steps, replay.identical, replay.compared, replay.worst
        );
        let shown = replay.failures.iter().take(5).map(|failure| format!("{file_name}: {failure}"));
        failures.extend(shown);
    }
    assert!(failures.is_empty(), "{} files replayed:\n{}", files.len(), failures.join("\n"));
}
