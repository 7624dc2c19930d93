//! What `matmul-cli accuracy --json` writes and `cargo xtask accuracy` reads: one row per
//! backend, element type, input kind and size, and the sizes each backend skipped.

use serde::{Deserialize, Serialize};

use crate::{Dtype, Layouts};

/// The two kinds of input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Input {
    /// Uniform in [0, 1): every product positive, no cancellation; the error grows with the
    /// length of the sum.
    Uniform,
    /// `±10^x`, x uniform in [−6, 6), random sign: twelve decades and mixed signs, so the
    /// large terms cancel and the result is small next to Σ|a·b|.
    Cancel,
}

impl Input {
    /// Both, in report order.
    pub const ALL: [Input; 2] = [Input::Uniform, Input::Cancel];

    /// `uniform` or `cancel` (as the JSON holds it).
    pub fn as_str(self) -> &'static str {
        match self {
            Input::Uniform => "uniform",
            Input::Cancel => "cancel",
        }
    }
}

impl std::fmt::Display for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// One measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub backend: String,
    pub dtype: Dtype,
    pub input: Input,
    pub n: usize,
    /// Operand layouts of A, B, C (`rrr` in the file).
    pub layout: Layouts,
    /// Entries of C compared.
    pub checked: usize,
    /// Largest |c − reference| / bound over the compared entries (≤ 1 is within the bound).
    pub max_err_over_bound: f64,
    /// Largest |c − reference|.
    pub max_abs_err: f64,
    /// `max_abs_err` / largest |reference| of the compared entries.
    pub rel_err: f64,
    /// Seconds of the gemm call.
    pub seconds: f64,
}

/// Sizes a backend did not run, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Skip {
    pub backend: String,
    pub dtype: Dtype,
    pub sizes: Vec<usize>,
    pub reason: String,
}

/// Everything one `accuracy` run measured and skipped.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub rows: Vec<Row>,
    pub skipped: Vec<Skip>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_round_trips_through_json_with_the_names_xtask_reads() {
        let report = Report {
            rows: vec![Row {
                backend: "simd".into(),
                dtype: Dtype::F32,
                input: Input::Cancel,
                n: 64,
                layout: Layouts::ROW_MAJOR,
                checked: 256,
                max_err_over_bound: 0.01,
                max_abs_err: 1e-7,
                rel_err: 1e-8,
                seconds: 1e-5,
            }],
            skipped: vec![Skip {
                backend: "naive-ijk".into(),
                dtype: Dtype::F64,
                sizes: vec![4096],
                reason: "budget".into(),
            }],
        };
        let text = serde_json::to_string(&report).unwrap();
        assert!(text.contains(r#""dtype":"f32","input":"cancel""#), "{text}");
        assert_eq!(serde_json::from_str::<Report>(&text).unwrap(), report);
    }
}
