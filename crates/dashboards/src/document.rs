//! Reading a Perses dashboard from JSON or YAML text, and writing it back.

use serde_json::Value;

use crate::error::DashboardError;
use crate::validate;

/// How a document is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Yaml,
}

impl Format {
    /// By file extension (`.json`, `.yaml`, `.yml`); `None` for other files.
    pub fn of_path(path: &std::path::Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "json" => Some(Format::Json),
            "yaml" | "yml" => Some(Format::Yaml),
            _ => None,
        }
    }

    /// A body whose format nobody named: JSON when it starts like an object, else YAML.
    pub fn sniff(text: &str) -> Format {
        if text.trim_start().starts_with('{') {
            Format::Json
        } else {
            Format::Yaml
        }
    }

    fn name(self) -> &'static str {
        match self {
            Format::Json => "JSON",
            Format::Yaml => "YAML",
        }
    }
}

/// A valid dashboard: the document as written (what the API exports) and what a list shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Dashboard {
    pub name: String,
    pub project: String,
    /// `spec.display.name`, else the name.
    pub display_name: String,
    pub panel_count: usize,
    /// The Perses document, with `metadata.project` filled in when the file left it out.
    pub document: Value,
}

/// The project of a document that names none.
pub const DEFAULT_PROJECT: &str = "default";

impl Dashboard {
    /// Parses and validates `text`; `source_name` (a file path) prefixes every error.
    pub fn parse(
        text: &str,
        format: Format,
        source_name: &str,
    ) -> Result<Dashboard, DashboardError> {
        let parse_error = |message: String| DashboardError::Parse {
            source_name: source_name.to_string(),
            format: format.name(),
            message,
        };
        let document: Value = match format {
            Format::Json => serde_json::from_str(text).map_err(|e| parse_error(e.to_string()))?,
            Format::Yaml => serde_yaml::from_str(text).map_err(|e| parse_error(e.to_string()))?,
        };
        Dashboard::from_value(document, source_name)
    }

    /// Validates a document already parsed.
    pub fn from_value(mut document: Value, source_name: &str) -> Result<Dashboard, DashboardError> {
        let issues = validate::validate(&document);
        if !issues.is_empty() {
            return Err(DashboardError::Invalid {
                source_name: source_name.to_string(),
                issues,
            });
        }
        let text = |pointer: &str| {
            document
                .pointer(pointer)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let name = text("/metadata/name").unwrap_or_default();
        let project = text("/metadata/project").unwrap_or_else(|| DEFAULT_PROJECT.to_string());
        let display_name = text("/spec/display/name").unwrap_or_else(|| name.clone());
        let panel_count = document
            .pointer("/spec/panels")
            .and_then(Value::as_object)
            .map_or(0, |p| p.len());
        if let Some(meta) = document.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert("project".to_string(), Value::String(project.clone()));
        }
        Ok(Dashboard {
            name,
            project,
            display_name,
            panel_count,
            document,
        })
    }

    /// The document as YAML (for a file in a dashboards directory).
    pub fn to_yaml(&self) -> Result<String, DashboardError> {
        serde_yaml::to_string(&self.document).map_err(|e| DashboardError::Io {
            source_name: format!("{}/{}", self.project, self.name),
            message: format!("cannot write YAML: {e}"),
        })
    }

    /// The panel a layout item's `content.$ref` (`#/spec/panels/<id>`) points at.
    pub fn resolve_ref(&self, reference: &str) -> Option<&Value> {
        let id = reference.strip_prefix(validate::PANEL_REF_PREFIX)?;
        self.document.pointer("/spec/panels")?.get(id)
    }
}
