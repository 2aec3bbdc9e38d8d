//! `rl-train` runs: reading a run directory ([`read`], with the record types of
//! [`lrfree_runkit::records::rl`]), turning seeds into curves ([`series`]), the reward and
//! learning-rate figures ([`figure`]), the D-Adaptation diagnostics figure ([`diagnostics`])
//! and the Table-3 report ([`report`]).

pub mod diagnostics;
pub mod figure;
pub mod read;
pub mod report;
pub mod series;
