//! An OpenAI-compatible adapter without writing its operations.
//!
//! Implement [`OpenAiCompatible`] (only [`describe`](OpenAiCompatible::describe) is required;
//! [`DIALECT`](OpenAiCompatible::DIALECT) says what the server reads differently from OpenAI)
//! and export [`Compatible<T>`], which is the [`Adapter`] the host calls. Every operation
//! defaults to this crate's Chat Completions client; override the ones the provider does
//! differently (a richer model list, no embeddings, error bodies of its own in
//! [`classify`](OpenAiCompatible::classify)).
//! [`openai_compatible_adapter!`](crate::openai_compatible_adapter) writes the struct, the
//! implementation and the export from a few fields.

use std::marker::PhantomData;

use aratta_guest::{
    Adapter, AdapterError, AdapterInfo, BoxEventStream, CallContext, ChatRequest, ChatResponse,
    EmbeddingRequest, EmbeddingResponse, HealthReport, Json, Message, ModelInfo, Tool,
};

use crate::responses::{self, ResponsesDialect};
use crate::{Dialect, client, request, tools};

/// An adapter for a provider that speaks OpenAI's Chat Completions (and perhaps Responses)
/// format: [`Adapter`]'s operations with OpenAI-format defaults.
pub trait OpenAiCompatible: 'static {
    /// What the server reads differently from OpenAI's own API in Chat Completions requests.
    const DIALECT: Dialect = Dialect::OPENAI;

    /// The provider's Responses API, when it serves `/responses`: requests that only it can
    /// carry ([`responses::route`]: server-side tools, reasoning summaries, reasoning carried
    /// from an earlier turn) go there. `None`, the default, sends every request to Chat
    /// Completions.
    const RESPONSES: Option<ResponsesDialect> = None;

    /// Who the adapter is (see [`Adapter::describe`]).
    fn describe() -> AdapterInfo;

    /// `POST /chat/completions`, or `POST /responses` when [`RESPONSES`](Self::RESPONSES)
    /// is set and the request needs it.
    fn chat(ctx: CallContext, request: ChatRequest) -> Result<ChatResponse, AdapterError> {
        match responses_route::<Self>(&request) {
            Some((dialect, why)) => responses::chat(&ctx, &request, &dialect, why),
            None => client::chat(&ctx, &request, &Self::DIALECT),
        }
    }

    /// The streamed form of [`chat`](Self::chat).
    fn chat_stream(ctx: CallContext, request: ChatRequest) -> Result<BoxEventStream, AdapterError> {
        match responses_route::<Self>(&request) {
            Some((dialect, why)) => responses::chat_stream(&ctx, &request, &dialect, why),
            None => client::chat_stream(&ctx, &request, &Self::DIALECT),
        }
    }

    /// `POST /embeddings`.
    fn embed(
        ctx: CallContext,
        request: EmbeddingRequest,
    ) -> Result<EmbeddingResponse, AdapterError> {
        client::embed(&ctx, &request)
    }

    /// The conversation as Chat Completions `messages`, in [`DIALECT`](Self::DIALECT).
    fn convert_messages(messages: Vec<Message>) -> Result<Json, AdapterError> {
        request::messages_json(&messages, &Self::DIALECT)
    }

    /// The tools as Chat Completions `tools`.
    fn convert_tools(tools: Vec<Tool>) -> Result<Json, AdapterError> {
        tools::to_openai_json(&tools)
    }

    /// SCRI tools from Chat Completions `tools`.
    fn parse_tools(native: Json) -> Result<Vec<Tool>, AdapterError> {
        tools::from_openai_json(&native)
    }

    /// `GET /models`, with no capabilities beyond what the list says.
    fn get_models(ctx: CallContext) -> Result<Vec<ModelInfo>, AdapterError> {
        client::models(&ctx)
    }

    /// `GET /models`: reachable, the credential accepted, how many models it lists.
    fn health_check(ctx: CallContext) -> Result<HealthReport, AdapterError> {
        client::health_check(&ctx)
    }

    /// Refine an error by what the provider's body says (see [`Adapter::classify`]).
    fn classify(error: AdapterError) -> AdapterError {
        error
    }
}

/// The Responses dialect and the reason when `request` must go to `/responses`.
fn responses_route<T: OpenAiCompatible + ?Sized>(
    request: &ChatRequest,
) -> Option<(ResponsesDialect, &'static str)> {
    let dialect = T::RESPONSES?;
    let why = responses::route(request, &dialect)?;
    Some((dialect, why))
}

/// An [`OpenAiCompatible`] implementation as the [`Adapter`] a component exports:
/// `aratta_guest::export_adapter!(Compatible<MyAdapter>);`.
pub struct Compatible<T>(PhantomData<T>);

impl<T: OpenAiCompatible> Adapter for Compatible<T> {
    fn describe() -> AdapterInfo {
        T::describe()
    }

    fn chat(ctx: CallContext, request: ChatRequest) -> Result<ChatResponse, AdapterError> {
        T::chat(ctx, request)
    }

    fn chat_stream(ctx: CallContext, request: ChatRequest) -> Result<BoxEventStream, AdapterError> {
        T::chat_stream(ctx, request)
    }

    fn embed(
        ctx: CallContext,
        request: EmbeddingRequest,
    ) -> Result<EmbeddingResponse, AdapterError> {
        T::embed(ctx, request)
    }

    fn convert_messages(messages: Vec<Message>) -> Result<Json, AdapterError> {
        T::convert_messages(messages)
    }

    fn convert_tools(tools: Vec<Tool>) -> Result<Json, AdapterError> {
        T::convert_tools(tools)
    }

    fn parse_tools(native: Json) -> Result<Vec<Tool>, AdapterError> {
        T::parse_tools(native)
    }

    fn get_models(ctx: CallContext) -> Result<Vec<ModelInfo>, AdapterError> {
        T::get_models(ctx)
    }

    fn health_check(ctx: CallContext) -> Result<HealthReport, AdapterError> {
        T::health_check(ctx)
    }

    fn classify(error: AdapterError) -> AdapterError {
        T::classify(error)
    }
}
