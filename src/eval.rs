//! Parallel, reproducible evaluation: greedy episodes of many networks in a task.
//!
//! Every network plays `episodes` episodes, choosing in each step the action with the largest
//! output ([`Dense::greedy`]); an episode's return is the sum of its rewards, and a network's
//! score is usually the mean of its returns ([`Returns::means`]).
//!
//! # Reproducibility
//!
//! Episode `e` of network `n` (its position in the list) resets its task from
//! `rng::substream(seed, Purpose::Evaluation, n, e)`, and nothing else in an episode is random.
//! Episodes run in parallel on rayon's threads and their results are stored by index, so the
//! returns are bit-identical on any number of threads, and the returns of a list's first
//! networks do not change when networks are appended to it.

use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use crate::net::{Dense, Scratch};
use crate::rng::{self, Purpose, Stream};
use crate::task::Task;

/// Errors of an evaluation.
#[derive(Debug, thiserror::Error)]
pub enum EvaluationError {
    /// A network's input or output layer does not fit the task.
    #[error(
        "network {network} has {inputs} inputs and {outputs} outputs, but `{task}` gives \
         observations of {observation_size} values and takes {actions} actions"
    )]
    Shape {
        /// The network's position in the list.
        network: usize,
        /// Its input neurons.
        inputs: usize,
        /// Its output neurons.
        outputs: usize,
        /// The task's name.
        task: String,
        /// The task's observation size.
        observation_size: usize,
        /// The task's number of actions.
        actions: usize,
    },
    /// The thread pool could not be built.
    #[error("could not start {threads} evaluation threads: {source}")]
    Threads {
        /// The threads asked for.
        threads: usize,
        /// The cause.
        source: rayon::ThreadPoolBuildError,
    },
}

/// The returns of every (network, episode) of an evaluation, and the steps they took.
#[derive(Debug, Clone, PartialEq)]
pub struct Returns {
    episodes: usize,
    /// Return of episode `e` of network `n` at `n · episodes + e`.
    returns: Vec<f64>,
    /// Steps of episode `e` of network `n` at `n · episodes + e`.
    steps: Vec<usize>,
}

impl Returns {
    /// The number of networks.
    pub fn networks(&self) -> usize {
        self.returns.len().checked_div(self.episodes).unwrap_or(0)
    }

    /// The number of episodes per network.
    pub fn episodes(&self) -> usize {
        self.episodes
    }

    /// The returns of network `network`'s episodes, in episode order.
    pub fn network(&self, network: usize) -> &[f64] {
        &self.returns[network * self.episodes..(network + 1) * self.episodes]
    }

    /// The mean return of every network (its score).
    pub fn means(&self) -> Vec<f64> {
        (0..self.networks())
            .map(|n| self.network(n).iter().sum::<f64>() / self.episodes as f64)
            .collect()
    }

    /// The number of steps of episode `episode` of network `network`.
    pub fn episode_steps(&self, network: usize, episode: usize) -> usize {
        self.steps[network * self.episodes + episode]
    }

    /// The number of task steps of the whole evaluation.
    pub fn total_steps(&self) -> usize {
        self.steps.iter().sum()
    }
}

/// Plays `episodes` greedy episodes with every network of `networks` in tasks made by
/// `task`, in parallel on the current rayon thread pool (see the module docs for the streams).
///
/// `progress`, if given, is called each time a network has finished all its episodes, with the
/// number of networks finished so far. It is called from the worker threads, so two calls may
/// arrive in the opposite order of their counts; a progress bar should advance by one per call.
///
/// # Errors
///
/// If a network's input or output layer does not match the task's observations or actions.
pub fn evaluate<F>(
    networks: &[Dense],
    task: F,
    episodes: usize,
    seed: u64,
    progress: Option<&(dyn Fn(usize) + Sync)>,
) -> Result<Returns, EvaluationError>
where
    F: Fn() -> Box<dyn Task> + Sync,
{
    // Every network must fit the task.
    let probe = task();
    let (observation_size, actions) = (probe.observation_size(), probe.actions());
    for (network, dense) in networks.iter().enumerate() {
        let layers = dense.layers();
        let (inputs, outputs) = (layers[0], layers[layers.len() - 1]);
        if inputs != observation_size || outputs != actions {
            return Err(EvaluationError::Shape {
                network,
                inputs,
                outputs,
                task: probe.name().to_string(),
                observation_size,
                actions,
            });
        }
    }
    drop(probe);

    // One unit of work per (network, episode); each worker keeps a task and buffers.
    let finished_episodes: Vec<AtomicUsize> =
        networks.iter().map(|_| AtomicUsize::new(0)).collect();
    let finished_networks = AtomicUsize::new(0);
    let outcomes: Vec<(f64, usize)> = (0..networks.len() * episodes)
        .into_par_iter()
        .map_init(
            || (task(), Scratch::default(), vec![0.0; observation_size]),
            |(task, scratch, observation), unit| {
                let (network, episode) = (unit / episodes, unit % episodes);
                let mut rng =
                    rng::substream(seed, Purpose::Evaluation, network as u64, episode as u64);
                let outcome =
                    play(&networks[network], task.as_mut(), &mut rng, scratch, observation);
                let done = finished_episodes[network].fetch_add(1, Ordering::AcqRel) + 1;
                if done == episodes
                    && let Some(progress) = progress
                {
                    progress(finished_networks.fetch_add(1, Ordering::AcqRel) + 1);
                }
                outcome
            },
        )
        .collect();

    let (returns, steps) = outcomes.into_iter().unzip();
    Ok(Returns { episodes, returns, steps })
}

/// [`evaluate`] on a new thread pool of `threads` threads (0: rayon's default, one per core).
///
/// # Errors
///
/// As [`evaluate`], or if the thread pool cannot be built.
pub fn evaluate_on_threads<F>(
    threads: usize,
    networks: &[Dense],
    task: F,
    episodes: usize,
    seed: u64,
    progress: Option<&(dyn Fn(usize) + Sync)>,
) -> Result<Returns, EvaluationError>
where
    F: Fn() -> Box<dyn Task> + Sync,
{
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|source| EvaluationError::Threads { threads, source })?;
    pool.install(|| evaluate(networks, &task, episodes, seed, progress))
}

/// One greedy episode of `network` in `task`, reset from `rng`: its return and its number of
/// steps. Ends when the task terminates or truncates it, or after [`Task::max_steps`] steps at
/// the latest. `observation` must have the task's observation size.
pub fn play(
    network: &Dense,
    task: &mut dyn Task,
    rng: &mut Stream,
    scratch: &mut Scratch,
    observation: &mut [f64],
) -> (f64, usize) {
    task.reset(rng, observation);
    let limit = task.max_steps();
    let mut total = 0.0;
    let mut steps = 0;
    loop {
        let action = network.greedy(observation, scratch);
        let step = task.step(action, observation);
        total += step.reward;
        steps += 1;
        if step.terminated || step.truncated || steps >= limit {
            return (total, steps);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use rand::RngExt;

    use super::*;
    use crate::net::Activation;
    use crate::task::{StateError, Step};

    /// A cart on a line: observation `[x, v]`, action 0 pushes left and 1 right, reward
    /// `1 - |x|`, terminated when `|x| > 2`, truncated after 40 steps.
    #[derive(Clone, Default)]
    struct Corridor {
        x: f64,
        v: f64,
        steps: usize,
    }

    impl Task for Corridor {
        fn name(&self) -> &str {
            "Corridor"
        }
        fn observation_size(&self) -> usize {
            2
        }
        fn actions(&self) -> usize {
            2
        }
        fn max_steps(&self) -> usize {
            40
        }
        fn solved_at(&self) -> f64 {
            30.0
        }
        fn reset(&mut self, rng: &mut Stream, observation: &mut [f64]) {
            self.x = rng.random::<f64>() * 2.0 - 1.0;
            self.v = rng.random::<f64>() * 0.2 - 0.1;
            self.steps = 0;
            observation.copy_from_slice(&[self.x, self.v]);
        }
        fn step(&mut self, action: usize, observation: &mut [f64]) -> Step {
            self.v += if action == 1 { 0.05 } else { -0.05 };
            self.x += self.v;
            self.steps += 1;
            observation.copy_from_slice(&[self.x, self.v]);
            Step {
                reward: 1.0 - self.x.abs(),
                terminated: self.x.abs() > 2.0,
                truncated: self.steps >= 40,
            }
        }
        fn observe(&self, observation: &mut [f64]) {
            observation.copy_from_slice(&[self.x, self.v]);
        }
        fn state(&self) -> Vec<f64> {
            vec![self.x, self.v]
        }
        fn set_state(&mut self, state: &[f64], elapsed: usize) -> Result<(), StateError> {
            self.x = state[0];
            self.v = state[1];
            self.steps = elapsed;
            Ok(())
        }
    }

    fn corridor() -> Box<dyn Task> {
        Box::new(Corridor::default())
    }

    fn networks(count: u64) -> Vec<Dense> {
        (0..count)
            .map(|i| {
                let rng = &mut rng::stream(3, Purpose::Init, i);
                Dense::mlp(&[2, 8, 2], Activation::Selu, rng)
            })
            .collect()
    }

    #[test]
    fn one_and_two_threads_give_identical_returns() {
        let networks = networks(7);
        let one = evaluate_on_threads(1, &networks, corridor, 5, 11, None).unwrap();
        let two = evaluate_on_threads(2, &networks, corridor, 5, 11, None).unwrap();
        assert_eq!(one, two);
        assert_eq!((one.networks(), one.episodes()), (7, 5));
        // Not all the same: streams and networks differ.
        assert!(one.means().windows(2).any(|m| m[0] != m[1]));
    }

    #[test]
    fn returns_are_those_of_sequential_episodes() {
        let networks = networks(3);
        let returns = evaluate(&networks, corridor, 4, 5, None).unwrap();
        let mut scratch = Scratch::default();
        let mut observation = [0.0; 2];
        for (n, network) in networks.iter().enumerate() {
            for e in 0..4 {
                let mut rng = rng::substream(5, Purpose::Evaluation, n as u64, e as u64);
                let mut task = Corridor::default();
                let (total, steps) =
                    play(network, &mut task, &mut rng, &mut scratch, &mut observation);
                assert_eq!(returns.network(n)[e], total);
                assert_eq!(returns.episode_steps(n, e), steps);
            }
        }
        let total: usize = (0..3)
            .flat_map(|n| (0..4).map(move |e| (n, e)))
            .map(|(n, e)| returns.episode_steps(n, e))
            .sum();
        assert_eq!(returns.total_steps(), total);
    }

    #[test]
    fn appending_networks_keeps_earlier_returns() {
        let networks = networks(5);
        let all = evaluate(&networks, corridor, 3, 2, None).unwrap();
        let first = evaluate(&networks[..2], corridor, 3, 2, None).unwrap();
        for n in 0..2 {
            assert_eq!(first.network(n), all.network(n));
        }
    }

    #[test]
    fn progress_counts_finished_networks() {
        let networks = networks(6);
        let seen = Mutex::new(Vec::new());
        let progress = |finished: usize| seen.lock().unwrap().push(finished);
        evaluate_on_threads(2, &networks, corridor, 3, 1, Some(&progress)).unwrap();
        let mut seen = seen.into_inner().unwrap();
        seen.sort();
        assert_eq!(seen, [1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn episodes_end_at_the_time_limit() {
        /// Never terminates and never truncates by itself.
        #[derive(Clone)]
        struct Endless;
        impl Task for Endless {
            fn name(&self) -> &str {
                "Endless"
            }
            fn observation_size(&self) -> usize {
                2
            }
            fn actions(&self) -> usize {
                2
            }
            fn max_steps(&self) -> usize {
                17
            }
            fn solved_at(&self) -> f64 {
                0.0
            }
            fn reset(&mut self, _: &mut Stream, observation: &mut [f64]) {
                observation.fill(0.5);
            }
            fn step(&mut self, _: usize, _: &mut [f64]) -> Step {
                Step { reward: 1.0, terminated: false, truncated: false }
            }
            fn observe(&self, observation: &mut [f64]) {
                observation.fill(0.5);
            }
            fn state(&self) -> Vec<f64> {
                Vec::new()
            }
            fn set_state(&mut self, _: &[f64], _: usize) -> Result<(), StateError> {
                Ok(())
            }
        }
        let returns = evaluate(&networks(2), || Box::new(Endless), 2, 0, None).unwrap();
        assert_eq!(returns.means(), [17.0, 17.0]);
        assert_eq!(returns.total_steps(), 4 * 17);
    }

    #[test]
    fn networks_that_do_not_fit_the_task_are_rejected() {
        let mut networks = networks(3);
        networks[2] =
            Dense::mlp(&[3, 4, 2], Activation::Selu, &mut rng::stream(1, Purpose::Init, 0));
        let error = evaluate(&networks, corridor, 1, 0, None).unwrap_err();
        assert!(matches!(error, EvaluationError::Shape { network: 2, inputs: 3, .. }), "{error}");
        assert!(error.to_string().contains("`Corridor`"));
    }
}
