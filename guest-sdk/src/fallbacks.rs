//! What an adapter says when the provider leaves something out: a response id, the model name,
//! tool-call ids. Every adapter needs these, so they are made one way: from the host's request
//! id, so a generated id can be traced back to the request that produced it.

use crate::CallContext;

/// Values used when the provider omits them: a response id, the model name, and a scope that
/// makes generated tool-call ids unique across the turns of a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fallbacks {
    /// The response id when the provider sends none.
    pub id: String,
    /// The model name when the provider sends none (the requested model).
    pub model: String,
    /// Mixed into generated tool-call ids.
    pub scope: String,
}

impl Fallbacks {
    /// Fallbacks for a call: the id is `<id_prefix>-<request id>` (`<id_prefix>-aratta` when
    /// the host sent none), so it looks like the provider's own ids (`chatcmpl-…`).
    pub fn new(ctx: &CallContext, model: &str, id_prefix: &str) -> Self {
        let scope: String = ctx
            .request_id
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        let scope = scope[scope.len().saturating_sub(12)..].to_string();
        Fallbacks {
            id: if ctx.request_id.is_empty() {
                format!("{id_prefix}-aratta")
            } else {
                format!("{id_prefix}-{}", ctx.request_id)
            },
            model: model.to_string(),
            scope,
        }
    }

    /// The id for the `n`th tool call of an answer whose provider sent none: `call_<n>`, with
    /// the request scope when there is one (`call_<scope>_<n>`).
    pub fn call_id(&self, n: usize) -> String {
        if self.scope.is_empty() {
            format!("call_{n}")
        } else {
            format!("call_{}_{n}", self.scope)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(request_id: &str) -> CallContext {
        CallContext {
            base_url: String::new(),
            request_id: request_id.into(),
        }
    }

    #[test]
    fn ids_derive_from_the_request_id() {
        let f = Fallbacks::new(&ctx("req-0001-abcdefghijk"), "m", "chatcmpl");
        assert_eq!(f.id, "chatcmpl-req-0001-abcdefghijk");
        assert_eq!(f.model, "m");
        assert_eq!(f.call_id(2), "call_1abcdefghijk_2");
        let bare = Fallbacks::new(&ctx(""), "m", "gemini");
        assert_eq!(bare.id, "gemini-aratta");
        assert_eq!(bare.call_id(0), "call_0");
    }
}
