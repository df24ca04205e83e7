//! What can be wrong with a dashboard document.

use std::fmt;

/// One problem in a document, at a JSON path such as `spec.panels.errors.spec.plugin.kind`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Issue {
    pub path: String,
    pub message: String,
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum DashboardError {
    /// The text is not JSON or YAML at all.
    #[error("{source_name}: cannot parse {format}: {message}")]
    Parse {
        source_name: String,
        format: &'static str,
        message: String,
    },
    /// It parses, but is not a valid Perses dashboard.
    #[error("{source_name}: {}", join(issues))]
    Invalid {
        source_name: String,
        issues: Vec<Issue>,
    },
    #[error("{source_name}: {message}")]
    Io {
        source_name: String,
        message: String,
    },
    /// Two files define the same project and name.
    #[error("{source_name}: dashboard {project}/{name} is also defined in {other}")]
    Duplicate {
        source_name: String,
        project: String,
        name: String,
        other: String,
    },
}

fn join(issues: &[Issue]) -> String {
    let parts: Vec<String> = issues.iter().map(Issue::to_string).collect();
    parts.join("; ")
}

impl DashboardError {
    /// The problems with their paths (one without a path for parse and read errors).
    pub fn issues(&self) -> Vec<Issue> {
        match self {
            DashboardError::Invalid { issues, .. } => issues.clone(),
            DashboardError::Parse { message, .. } | DashboardError::Io { message, .. } => {
                vec![Issue {
                    path: String::new(),
                    message: message.clone(),
                }]
            }
            DashboardError::Duplicate { .. } => vec![Issue {
                path: "metadata.name".to_string(),
                message: self.to_string(),
            }],
        }
    }
}
