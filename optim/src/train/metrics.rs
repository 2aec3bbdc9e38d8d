//! The estimated learning rate and D as burn-train metrics (feature `burn-train`), shown by
//! its renderer and written by its loggers next to the loss:
//!
//! ```text
//! let (optim, tracker) = burn_lrfree::train::init(&ProdigyConfig::new())?;
//! SupervisedTraining::new(dir, train, valid)
//!     .metric_train_numeric(EstimateMetric::lr(tracker.clone()))
//!     .metric_train_numeric(EstimateMetric::d(tracker))
//! ```
//! They read the [`Tracker`], not the model's output, so they fit any model (`Input = ()`).
//! burn-train updates metrics on its own thread, behind the training; each metric keeps its
//! place in the tracker's per-step history, so the value logged for an item is the estimate
//! of that item's step (while it is among the last 4096 steps). A step without the value
//! (COCOB has no scalar rate; only the D-Adaptation family has a D) is reported as not
//! available.

use std::sync::Arc;

use burn::tensor::TensorReadError;
use burn_train::metric::state::{FormatOptions, NumericMetricState};
use burn_train::metric::{
    Metric, MetricAttributes, MetricMetadata, MetricName, Numeric, NumericAttributes, NumericEntry,
    SerializedEntry,
};

use crate::api::Estimate;
use crate::train::Tracker;

/// One quantity of the [`Tracker`]'s estimate, as a numeric burn-train metric.
#[derive(Clone)]
pub struct EstimateMetric {
    name: MetricName,
    tracker: Tracker,
    pick: fn(&Estimate) -> Option<f64>,
    /// The step whose estimate the next update reports (`None`: the first kept).
    next_step: Option<u64>,
    state: NumericMetricState,
}

impl EstimateMetric {
    /// The learning rate the last step used ("Estimated LR").
    pub fn lr(tracker: Tracker) -> Self {
        Self::new("Estimated LR", tracker, |e| e.lr)
    }

    /// The distance estimate D of the last step ("Estimated D"; the methods with a D:
    /// D-Adapt SGD/Adam, Prodigy, PS-SPS, PS-DA-SGD).
    pub fn d(tracker: Tracker) -> Self {
        Self::new("Estimated D", tracker, |e| e.d)
    }

    fn new(name: &str, tracker: Tracker, pick: fn(&Estimate) -> Option<f64>) -> Self {
        Self {
            name: Arc::new(name.to_string()),
            tracker,
            pick,
            next_step: None,
            state: NumericMetricState::new(),
        }
    }

    fn format(&self) -> FormatOptions {
        FormatOptions::new(self.name.clone()).precision(4)
    }
}

impl Metric for EstimateMetric {
    type Input = ();

    fn name(&self) -> MetricName {
        self.name.clone()
    }

    fn attributes(&self) -> MetricAttributes {
        NumericAttributes {
            unit: None,
            higher_is_better: false,
        }
        .into()
    }

    fn update(
        &mut self,
        _item: &(),
        _metadata: &MetricMetadata,
    ) -> Result<SerializedEntry, TensorReadError> {
        let (pick, next_step) = (self.pick, self.next_step);
        let (value, next) = self
            .tracker
            .with_history(|history| {
                let wanted = next_step.or(history.first())?;
                let (step, estimate) = history.at(wanted)?;
                // Past the last step (more items than steps: gradient accumulation), repeat it
                // without moving on; fallen out of the history, go on from the first kept.
                let next = if step >= wanted { step + 1 } else { wanted };
                Some((pick(estimate), next))
            })
            .unwrap_or((None, next_step.unwrap_or(0)));
        if next > 0 {
            self.next_step = Some(next);
        }
        match value.filter(|v| v.is_finite()) {
            Some(value) => {
                self.state.update(value, 1);
                Ok(self.state.compute_update(self.format()))
            }
            None => Ok(SerializedEntry::not_available(None)),
        }
    }

    fn compute(&mut self) -> Result<SerializedEntry, TensorReadError> {
        Ok(self.state.compute_final(self.format()))
    }

    fn clear(&mut self) {
        self.state.reset();
    }
}

impl Numeric for EstimateMetric {
    fn value(&self) -> Option<NumericEntry> {
        Some(self.state.current_value())
    }

    fn running_value(&self) -> Option<NumericEntry> {
        Some(self.state.running_value())
    }

    fn final_value(&self) -> NumericEntry {
        self.state.final_value()
    }
}
