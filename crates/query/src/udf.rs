//! `attr(json_object_text, key)`: the value of one attribute as text, NULL when absent.
//! `url_host(url)`: the host of an absolute URL as the service map names it (lowercased, no
//! port or user information), NULL when it names none.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use arrow::datatypes::DataType;
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::{ColumnarValue, ScalarUDF, Volatility, create_udf};

fn value_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn attr_impl(args: &[ColumnarValue]) -> DfResult<ColumnarValue> {
    let arrays = ColumnarValue::values_to_arrays(args)?;
    let json = arrays[0].as_string::<i32>();
    let keys = arrays[1].as_string::<i32>();
    let mut out = StringBuilder::with_capacity(json.len(), json.len() * 8);
    for i in 0..json.len() {
        if json.is_null(i) || keys.is_null(i) {
            out.append_null();
            continue;
        }
        let key = keys.value(i);
        let text = json.value(i);
        // Cheap rejection before parsing: the key must appear quoted in the text.
        if !text.contains(key) {
            out.append_null();
            continue;
        }
        let parsed: Option<serde_json::Map<String, serde_json::Value>> =
            serde_json::from_str(text).ok();
        match parsed
            .as_ref()
            .and_then(|m| m.get(key))
            .and_then(value_text)
        {
            Some(s) => out.append_value(s),
            None => out.append_null(),
        }
    }
    let array: ArrayRef = Arc::new(out.finish());
    Ok(ColumnarValue::Array(array))
}

pub fn attr_udf() -> ScalarUDF {
    create_udf(
        "attr",
        vec![DataType::Utf8, DataType::Utf8],
        DataType::Utf8,
        Volatility::Immutable,
        Arc::new(attr_impl),
    )
}

fn url_host_impl(args: &[ColumnarValue]) -> DfResult<ColumnarValue> {
    let arrays = ColumnarValue::values_to_arrays(args)?;
    let urls = arrays[0].as_string::<i32>();
    let mut out = StringBuilder::with_capacity(urls.len(), urls.len() * 16);
    for i in 0..urls.len() {
        match (!urls.is_null(i))
            .then(|| analysis::url_host(urls.value(i)))
            .flatten()
        {
            Some(host) => out.append_value(host),
            None => out.append_null(),
        }
    }
    let array: ArrayRef = Arc::new(out.finish());
    Ok(ColumnarValue::Array(array))
}

pub fn url_host_udf() -> ScalarUDF {
    create_udf(
        "url_host",
        vec![DataType::Utf8],
        DataType::Utf8,
        Volatility::Immutable,
        Arc::new(url_host_impl),
    )
}
