//! Deployment strategies: how a new version replaces the old one without interrupting the service,
//! and how to tell — while it happens, or beforehand on recorded traffic — whether it should.
//!
//! - [`strategy`]: basic, blue/green, canary (steps and an interval) and shadow; sticky buckets;
//! - [`window`]: what each arm did in an interval, in fixed memory, and the gate metrics read from it;
//! - [`analysis`]: the gate measured every interval with Argo Rollouts' semantics (successful,
//!   failed, inconclusive; abort past the failure limit; advance, then promote);
//! - [`replay`]: a rollout played offline on a prediction log or any timestamped file.
//!
//! The live side (routes in the server) is [`crate::core::serving::route`]; it uses the same
//! strategy, windows and analysis, so a replay predicts what the server will do.

pub mod analysis;
pub mod replay;
pub mod strategy;
pub mod window;

pub use analysis::{Analysis, Gate, Measurement, Outcome, Phase};
pub use replay::{ReplayReport, ReplayRequest, Verdict, replay};
pub use strategy::{Strategy, bucket, to_challenger};
