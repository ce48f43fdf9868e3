//! Lineage in response headers: every dialect's answer says which provider, model and adapter
//! version answered, and what was tried first, in `x-aratta-*` headers (OpenAI's, Anthropic's
//! and Google's bodies have no place for it; SCRI's body carries it too).

use http::{HeaderMap, HeaderName, HeaderValue};

use crate::scri::Lineage;

/// `x-aratta-*` headers carrying a response's lineage.
pub fn lineage_headers(lineage: &Lineage) -> HeaderMap {
    // Names built at compile time, and room for all seven: this runs on every answer.
    const PROVIDER: HeaderName = HeaderName::from_static("x-aratta-provider");
    const MODEL: HeaderName = HeaderName::from_static("x-aratta-model");
    const ADAPTER: HeaderName = HeaderName::from_static("x-aratta-adapter");
    const ADAPTER_VERSION: HeaderName = HeaderName::from_static("x-aratta-adapter-version");
    const LATENCY_US: HeaderName = HeaderName::from_static("x-aratta-latency-us");
    const REQUEST_ID: HeaderName = HeaderName::from_static("x-aratta-request-id");
    const ATTEMPTS: HeaderName = HeaderName::from_static("x-aratta-attempts");
    let mut headers = HeaderMap::with_capacity(8);
    let mut put = |name: HeaderName, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(name, v);
        }
    };
    put(PROVIDER, &lineage.provider);
    put(MODEL, &lineage.model);
    put(ADAPTER, &lineage.adapter);
    put(ADAPTER_VERSION, &lineage.adapter_version);
    put(LATENCY_US, &lineage.latency_us.to_string());
    put(REQUEST_ID, &lineage.request_id);
    let attempts: Vec<String> = lineage
        .attempts
        .iter()
        .map(|a| format!("{}:{}={}", a.provider, a.model, a.outcome))
        .collect();
    put(ATTEMPTS, &attempts.join(", "));
    headers
}
