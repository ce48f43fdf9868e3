//! The glue between an [`Adapter`] and the generated bindings. Adapters never name these items;
//! [`export_adapter!`](crate::export_adapter) does.

use std::cell::RefCell;
use std::marker::PhantomData;

use crate::bindings::exports::aratta::scri::provider::{ChatEvents, Guest, GuestChatEvents};
use crate::{Adapter, BoxEventStream};
use crate::{
    AdapterError, AdapterInfo, CallContext, ChatRequest, ChatResponse, EmbeddingRequest,
    EmbeddingResponse, HealthReport, Json, Message, ModelInfo, StreamEvent, Tool,
};

/// Implements the generated `Guest` trait for any [`Adapter`] `A`, passing every error through
/// [`Adapter::classify`].
#[doc(hidden)]
pub struct Glue<A>(PhantomData<A>);

/// The `chat-events` resource: the adapter's stream, its errors passed through
/// [`Adapter::classify`], ended for good after `stop` or `error`.
#[doc(hidden)]
pub struct GlueEvents {
    inner: RefCell<Option<BoxEventStream>>,
    classify: fn(AdapterError) -> AdapterError,
}

impl GuestChatEvents for GlueEvents {
    fn next(&self) -> Option<StreamEvent> {
        let mut slot = self.inner.borrow_mut();
        let event = slot.as_mut()?.next();
        match event {
            // Nothing follows a terminal event; drop the stream (and its HTTP body) now.
            Some(StreamEvent::Error(error)) => {
                *slot = None;
                Some(StreamEvent::Error((self.classify)(error)))
            }
            Some(StreamEvent::Stop(_)) | None => {
                *slot = None;
                event
            }
            Some(_) => event,
        }
    }
}

impl<A: Adapter> Guest for Glue<A> {
    type ChatEvents = GlueEvents;

    fn describe() -> AdapterInfo {
        A::describe()
    }

    fn chat(ctx: CallContext, request: ChatRequest) -> Result<ChatResponse, AdapterError> {
        A::chat(ctx, request).map_err(A::classify)
    }

    fn chat_stream(ctx: CallContext, request: ChatRequest) -> Result<ChatEvents, AdapterError> {
        let stream = A::chat_stream(ctx, request).map_err(A::classify)?;
        Ok(ChatEvents::new(GlueEvents {
            inner: RefCell::new(Some(stream)),
            classify: A::classify,
        }))
    }

    fn embed(
        ctx: CallContext,
        request: EmbeddingRequest,
    ) -> Result<EmbeddingResponse, AdapterError> {
        A::embed(ctx, request).map_err(A::classify)
    }

    fn convert_messages(messages: Vec<Message>) -> Result<Json, AdapterError> {
        A::convert_messages(messages).map_err(A::classify)
    }

    fn convert_tools(tools: Vec<Tool>) -> Result<Json, AdapterError> {
        A::convert_tools(tools).map_err(A::classify)
    }

    fn parse_tools(native: Json) -> Result<Vec<Tool>, AdapterError> {
        A::parse_tools(native).map_err(A::classify)
    }

    fn get_models(ctx: CallContext) -> Result<Vec<ModelInfo>, AdapterError> {
        A::get_models(ctx).map_err(A::classify)
    }

    fn health_check(ctx: CallContext) -> Result<HealthReport, AdapterError> {
        A::health_check(ctx).map_err(A::classify)
    }
}

/// Export an [`Adapter`](crate::Adapter) implementation as the component's `provider`
/// interface. Call it once, at the root of the adapter crate:
///
/// ```ignore
/// struct MyAdapter;
/// impl aratta_guest::Adapter for MyAdapter { /* ... */ }
/// aratta_guest::export_adapter!(MyAdapter);
/// ```
#[macro_export]
macro_rules! export_adapter {
    ($adapter:ty) => {
        // Component exports exist only on wasm; a native build (unit tests, clippy) of the
        // adapter crate would otherwise try to link symbols named `aratta:scri/...`.
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            type __ArattaAdapterGlue = $crate::__private::Glue<$adapter>;
    $crate::bindings::export!(__ArattaAdapterGlue with_types_in $crate::bindings);
        };
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{FinishReason, StreamStart, VecEventStream};

    #[test]
    fn nothing_follows_a_terminal_event() {
        let events = GlueEvents {
            inner: RefCell::new(Some(Box::new(VecEventStream::new(vec![
                StreamEvent::Start(StreamStart {
                    id: "i".into(),
                    model: "m".into(),
                }),
                StreamEvent::Stop(FinishReason::Stop),
                StreamEvent::TextDelta("after the end".into()),
            ])))),
            classify: |e| e,
        };
        assert!(matches!(events.next(), Some(StreamEvent::Start(_))));
        assert!(matches!(events.next(), Some(StreamEvent::Stop(_))));
        assert_eq!(events.next(), None);
        assert_eq!(events.next(), None);
    }

    #[test]
    fn stream_errors_are_classified_and_end_the_stream() {
        let events = GlueEvents {
            inner: RefCell::new(Some(Box::new(VecEventStream::new(vec![
                StreamEvent::TextDelta("a".into()),
                StreamEvent::Error(AdapterError::other("x")),
                StreamEvent::TextDelta("after the end".into()),
            ])))),
            classify: |_| AdapterError::timeout("t"),
        };
        assert_eq!(events.next(), Some(StreamEvent::TextDelta("a".into())));
        assert!(matches!(
            events.next(),
            Some(StreamEvent::Error(AdapterError::Timeout(_)))
        ));
        assert_eq!(events.next(), None);
    }

    struct Minimal;
    impl Adapter for Minimal {
        fn describe() -> AdapterInfo {
            AdapterInfo {
                name: "minimal".into(),
                version: "0.0.0".into(),
                description: String::new(),
                default_base_url: "http://127.0.0.1".into(),
                extra_hosts: vec![],
                auth: crate::AuthScheme::None,
            }
        }
    }

    /// Turns every error into `other("classified")`.
    struct Classifying;
    impl Adapter for Classifying {
        fn describe() -> AdapterInfo {
            Minimal::describe()
        }

        fn classify(_error: AdapterError) -> AdapterError {
            AdapterError::other("classified")
        }
    }

    #[test]
    fn every_operation_error_passes_through_classify() {
        let err = <Glue<Classifying> as Guest>::parse_tools("[]".into()).unwrap_err();
        assert_eq!(err.detail().message, "classified");
        let err = <Glue<Classifying> as Guest>::convert_messages(vec![]).unwrap_err();
        assert_eq!(err.detail().message, "classified");
    }

    #[test]
    fn unimplemented_operations_are_unsupported_and_named() {
        let err = <Glue<Minimal> as Guest>::embed(
            CallContext {
                base_url: String::new(),
                request_id: String::new(),
            },
            EmbeddingRequest {
                model: "m".into(),
                inputs: vec![],
                dimensions: None,
                extra: None,
            },
        )
        .unwrap_err();
        assert!(matches!(&err, AdapterError::Unsupported(d) if d.message.contains("`embed`")));
        let err = <Glue<Minimal> as Guest>::parse_tools("[]".into()).unwrap_err();
        assert!(err.detail().message.contains("`parse-tools`"));
        assert_eq!(<Glue<Minimal> as Guest>::describe().name, "minimal");
    }
}
