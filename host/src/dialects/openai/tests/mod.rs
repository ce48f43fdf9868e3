//! End-to-end tests of the public functions on real OpenAI request and response shapes
//! (fixtures from OpenAI's API reference and OpenRouter's reasoning docs).

mod chat_request;
mod chat_response;
mod embeddings;
mod request_errors;
mod sdk;
mod stream;
