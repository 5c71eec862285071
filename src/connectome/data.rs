//! Connectomes: a list of cells and the synapse counts between them.
//!
//! A connectome is read from two plain-text files: a *cell list* (one name a line) and an *edge
//! list* in CSV, one row `pre,post,count` per ordered pair with synapses. Blank lines and lines
//! starting with `#` are skipped. The first row is a header when neither of its names is a cell
//! and its third field is not a count. Fields are split at commas and trimmed (no quoting). Pairs
//! not listed have no synapse; a pair listed twice is an error. The Cook et al. 2019
//! hermaphrodite connectome ships with the library ([`Source::Cook2019Chemical`],
//! [`Source::Cook2019Electrical`]).

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

use super::ConnectomeError;

const COOK2019_CELLS: &str = include_str!("../../data/celegans/cook2019_hermaphrodite_cells.txt");
const COOK2019_CHEMICAL: &str =
    include_str!("../../data/celegans/cook2019_hermaphrodite_chemical.csv");
const COOK2019_ELECTRICAL: &str =
    include_str!("../../data/celegans/cook2019_hermaphrodite_electrical.csv");

/// Where a connectome comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Source {
    /// Chemical synapses of the adult C. elegans hermaphrodite (Cook et al. 2019, Nature 571:63,
    /// doi:10.1038/s41586-019-1352-7): 473 cells, 4 879 connected ordered pairs, 28 113
    /// synapses. Built into the library from `data/celegans/` (MIT licence, see its README).
    Cook2019Chemical,
    /// Gap junctions of the same animal, one row per unordered pair, read as undirected: every
    /// contact counts for both orders `(a, b)` and `(b, a)`.
    Cook2019Electrical,
    /// A connectome from files.
    Files {
        /// The cell list: one name a line.
        cells: PathBuf,
        /// The edge list: CSV rows `pre,post,count`.
        edges: PathBuf,
        /// Read every row for both orders (gap junctions and other symmetric contacts).
        #[serde(default)]
        undirected: bool,
    },
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Cook2019Chemical => f.write_str("Cook 2019 hermaphrodite, chemical synapses"),
            Source::Cook2019Electrical => f.write_str("Cook 2019 hermaphrodite, gap junctions"),
            Source::Files { cells, edges, undirected } => {
                let kind = if *undirected { "undirected" } else { "directed" };
                write!(f, "{} over {} ({kind})", edges.display(), cells.display())
            }
        }
    }
}

impl Source {
    /// Reads the connectome.
    pub fn load(&self) -> Result<Connectome, ConnectomeError> {
        let built_in = |name: &str| PathBuf::from("data/celegans").join(name);
        match self {
            Source::Cook2019Chemical => Connectome::parse(
                COOK2019_CELLS,
                &built_in("cook2019_hermaphrodite_cells.txt"),
                COOK2019_CHEMICAL,
                &built_in("cook2019_hermaphrodite_chemical.csv"),
                false,
            ),
            Source::Cook2019Electrical => Connectome::parse(
                COOK2019_CELLS,
                &built_in("cook2019_hermaphrodite_cells.txt"),
                COOK2019_ELECTRICAL,
                &built_in("cook2019_hermaphrodite_electrical.csv"),
                true,
            ),
            Source::Files { cells, edges, undirected } => {
                Connectome::load(cells, edges, *undirected)
            }
        }
    }
}

/// The synapse counts among `N` cells: `S_ij` synapses from cell `i` (pre) onto cell `j`
/// (post).
#[derive(Debug, Clone, PartialEq)]
pub struct Connectome {
    cells: Vec<String>,
    counts: DMatrix<f64>,
}

impl Connectome {
    /// A connectome from cell names and an `N x N` matrix of counts (pre-synaptic cells in rows).
    ///
    /// # Panics
    ///
    /// If `counts` is not `N x N` or holds a value that is not a non-negative integer.
    pub fn new(cells: Vec<String>, counts: DMatrix<f64>) -> Self {
        let n = cells.len();
        assert_eq!((counts.nrows(), counts.ncols()), (n, n), "Connectome: counts must be N x N");
        assert!(
            counts.iter().all(|&c| c >= 0.0 && c.fract() == 0.0),
            "Connectome: counts must be non-negative integers"
        );
        Connectome { cells, counts }
    }

    /// Reads a cell list and an edge list (see the module docs for the formats). With
    /// `undirected`, each row counts for both orders of its pair.
    pub fn load(cells: &Path, edges: &Path, undirected: bool) -> Result<Self, ConnectomeError> {
        let read = |path: &Path| {
            std::fs::read_to_string(path)
                .map_err(|source| ConnectomeError::Io { path: path.into(), source })
        };
        Connectome::parse(&read(cells)?, cells, &read(edges)?, edges, undirected)
    }

    /// Parses the texts of a cell list and an edge list; the paths only name them in errors.
    pub fn parse(
        cells_text: &str,
        cells_path: &Path,
        edges_text: &str,
        edges_path: &Path,
        undirected: bool,
    ) -> Result<Self, ConnectomeError> {
        let cells = parse_cells(cells_text, cells_path)?;
        let index: HashMap<&str, usize> =
            cells.iter().enumerate().map(|(i, name)| (name.as_str(), i)).collect();
        let mut counts = DMatrix::zeros(cells.len(), cells.len());
        let mut listed_on: HashMap<(usize, usize), usize> = HashMap::new();
        let mut first_row = true;
        for (number, line) in content_lines(edges_text) {
            let at = |message: String| ConnectomeError::Edges {
                path: edges_path.into(),
                line: number,
                message,
            };
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            if fields.len() != 3 {
                return Err(at(format!(
                    "expected 3 fields `pre,post,count`, found {}",
                    fields.len()
                )));
            }

            // A first row that names no cell and holds no count is a header.
            let (pre, post) = (index.get(fields[0]), index.get(fields[1]));
            let is_header = pre.is_none() && post.is_none() && fields[2].parse::<u64>().is_err();
            if std::mem::take(&mut first_row) && is_header {
                continue;
            }

            let cell = |found: Option<&usize>, name: &str| {
                found.copied().ok_or_else(|| ConnectomeError::UnknownCell {
                    path: edges_path.into(),
                    line: number,
                    name: name.into(),
                    cells: cells_path.into(),
                })
            };
            let (pre, post) = (cell(pre, fields[0])?, cell(post, fields[1])?);
            let count: u64 = fields[2].parse().map_err(|_| ConnectomeError::BadCount {
                path: edges_path.into(),
                line: number,
                text: fields[2].into(),
            })?;
            let key = if undirected { (pre.min(post), pre.max(post)) } else { (pre, post) };
            if let Some(first) = listed_on.insert(key, number) {
                return Err(at(format!(
                    "the pair {} -> {} is listed twice (first on line {first})",
                    fields[0], fields[1]
                )));
            }
            counts[(pre, post)] = count as f64;
            if undirected {
                counts[(post, pre)] = count as f64;
            }
        }
        Ok(Connectome { cells, counts })
    }

    /// Number of cells `N`.
    pub fn len(&self) -> usize {
        self.cells.len()
    }

    /// Whether there are no cells.
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// The cell names, in the order of the rows and columns of [`Connectome::counts`].
    pub fn cells(&self) -> &[String] {
        &self.cells
    }

    /// The counts `S`, `N x N`, pre-synaptic cells in rows.
    pub fn counts(&self) -> &DMatrix<f64> {
        &self.counts
    }
}

/// The non-empty, non-comment lines of a text with their 1-based line numbers, trimmed.
fn content_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line.trim()))
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
}

fn parse_cells(text: &str, path: &Path) -> Result<Vec<String>, ConnectomeError> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut cells = Vec::new();
    for (number, name) in content_lines(text) {
        if let Some(first) = seen.insert(name, number) {
            return Err(ConnectomeError::Cells {
                path: path.into(),
                line: number,
                message: format!("cell `{name}` is listed twice (first on line {first})"),
            });
        }
        cells.push(name.to_string());
    }
    if cells.is_empty() {
        return Err(ConnectomeError::Cells {
            path: path.into(),
            line: 0,
            message: "the cell list is empty".into(),
        });
    }
    Ok(cells)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CELLS: &str = "# three cells\nAVAL\nAVAR\n\nPVCL\n";

    fn parse(edges: &str) -> Result<Connectome, ConnectomeError> {
        Connectome::parse(CELLS, Path::new("cells.txt"), edges, Path::new("edges.csv"), false)
    }

    #[test]
    fn reads_counts_with_and_without_header() {
        let with_header = parse("pre,post,synapses\nAVAL,AVAR,3\nPVCL, AVAL ,12\n").unwrap();
        assert_eq!(with_header.cells(), ["AVAL", "AVAR", "PVCL"]);
        assert_eq!(with_header.counts()[(0, 1)], 3.0);
        assert_eq!(with_header.counts()[(2, 0)], 12.0);
        assert_eq!(with_header.counts().sum(), 15.0);
        let without = parse("AVAL,AVAR,3\nPVCL,AVAL,12").unwrap();
        assert_eq!(without, with_header);
    }

    #[test]
    fn undirected_rows_count_both_ways() {
        let c =
            Connectome::parse(CELLS, Path::new("c"), "a,b,n\nAVAL,PVCL,2\n", Path::new("e"), true)
                .unwrap();
        assert_eq!((c.counts()[(0, 2)], c.counts()[(2, 0)]), (2.0, 2.0));
    }

    #[test]
    fn unknown_cells_are_named_with_file_and_line() {
        let err = parse("pre,post,n\nAVAL,AVAR,1\nAVAL,XYZ,2\n").unwrap_err();
        assert!(
            matches!(&err, ConnectomeError::UnknownCell { line: 3, name, .. } if name == "XYZ")
        );
        let text = err.to_string();
        assert!(text.contains("edges.csv:3") && text.contains("`XYZ`"), "{text}");
    }

    #[test]
    fn bad_counts_are_rejected_with_file_and_line() {
        for bad in ["-1", "2.5", "many", ""] {
            let err = parse(&format!("AVAL,AVAR,1\nAVAR,PVCL,{bad}\n")).unwrap_err();
            assert!(matches!(&err, ConnectomeError::BadCount { line: 2, .. }), "{bad}: {err}");
            assert!(err.to_string().contains("edges.csv:2"), "{err}");
        }
    }

    #[test]
    fn malformed_rows_and_duplicates_are_rejected() {
        let err = parse("AVAL,AVAR\n").unwrap_err().to_string();
        assert!(err.contains("edges.csv:1") && err.contains("3 fields"), "{err}");
        let err = parse("AVAL,AVAR,1\nAVAL,AVAR,2\n").unwrap_err().to_string();
        assert!(err.contains("edges.csv:2") && err.contains("first on line 1"), "{err}");
        let err = Connectome::parse("A\nB\nA\n", Path::new("cells.txt"), "", Path::new("e"), false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("cells.txt:3") && err.contains("twice"), "{err}");
    }

    #[test]
    fn missing_files_are_named() {
        let missing = Path::new("no/such/edges.csv");
        let err = Connectome::load(Path::new("no/such/cells.txt"), missing, false).unwrap_err();
        assert!(matches!(&err, ConnectomeError::Io { path, .. } if path.ends_with("cells.txt")));
        assert!(err.to_string().contains("no/such/cells.txt"), "{err}");
    }

    #[test]
    fn the_built_in_cook_2019_data_load() {
        let chemical = Source::Cook2019Chemical.load().unwrap();
        assert_eq!(chemical.len(), 473);
        assert_eq!(chemical.counts().sum(), 28_113.0);
        assert_eq!(chemical.counts().iter().filter(|&&c| c > 0.0).count(), 4_879);
        assert_eq!(chemical.counts().max(), 142.0);
        let electrical = Source::Cook2019Electrical.load().unwrap();
        assert_eq!(electrical.counts().iter().filter(|&&c| c > 0.0).count(), 2 * 1_433);
        assert_eq!(electrical.counts(), &electrical.counts().transpose());
    }
}
