//! Summaries of network families and the rank tests that compare them.

use serde::{Deserialize, Serialize};
use statrs::function::erf::erfc;
use statrs::stats_tests::Alternative;
use statrs::stats_tests::mannwhitneyu::{MannWhitneyUMethod, mannwhitneyu};

/// Summary statistics of one family's scores (one score per network: its mean return).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Number of networks.
    pub count: usize,
    /// Mean score.
    pub mean: f64,
    /// Standard deviation (population form, `ddof = 0`, as NumPy's default).
    pub std: f64,
    /// Median (mean of the two middle scores for an even count).
    pub median: f64,
    /// Lowest score (the worst network).
    pub min: f64,
    /// Highest score.
    pub max: f64,
    /// Networks whose score reaches the solved threshold.
    pub solved: usize,
    /// `solved / count`.
    pub fraction_solved: f64,
}

impl Summary {
    /// Summarises `scores` against the solved threshold `solved_at` (a score `>= solved_at`
    /// counts as solved). Returns `None` for no scores.
    pub fn of(scores: &[f64], solved_at: f64) -> Option<Summary> {
        if scores.is_empty() {
            return None;
        }
        let n = scores.len() as f64;
        let mean = scores.iter().sum::<f64>() / n;
        let std = (scores.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / n).sqrt();
        let mut sorted = scores.to_vec();
        sorted.sort_by(f64::total_cmp);
        let mid = sorted.len() / 2;
        let median =
            if sorted.len() % 2 == 0 { (sorted[mid - 1] + sorted[mid]) / 2.0 } else { sorted[mid] };
        let solved = scores.iter().filter(|&&s| s >= solved_at).count();
        Some(Summary {
            count: scores.len(),
            mean,
            std,
            median,
            min: sorted[0],
            max: sorted[sorted.len() - 1],
            solved,
            fraction_solved: solved as f64 / n,
        })
    }
}

/// A two-sided Mann-Whitney U test of two families, Bonferroni-corrected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// First family.
    pub first: String,
    /// Second family.
    pub second: String,
    /// U statistic of the first family's scores.
    pub u: f64,
    /// Uncorrected two-sided p-value.
    pub p_value: f64,
    /// `min(1, p · m)` for `m` comparisons.
    pub p_bonferroni: f64,
}

/// The U statistic of `x` and the two-sided p-value of the Mann-Whitney U test, as SciPy's
/// `mannwhitneyu` with `method="auto"`: exact for samples of at most 8 on either side without
/// ties, otherwise the normal approximation with tie and continuity corrections. The tail of the
/// approximation is computed with `erfc`, so tiny p-values stay accurate instead of rounding to
/// zero. `None` when a sample is empty or holds a NaN.
pub fn mann_whitney(x: &[f64], y: &[f64]) -> Option<(f64, f64)> {
    if x.is_empty() || y.is_empty() || x.iter().chain(y).any(|v| v.is_nan()) {
        return None;
    }
    let (n1, n2) = (x.len() as f64, y.len() as f64);

    // Average ranks of the pooled sample; the tie term Σ (t³ - t) over tied groups.
    let pooled: Vec<f64> = x.iter().chain(y).copied().collect();
    let rank = ranks(&pooled);
    let rank_sum: f64 = rank[..x.len()].iter().sum();
    let mut sorted = pooled;
    sorted.sort_by(f64::total_cmp);
    let (mut tie_term, mut ties) = (0.0, false);
    for group in sorted.chunk_by(|a, b| a == b) {
        let size = group.len() as f64;
        tie_term += size.powi(3) - size;
        ties |= group.len() > 1;
    }
    let u1 = rank_sum - n1 * (n1 + 1.0) / 2.0;

    // Exact distribution for small samples without ties.
    if !(x.len() > 8 && y.len() > 8 || ties) {
        return mannwhitneyu(x, y, MannWhitneyUMethod::Exact, Alternative::TwoSided).ok();
    }

    // Normal approximation: z of the larger U, continuity-corrected, two-sided tail.
    let u = u1.max(n1 * n2 - u1);
    let n = n1 + n2;
    let sd = (n1 * n2 / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)))).sqrt();
    let z = (u - n1 * n2 / 2.0 - 0.5) / sd;
    let p = if sd > 0.0 { erfc(z / std::f64::consts::SQRT_2).min(1.0) } else { 1.0 };
    Some((u1, p))
}

/// Ranks from 1, ties given their average rank.
pub fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        // Positions start..end (0-based) share the ranks start+1..=end.
        let average = (start + end + 1) as f64 / 2.0;
        for &k in &order[start..end] {
            ranks[k] = average;
        }
        start = end;
    }
    ranks
}

/// All pairwise comparisons of the named score lists, with the Bonferroni correction over the
/// number of pairs compared. Families with no scores are left out.
pub fn pairwise(families: &[(String, Vec<f64>)]) -> Vec<Comparison> {
    let present: Vec<&(String, Vec<f64>)> =
        families.iter().filter(|(_, s)| !s.is_empty()).collect();
    let mut comparisons = Vec::new();
    for (i, (first, x)) in present.iter().map(|f| (&f.0, &f.1)).enumerate() {
        for (second, y) in present[i + 1..].iter().map(|f| (&f.0, &f.1)) {
            if let Some((u, p_value)) = mann_whitney(x, y) {
                comparisons.push(Comparison {
                    first: first.clone(),
                    second: second.clone(),
                    u,
                    p_value,
                    p_bonferroni: 0.0,
                });
            }
        }
    }
    let m = comparisons.len() as f64;
    for c in &mut comparisons {
        c.p_bonferroni = (c.p_value * m).min(1.0);
    }
    comparisons
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_of_known_values() {
        let s = Summary::of(&[500.0, 10.0, 475.0, 300.0], 475.0).unwrap();
        assert_eq!(s.count, 4);
        assert_eq!(s.mean, 321.25);
        assert_eq!(s.median, 387.5);
        assert_eq!((s.min, s.max), (10.0, 500.0));
        assert_eq!(s.solved, 2);
        assert_eq!(s.fraction_solved, 0.5);
        // NumPy: np.std([500, 10, 475, 300]) = 195.5241...
        assert!((s.std - 195.524_135_338_837_4).abs() < 1e-9);
        assert!(Summary::of(&[], 1.0).is_none());
    }

    #[test]
    fn mann_whitney_matches_scipy() {
        // scipy.stats.mannwhitneyu([19, 22, 16, 29, 24], [20, 11, 17, 12]) -> U = 17, p = 1/9
        let (u, p) =
            mann_whitney(&[19.0, 22.0, 16.0, 29.0, 24.0], &[20.0, 11.0, 17.0, 12.0]).unwrap();
        assert_eq!(u, 17.0);
        assert!((p - 1.0 / 9.0).abs() < 1e-12);
        // scipy.stats.mannwhitneyu(range(20), [x + 5.5 for x in range(20)])
        // -> U = 105, p = 0.010581211443165648 (normal approximation)
        let x: Vec<f64> = (0..20).map(f64::from).collect();
        let y: Vec<f64> = (0..20).map(|v| v as f64 + 5.5).collect();
        let (u, p) = mann_whitney(&x, &y).unwrap();
        assert_eq!(u, 105.0);
        assert!((p / 0.010_581_211_443_165_648 - 1.0).abs() < 1e-9, "{p}");
        // With ties: [1,2,2,3,4,5,5,6,7,8] vs [2,3,5,5,6,8,9,9,10,12] -> U = 25.5,
        // p = 0.06775508148698794.
        let x = [1.0, 2.0, 2.0, 3.0, 4.0, 5.0, 5.0, 6.0, 7.0, 8.0];
        let y = [2.0, 3.0, 5.0, 5.0, 6.0, 8.0, 9.0, 9.0, 10.0, 12.0];
        let (u, p) = mann_whitney(&x, &y).unwrap();
        assert_eq!(u, 25.5);
        assert!((p / 0.067_755_081_486_987_94 - 1.0).abs() < 1e-9, "{p}");
        // Separated samples of 100: SciPy gives p = 5.6400152103706336e-39, not zero. (statrs'
        // erfc agrees with SciPy to about 1e-10 relative.)
        let high = vec![500.0; 100];
        let low: Vec<f64> = (0..100).map(|i| 10.0 + i as f64).collect();
        let (u, p) = mann_whitney(&high, &low).unwrap();
        assert_eq!(u, 10_000.0);
        assert!((p / 5.640_015_210_370_633_6e-39 - 1.0).abs() < 1e-9, "{p}");
    }

    #[test]
    fn bonferroni_multiplies_by_the_number_of_pairs() {
        let families = vec![
            ("a".to_string(), vec![19.0, 22.0, 16.0, 29.0, 24.0]),
            ("b".to_string(), vec![20.0, 11.0, 17.0, 12.0]),
            ("c".to_string(), vec![1.0, 2.0, 3.0]),
            ("empty".to_string(), vec![]),
        ];
        let comparisons = pairwise(&families);
        assert_eq!(comparisons.len(), 3);
        assert!((comparisons[0].p_bonferroni - 3.0 / 9.0).abs() < 1e-12);
        assert!(comparisons.iter().all(|c| c.p_bonferroni <= 1.0 && c.p_bonferroni >= c.p_value));
    }
}
