//! `kith openapi`: print the OpenAPI document of the HTTP API.

use std::process::ExitCode;

/// Prints what `GET /openapi.json` serves, e.g. to regenerate the committed
/// copy: `cargo run -p kith -- openapi > host/src/http/openapi.json`.
#[derive(clap::Args)]
pub struct OpenapiCommand {}

impl OpenapiCommand {
    /// Writes the document to standard output.
    pub fn execute(&self) -> ExitCode {
        print!("{}", crate::http::openapi_json());
        ExitCode::SUCCESS
    }
}
