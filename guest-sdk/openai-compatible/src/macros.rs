//! [`openai_compatible_adapter!`](crate::openai_compatible_adapter): a whole OpenAI-compatible
//! adapter from the fields that make it different, for servers that need nothing beyond a
//! [`Dialect`](crate::Dialect) (Ollama, vLLM, llama.cpp, LM Studio, most hosted gateways).

/// Declare an OpenAI-compatible adapter and export it as the component's adapter.
///
/// Expands to a unit struct, its [`OpenAiCompatible`](crate::OpenAiCompatible) implementation
/// (whose `describe` carries the adapter crate's own version) and the
/// `aratta_guest::export_adapter!` call for [`Compatible`](crate::Compatible) of it. Fields, in
/// this order: `name`, `description`, `default_base_url`, `auth` (an `AuthScheme`), then
/// optionally `extra_hosts: [..]`, `dialect` (default [`Dialect::OPENAI`](crate::Dialect::OPENAI))
/// and `responses` (a [`ResponsesDialect`](crate::responses::ResponsesDialect), for a provider
/// that also serves `/responses`). An adapter that must override an operation implements
/// [`OpenAiCompatible`](crate::OpenAiCompatible) itself instead.
///
/// ```ignore
/// use aratta_guest::AuthScheme;
/// use aratta_openai_compatible::{Dialect, openai_compatible_adapter};
///
/// openai_compatible_adapter! {
///     /// A vLLM server.
///     pub struct Vllm {
///         name: "vllm",
///         description: "A vLLM server",
///         default_base_url: "http://127.0.0.1:8000/v1",
///         auth: AuthScheme::None,
///         dialect: Dialect::LOCAL,
///     }
/// }
/// ```
#[macro_export]
macro_rules! openai_compatible_adapter {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            name: $adapter:expr,
            description: $description:expr,
            default_base_url: $base_url:expr,
            auth: $auth:expr
            $(, extra_hosts: [$($host:expr),* $(,)?])?
            $(, dialect: $dialect:expr)?
            $(, responses: $responses:expr)?
            $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis struct $name;

        impl $crate::OpenAiCompatible for $name {
            $(const DIALECT: $crate::Dialect = $dialect;)?
            $(
                const RESPONSES: ::core::option::Option<$crate::responses::ResponsesDialect> =
                    ::core::option::Option::Some($responses);
            )?

            fn describe() -> $crate::__private::aratta_guest::AdapterInfo {
                $crate::__private::aratta_guest::AdapterInfo {
                    name: ::std::string::ToString::to_string($adapter),
                    version: ::std::string::ToString::to_string(::core::env!("CARGO_PKG_VERSION")),
                    description: ::std::string::ToString::to_string($description),
                    default_base_url: ::std::string::ToString::to_string($base_url),
                    extra_hosts: ::std::vec![$($(::std::string::ToString::to_string($host)),*)?],
                    auth: $auth,
                }
            }
        }

        $crate::__private::aratta_guest::export_adapter!($crate::Compatible<$name>);
    };
}

#[cfg(test)]
mod tests {
    use aratta_guest::{Adapter, AuthScheme};

    use crate::responses::ResponsesDialect;
    use crate::{Compatible, Dialect, OpenAiCompatible};

    crate::openai_compatible_adapter! {
        /// The fewest fields.
        struct Plain {
            name: "plain",
            description: "A plain server",
            default_base_url: "http://127.0.0.1:8000/v1",
            auth: AuthScheme::None,
        }
    }

    crate::openai_compatible_adapter! {
        /// Every field.
        pub struct Full {
            name: "full",
            description: "Every field",
            default_base_url: "https://api.example.com/v1",
            auth: AuthScheme::Bearer,
            extra_hosts: ["files.example.com"],
            dialect: Dialect::LOCAL,
            responses: ResponsesDialect::XAI,
        }
    }

    #[test]
    fn the_fields_describe_the_adapter() {
        let info = Compatible::<Plain>::describe();
        assert_eq!(info.name, "plain");
        assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
        assert_eq!(info.default_base_url, "http://127.0.0.1:8000/v1");
        assert!(info.extra_hosts.is_empty());
        assert_eq!(Plain::DIALECT, Dialect::OPENAI);
        assert_eq!(Plain::RESPONSES, None);
        let info = Full::describe();
        assert_eq!(info.extra_hosts, ["files.example.com"]);
        assert_eq!(info.auth, AuthScheme::Bearer);
        assert_eq!(Full::DIALECT, Dialect::LOCAL);
        assert_eq!(Full::RESPONSES, Some(ResponsesDialect::XAI));
    }

    #[test]
    fn conversions_use_the_dialect() {
        let developer = vec![aratta_guest::Message {
            role: aratta_guest::Role::Developer,
            content: aratta_guest::MessageContent::Text("be terse".into()),
            name: None,
        }];
        let local = Compatible::<Full>::convert_messages(developer.clone()).unwrap();
        assert_eq!(local, r#"[{"role":"system","content":"be terse"}]"#);
        let openai = Compatible::<Plain>::convert_messages(developer).unwrap();
        assert_eq!(openai, r#"[{"role":"developer","content":"be terse"}]"#);
    }
}
