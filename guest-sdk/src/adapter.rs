//! The [`Adapter`] trait every provider adapter implements. Only [`Adapter::describe`] is
//! required: every other operation defaults to the `unsupported` error naming it, so an adapter
//! grows one operation at a time.

use crate::events::BoxEventStream;
use crate::{
    AdapterError, AdapterInfo, CallContext, ChatRequest, ChatResponse, EmbeddingRequest,
    EmbeddingResponse, HealthReport, Json, Message, ModelInfo, Tool,
};

/// One provider's translation between SCRI and its API. The functions take no `self`: an
/// adapter instance may be created per request, so state lives in the arguments, not the type.
///
/// Export an implementation with [`export_adapter!`](crate::export_adapter).
pub trait Adapter: 'static {
    /// Who the adapter is and what it needs from the host. Called once at load; must not do I/O.
    fn describe() -> AdapterInfo;

    /// Answer a chat request.
    fn chat(_ctx: CallContext, _request: ChatRequest) -> Result<ChatResponse, AdapterError> {
        Err(AdapterError::unsupported("chat"))
    }

    /// Start a streamed answer. Return errors that happen before the first byte of the answer
    /// here rather than as a stream `error` event, so the host can still fall back.
    fn chat_stream(
        _ctx: CallContext,
        _request: ChatRequest,
    ) -> Result<BoxEventStream, AdapterError> {
        Err(AdapterError::unsupported("chat-stream"))
    }

    /// Embed texts.
    fn embed(
        _ctx: CallContext,
        _request: EmbeddingRequest,
    ) -> Result<EmbeddingResponse, AdapterError> {
        Err(AdapterError::unsupported("embed"))
    }

    /// The provider's native form of a conversation (JSON), without sending it. Pure.
    fn convert_messages(_messages: Vec<Message>) -> Result<Json, AdapterError> {
        Err(AdapterError::unsupported("convert-messages"))
    }

    /// The provider's native tool definitions (a JSON array). Pure.
    fn convert_tools(_tools: Vec<Tool>) -> Result<Json, AdapterError> {
        Err(AdapterError::unsupported("convert-tools"))
    }

    /// SCRI tools from the provider's native tool definitions (a JSON array). Pure.
    fn parse_tools(_native: Json) -> Result<Vec<Tool>, AdapterError> {
        Err(AdapterError::unsupported("parse-tools"))
    }

    /// The models the provider offers.
    fn get_models(_ctx: CallContext) -> Result<Vec<ModelInfo>, AdapterError> {
        Err(AdapterError::unsupported("get-models"))
    }

    /// Whether the provider is reachable and accepts the credential.
    fn health_check(_ctx: CallContext) -> Result<HealthReport, AdapterError> {
        Err(AdapterError::unsupported("health-check"))
    }

    /// Refine an error before the host sees it: the export glue passes every operation's `Err`
    /// and every stream `error` event through here. The SDK classifies failures by HTTP status;
    /// a provider whose error bodies say more (a quota error sent as 429, a bad key sent as
    /// 400) overrides this once, and its errors read the same from every operation, streamed
    /// or not. The default keeps the error as it is.
    fn classify(error: AdapterError) -> AdapterError {
        error
    }
}
