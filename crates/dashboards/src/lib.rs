//! Dashboards as code, in the Perses format: documents of kind `Dashboard` with variables,
//! panels (`TimeSeriesChart`, `StatChart`, `Table`, `Markdown`, `LogsTable`, ...) whose queries
//! are PromQL (`PrometheusTimeSeriesQuery`) or redscope's typed log query
//! ([`LOG_QUERY_PLUGIN`]), and grid layouts that point at the panels with `$ref`.
//!
//! - [`Dashboard`]: a parsed, validated document ([`Dashboard::parse`] takes JSON or YAML);
//!   [`DashboardError`] names the file and the JSON path of each problem.
//! - [`Library`]: the dashboards of a directory, read again when its files change.
//! - [`builtin`]: the RED dashboard of each service, generated as a Perses document.
//!
//! ```
//! let text = "kind: Dashboard\nmetadata: {name: demo}\nspec: {panels: {}}\n";
//! let d = dashboards::Dashboard::parse(text, dashboards::Format::Yaml, "demo.yaml").unwrap();
//! assert_eq!((d.project.as_str(), d.name.as_str()), ("default", "demo"));
//! ```

pub mod builtin;
mod document;
mod error;
mod library;
pub mod validate;

pub use document::{DEFAULT_PROJECT, Dashboard, Format};
pub use error::{DashboardError, Issue};
pub use library::{FileEntry, Library, LibraryStats, MAX_FILE_BYTES};

/// The query plugin of redscope's typed log search (`/api/v1/logs`), used in a query of kind
/// `LogQuery`: `spec.service`, `spec.severity` (the lowest, `ERROR` or a number), `spec.text`
/// (words the record must hold) and `spec.limit`, each of which may name variables.
pub const LOG_QUERY_PLUGIN: &str = "RedscopeLogQuery";

#[cfg(test)]
mod tests;
