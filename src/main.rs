//! The `synaptogen` command: runs an experiment file and writes its run directory.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use synaptogen::experiment::{self, Experiment, Observer};
use synaptogen::genome::Genome;
use synaptogen::npy;
use synaptogen::synapse::Expected;

/// Grow, train and evolve genome-encoded neural networks.
///
/// Runs the experiment in EXPERIMENT (a RON file; see experiments/ for examples) and writes a run
/// directory with the resolved experiment, logs, the trained genome, every network's rewards, a
/// summary with statistics, figures and report.md.
#[derive(Debug, Parser)]
#[command(version, args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
struct Cli {
    /// The experiment file (RON).
    #[arg(required = true)]
    experiment: Option<PathBuf>,

    /// Check the experiment file and print the resolved experiment, without running it.
    #[arg(long)]
    check: bool,

    /// Override the experiment's seed.
    #[arg(long)]
    seed: Option<u64>,

    /// Folder for the run directory, instead of the experiment's `output`.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,

    /// Continue an interrupted run in DIR (a run directory), after the stages it finished.
    #[arg(long, value_name = "DIR", conflicts_with = "out")]
    resume: Option<PathBuf>,

    /// Worker threads for parallel evaluation and evolution (default: all cores). Results do
    /// not depend on it.
    #[arg(long, short = 'j')]
    threads: Option<usize>,

    /// Print only errors and the final line.
    #[arg(long, short, conflicts_with = "verbose")]
    quiet: bool,

    /// Also print every stage's figures as they come.
    #[arg(long, short)]
    verbose: bool,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Convert a network exported by the original Python implementation (JSON of raw blocks) to
    /// a synaptogen genome file (RON).
    Import {
        /// The JSON file.
        json: PathBuf,
        /// The genome file to write.
        genome: PathBuf,
    },
    /// Write a genome's expected weights and synapse counts as NumPy `.npy` files.
    Export {
        /// The genome file (RON, or the Python implementation's JSON).
        genome: PathBuf,
        /// The folder to write `weights_<l>.npy` and `counts_<l>.npy` into.
        dir: PathBuf,
    },
}

/// Progress bars on the terminal (hidden when stderr is not one), lines for messages.
struct Terminal {
    bar: Option<ProgressBar>,
    quiet: bool,
}

impl Observer for Terminal {
    fn message(&mut self, text: &str) {
        if self.quiet {
            return;
        }
        match &self.bar {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }

    fn start(&mut self, stage: &str, total: u64) {
        if self.quiet {
            return;
        }
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(
            "{msg:>20} [{bar:30}] {human_pos}/{human_len} ({per_sec}, eta {eta})",
        )
        .expect("valid template")
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_message(stage.to_string());
        bar.enable_steady_tick(Duration::from_millis(200));
        self.bar = Some(bar);
    }

    fn advance(&mut self, amount: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(amount);
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    if let Some(threads) = cli.threads {
        if threads == 0 {
            bail!("--threads must be at least 1");
        }
        rayon::ThreadPoolBuilder::new().num_threads(threads).build_global()?;
    }
    match cli.command {
        Some(Command::Import { json, genome }) => {
            let loaded = experiment::load_genome(&json)?;
            loaded.save(&genome)?;
            eprintln!("wrote {}", genome.display());
            return Ok(());
        }
        Some(Command::Export { genome, dir }) => {
            let loaded: Genome = experiment::load_genome(&genome)?;
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            let expected = Expected::new(&loaded);
            for l in 0..expected.counts.len() {
                npy::write_matrix(
                    &dir.join(format!("weights_{l}.npy")),
                    &expected.network.weights[l],
                )?;
                npy::write_matrix(&dir.join(format!("counts_{l}.npy")), &expected.counts[l])?;
            }
            eprintln!("wrote {} connections to {}", expected.counts.len(), dir.display());
            return Ok(());
        }
        None => {}
    }

    // A connectome fit is its own kind of experiment file.
    if let Some(file) = &cli.experiment
        && cli.resume.is_none()
        && top_level_name(file).as_deref() == Some("ConnectomeFit")
    {
        return fit_connectome(&cli, file);
    }

    // Load and check; with --resume, the run directory's own experiment is authoritative.
    let file = match &cli.resume {
        Some(dir) => dir.join("experiment.ron"),
        None => cli.experiment.clone().expect("clap requires it"),
    };
    let mut experiment = if cli.resume.is_some() {
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("reading {}", file.display()))?;
        ron::from_str::<Experiment>(&text)
            .with_context(|| format!("{}: not a resolved experiment", file.display()))?
    } else {
        Experiment::load(&file)?
    };
    if let Some(seed) = cli.seed {
        experiment.seed = seed;
    }
    if cli.check {
        let text = ron::ser::to_string_pretty(
            &experiment,
            ron::ser::PrettyConfig::new().struct_names(true),
        )?;
        println!("{text}");
        eprintln!("{}: ok", file.display());
        return Ok(());
    }

    // Run.
    let dir = match &cli.resume {
        Some(dir) => dir.clone(),
        None => {
            experiment::fresh_dir(&experiment, cli.out.as_deref().unwrap_or(&experiment.output))
        }
    };
    let mut terminal = Terminal { bar: None, quiet: cli.quiet };
    let outcome = experiment::run(&experiment, &dir, &mut terminal)?;
    if cli.verbose {
        for (name, s) in &outcome.summaries {
            eprintln!("{name}: {s:?}");
        }
    }
    println!("results in {}", outcome.dir.display());
    Ok(())
}

/// The name of the top-level structure of a RON file (`Experiment`, `ConnectomeFit`), after
/// comments and white space; `None` if the file cannot be read or has none.
fn top_level_name(path: &std::path::Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let code =
        text.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n");
    let code = code.trim_start().trim_start_matches("#![enable(implicit_some)]").trim_start();
    let name: String = code.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
    (!name.is_empty()).then_some(name)
}

/// Runs a connectome fit (`ConnectomeFit(...)` file) into `<out>/<file stem>-seed<seed>`.
fn fit_connectome(cli: &Cli, file: &std::path::Path) -> Result<()> {
    let mut settings = synaptogen::connectome::Settings::load(file)?;
    if let Some(seed) = cli.seed {
        settings.seed = seed;
    }
    if cli.check {
        println!(
            "{}",
            ron::ser::to_string_pretty(
                &settings,
                ron::ser::PrettyConfig::new().struct_names(true)
            )?
        );
        eprintln!("{}: ok", file.display());
        return Ok(());
    }
    let stem = file.file_stem().map_or("connectome".into(), |s| s.to_string_lossy().to_string());
    let root = cli.out.clone().unwrap_or_else(|| PathBuf::from("runs"));
    let dir = root.join(format!("{stem}-seed{}", settings.seed));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let quiet = cli.quiet;
    let progress = move |line: &str| {
        if !quiet {
            eprintln!("{line}");
        }
    };
    let report = synaptogen::connectome::run_fit_with_progress(&settings, &progress)?;
    synaptogen::connectome::write_report(&report, &dir)?;
    println!("results in {}", dir.display());
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
