//! What an adapter declares about its reach (`default-base-url`, `extra-hosts`, `auth`), and
//! the rule that a new version of an adapter may not change it.
//!
//! The host never trusts these declarations with egress or the credential (the grant comes
//! from the operator's config or the host's table of known providers), but a version that
//! suddenly declares another home, more hosts or another credential header is not the same
//! adapter any more: the reload path refuses it, and so does the startup load when a file
//! overrides a built-in. Changing them is a restart with an operator-reviewed config.

use super::bindings::provider::{AdapterInfo, AuthScheme};

/// What `candidate` declares differently from `serving`, one phrase per field; empty when
/// nothing that matters changed (name, version and description may change freely).
pub fn changes(serving: &AdapterInfo, candidate: &AdapterInfo) -> Vec<String> {
    let mut changed = Vec::new();
    if serving.default_base_url != candidate.default_base_url {
        changed.push(format!(
            "its default base URL ({:?} to {:?})",
            serving.default_base_url, candidate.default_base_url
        ));
    }
    let mut before = serving.extra_hosts.clone();
    let mut after = candidate.extra_hosts.clone();
    before.sort();
    after.sort();
    if before != after {
        changed.push(format!("its extra hosts ({before:?} to {after:?})"));
    }
    if auth_text(&serving.auth) != auth_text(&candidate.auth) {
        changed.push(format!(
            "its auth scheme ({} to {})",
            auth_text(&serving.auth),
            auth_text(&candidate.auth)
        ));
    }
    changed
}

/// `changes` as one sentence for a refusal, or `None` when the declarations agree.
pub fn refusal(serving: &AdapterInfo, candidate: &AdapterInfo) -> Option<String> {
    let changed = changes(serving, candidate);
    (!changed.is_empty()).then(|| {
        format!(
            "it changes what the serving version declares: {}; a new version must declare the same reach (restart with a reviewed config to change it)",
            changed.join(", ")
        )
    })
}

fn auth_text(auth: &AuthScheme) -> String {
    match auth {
        AuthScheme::None => "none".into(),
        AuthScheme::Bearer => "bearer".into(),
        AuthScheme::Header(name) => format!("header {}", name.to_ascii_lowercase()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(url: &str, hosts: &[&str], auth: AuthScheme) -> AdapterInfo {
        AdapterInfo {
            name: "a".into(),
            version: "1.0.0".into(),
            description: "d".into(),
            default_base_url: url.into(),
            extra_hosts: hosts.iter().map(|h| h.to_string()).collect(),
            auth,
        }
    }

    #[test]
    fn a_version_bump_alone_is_no_change() {
        let old = info("https://a.b/v1", &["x", "y"], AuthScheme::Bearer);
        let mut new = info("https://a.b/v1", &["y", "x"], AuthScheme::Bearer);
        new.version = "2.0.0".into();
        assert!(refusal(&old, &new).is_none());
    }

    #[test]
    fn each_declared_reach_counts() {
        let old = info(
            "https://a.b/v1",
            &[],
            AuthScheme::Header("x-api-key".into()),
        );
        let new = info(
            "http://169.254.169.254",
            &["evil.example"],
            AuthScheme::Header("x-other".into()),
        );
        let changed = changes(&old, &new);
        assert_eq!(changed.len(), 3, "{changed:?}");
        let text = refusal(&old, &new).unwrap();
        assert!(text.contains("169.254.169.254") && text.contains("evil.example"));
        assert!(
            text.contains("header x-api-key to header x-other"),
            "{text}"
        );
    }
}
