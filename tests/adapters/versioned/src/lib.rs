//! A test adapter for Aratta's hot-swap tests, built once per feature so each build is a
//! distinct version of the adapter `versioned`. Every build speaks the OpenAI-compatible wire
//! format through the guest SDK (like the `local` adapter); they differ in their version and in
//! where they break:
//!
//! | build          | version | health-check            | chat                        |
//! |----------------|---------|-------------------------|-----------------------------|
//! | (no feature)   | 1.0.0   | the provider's models   | answers                     |
//! | `v2`           | 2.0.0   | the provider's models   | answers                     |
//! | `bad-health`   | 3.0.0   | fails                   | answers                     |
//! | `bad-chat`     | 4.0.0   | the provider's models   | fails (an unclassified error) |
//!
//! A client tells versions apart by `lineage.adapter_version`.

use aratta_openai_compatible::{Dialect, client};
use aratta_guest::{
    Adapter, AdapterError, AdapterInfo, AuthScheme, BoxEventStream, CallContext, ChatRequest,
    ChatResponse, HealthReport, ModelInfo,
};

const VERSION: &str = if cfg!(feature = "v2") {
    "2.0.0"
} else if cfg!(feature = "bad-health") {
    "3.0.0"
} else if cfg!(feature = "bad-chat") {
    "4.0.0"
} else {
    "1.0.0"
};

const DIALECT: Dialect = Dialect {
    developer_role: false,
    max_completion_tokens: false,
    top_k: false,
    named_tool_choice_as_required: false,
};

struct Versioned;

impl Adapter for Versioned {
    fn describe() -> AdapterInfo {
        AdapterInfo {
            name: "versioned".into(),
            version: VERSION.into(),
            description: "Test adapter with several versions".into(),
            default_base_url: "http://127.0.0.1:9/v1".into(),
            extra_hosts: vec![],
            auth: AuthScheme::None,
        }
    }

    fn chat(ctx: CallContext, request: ChatRequest) -> Result<ChatResponse, AdapterError> {
        if cfg!(feature = "bad-chat") {
            return Err(AdapterError::other("version 4.0.0 is broken on purpose"));
        }
        client::chat(&ctx, &request, &DIALECT)
    }

    fn chat_stream(ctx: CallContext, request: ChatRequest) -> Result<BoxEventStream, AdapterError> {
        if cfg!(feature = "bad-chat") {
            return Err(AdapterError::other("version 4.0.0 is broken on purpose"));
        }
        client::chat_stream(&ctx, &request, &DIALECT)
    }

    fn get_models(ctx: CallContext) -> Result<Vec<ModelInfo>, AdapterError> {
        client::models(&ctx)
    }

    fn health_check(ctx: CallContext) -> Result<HealthReport, AdapterError> {
        if cfg!(feature = "bad-health") {
            return Err(AdapterError::other(
                "version 3.0.0 fails its health check on purpose",
            ));
        }
        client::health_check(&ctx)
    }
}

aratta_guest::export_adapter!(Versioned);
