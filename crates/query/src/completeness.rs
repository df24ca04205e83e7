//! Derived rollups are complete only up to a point: their writer still holds what it observed
//! in the last seconds, and spans still arrive for the last moments (exporters batch,
//! collectors queue). A reader that needs whole data (triage, RED) asks the [`RollupFeed`]
//! first: it writes what it holds and says up to when the data is complete.

use std::sync::Arc;

use analysis::arrival::Completeness;
use futures::future::BoxFuture;

use crate::QueryService;

/// Writes the pending rollups and answers up to when they are complete.
pub type RollupFeed = Arc<dyn Fn() -> BoxFuture<'static, Completeness> + Send + Sync>;

impl QueryService {
    /// The query service answering with `feed` for the completeness of its rollups.
    pub fn with_rollup_feed(mut self, feed: RollupFeed) -> Self {
        self.rollup_feed = Some(feed);
        self
    }

    /// Brings the rollups up to date and returns up to when they are complete; `None` when no
    /// writer runs beside this service (then the stored rollups are all there is).
    pub async fn rollups_complete(&self) -> Option<Completeness> {
        match &self.rollup_feed {
            Some(feed) => Some(feed().await),
            None => None,
        }
    }
}
