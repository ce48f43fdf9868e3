//! What each `aratta` subcommand does, apart from `serve`'s server itself (see `crate::server`).
//! `main` parses the command line and calls into here.

pub mod adapter;
pub mod agent;
pub mod approvals;
pub mod heal;
pub mod init;
pub mod keys;
pub mod scaffold;
pub mod server_client;
pub mod usage;

use crate::cli::ServeArgs;
use crate::config::{self, Config, ConfigError};
use crate::home::Home;

/// The config `aratta serve` runs with: file and environment per [`config::load`], then the
/// `--host` and `--port` flags on top, checked again.
pub fn serve_config(args: &ServeArgs, home: &Home) -> Result<Config, ConfigError> {
    let mut config = config::load(args.config.as_deref(), home)?;
    if let Some(host) = &args.host {
        config.server.host = host.clone();
    }
    if let Some(port) = args.port {
        config.server.port = port;
    }
    config.validate()?;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_file_and_env() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::at(dir.path());
        std::fs::write(
            home.config_path(),
            "[server]\nport = 9000\nhost = \"0.0.0.0\"\n",
        )
        .unwrap();
        let args = ServeArgs {
            config: None,
            host: None,
            port: Some(9100),
        };
        let config = serve_config(&args, &home).unwrap();
        assert_eq!(
            (config.server.host.as_str(), config.server.port),
            ("0.0.0.0", 9100)
        );
    }

    #[test]
    fn a_bad_host_flag_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let args = ServeArgs {
            config: None,
            host: Some("http://x".into()),
            port: None,
        };
        let err = serve_config(&args, &Home::at(dir.path())).unwrap_err();
        assert!(err.to_string().starts_with("server.host: "), "{err}");
    }
}
