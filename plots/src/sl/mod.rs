//! `sl-train` runs: reading a run directory ([`read`], with the record types of
//! [`lrfree_runkit::records::sl`]), the training-curves figure ([`figure`]) and the Table-3
//! report ([`report`]). See `docs/sl.md`.

pub mod figure;
pub mod read;
pub mod report;

pub use figure::{SL_SIZE, write_sl_plots};
pub use read::{SlRun, SlSeed, read_sl_run};
pub use report::{SlCell, SlReport, SlReportRow, build_sl_report};
