//! Tool errors: every message says what was wrong and what to do instead. They reach the agent
//! as tool results with `isError: true`, not as protocol errors, so it can read and act on them.

use crate::backend::BackendError;

#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// An argument the agent can fix.
    #[error("invalid parameter '{param}': {message}")]
    BadParam { param: String, message: String },
    /// The thing asked for does not exist; the message says where to look instead.
    #[error("{0}")]
    NotFound(String),
    /// The data source failed or could not be reached.
    #[error("{0}")]
    Backend(#[from] BackendError),
}

impl ToolError {
    pub fn bad(param: &str, message: impl Into<String>) -> Self {
        ToolError::BadParam {
            param: param.to_string(),
            message: message.into(),
        }
    }
}
