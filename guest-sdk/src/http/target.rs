//! Where a request goes: the operator's base URL joined with an operation's path, split into
//! the scheme, authority and path-with-query that `wasi:http` takes separately.

use crate::AdapterError;

/// Where a request goes: scheme, authority and path-with-query, split the way `wasi:http`
/// wants them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `http` or `https` (anything else is passed through as-is).
    pub scheme: String,
    /// `host[:port]`.
    pub authority: String,
    /// The path and query, starting with `/`.
    pub path_with_query: String,
}

impl Target {
    /// `base` (the operator's base URL, possibly with a path and query) joined with `path`
    /// (e.g. `/chat/completions`): `http://h:1/v1?k=v` + `/models` → `/v1/models?k=v`.
    pub fn join(base: &str, path: &str) -> Result<Target, AdapterError> {
        let (scheme, rest) = base.split_once("://").ok_or_else(|| {
            AdapterError::invalid_request(format!(
                "base URL `{base}` has no scheme (http:// or https://)"
            ))
        })?;
        let rest = rest.split('#').next().unwrap_or_default();
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        if authority.is_empty() {
            return Err(AdapterError::invalid_request(format!(
                "base URL `{base}` has no host"
            )));
        }
        if authority.contains('@') {
            return Err(AdapterError::invalid_request(format!(
                "base URL `{base}` contains credentials; the host adds the provider's credential"
            )));
        }
        let (base_path, base_query) = match tail.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (tail, None),
        };
        let (extra_path, extra_query) = match path.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path, None),
        };
        let mut path_with_query = base_path.trim_end_matches('/').to_string();
        if !extra_path.is_empty() && !extra_path.starts_with('/') {
            path_with_query.push('/');
        }
        path_with_query.push_str(extra_path);
        if path_with_query.is_empty() {
            path_with_query.push('/');
        }
        let queries: Vec<&str> = [base_query, extra_query]
            .into_iter()
            .flatten()
            .filter(|q| !q.is_empty())
            .collect();
        if !queries.is_empty() {
            path_with_query.push('?');
            path_with_query.push_str(&queries.join("&"));
        }
        Ok(Target {
            scheme: scheme.to_ascii_lowercase(),
            authority: authority.to_string(),
            path_with_query,
        })
    }

    /// The target as a URL, for error messages.
    pub fn url(&self) -> String {
        format!(
            "{}://{}{}",
            self.scheme, self.authority, self.path_with_query
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn join(base: &str, path: &str) -> String {
        Target::join(base, path).unwrap().url()
    }

    #[test]
    fn joins_below_the_base_path() {
        assert_eq!(
            join("http://127.0.0.1:11434/v1", "/chat/completions"),
            "http://127.0.0.1:11434/v1/chat/completions"
        );
        assert_eq!(join("http://h/v1/", "/models"), "http://h/v1/models");
        assert_eq!(join("http://h/v1", "models"), "http://h/v1/models");
        assert_eq!(join("https://h", "/models"), "https://h/models");
        assert_eq!(join("https://h", ""), "https://h/");
    }

    #[test]
    fn keeps_queries_from_both_sides() {
        assert_eq!(
            join("https://h/openai?api-version=1", "/chat?x=2"),
            "https://h/openai/chat?api-version=1&x=2"
        );
        assert_eq!(join("https://h/v1?", "/m"), "https://h/v1/m");
    }

    #[test]
    fn splits_scheme_authority_and_path() {
        let t = Target::join("HTTP://Example.com:8080/v1#frag", "/models").unwrap();
        assert_eq!(t.scheme, "http");
        assert_eq!(t.authority, "Example.com:8080");
        assert_eq!(t.path_with_query, "/v1/models");
    }

    #[test]
    fn rejects_bad_base_urls() {
        assert!(Target::join("127.0.0.1:11434", "/m").is_err());
        assert!(Target::join("http:///v1", "/m").is_err());
        assert!(matches!(
            Target::join("https://user:key@h/v1", "/m"),
            Err(AdapterError::InvalidRequest(_))
        ));
    }
}
