use super::*;

fn server(names: &[&str]) -> ServerConfig {
    ServerConfig {
        allowed_host_names: names.iter().map(|n| n.to_string()).collect(),
        ..ServerConfig::default()
    }
}

fn guard(bind: &str, names: &[&str]) -> Guard {
    Guard::new(bind.parse().unwrap(), &server(names))
}

fn request(host: Option<&str>, origin: Option<&str>) -> HeaderMap {
    let mut h = HeaderMap::new();
    if let Some(host) = host {
        h.insert(header::HOST, host.parse().unwrap());
    }
    if let Some(origin) = origin {
        h.insert(header::ORIGIN, origin.parse().unwrap());
    }
    h
}

fn ok(g: &Guard, host: Option<&str>, origin: Option<&str>) -> bool {
    g.check(&request(host, origin), &Uri::from_static("/v1/models"))
        .is_ok()
}

#[test]
fn loopback_accepts_its_three_names_at_its_port() {
    let g = guard("127.0.0.1:8640", &[]);
    for host in [
        "127.0.0.1:8640",
        "localhost:8640",
        "LOCALHOST:8640",
        "[::1]:8640",
    ] {
        assert!(ok(&g, Some(host), None), "{host}");
    }
    assert!(ok(&g, None, None), "no Host (HTTP/1.0)");
    for host in [
        "evil.example",
        "evil.example:8640",
        "127.0.0.1:8641",
        "127.0.0.1",
        "localhost.:8640",
        "localhost.evil.example:8640",
        "user@127.0.0.1:8640",
        "192.168.1.5:8640",
        "",
    ] {
        assert!(!ok(&g, Some(host), None), "{host}");
    }
}

#[test]
fn the_refusal_names_the_header_and_what_is_accepted() {
    let g = guard("127.0.0.1:8640", &[]);
    let e = g
        .check(&request(Some("evil.example"), None), &Uri::from_static("/"))
        .unwrap_err();
    assert_eq!(e.status(), http::StatusCode::FORBIDDEN);
    assert_eq!(
        e.to_string(),
        "the Host header `evil.example` does not name this server; use 127.0.0.1:8640, \
         localhost:8640, [::1]:8640 (a name the server is reached by through a proxy or on \
         the network goes in [server] allowed_host_names)"
    );
}

#[test]
fn origin_must_be_this_server_at_the_port_the_request_came_to() {
    let g = guard("127.0.0.1:8640", &[]);
    let host = Some("127.0.0.1:8640");
    for origin in [
        "http://127.0.0.1:8640",
        "http://localhost:8640",
        "http://[::1]:8640",
        "HTTP://LOCALHOST:8640",
    ] {
        assert!(ok(&g, host, Some(origin)), "{origin}");
    }
    for origin in [
        "null",
        "http://evil.example",
        "http://evil.example:8640",
        "http://localhost:3000",
        "http://127.0.0.1",
        "http://127.0.0.1:8640/path",
        "file://",
        "chrome-extension://abcdef",
        "http://user@127.0.0.1:8640",
        "127.0.0.1:8640",
    ] {
        assert!(!ok(&g, host, Some(origin)), "{origin}");
    }
    let e = g
        .check(
            &request(host, Some("http://evil.example")),
            &Uri::from_static("/"),
        )
        .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("the Origin header `http://evil.example` is another site"),
        "{e}"
    );
}

#[test]
fn every_interface_accepts_any_ip_but_only_listed_names() {
    let g = guard("0.0.0.0:8640", &["aratta.lan", "gw.example.com:443"]);
    for host in [
        "10.1.2.3:8640",
        "127.0.0.1:8640",
        "localhost:8640",
        "aratta.lan:8640",
        "aratta.lan:9000",
        "gw.example.com",
        "gw.example.com:443",
    ] {
        assert!(ok(&g, Some(host), None), "{host}");
    }
    for host in ["evil.example:8640", "gw.example.com:8443", "10.1.2.3:9999"] {
        assert!(!ok(&g, Some(host), None), "{host}");
    }
    // Behind a TLS proxy: the page's origin and the forwarded Host both name the proxy.
    assert!(ok(
        &g,
        Some("gw.example.com"),
        Some("https://gw.example.com")
    ));
    // Another service on a listed host is another site.
    assert!(!ok(
        &g,
        Some("aratta.lan:8640"),
        Some("http://aratta.lan:3000")
    ));
    // Any IP passes as Host, but a page from another machine at the same port is another
    // site: the Origin must name the host the request went to.
    assert!(ok(&g, Some("10.1.2.3:8640"), Some("http://10.1.2.3:8640")));
    assert!(ok(
        &g,
        Some("127.0.0.1:8640"),
        Some("http://localhost:8640")
    ));
    for origin in [
        "http://203.0.113.9:8640",
        "http://10.1.2.3:8640",
        "http://aratta.lan:8640",
    ] {
        assert!(!ok(&g, Some("127.0.0.1:8640"), Some(origin)), "{origin}");
    }
}

#[test]
fn a_specific_address_accepts_itself_not_loopback() {
    let g = guard("192.168.1.5:8640", &[]);
    assert!(ok(&g, Some("192.168.1.5:8640"), None));
    assert!(!ok(&g, Some("127.0.0.1:8640"), None));
    assert!(!ok(&g, Some("localhost:8640"), None));
    let v6 = guard("[::1]:8640", &[]);
    assert!(ok(&v6, Some("[::1]:8640"), None));
    assert!(ok(&v6, Some("localhost:8640"), None));
}

#[test]
fn http2_authority_is_checked_when_there_is_no_host_header() {
    let g = guard("127.0.0.1:8640", &[]);
    let evil = Uri::from_static("http://evil.example:8640/v1/models");
    assert!(g.check(&HeaderMap::new(), &evil).is_err());
    let own = Uri::from_static("http://127.0.0.1:8640/v1/models");
    assert!(g.check(&HeaderMap::new(), &own).is_ok());
}

fn typed(
    method: Method,
    path: &str,
    content_type: Option<&str>,
    length: &str,
) -> Result<(), Refusal> {
    let mut h = HeaderMap::new();
    if let Some(t) = content_type {
        h.insert(header::CONTENT_TYPE, t.parse().unwrap());
    }
    h.insert(header::CONTENT_LENGTH, length.parse().unwrap());
    check_content_type(&method, &path.parse().unwrap(), &h)
}

#[test]
fn admin_agent_and_tool_bodies_must_be_json() {
    for path in [
        "/api/v1/agents/run",
        "/api/v1/breakers/openai/open",
        "/api/v1/tools",
        "/api/v1/tools/import/openai",
        "/api/v1/adapters/openai/rollback",
        "/api/v1/approvals/apr_1/reject",
    ] {
        assert!(
            typed(Method::POST, path, Some("application/json"), "2").is_ok(),
            "{path}"
        );
        assert!(
            typed(
                Method::POST,
                path,
                Some("Application/JSON; charset=utf-8"),
                "2"
            )
            .is_ok(),
            "{path}"
        );
        let e = typed(Method::POST, path, Some("text/plain"), "2").unwrap_err();
        assert_eq!(e.status(), http::StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert!(
            typed(
                Method::POST,
                path,
                Some("application/x-www-form-urlencoded"),
                "2"
            )
            .is_err()
        );
        assert!(
            typed(Method::POST, path, None, "2").is_err(),
            "{path}: body without a type"
        );
        assert!(
            typed(Method::POST, path, None, "0").is_ok(),
            "{path}: no body, no type"
        );
        assert!(
            typed(Method::POST, path, Some("text/plain"), "0").is_err(),
            "{path}"
        );
    }
    assert!(typed(Method::DELETE, "/api/v1/tools/x", Some("text/plain"), "1").is_err());
    assert!(typed(Method::DELETE, "/api/v1/tools/x", None, "0").is_ok());
    assert!(
        typed(
            Method::POST,
            "/api/v1/approvals",
            Some("application/wasm"),
            "9"
        )
        .is_ok()
    );
    assert!(
        typed(
            Method::POST,
            "/api/v1/approvals",
            Some("application/octet-stream"),
            "9"
        )
        .is_ok()
    );
    assert!(typed(Method::POST, "/api/v1/approvals", Some("text/plain"), "9").is_err());
    // Inference routes and reads are not this rule's business (Origin covers browsers there).
    assert!(
        typed(
            Method::POST,
            "/v1/chat/completions",
            Some("text/plain"),
            "9"
        )
        .is_ok()
    );
    assert!(typed(Method::GET, "/api/v1/tools", Some("text/plain"), "9").is_ok());
    let e = typed(Method::POST, "/api/v1/agents/run", Some("text/plain"), "2").unwrap_err();
    assert_eq!(
        e.to_string(),
        "the Content-Type header `text/plain` is not accepted here; POST /api/v1/agents/run \
         takes `application/json` (send `-H 'content-type: application/json'` with curl)"
    );
}
