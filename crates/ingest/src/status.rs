//! google.rpc.Status and RetryInfo, the error payloads of OTLP.

/// google.rpc.Status: the body of an OTLP/HTTP error response.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpcStatus {
    #[prost(int32, tag = "1")]
    pub code: i32,
    #[prost(string, tag = "2")]
    pub message: String,
    #[prost(message, repeated, tag = "3")]
    pub details: Vec<ProtoAny>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ProtoAny {
    #[prost(string, tag = "1")]
    pub type_url: String,
    #[prost(bytes = "vec", tag = "2")]
    pub value: Vec<u8>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct RetryInfo {
    #[prost(message, optional, tag = "1")]
    retry_delay: Option<ProtoDuration>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ProtoDuration {
    #[prost(int64, tag = "1")]
    seconds: i64,
    #[prost(int32, tag = "2")]
    nanos: i32,
}

/// Encoded google.rpc.Status carrying a RetryInfo, for `grpc-status-details-bin`: OTLP clients
/// retry RESOURCE_EXHAUSTED only when it is present.
pub fn retry_status_details(code: i32, message: &str, retry_after_secs: u64) -> Vec<u8> {
    let info = RetryInfo {
        retry_delay: Some(ProtoDuration {
            seconds: i64::try_from(retry_after_secs).unwrap_or(1),
            nanos: 0,
        }),
    };
    let status = RpcStatus {
        code,
        message: message.to_string(),
        details: vec![ProtoAny {
            type_url: "type.googleapis.com/google.rpc.RetryInfo".to_string(),
            value: prost::Message::encode_to_vec(&info),
        }],
    };
    prost::Message::encode_to_vec(&status)
}
