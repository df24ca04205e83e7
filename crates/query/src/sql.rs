//! Small helpers to build SQL safely: every user value goes through [`quote`].

/// A SQL string literal.
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Columns that hold an attribute of the given key, so filters can use the real column.
pub fn column_for_attribute(table: &str, key: &str) -> Option<&'static str> {
    let common = match key {
        "service.name" => Some("service_name"),
        "service.namespace" => Some("service_namespace"),
        "service.version" => Some("service_version"),
        "service.instance.id" => Some("service_instance_id"),
        "deployment.environment" | "deployment.environment.name" => Some("deployment_environment"),
        "host.name" => Some("host_name"),
        "k8s.namespace.name" => Some("k8s_namespace_name"),
        "k8s.pod.name" => Some("k8s_pod_name"),
        "container.id" => Some("container_id"),
        _ => None,
    };
    if common.is_some() || table != "spans" {
        return common;
    }
    match key {
        "http.request.method" | "http.method" => Some("http_request_method"),
        "http.route" => Some("http_route"),
        "http.response.status_code" | "http.status_code" => Some("http_response_status_code"),
        "url.full" => Some("url_full"),
        "server.address" => Some("server_address"),
        "server.port" => Some("server_port"),
        "db.system" | "db.system.name" => Some("db_system"),
        "db.namespace" | "db.name" => Some("db_namespace"),
        "db.operation.name" | "db.operation" => Some("db_operation_name"),
        "rpc.system" => Some("rpc_system"),
        "rpc.service" => Some("rpc_service"),
        "rpc.method" => Some("rpc_method"),
        "messaging.system" => Some("messaging_system"),
        "messaging.destination.name" => Some("messaging_destination_name"),
        "peer.service" => Some("peer_service"),
        "enduser.id" => Some("enduser_id"),
        "session.id" => Some("session_id"),
        _ => None,
    }
}

/// A condition matching rows whose attribute `key` equals `value` (as text), looking at the
/// real column when there is one, else at the record's and the resource's attributes.
pub fn attribute_filter(table: &str, key: &str, value: &str) -> String {
    if let Some(col) = column_for_attribute(table, key) {
        return format!("CAST({col} AS VARCHAR) = {}", quote(value));
    }
    let k = quote(key);
    let v = quote(value);
    format!("(attr(attributes, {k}) = {v} OR attr(resource_attributes, {k}) = {v})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_escapes_single_quotes() {
        assert_eq!(quote("it's"), "'it''s'");
        assert_eq!(
            attribute_filter("spans", "http.route", "/a'b"),
            "CAST(http_route AS VARCHAR) = '/a''b'"
        );
        assert!(
            attribute_filter("logs", "http.route", "x")
                .starts_with("(attr(attributes, 'http.route')")
        );
    }
}
