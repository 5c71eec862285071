//! Writing a [`FitReport`] into a directory.
//!
//! - `report.md`: what ran, the held-out scores against the nulls, the gene curve, the grown
//!   networks, wall times;
//! - `scores.json`: the report's figures (held-out scores per fold and model, the curve, the
//!   fit, the sampling comparison, wall times);
//! - `settings.ron`: the settings as run;
//! - `predicted_vs_observed.csv`: per pair, the observed count, the in-sample fit and each
//!   model's held-out prediction;
//! - `multiplicity.csv`: pairs with `m` synapses, real against grown (mean, std);
//! - `degrees.csv`: per cell, in- and out-degree, real against grown (mean);
//! - `fit_vs_genes.csv`: held-out scores (mean, std) against the number of genes, per model;
//! - `predicted_vs_observed.svg`, `multiplicity.svg`, `fit_vs_genes.svg`: the figures;
//! - `cells.txt`, `expression.npy`, `rules.npy`: the fitted genetics, `E` (`N x g`, rows in the
//!   order of `cells.txt`) and `G` (`g x g`).
//!
//! Every file is written atomically.

use std::fmt::Write;
use std::path::Path;

use super::plot::{Axis, AxisScale, Content, Panel, Series, Style, figure};
use super::{ConnectomeError, CrossValidation, FitReport, HeldOut, ModelKind, Rounding, Scores};
use crate::files::write_atomic;
use crate::npy;

const GENETIC_COLOR: &str = "#1b6ca8";
const DEGREE_COLOR: &str = "#7f7f7f";
const FACTORISATION_COLOR: &str = "#d95f02";
const REAL_COLOR: &str = "#222222";

fn color(kind: ModelKind) -> &'static str {
    match kind {
        ModelKind::Genetic => GENETIC_COLOR,
        ModelKind::DegreeCorrected => DEGREE_COLOR,
        ModelKind::Factorisation => FACTORISATION_COLOR,
    }
}

fn title(held_out: &HeldOut, validation: &CrossValidation) -> String {
    match held_out.model {
        ModelKind::Genetic => format!("genetic (g = {})", validation.genes),
        ModelKind::DegreeCorrected => "degree-corrected".into(),
        ModelKind::Factorisation => {
            format!("factorisation (r = {})", validation.factorisation_rank)
        }
    }
}

/// Writes every file of the report into `dir` (created if missing).
pub fn write(report: &FitReport, dir: &Path) -> Result<(), ConnectomeError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ConnectomeError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let put = |name: &str, text: String| {
        let path = dir.join(name);
        write_atomic(&path, text.as_bytes()).map_err(io(&path))
    };

    put("report.md", markdown(report))?;
    let json = serde_json::to_string_pretty(report).expect("a report serialises");
    put("scores.json", json + "\n")?;
    put("settings.ron", report.settings.to_ron() + "\n")?;
    put("predicted_vs_observed.csv", predictions_csv(report))?;
    put("fit_vs_genes.csv", gene_curve_csv(report))?;
    put("predicted_vs_observed.svg", predictions_svg(report))?;
    if !report.gene_curve.is_empty() {
        put("fit_vs_genes.svg", gene_curve_svg(report))?;
    }
    if report.sampling.is_some() {
        put("multiplicity.csv", multiplicity_csv(report))?;
        put("degrees.csv", degrees_csv(report))?;
        put("multiplicity.svg", multiplicity_svg(report))?;
    }
    put("cells.txt", report.cells.join("\n") + "\n")?;
    let genetics = &report.full_fit.genetics;
    let expression = dir.join("expression.npy");
    npy::write_matrix(&expression, &genetics.expression).map_err(io(&expression))?;
    let rules = dir.join("rules.npy");
    npy::write_matrix(&rules, &genetics.rules).map_err(io(&rules))
}

fn predictions_csv(report: &FitReport) -> String {
    let held_out = &report.held_out;
    let mut csv = String::from(
        "pre,post,observed,genetic_fit,genetic_held_out,degree_corrected_held_out,\
         factorisation_held_out\n",
    );
    for (i, j) in report.pairs.iter() {
        let _ = writeln!(
            csv,
            "{},{},{},{},{},{},{}",
            report.cells[i],
            report.cells[j],
            report.observed[(i, j)],
            significant(report.full_fit.expected[(i, j)]),
            significant(held_out.genetic.predictions[(i, j)]),
            significant(held_out.degree_corrected.predictions[(i, j)]),
            significant(held_out.factorisation.predictions[(i, j)])
        );
    }
    csv
}

/// `value` with six significant digits, in plain notation between 1e-4 and 1e6.
fn significant(value: f64) -> String {
    if value == 0.0 || !value.is_finite() {
        return value.to_string();
    }
    let magnitude = value.abs().log10().floor() as i32;
    if (-4..6).contains(&magnitude) {
        let text = format!("{value:.*}", (5 - magnitude).max(0) as usize);
        if text.contains('.') {
            return text.trim_end_matches('0').trim_end_matches('.').to_string();
        }
        text
    } else {
        format!("{value:.5e}")
    }
}

fn gene_curve_csv(report: &FitReport) -> String {
    let mut csv = String::from(
        "genes,model,rank,parameters,auc,auc_std,spearman,spearman_std,log_pearson,\
         log_pearson_std,deviance,deviance_std\n",
    );
    for validation in &report.gene_curve {
        for held_out in validation.models() {
            let rank = match held_out.model {
                ModelKind::Genetic => String::new(),
                ModelKind::DegreeCorrected => "1".into(),
                ModelKind::Factorisation => validation.factorisation_rank.to_string(),
            };
            let (m, s) = (held_out.mean, held_out.std);
            let _ = writeln!(
                csv,
                "{},{},{rank},{},{},{},{},{},{},{},{},{}",
                validation.genes,
                held_out.model.as_str(),
                held_out.parameters,
                m.auc,
                s.auc,
                m.spearman,
                s.spearman,
                m.log_pearson,
                s.log_pearson,
                m.deviance,
                s.deviance
            );
        }
    }
    csv
}

/// Pairs with `m` synapses, real and over the grown networks: `(m, real, mean, std)`.
fn multiplicity_rows(report: &FitReport) -> Vec<(usize, usize, f64, f64)> {
    let Some(sampling) = &report.sampling else { return Vec::new() };
    let longest = sampling.sampled.iter().map(|s| s.multiplicity.len()).max().unwrap_or(0);
    let longest = longest.max(sampling.real.multiplicity.len());
    (1..=longest)
        .map(|m| {
            let at = |v: &[usize]| v.get(m - 1).copied().unwrap_or(0);
            let values: Vec<f64> =
                sampling.sampled.iter().map(|s| at(&s.multiplicity) as f64).collect();
            let (mean, std) = mean_and_std(&values);
            (m, at(&sampling.real.multiplicity), mean, std)
        })
        .collect()
}

fn mean_and_std(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let square: f64 = values.iter().map(|v| (v - mean).powi(2)).sum();
    (mean, if values.len() > 1 { (square / (n - 1.0)).sqrt() } else { 0.0 })
}

fn multiplicity_csv(report: &FitReport) -> String {
    let mut csv = String::from("synapses,real_pairs,sampled_pairs_mean,sampled_pairs_std\n");
    for (m, real, mean, std) in multiplicity_rows(report) {
        let _ = writeln!(csv, "{m},{real},{mean},{std}");
    }
    csv
}

fn degrees_csv(report: &FitReport) -> String {
    let mut csv = String::from("cell,real_out,real_in,sampled_out_mean,sampled_in_mean\n");
    let Some(sampling) = &report.sampling else { return csv };
    let samples = sampling.sampled.len() as f64;
    for (i, cell) in report.cells.iter().enumerate() {
        let mean = |pick: fn(&super::NetworkStatistics) -> &Vec<usize>| {
            sampling.sampled.iter().map(|s| pick(s)[i] as f64).sum::<f64>() / samples
        };
        let _ = writeln!(
            csv,
            "{cell},{},{},{},{}",
            sampling.real.out_degree[i],
            sampling.real.in_degree[i],
            mean(|s| &s.out_degree),
            mean(|s| &s.in_degree)
        );
    }
    csv
}

fn predictions_svg(report: &FitReport) -> String {
    let largest = report.observed.max().max(1.0);
    let axis = |label: &str| Axis::new(label, 0.0, largest, AxisScale::Log1p);
    let observed = report.pairs.gather(&report.observed);
    let panel = |name: String, predictions: &nalgebra::DMatrix<f64>, kind: ModelKind| Panel {
        title: name,
        x: axis("predicted synapses"),
        y: axis("observed synapses"),
        content: Content::Density {
            points: report
                .pairs
                .gather(predictions)
                .into_iter()
                .zip(observed.iter().copied())
                .collect(),
            bins: 40,
            color: color(kind).into(),
        },
    };
    let validation = &report.held_out;
    let mut panels = vec![panel(
        format!("genetic fit, g = {} (in sample)", validation.genes),
        &report.full_fit.expected,
        ModelKind::Genetic,
    )];
    for held_out in validation.models() {
        panels.push(panel(
            format!("{}, held out", title(held_out, validation)),
            &held_out.predictions,
            held_out.model,
        ));
    }
    figure("Synapses per pair: predicted against observed (cells shaded by log count)", &panels)
}

fn gene_curve_svg(report: &FitReport) -> String {
    let curve = &report.gene_curve;
    let (first, last) = (curve[0].genes as f64, curve[curve.len() - 1].genes as f64);
    let marks: Vec<f64> = curve.iter().map(|v| v.genes as f64).collect();
    let x = || {
        Axis::new("genes g", first / 1.2, last * 1.2, AxisScale::Log10).with_ticks(marks.clone())
    };
    let panel = |name: &str, score: fn(&Scores) -> f64| {
        let series = |kind: ModelKind, label: &str, style: Style| {
            let pick = |v: &CrossValidation| match kind {
                ModelKind::Genetic => v.genetic.clone(),
                ModelKind::DegreeCorrected => v.degree_corrected.clone(),
                ModelKind::Factorisation => v.factorisation.clone(),
            };
            Series {
                name: label.into(),
                color: color(kind).into(),
                points: curve.iter().map(|v| (v.genes as f64, score(&pick(v).mean))).collect(),
                spread: Some(curve.iter().map(|v| score(&pick(v).std)).collect()),
                style,
            }
        };
        let all = [
            series(ModelKind::Genetic, "genetic E G Eᵀ", Style::LineAndDots),
            series(ModelKind::Factorisation, "factorisation, same |θ|", Style::LineAndDots),
            series(ModelKind::DegreeCorrected, "degree-corrected", Style::Dashed),
        ];
        let values = all.iter().flat_map(|s| s.points.iter().map(|p| p.1));
        let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            if v.is_finite() { (lo.min(v), hi.max(v)) } else { (lo, hi) }
        });
        let pad = ((hi - lo) * 0.1).max(1e-3);
        Panel {
            title: name.into(),
            x: x(),
            y: Axis::new(name, lo - pad, hi + pad, AxisScale::Linear),
            content: Content::Series(all.to_vec()),
        }
    };
    figure(
        &format!(
            "Held-out fit against the number of genes ({}-fold, mean ± std)",
            report.settings.evaluation.folds
        ),
        &[
            panel("AUC", |s| s.auc),
            panel("Spearman", |s| s.spearman),
            panel("log-Pearson", |s| s.log_pearson),
            panel("deviance per pair", |s| s.deviance),
        ],
    )
}

fn multiplicity_svg(report: &FitReport) -> String {
    let rows = multiplicity_rows(report);
    let longest = rows.len().max(1) as f64;
    let most = rows.iter().map(|r| (r.1 as f64).max(r.2)).fold(1.0, f64::max);
    let panel = |name: &str, y: Axis, cumulative: bool| {
        // Pairs with m synapses, or with at least m synapses.
        let tail = |values: Vec<f64>| -> Vec<f64> {
            if !cumulative {
                return values;
            }
            let mut sums = values;
            for k in (0..sums.len().saturating_sub(1)).rev() {
                sums[k] += sums[k + 1];
            }
            sums
        };
        let real = tail(rows.iter().map(|r| r.1 as f64).collect());
        let sampled = tail(rows.iter().map(|r| r.2).collect());
        let points = |values: &[f64]| -> Vec<(f64, f64)> {
            rows.iter()
                .zip(values)
                .filter(|(_, v)| **v > 0.0)
                .map(|(r, v)| (r.0 as f64, *v))
                .collect()
        };
        let spread: Vec<f64> =
            rows.iter().zip(&sampled).filter(|(_, v)| **v > 0.0).map(|(r, _)| r.3).collect();
        Panel {
            title: name.into(),
            x: Axis::new("synapses per connected pair", 1.0, longest * 1.1, AxisScale::Log10),
            y,
            content: Content::Series(vec![
                Series {
                    name: "Cook 2019 (real)".into(),
                    color: REAL_COLOR.into(),
                    points: points(&real),
                    spread: None,
                    style: Style::Dots,
                },
                Series {
                    name: format!(
                        "grown from the fit (mean ± std of {})",
                        report.sampling.as_ref().map_or(0, |s| s.sampled.len())
                    ),
                    color: GENETIC_COLOR.into(),
                    points: points(&sampled),
                    spread: (!cumulative).then_some(spread),
                    style: Style::Line,
                },
            ]),
        }
    };
    let total = report.sampling.as_ref().map_or(1.0, |s| s.real.connected_pairs as f64).max(most);
    figure(
        "Multiplicity: synapses per connected pair, real against grown",
        &[
            panel(
                "pairs with m synapses",
                Axis::new("pairs", 0.5, most * 1.5, AxisScale::Log10),
                false,
            ),
            panel(
                "pairs with at least m synapses",
                Axis::new("pairs", 0.5, total * 1.5, AxisScale::Log10),
                true,
            ),
        ],
    )
}

fn markdown(report: &FitReport) -> String {
    let settings = &report.settings;
    let (data, full) = (&report.data, &report.full_fit);
    let mut md = String::new();
    let _ = writeln!(md, "# Fitting the synapse-count model to a connectome\n");

    // The data.
    let self_pairs = if settings.self_pairs { "included" } else { "excluded" };
    let _ = writeln!(
        md,
        "**Data**: {}. {} cells, {} ordered pairs (self pairs {self_pairs}), {} connected, {} \
         synapses{}.\n",
        data.source,
        data.cells,
        data.pairs,
        data.connected_pairs,
        data.synapses,
        if data.excluded_self_synapses > 0.0 {
            format!(" ({} synapses on self pairs left out)", data.excluded_self_synapses)
        } else {
            String::new()
        }
    );

    // The model and how it was fitted.
    let model = &settings.model;
    let scale = match model.scale {
        super::Scale::Fixed(kappa) => format!("κ fixed at {kappa}"),
        super::Scale::Fitted => format!("κ fitted ({:.4})", full.genetics.scale),
    };
    let mask = if model.rules_mask.is_some() { ", banded by the rules mask" } else { "" };
    let _ = writeln!(
        md,
        "**Model**: expected counts `μ = κ E G Eᵀ`, `E = X ⊙ X` ({} cells x g genes), \
         `G = σ(Ĝ / τ)` with τ = {}{mask}; {scale}. Fitted: {}.\n",
        data.cells,
        model.rules_temperature,
        [("expression", model.learn_expression), ("rules", model.learn_rules)]
            .iter()
            .filter(|p| p.1)
            .map(|p| p.0)
            .collect::<Vec<_>>()
            .join(" and ")
    );
    let fit = &settings.fit;
    let _ = writeln!(
        md,
        "**Likelihood**: Poisson with the model's exact mean, per pair; penalty λ = {} on \
         expression levels (0: maximum likelihood). In the fit to all pairs, the model's own \
         variance-to-mean ratio is Σ Var[S] / Σ E[S] = {:.3} (a sum of binomials is never \
         over-dispersed; 1 would be Poisson), and {:.1} % of the rule probabilities lie within \
         0.01 of 0 or 1.\n",
        fit.expression_penalty,
        full.model_dispersion,
        100.0 * full.saturated_rules
    );
    let _ = writeln!(
        md,
        "**Optimiser**: {:?}, at most {} iterations, the same for the genetic model and both \
         nulls. Seed {}.\n",
        fit.optimiser, fit.iterations, settings.seed
    );

    // Held-out scores.
    let validation = &report.held_out;
    let _ = writeln!(
        md,
        "## Held-out scores\n\n{}-fold cross-validation over pairs: each model is fitted to the \
         pairs outside a fold and scored on the pairs inside it (mean ± std over folds). AUC: \
         \"is there a synapse\"; Spearman and log-Pearson (`ln(1 + ·)`): predicted against \
         observed counts; deviance: mean Poisson deviance per pair (lower is better).\n",
        settings.evaluation.folds
    );
    md.push_str(&scores_table(validation));
    let s = full.in_sample;
    let _ = writeln!(
        md,
        "\nIn sample (the genetic model fitted to every pair): AUC {:.3}, Spearman {:.3}, \
         log-Pearson {:.3}, deviance {:.3}.\n",
        s.auc, s.spearman, s.log_pearson, s.deviance
    );
    md.push_str("![predicted against observed](predicted_vs_observed.svg)\n\n");

    // The gene curve.
    if !report.gene_curve.is_empty() {
        md.push_str("## Fit against the number of genes\n\n");
        md.push_str(
            "| g | genetic parameters | AUC | log-Pearson | deviance | factorisation r \
             (parameters) | AUC | log-Pearson | deviance |\n\
             |---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
        );
        for v in &report.gene_curve {
            let (g, f) = (&v.genetic, &v.factorisation);
            let _ = writeln!(
                md,
                "| {} | {} | {:.3} | {:.3} | {:.3} | {} ({}) | {:.3} | {:.3} | {:.3} |",
                v.genes,
                g.parameters,
                g.mean.auc,
                g.mean.log_pearson,
                g.mean.deviance,
                v.factorisation_rank,
                f.parameters,
                f.mean.auc,
                f.mean.log_pearson,
                f.mean.deviance
            );
        }
        let d = report.gene_curve[0].degree_corrected.mean;
        let _ = writeln!(
            md,
            "\nDegree-corrected null (any g): AUC {:.3}, log-Pearson {:.3}, deviance {:.3}.\n\n\
             ![fit against genes](fit_vs_genes.svg)\n",
            d.auc, d.log_pearson, d.deviance
        );
    }

    // Grown networks.
    if let Some(sampling) = &report.sampling {
        let _ = writeln!(
            md,
            "## Networks grown from the fitted genetics\n\n{} networks, each pair's count a sum of \
             binomials `Binomial(n, G_ab)` over gene pairs, `n` the trial count `κ E_ia E_jb` \
             rounded {}.\n\n| statistic | real | grown (mean ± std) |\n|---|---:|---:|",
            sampling.sampled.len(),
            match sampling.rounding {
                Rounding::Nearest => "to the nearest integer",
                Rounding::Stochastic => "stochastically (down or up, unbiased)",
            }
        );
        for row in &sampling.table {
            let _ = writeln!(
                md,
                "| {} | {:.4} | {:.4} ± {:.4} |",
                row.statistic, row.real, row.sampled_mean, row.sampled_std
            );
        }
        let _ = writeln!(
            md,
            "\nKolmogorov-Smirnov distance, real against grown (pooled): synapses per connected \
             pair {:.3}, out-degree {:.3}, in-degree {:.3}.\n\n![multiplicity](multiplicity.svg)\n",
            sampling.ks_multiplicity, sampling.ks_out_degree, sampling.ks_in_degree
        );
    }

    // The full fit and wall times.
    let f = &full.fit;
    let _ = writeln!(
        md,
        "## Fit to all pairs and wall times\n\nGenetic model, g = {}, {} parameters: J = {:.5} per \
         pair after {} iterations and {} evaluations ({}), {:.1} s.\n",
        full.genes,
        full.parameters,
        f.objective,
        f.iterations,
        f.evaluations,
        f.termination,
        f.seconds
    );
    let t = &report.timing;
    let _ = writeln!(
        md,
        "Wall times on {} threads: cross-validation {:.1} s, full fit {:.1} s, growing networks \
         {:.1} s, total {:.1} s.",
        t.threads, t.cross_validation, t.full_fit, t.sampling, t.total
    );
    md
}

fn scores_table(validation: &CrossValidation) -> String {
    let models = validation.models();
    let best = |score: fn(&Scores) -> f64, lower: bool| {
        let values = models.iter().map(|m| score(&m.mean));
        if lower {
            values.fold(f64::INFINITY, f64::min)
        } else {
            values.fold(f64::NEG_INFINITY, f64::max)
        }
    };
    let cell = |held_out: &HeldOut, score: fn(&Scores) -> f64, lower: bool| {
        let (mean, std) = (score(&held_out.mean), score(&held_out.std));
        let text = format!("{mean:.3} ± {std:.3}");
        if mean == best(score, lower) { format!("**{text}**") } else { text }
    };
    let mut table = String::from(
        "| model | parameters | AUC | Spearman | log-Pearson | deviance | fit time |\n\
         |---|---:|---:|---:|---:|---:|---:|\n",
    );
    for held_out in models {
        let _ = writeln!(
            table,
            "| {} | {} | {} | {} | {} | {} | {:.1} s |",
            title(held_out, validation),
            held_out.parameters,
            cell(held_out, |s| s.auc, false),
            cell(held_out, |s| s.spearman, false),
            cell(held_out, |s| s.log_pearson, false),
            cell(held_out, |s| s.deviance, true),
            held_out.seconds
        );
    }
    table
}

#[cfg(test)]
mod tests {
    use super::significant;

    #[test]
    fn numbers_keep_six_significant_digits() {
        assert_eq!(significant(0.8428215406126663), "0.842822");
        assert_eq!(significant(0.009806088798485931), "0.00980609");
        assert_eq!(significant(123.0), "123");
        assert_eq!(significant(2.5e-9), "2.50000e-9");
        assert_eq!(significant(0.0), "0");
    }
}
