//! The web console at `/console`: static files built into the binary
//! (nothing to build or install beside it). The pages call the JSON API
//! with the operator's token; these routes need none, since a browser
//! cannot send one when it opens a page, and they hold no data.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

/// Scripts, styles and API calls from this origin only; no inline code,
/// no frames, no plugins.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
    form-action 'self'; frame-ancestors 'none'";

/// Each file with its content type.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "index.html",
        "text/html; charset=utf-8",
        include_str!("console/index.html"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("console/app.js"),
    ),
    (
        "api.js",
        "text/javascript; charset=utf-8",
        include_str!("console/api.js"),
    ),
    (
        "form.js",
        "text/javascript; charset=utf-8",
        include_str!("console/form.js"),
    ),
    (
        "charts.js",
        "text/javascript; charset=utf-8",
        include_str!("console/charts.js"),
    ),
    (
        "pages.js",
        "text/javascript; charset=utf-8",
        include_str!("console/pages.js"),
    ),
    (
        "ui.js",
        "text/javascript; charset=utf-8",
        include_str!("console/ui.js"),
    ),
    (
        "group.js",
        "text/javascript; charset=utf-8",
        include_str!("console/group.js"),
    ),
    (
        "style.css",
        "text/css; charset=utf-8",
        include_str!("console/style.css"),
    ),
];

/// `/console` and its files.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(
            "/console",
            get(|| async { Redirect::permanent("/console/") }),
        )
        .route("/console/", get(|| async { asset("index.html") }))
        .route(
            "/console/{*file}",
            get(|Path(file): Path<String>| async move { asset(&file) }),
        )
}

fn asset(name: &str) -> Response {
    let Some((_, content_type, body)) = ASSETS.iter().find(|(n, _, _)| *n == name) else {
        return (StatusCode::NOT_FOUND, "no such console file").into_response();
    };
    let mut response = (*body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    // Files change with the binary; a restart must not leave stale scripts.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_has_a_type_and_the_page_loads_only_listed_files() {
        let index = ASSETS[0].2;
        for (name, content_type, body) in ASSETS {
            assert!(!body.is_empty(), "{name}");
            assert!(content_type.contains('/'), "{name}");
        }
        // Every script the modules import is served.
        for (_, _, body) in ASSETS {
            for line in body.lines().filter(|l| l.starts_with("import ")) {
                let file = line
                    .rsplit_once("'./")
                    .map(|(_, f)| f.trim_end_matches("';"));
                let file = file.expect("imports are './file.js'");
                assert!(ASSETS.iter().any(|(n, _, _)| *n == file), "{file}");
            }
        }
        assert!(index.contains("app.js") && index.contains("style.css"));
    }
}
